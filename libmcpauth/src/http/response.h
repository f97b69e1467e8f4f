/* response.h - the one response builder of the HTTP surface, shared by the router and the OAuth
 * proxy: {"action":"respond","status","headers":[[name,value],...],"body"[,"code"]} as a jansson
 * object, emitted as the decision text. A builder that ran out of memory marks the object
 * broken; mcp_resp_emit (or mcp_resp_broken) tells. */
#ifndef MCP_HTTP_RESPONSE_H
#define MCP_HTTP_RESPONSE_H

#include <jansson.h>

/* A response with an optional Content-Type header and a body ("" for NULL). NULL on no memory. */
json_t *mcp_resp_new(int status, const char *content_type, const char *body);
/* Appends a header (in order: tests and clients see them as added). */
void mcp_resp_header(json_t *resp, const char *name, const char *value);
/* Sets "code": the mcpauth code of an auth failure (mcpauth_route's decisions). */
void mcp_resp_code(json_t *resp, int code);
/* 1 when the response could not be completed (no memory). */
int mcp_resp_broken(const json_t *resp);

/* JSON document with no-store and CORS. */
json_t *mcp_resp_json(int status, json_t *doc);
/* JSON error body {"error","error_description"?} with no-store and CORS headers (the proxy). */
json_t *mcp_resp_oauth_error(int status, const char *error, const char *description);
/* A redirect with Cache-Control: no-store. */
json_t *mcp_resp_redirect(int status, const char *location);

/* The router's JSON error answer without a challenge: Content-Type and Cache-Control: no-store,
 * body {"error","error_description"} ("error" left out when NULL: RFC 6750 3.1). */
json_t *mcp_resp_error(int status, const char *error, const char *description);
/* The router's challenge for mcpauth code `code`: its error body, WWW-Authenticate (scope and
 * resource metadata URL, either may be empty) and Access-Control-Expose-Headers. MCPAUTH_OK,
 * MCPAUTH_E_NOMEM or MCPAUTH_E_INVALID_ARGUMENT (a value that cannot be a header). */
int mcp_resp_challenge(int status, int code, const char *scope, const char *prm_url, json_t **out);

/* The decision text of a response (taken: freed here). MCPAUTH_OK or MCPAUTH_E_NOMEM (also for
 * NULL or a broken response). */
int mcp_resp_emit(json_t *resp, char **out);

#endif
