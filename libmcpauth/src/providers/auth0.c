/* provider_auth0.c - oauthAuth0Provider: domain + audience (MCP_USE_OAUTH_AUTH0_DOMAIN,
 * MCP_USE_OAUTH_AUTH0_AUDIENCE). Issuer https://{domain}/ (trailing slash, as Auth0 issues
 * it), JWKS /.well-known/jwks.json, /authorize, /oauth/token, DCR at /oidc/register. */
#include <stdlib.h>

#include "providers/provider_impl.h"

#define AUTH0_ENV_DOMAIN "MCP_USE_OAUTH_AUTH0_DOMAIN"
#define AUTH0_ENV_AUDIENCE "MCP_USE_OAUTH_AUTH0_AUDIENCE"

static int auth0_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *domain = NULL;
    int rc = mcp_provider_opt(in, "domain", env, AUTH0_ENV_DOMAIN, &domain, err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("auth0", "domain", env, AUTH0_ENV_DOMAIN, domain, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_host(&domain, "auth0", "domain", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_audience_env(cfg, env, AUTH0_ENV_AUDIENCE, err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("auth0", "audience", env, AUTH0_ENV_AUDIENCE,
                             cfg->audience ? "" : NULL, err);
    if (rc != MCPAUTH_OK) {
        free(domain);
        return rc;
    }
    char *base = NULL;
    rc = mcp_pv_fill(&base, "https://", domain, err);
    free(domain);
    if (rc != MCPAUTH_OK) return rc;
    static const char *const scopes[] = {"openid", "profile", "email", "offline_access", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, base, "/", err);
    if (rc == MCPAUTH_OK && !mcp_pv_has_key_source(cfg))
        rc = mcp_pv_fill(&cfg->jwks_url, base, "/.well-known/jwks.json", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->authorization_endpoint, base, "/authorize", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->token_endpoint, base, "/oauth/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, base, "/oidc/register", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->userinfo_endpoint, base, "/userinfo", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    free(base);
    return rc;
}

static int auth0_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "username", payload, "username");
    bad |= mcp_map_str(user, "nickname", payload, "nickname");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    json_t *roles = json_object_get(payload, "roles");
    if (!json_is_array(roles)) roles = json_object_get(payload, "https://your-app.com/roles");
    bad |= mcp_map_str_list(user, "roles", roles) < 0;
    bad |= mcp_map_str_list(user, "permissions", json_object_get(payload, "permissions")) < 0;
    bad |= mcp_map_scopes(user, payload);
    bad |= mcp_map_any(user, "email_verified", payload, "email_verified");
    bad |= mcp_map_any(user, "updated_at", payload, "updated_at");
    return bad ? -1 : 0;
}

static const char *const auth0_options[] = {"domain", NULL};

const mcp_provider mcp_provider_auth0 = {"auth0", auth0_resolve, auth0_map_user, auth0_options};
