/* provider_betterauth.c - oauthBetterAuthProvider: authURL (MCP_USE_OAUTH_BETTER_AUTH_URL).
 * Issuer = authURL (its path kept, trailing '/' removed), JWKS {authURL}/jwks, endpoints
 * under {authURL}/oauth2/. */
#include <stdlib.h>

#include "providers/provider_impl.h"

#define BA_ENV_URL "MCP_USE_OAUTH_BETTER_AUTH_URL"

static int ba_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *url = NULL;
    int rc = mcp_provider_opt(in, "authURL", env, BA_ENV_URL, &url, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_required("betterauth", "authURL", env, BA_ENV_URL, url, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_url(url, "betterauth", "authURL", err);
    static const char *const scopes[] = {"openid", "profile", "email", "offline_access", NULL};
    static const char *const grants[] = {"authorization_code", "client_credentials",
                                         "refresh_token", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, url, NULL, err);
    if (rc == MCPAUTH_OK && !mcp_pv_has_key_source(cfg))
        rc = mcp_pv_fill(&cfg->jwks_url, url, "/jwks", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->authorization_endpoint, url, "/oauth2/authorize", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->token_endpoint, url, "/oauth2/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, url, "/oauth2/register", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->userinfo_endpoint, url, "/oauth2/userinfo", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->grant_types_supported, grants, err);
    free(url);
    return rc;
}

static int ba_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    bad |= mcp_map_str_list(user, "roles", json_object_get(payload, "roles")) < 0;
    bad |= mcp_map_str_list(user, "permissions", json_object_get(payload, "permissions")) < 0;
    bad |= mcp_map_scopes(user, payload);
    bad |= mcp_map_any(user, "azp", payload, "azp");
    bad |= mcp_map_any(user, "sid", payload, "sid");
    bad |= mcp_map_any(user, "email_verified", payload, "email_verified");
    return bad ? -1 : 0;
}

static const char *const ba_options[] = {"authURL", NULL};

const mcp_provider mcp_provider_betterauth = {"betterauth", ba_resolve, ba_map_user, ba_options};
