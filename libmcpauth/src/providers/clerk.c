/* provider_clerk.c - oauthClerkProvider: frontendApiUrl
 * (MCP_USE_OAUTH_CLERK_FRONTEND_API_URL), audience optional (no env var). Issuer = the URL
 * without trailing '/', JWKS {iss}/.well-known/jwks.json, /oauth/authorize, /oauth/token,
 * DCR at /oauth/register. Clerk access tokens are issuer-bound: without an audience they are
 * not required to name the MCP resource. Default scopes omit "openid". */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_impl.h"

#define CLERK_ENV_URL "MCP_USE_OAUTH_CLERK_FRONTEND_API_URL"

static int clerk_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *url = NULL;
    int rc = mcp_provider_opt(in, "frontendApiUrl", env, CLERK_ENV_URL, &url, err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("clerk", "frontendApiUrl", env, CLERK_ENV_URL, url, err);
    if (rc == MCPAUTH_OK && !strstr(url, "://")) { /* "clerk.example.com" -> https://... */
        char *full = NULL;
        rc = mcp_pv_fill(&full, "https://", url, err);
        free(url);
        url = full;
    }
    if (rc == MCPAUTH_OK) rc = mcp_pv_url(url, "clerk", "frontendApiUrl", err);
    static const char *const scopes[] = {"profile", "email", "offline_access", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, url, NULL, err);
    if (rc == MCPAUTH_OK && !mcp_pv_has_key_source(cfg))
        rc = mcp_pv_fill(&cfg->jwks_url, url, "/.well-known/jwks.json", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->authorization_endpoint, url, "/oauth/authorize", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->token_endpoint, url, "/oauth/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, url, "/oauth/register", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->userinfo_endpoint, url, "/oauth/userinfo", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    cfg->bind_resource = 0;
    free(url);
    return rc;
}

static int clerk_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "username", payload, "username");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    json_t *role = json_object_get(payload, "org_role");
    json_t *roles = json_array();
    if (!roles) return -1;
    if (json_is_string(role) && json_string_length(role) > 0) /* org_role "" is no role */
        bad |= json_array_append_new(roles, json_deep_copy(role)) != 0;
    bad |= json_object_set_new(user, "roles", roles) != 0;
    bad |= mcp_map_str_list(user, "permissions", json_object_get(payload, "org_permissions")) < 0;
    bad |= mcp_map_scopes(user, payload);
    bad |= mcp_map_any(user, "email_verified", payload, "email_verified");
    bad |= mcp_map_any(user, "org_id", payload, "org_id");
    bad |= mcp_map_any(user, "org_role", payload, "org_role");
    bad |= mcp_map_any(user, "org_slug", payload, "org_slug");
    return bad ? -1 : 0;
}

static const char *const clerk_options[] = {"frontendApiUrl", NULL};

const mcp_provider mcp_provider_clerk = {"clerk", clerk_resolve, clerk_map_user, clerk_options};
