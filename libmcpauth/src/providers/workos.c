/* provider_workos.c - oauthWorkOSProvider: subdomain (MCP_USE_OAUTH_WORKOS_SUBDOMAIN), the
 * full AuthKit host such as "x.authkit.app" (a bare label gets ".authkit.app"; an https://
 * prefix and trailing '/' are removed). Issuer https://{host}, JWKS /oauth2/jwks, endpoints
 * under /oauth2/. */
#include <stdlib.h>
#include <string.h>

#include "providers/provider_impl.h"

#define WORKOS_ENV_SUBDOMAIN "MCP_USE_OAUTH_WORKOS_SUBDOMAIN"

static int workos_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *host = NULL, *base = NULL;
    int rc = mcp_provider_opt(in, "subdomain", env, WORKOS_ENV_SUBDOMAIN, &host, err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("workos", "subdomain", env, WORKOS_ENV_SUBDOMAIN, host, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_host(&host, "workos", "subdomain", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&base, "https://", host, err);
    if (rc == MCPAUTH_OK && !strchr(host, '.')) {
        char *full = NULL;
        rc = mcp_pv_fill(&full, base, ".authkit.app", err);
        free(base);
        base = full;
    }
    static const char *const scopes[] = {"email", "offline_access", "openid", "profile", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, base, NULL, err);
    if (rc == MCPAUTH_OK && !mcp_pv_has_key_source(cfg))
        rc = mcp_pv_fill(&cfg->jwks_url, base, "/oauth2/jwks", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->authorization_endpoint, base, "/oauth2/authorize", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->token_endpoint, base, "/oauth2/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, base, "/oauth2/register", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->userinfo_endpoint, base, "/oauth2/userinfo", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    free(host);
    free(base);
    return rc;
}

static int workos_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "username", payload, "preferred_username");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    bad |= mcp_map_str_list(user, "roles", json_object_get(payload, "roles")) < 0;
    bad |= mcp_map_str_list(user, "permissions", json_object_get(payload, "permissions")) < 0;
    bad |= mcp_map_scopes(user, payload);
    bad |= mcp_map_any(user, "email_verified", payload, "email_verified");
    bad |= mcp_map_any(user, "organization_id", payload, "org_id");
    bad |= mcp_map_any(user, "sid", payload, "sid");
    return bad ? -1 : 0;
}

static const char *const workos_options[] = {"subdomain", NULL};

const mcp_provider mcp_provider_workos = {"workos", workos_resolve, workos_map_user,
                                          workos_options};
