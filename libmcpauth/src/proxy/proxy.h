/* proxy.h - the OAuth proxy (oauthProxy): /register, /authorize, consent, /oauth/callback,
 * /token and its authorization-server metadata, stateless across replicas (sealed state). */
#ifndef MCP_PROXY_H
#define MCP_PROXY_H

#include <jansson.h>

#include "http/request.h"
#include "util/common.h"

struct mcpauth_engine;

/* Reads cfg->extra["proxy"] (absent: no proxy, e->proxy_state stays NULL, returns OK).
 * MCPAUTH_E_CONFIG naming the bad option. Called by mcpauth_engine_new(). */
int mcp_proxy_init(struct mcpauth_engine *e, mcp_err *err);
struct mcp_proxy;
void mcp_proxy_free(struct mcp_proxy *p);

/* Offers a request (the router's request model) to the proxy. Returns 1 and sets *response
 * ({"action":"respond","status",...,"headers":[[k,v]...],"body"}) when the request is a proxy
 * route; 0 when it is not; MCPAUTH_E_WOULD_BLOCK when nonblock and network I/O is needed. */
int mcp_proxy_handle(const struct mcpauth_engine *e, const mcp_http_req *request, int nonblock,
                     json_t **response, mcp_err *err);

/* 1 when `method` on `path` (the raw path, without query) is a proxy form that reads the request
 * body (POST /register, /authorize (consent), /token); 0 otherwise or without a proxy. */
int mcp_proxy_wants_body(const struct mcpauth_engine *e, const char *path, const char *method);

/* The proxy's own RFC 8414 metadata (issuer = base URL); NULL when no proxy. New reference. */
json_t *mcp_proxy_as_metadata(const struct mcpauth_engine *e);

#endif
