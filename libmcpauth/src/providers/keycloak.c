/* provider_keycloak.c - oauthKeycloakProvider: serverUrl + realm
 * (MCP_USE_OAUTH_KEYCLOAK_SERVER_URL, MCP_USE_OAUTH_KEYCLOAK_REALM), audience optional
 * (MCP_USE_OAUTH_KEYCLOAK_AUDIENCE). Issuer {serverUrl}/realms/{realm}, endpoints under
 * {iss}/protocol/openid-connect/. Roles from realm_access.roles, permissions
 * "{client}:{role}" from resource_access.*.roles. */
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"
#include "providers/provider_impl.h"

#define KC_ENV_URL "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL"
#define KC_ENV_REALM "MCP_USE_OAUTH_KEYCLOAK_REALM"
#define KC_ENV_AUDIENCE "MCP_USE_OAUTH_KEYCLOAK_AUDIENCE"

static int realm_ok(const char *s) {
    if (!*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '/' || *p == '?' || *p == '#' || *p == '%' ||
            *p == '\\' || *p == '@')
            return 0;
    return 1;
}

static int kc_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *url = NULL, *realm = NULL, *iss = NULL;
    int rc = mcp_provider_opt(in, "serverUrl", env, KC_ENV_URL, &url, err);
    if (rc == MCPAUTH_OK) rc = mcp_provider_opt(in, "realm", env, KC_ENV_REALM, &realm, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_required("keycloak", "serverUrl", env, KC_ENV_URL, url, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_required("keycloak", "realm", env, KC_ENV_REALM, realm, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_url(url, "keycloak", "serverUrl", err);
    if (rc == MCPAUTH_OK && !realm_ok(realm))
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "keycloak: option 'realm' must be a realm name (printable ASCII, no "
                         "'/', '?', '#', '%%', '@' or spaces)");
    if (rc == MCPAUTH_OK) rc = mcp_pv_audience_env(cfg, env, KC_ENV_AUDIENCE, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&iss, url, "/realms/", err);
    if (rc == MCPAUTH_OK) {
        char *full = NULL;
        rc = mcp_pv_fill(&full, iss, realm, err);
        free(iss);
        iss = full;
    }
    static const char *const scopes[] = {"openid",         "profile", "email",
                                         "offline_access", "roles",   NULL};
    static const char *const grants[] = {"authorization_code", "refresh_token",
                                         "client_credentials", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, iss, NULL, err);
    if (rc == MCPAUTH_OK && !mcp_pv_has_key_source(cfg))
        rc = mcp_pv_fill(&cfg->jwks_url, iss, "/protocol/openid-connect/certs", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->authorization_endpoint, iss, "/protocol/openid-connect/auth", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->token_endpoint, iss, "/protocol/openid-connect/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, iss, "/clients-registrations/openid-connect",
                         err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->userinfo_endpoint, iss, "/protocol/openid-connect/userinfo", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->grant_types_supported, grants, err);
    free(url);
    free(realm);
    free(iss);
    return rc;
}

/* "{client}:{role}" for every string role of every client in resource_access. */
static json_t *client_permissions(json_t *payload) {
    json_t *out = json_array();
    json_t *ra = json_object_get(payload, "resource_access");
    if (!out || !json_is_object(ra)) return out;
    const char *client;
    json_t *entry;
    json_object_foreach(ra, client, entry) {
        json_t *roles = json_object_get(entry, "roles");
        if (!json_is_array(roles)) continue;
        size_t i, cl = strlen(client);
        json_t *role;
        json_array_foreach(roles, i, role) {
            if (!json_is_string(role)) continue;
            size_t rl = json_string_length(role);
            char *s = malloc(cl + rl + 2);
            if (!s) goto oom;
            memcpy(s, client, cl);
            s[cl] = ':';
            memcpy(s + cl + 1, json_string_value(role), rl);
            int bad = json_array_append_new(out, json_stringn(s, cl + 1 + rl)) != 0;
            free(s);
            if (bad) goto oom;
        }
    }
    return out;
oom:
    json_decref(out);
    return NULL;
}

static int kc_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "username", payload, "preferred_username");
    bad |= mcp_map_str(user, "nickname", payload, "preferred_username");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    json_t *ra = json_object_get(payload, "realm_access");
    bad |= mcp_map_str_list(user, "roles", json_object_get(ra, "roles")) < 0;
    json_t *perms = client_permissions(payload);
    bad |= !perms || json_object_set_new(user, "permissions", perms) != 0;
    bad |= mcp_map_scopes(user, payload);
    bad |= mcp_map_any(user, "email_verified", payload, "email_verified");
    bad |= mcp_map_any(user, "given_name", payload, "given_name");
    bad |= mcp_map_any(user, "family_name", payload, "family_name");
    bad |= mcp_map_any(user, "realm_access", payload, "realm_access");
    bad |= mcp_map_any(user, "resource_access", payload, "resource_access");
    return bad ? -1 : 0;
}

static const char *const kc_options[] = {"serverUrl", "realm", NULL};

const mcp_provider mcp_provider_keycloak = {"keycloak", kc_resolve, kc_map_user, kc_options};
