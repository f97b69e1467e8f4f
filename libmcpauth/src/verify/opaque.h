/* opaque.h - verification of opaque (non-JWT) access tokens: RFC 7662 introspection or a
 * userinfo-style endpoint (GitHub /user, Google tokeninfo), results cached no longer than the
 * token lives. */
#ifndef MCP_OPAQUE_H
#define MCP_OPAQUE_H

#include <jansson.h>

#include "util/common.h"

struct mcpauth_engine;

/* Reads cfg->extra["introspection"] / ["userinfo"] (both absent: e->opaque_state NULL). */
int mcp_opaque_init(struct mcpauth_engine *e, mcp_err *err);
struct mcp_opaque;
void mcp_opaque_free(struct mcp_opaque *o);

/* 1 when the engine verifies tokens this way (then the engine calls mcp_opaque_verify instead
 * of the JWS path). */
int mcp_opaque_enabled(const struct mcpauth_engine *e);

/* Verifies a token: *claims receives the claims object (introspection response or userinfo
 * document normalized: sub, scope, exp, aud, client_id...). MCPAUTH_E_TOKEN_INACTIVE,
 * _EXPIRED, _AUDIENCE_MISMATCH, _UPSTREAM (outage: 503), _WOULD_BLOCK (nonblock). */
int mcp_opaque_verify(const struct mcpauth_engine *e, const char *token, size_t len, int nonblock,
                      json_t **claims, mcp_err *err);

/* The router's check for a resource derived from the Host header (no configured resource):
 * the rule opaque_init applies to a configured one. With introspection and no audience
 * configured, aud (when the answer has one) must contain `resource`; otherwise OK.
 * MCPAUTH_E_AUDIENCE_MISMATCH on refusal. */
int mcp_opaque_check_resource(const struct mcpauth_engine *e, json_t *claims, const char *resource,
                              mcp_err *err);

#endif
