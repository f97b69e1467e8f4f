/* userinfo.h - claims -> auth result JSON (the seed's ctx.auth), with the provider mapping
 * and the declarative claim map applied. */
#ifndef MCP_USERINFO_H
#define MCP_USERINFO_H

#include <jansson.h>

#include "config/config.h"
#include "providers/provider.h"

/* Builds {"user":{...},"accessToken","scopes","permissions","payload","clientId","expiresAt",
 * "resource"}. token may be NULL. Returns a new object or NULL (err set). */
json_t *mcp_auth_result(const mcp_config *cfg, const mcp_provider *prov, json_t *payload,
                        const char *token, size_t token_len, mcp_err *err);

/* Checks the required scopes against the result's scopes (scope / scp claims) and permissions
 * (the token's permissions claim, not the preset-mapped user.permissions).
 * MCPAUTH_E_INSUFFICIENT_SCOPE naming the missing ones. */
int mcp_scopes_check(json_t *auth_result, const mcp_strv required, mcp_err *err);

/* The scopes a result holds by the rule of mcp_scopes_check, as NUL-terminated strings back to
 * back (*len bytes in all), for checks without the tree (the token cache keeps it beside the
 * result). malloc'd; NULL on no memory. */
char *mcp_scopes_held(json_t *auth_result, size_t *len);

/* mcp_scopes_check against a blob from mcp_scopes_held. */
int mcp_scopes_check_held(const char *blob, size_t len, const mcp_strv required, mcp_err *err);

#endif
