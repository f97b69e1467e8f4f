/* check_providers.c - every preset: issuer / JWKS / endpoint derivation, defaults, and the
 * claim -> UserInfo mapping on sample payloads (mcp-use-auth.md section 1 tables), plus the
 * auth result (scopes, permissions, clientId, expiresAt, resource) and the scope check. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "providers/provider.h"
#include "verify/userinfo.h"

static mcp_config *load(const char *json) {
    mcp_config *c = NULL;
    mcp_err err = {0, {0}};
    int rc = mcp_config_load(json, strlen(json), NULL, &c, &err);
    ck_assert_msg(rc == MCPAUTH_OK, "config %s: %s", json, err.msg);
    return c;
}

static int load_err(const char *json, mcp_err *err) {
    mcp_config *c = NULL;
    int rc = mcp_config_load(json, strlen(json), NULL, &c, err);
    mcp_config_free(c);
    return rc;
}

/* The auth result of `payload` under `c`'s provider; the test owns it. */
static json_t *result(const mcp_config *c, const char *payload) {
    json_error_t je;
    json_t *p = json_loads(payload, 0, &je);
    ck_assert_msg(p != NULL, "bad test JSON %s", payload);
    mcp_err err = {0, {0}};
    json_t *r = mcp_auth_result(c, mcp_provider_find(c->provider), p, "tok.en.x", 8, &err);
    ck_assert_msg(r != NULL, "auth result failed: %s", err.msg);
    json_decref(p);
    return r;
}

static const char *ustr(json_t *r, const char *field) {
    return json_string_value(json_object_get(json_object_get(r, "user"), field));
}

static json_t *ufield(json_t *r, const char *field) {
    return json_object_get(json_object_get(r, "user"), field);
}

/* The array as "a,b,c" (static buffer). */
static const char *joined(json_t *arr) {
    static char buf[512];
    buf[0] = '\0';
    ck_assert_msg(json_is_array(arr), "not an array");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i) strncat(buf, ",", sizeof buf - strlen(buf) - 1);
        strncat(buf, json_string_value(v), sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

/* ---- derivation ------------------------------------------------------------------------- */

START_TEST(auth0_derivation_and_mapping) {
    mcp_config *c = load("{\"provider\":\"auth0\",\"domain\":\"https://tenant.auth0.com/\","
                         "\"audience\":\"https://api.example\"}");
    ck_assert_str_eq(c->issuer, "https://tenant.auth0.com/");
    ck_assert_str_eq(c->jwks_url, "https://tenant.auth0.com/.well-known/jwks.json");
    ck_assert_str_eq(c->authorization_endpoint, "https://tenant.auth0.com/authorize");
    ck_assert_str_eq(c->token_endpoint, "https://tenant.auth0.com/oauth/token");
    ck_assert_str_eq(c->registration_endpoint, "https://tenant.auth0.com/oidc/register");
    ck_assert_str_eq(c->scopes_supported[0], "openid");
    ck_assert_str_eq(c->scopes_supported[3], "offline_access");
    ck_assert_ptr_null(c->scopes_supported[4]);
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_MASK_ASYMMETRIC);
    json_t *r = result(c, "{\"sub\":\"auth0|1\",\"email\":\"a@x.io\",\"name\":\"A\","
                          "\"username\":\"au\",\"nickname\":\"nick\",\"picture\":\"https://p\","
                          "\"https://your-app.com/roles\":[\"admin\",7],\"permissions\":"
                          "[\"read:x\"],\"scope\":\"openid  read:x\",\"email_verified\":true,"
                          "\"updated_at\":\"2024-01-01\"}");
    ck_assert_str_eq(ustr(r, "userId"), "auth0|1");
    ck_assert_str_eq(ustr(r, "email"), "a@x.io");
    ck_assert_str_eq(ustr(r, "username"), "au");
    ck_assert_str_eq(ustr(r, "nickname"), "nick");
    ck_assert_str_eq(ustr(r, "picture"), "https://p");
    ck_assert_str_eq(joined(ufield(r, "roles")), "admin");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "read:x");
    ck_assert_str_eq(joined(ufield(r, "scopes")), "openid,read:x");
    ck_assert(json_is_true(ufield(r, "email_verified")));
    ck_assert_str_eq(ustr(r, "updated_at"), "2024-01-01");
    json_decref(r);
    /* plain "roles" wins over the namespaced claim; absent gives [] */
    r = result(c, "{\"sub\":\"s\",\"roles\":[\"r1\"],\"https://your-app.com/roles\":[\"r2\"]}");
    ck_assert_str_eq(joined(ufield(r, "roles")), "r1");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "");
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

START_TEST(workos_derivation_and_mapping) {
    mcp_config *c = load("{\"provider\":\"workos\",\"subdomain\":\"https://acme.authkit.app/\"}");
    ck_assert_str_eq(c->issuer, "https://acme.authkit.app");
    ck_assert_str_eq(c->jwks_url, "https://acme.authkit.app/oauth2/jwks");
    ck_assert_str_eq(c->authorization_endpoint, "https://acme.authkit.app/oauth2/authorize");
    ck_assert_str_eq(c->token_endpoint, "https://acme.authkit.app/oauth2/token");
    ck_assert_str_eq(c->registration_endpoint, "https://acme.authkit.app/oauth2/register");
    ck_assert_ptr_null(c->audience);
    mcp_config_free(c);
    c = load("{\"provider\":\"workos\",\"subdomain\":\"acme\"}");
    ck_assert_str_eq(c->issuer, "https://acme.authkit.app");
    json_t *r = result(c, "{\"sub\":\"user_1\",\"org_id\":\"org_9\",\"sid\":\"s1\","
                          "\"preferred_username\":\"pu\",\"roles\":[\"member\"],"
                          "\"scope\":\"email\"}");
    ck_assert_str_eq(ustr(r, "userId"), "user_1");
    ck_assert_str_eq(ustr(r, "organization_id"), "org_9");
    ck_assert_ptr_null(ufield(r, "org_id"));
    ck_assert_str_eq(ustr(r, "sid"), "s1");
    ck_assert_str_eq(ustr(r, "username"), "pu");
    ck_assert_str_eq(joined(ufield(r, "roles")), "member");
    json_decref(r);
    mcp_config_free(c);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(load_err("{\"provider\":\"workos\",\"subdomain\":\"a.b/c\"}", &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "'subdomain'"));
    ck_assert_int_eq(load_err("{\"provider\":\"workos\",\"subdomain\":\"http://a.b\"}", &err),
                     MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(supabase_derivation_and_mapping) {
    mcp_config *c = load("{\"provider\":\"supabase\",\"projectId\":\"abcd1234\"}");
    ck_assert_str_eq(c->issuer, "https://abcd1234.supabase.co/auth/v1");
    ck_assert_str_eq(c->jwks_url, "https://abcd1234.supabase.co/auth/v1/.well-known/jwks.json");
    ck_assert_str_eq(c->authorization_endpoint,
                     "https://abcd1234.supabase.co/auth/v1/oauth/authorize");
    ck_assert_str_eq(c->token_endpoint, "https://abcd1234.supabase.co/auth/v1/oauth/token");
    ck_assert_str_eq(c->registration_endpoint,
                     "https://abcd1234.supabase.co/auth/v1/oauth/clients/register");
    ck_assert_str_eq(c->audience[0], "authenticated");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_ES256) | MCP_ALG_BIT(MCP_ALG_RS256));
    ck_assert_ptr_null(c->scopes_supported[0]);
    json_t *r = result(c, "{\"user_id\":\"u-1\",\"email\":\"s@x.io\",\"role\":\"authenticated\","
                          "\"aal\":\"aal2\",\"amr\":[{\"method\":\"password\"}],"
                          "\"session_id\":\"sess\",\"user_metadata\":{\"full_name\":\"Full N\","
                          "\"username\":\"sun\",\"avatar_url\":\"https://av\"},"
                          "\"scope\":\"x\"}");
    ck_assert_str_eq(ustr(r, "userId"), "u-1");
    ck_assert_str_eq(ustr(r, "name"), "Full N");
    ck_assert_str_eq(ustr(r, "username"), "sun");
    ck_assert_str_eq(ustr(r, "picture"), "https://av");
    ck_assert_str_eq(joined(ufield(r, "roles")), "authenticated");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "aal:aal2");
    ck_assert_str_eq(ustr(r, "aal"), "aal2");
    ck_assert_str_eq(ustr(r, "session_id"), "sess");
    ck_assert(json_is_array(ufield(r, "amr")));
    ck_assert_ptr_null(ufield(r, "scopes")); /* Supabase maps no scopes into the user */
    /* ctx.auth.permissions is the token's permissions claim (none here), not user.permissions */
    ck_assert_str_eq(joined(json_object_get(r, "permissions")), "");
    json_decref(r);
    r = result(c, "{\"sub\":\"s\",\"user_id\":\"u\",\"user_metadata\":{\"name\":\"N\","
                  "\"full_name\":\"F\"}}");
    ck_assert_str_eq(ustr(r, "userId"), "s");
    ck_assert_str_eq(ustr(r, "name"), "N");
    ck_assert_str_eq(joined(ufield(r, "roles")), "");
    json_decref(r);
    mcp_config_free(c);

    c = load("{\"provider\":\"supabase\",\"projectId\":\"zzz\",\"supabaseUrl\":"
             "\"http://127.0.0.1:54321//\",\"jwtSecret\":\"0123456789abcdef0123456789abcdef\"}");
    ck_assert_str_eq(c->issuer, "http://127.0.0.1:54321/auth/v1");
    /* with the legacy secret the project's JWKS is still derived: HS256 with the secret,
     * ES256 / RS256 with the published keys */
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_HS256) | MCP_ALG_BIT(MCP_ALG_ES256) |
                                       MCP_ALG_BIT(MCP_ALG_RS256));
    ck_assert_str_eq(c->jwks_url, "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json");
    mcp_config_free(c);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(load_err("{\"provider\":\"supabase\",\"projectId\":\"p\",\"jwtSecret\":"
                              "\"too-short\"}",
                              &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "'jwtSecret'"));
    ck_assert_ptr_nonnull(strstr(err.msg, "MCP_USE_OAUTH_SUPABASE_JWT_SECRET"));
}
END_TEST

START_TEST(keycloak_roles_and_permissions) {
    mcp_config *c = load("{\"provider\":\"keycloak\",\"serverUrl\":\"https://kc.example/\","
                         "\"realm\":\"demo\"}");
    ck_assert_str_eq(c->issuer, "https://kc.example/realms/demo");
    ck_assert_str_eq(c->jwks_url, "https://kc.example/realms/demo/protocol/openid-connect/certs");
    ck_assert_str_eq(c->authorization_endpoint,
                     "https://kc.example/realms/demo/protocol/openid-connect/auth");
    ck_assert_str_eq(c->token_endpoint,
                     "https://kc.example/realms/demo/protocol/openid-connect/token");
    ck_assert_str_eq(c->registration_endpoint,
                     "https://kc.example/realms/demo/clients-registrations/openid-connect");
    ck_assert(mcp_strv_contains(c->grant_types_supported, "client_credentials"));
    ck_assert(mcp_strv_contains(c->scopes_supported, "roles"));
    ck_assert_ptr_null(c->audience);
    json_t *r = result(c, "{\"sub\":\"k1\",\"preferred_username\":\"kuser\","
                          "\"given_name\":\"G\",\"family_name\":\"F\","
                          "\"realm_access\":{\"roles\":[\"admin\",\"user\"]},"
                          "\"resource_access\":{\"api\":{\"roles\":[\"read\",\"write\"]},"
                          "\"web\":{\"roles\":[\"view\",3]},\"bad\":{\"roles\":\"x\"}},"
                          "\"scope\":\"openid profile\"}");
    ck_assert_str_eq(ustr(r, "username"), "kuser");
    ck_assert_str_eq(ustr(r, "nickname"), "kuser");
    ck_assert_str_eq(joined(ufield(r, "roles")), "admin,user");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "api:read,api:write,web:view");
    ck_assert_str_eq(ustr(r, "given_name"), "G");
    ck_assert(json_is_object(ufield(r, "resource_access")));
    ck_assert_str_eq(joined(ufield(r, "scopes")), "openid,profile");
    /* raw payload has no "permissions": ctx.auth.permissions is empty (the client roles stay in
     * user.permissions only) */
    ck_assert_str_eq(joined(json_object_get(r, "permissions")), "");
    json_decref(r);
    mcp_config_free(c);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(load_err("{\"provider\":\"keycloak\",\"serverUrl\":\"https://kc.example\","
                              "\"realm\":\"a/../b\"}",
                              &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "'realm'"));
}
END_TEST

START_TEST(clerk_org_role_and_permissions) {
    mcp_config *c = load("{\"provider\":\"clerk\",\"frontendApiUrl\":\"clerk.acme.dev\"}");
    ck_assert_str_eq(c->issuer, "https://clerk.acme.dev");
    ck_assert_str_eq(c->jwks_url, "https://clerk.acme.dev/.well-known/jwks.json");
    ck_assert_str_eq(c->authorization_endpoint, "https://clerk.acme.dev/oauth/authorize");
    ck_assert_str_eq(c->token_endpoint, "https://clerk.acme.dev/oauth/token");
    ck_assert_str_eq(c->registration_endpoint, "https://clerk.acme.dev/oauth/register");
    ck_assert(!mcp_strv_contains(c->scopes_supported, "openid"));
    ck_assert_int_eq(c->bind_resource, 0);
    json_t *r = result(c, "{\"sub\":\"user_2\",\"org_id\":\"org_1\",\"org_role\":\"org:admin\","
                          "\"org_slug\":\"acme\",\"org_permissions\":[\"org:sys:read\"],"
                          "\"username\":\"cu\"}");
    ck_assert_str_eq(joined(ufield(r, "roles")), "org:admin");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "org:sys:read");
    ck_assert_str_eq(ustr(r, "org_id"), "org_1");
    ck_assert_str_eq(ustr(r, "org_role"), "org:admin");
    ck_assert_str_eq(ustr(r, "org_slug"), "acme");
    ck_assert_str_eq(ustr(r, "username"), "cu");
    json_decref(r);
    r = result(c, "{\"sub\":\"user_3\"}");
    ck_assert_str_eq(joined(ufield(r, "roles")), "");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "");
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

/* ctx.auth.permissions is the token's permissions claim (an array of strings), whatever the
 * preset maps into user.permissions; the scope rule reads scopes and that claim only. */
START_TEST(auth_permissions_follow_the_claim) {
    mcp_config *c = load("{\"provider\":\"keycloak\",\"serverUrl\":\"https://kc.example\","
                         "\"realm\":\"r\"}");
    json_t *r = result(c, "{\"sub\":\"k\",\"permissions\":[\"docs:read\",7],"
                          "\"resource_access\":{\"api\":{\"roles\":[\"write\"]}}}");
    ck_assert_str_eq(joined(json_object_get(r, "permissions")), "docs:read");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "api:write");
    const char *need_claim[] = {"docs:read", NULL}, *need_role[] = {"api:write", NULL};
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)need_claim, &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)need_role, &err), MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_ptr_nonnull(strstr(err.msg, "api:write"));
    json_decref(r);
    mcp_config_free(c);
    /* Clerk org_permissions and Supabase aal:* grant no scope either */
    c = load("{\"provider\":\"clerk\",\"frontendApiUrl\":\"clerk.acme.dev\"}");
    r = result(c, "{\"sub\":\"u\",\"org_permissions\":[\"org:sys:read\"]}");
    const char *org[] = {"org:sys:read", NULL};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)org, &err), MCPAUTH_E_INSUFFICIENT_SCOPE);
    json_decref(r);
    mcp_config_free(c);
    c = load("{\"provider\":\"supabase\",\"projectId\":\"abcd1234\"}");
    r = result(c, "{\"sub\":\"u\",\"aal\":\"aal2\"}");
    const char *aal[] = {"aal:aal2", NULL};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)aal, &err), MCPAUTH_E_INSUFFICIENT_SCOPE);
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

/* Empty claims are no values: role "" gives no role, aal "" nothing, Clerk org_role "" nothing,
 * Supabase user_metadata.name "" falls back to full_name (the reference's truthiness). */
START_TEST(empty_claims_are_not_values) {
    mcp_config *c = load("{\"provider\":\"supabase\",\"projectId\":\"abcd1234\"}");
    json_t *r = result(c, "{\"sub\":\"s\",\"role\":\"\",\"aal\":\"\",\"user_metadata\":"
                          "{\"name\":\"\",\"full_name\":\"Full Name\"}}");
    ck_assert_str_eq(joined(ufield(r, "roles")), "");
    ck_assert_str_eq(joined(ufield(r, "permissions")), "");
    ck_assert_str_eq(ustr(r, "name"), "Full Name");
    json_decref(r);
    r = result(c, "{\"sub\":\"\",\"user_id\":\"u-2\"}");
    ck_assert_str_eq(ustr(r, "userId"), "u-2"); /* sub "" || user_id */
    json_decref(r);
    mcp_config_free(c);
    c = load("{\"provider\":\"clerk\",\"frontendApiUrl\":\"clerk.acme.dev\"}");
    r = result(c, "{\"sub\":\"u\",\"org_role\":\"\"}");
    ck_assert_str_eq(joined(ufield(r, "roles")), "");
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

START_TEST(betterauth_derivation_and_mapping) {
    mcp_config *c = load("{\"provider\":\"betterauth\",\"authURL\":"
                         "\"https://app.example/api/auth/\"}");
    ck_assert_str_eq(c->issuer, "https://app.example/api/auth");
    ck_assert_str_eq(c->jwks_url, "https://app.example/api/auth/jwks");
    ck_assert_str_eq(c->authorization_endpoint, "https://app.example/api/auth/oauth2/authorize");
    ck_assert_str_eq(c->token_endpoint, "https://app.example/api/auth/oauth2/token");
    ck_assert_str_eq(c->registration_endpoint, "https://app.example/api/auth/oauth2/register");
    ck_assert(mcp_strv_contains(c->grant_types_supported, "client_credentials"));
    json_t *r = result(c, "{\"sub\":\"b1\",\"azp\":\"client-1\",\"sid\":\"s\",\"roles\":[\"a\"],"
                          "\"email_verified\":false}");
    ck_assert_str_eq(ustr(r, "azp"), "client-1");
    ck_assert_str_eq(ustr(r, "sid"), "s");
    ck_assert_str_eq(joined(ufield(r, "roles")), "a");
    ck_assert(json_is_false(ufield(r, "email_verified")));
    ck_assert_str_eq(json_string_value(json_object_get(r, "clientId")), "client-1");
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

START_TEST(custom_and_jwks_defaults) {
    mcp_err err = {0, {0}};
    ck_assert_int_eq(load_err("{\"provider\":\"custom\",\"issuer\":\"https://i.example\","
                              "\"authEndpoint\":\"https://i.example/a\"}",
                              &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_str_eq(err.msg, "custom: option 'tokenEndpoint' is required");
    ck_assert_int_eq(load_err("{\"provider\":\"custom\",\"issuer\":\"https://i.example\","
                              "\"authEndpoint\":\"https://i.example/a\",\"tokenEndpoint\":"
                              "\"https://i.example/t\"}",
                              &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "'jwksUrl'"));
    mcp_config *c = load("{\"provider\":\"custom\",\"issuer\":\"https://i.example\","
                         "\"authEndpoint\":\"https://i.example/a\",\"tokenEndpoint\":"
                         "\"https://i.example/t\",\"jwksUrl\":\"https://i.example/k\","
                         "\"grantTypesSupported\":[\"authorization_code\"]}");
    ck_assert_str_eq(c->authorization_endpoint, "https://i.example/a");
    ck_assert_str_eq(c->scopes_supported[2], "email");
    ck_assert_str_eq(c->grant_types_supported[0], "authorization_code");
    ck_assert_ptr_null(c->grant_types_supported[1]);
    json_t *r = result(c, "{\"id\":\"i-1\",\"preferred_username\":\"pu\",\"avatar_url\":\"av\","
                          "\"roles\":\"not-an-array\",\"permissions\":[\"p\"]}");
    ck_assert_str_eq(ustr(r, "userId"), "i-1");
    ck_assert_str_eq(ustr(r, "username"), "pu");
    ck_assert_str_eq(ustr(r, "picture"), "av");
    ck_assert_ptr_null(ufield(r, "roles"));
    ck_assert_str_eq(joined(ufield(r, "permissions")), "p");
    json_decref(r);
    mcp_config_free(c);

    c = load("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/k\"}");
    r = result(c, "{\"sub\":\"s\",\"email\":\"e\",\"name\":\"n\",\"picture\":\"p\","
                  "\"username\":\"u\",\"roles\":[\"r\"],\"scope\":\"a\"}");
    json_t *user = json_object_get(r, "user");
    ck_assert_uint_eq(json_object_size(user), 5); /* userId email name picture scopes */
    ck_assert_ptr_null(ufield(r, "username"));
    ck_assert_ptr_null(ufield(r, "roles"));
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

/* ---- the auth result ------------------------------------------------------------------ */

START_TEST(claims_map_overrides) {
    mcp_config *c = load("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/k\","
                         "\"claims\":{\"email\":\"mail\",\"roles\":\"groups\",\"name\":"
                         "\"profile.display\",\"userId\":\"oid\",\"tenant\":\"tid\","
                         "\"missing\":\"nowhere.at.all\"}}");
    json_t *r = result(c, "{\"sub\":\"s\",\"oid\":\"object-id\",\"email\":\"e@x\",\"mail\":"
                          "\"m@x\",\"groups\":[\"g1\",\"g2\"],\"profile\":{\"display\":\"D\"},"
                          "\"tid\":\"t1\"}");
    ck_assert_str_eq(ustr(r, "userId"), "object-id");
    ck_assert_str_eq(ustr(r, "email"), "m@x");
    ck_assert_str_eq(ustr(r, "name"), "D");
    ck_assert_str_eq(joined(ufield(r, "roles")), "g1,g2");
    ck_assert_str_eq(ustr(r, "tenant"), "t1");
    ck_assert_ptr_null(ufield(r, "missing"));
    json_decref(r);
    mcp_config_free(c);
}
END_TEST

START_TEST(auth_result_fields) {
    mcp_config *c = load("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/k\","
                         "\"resource\":\"https://mcp.example/mcp\"}");
    json_t *r = result(c, "{\"sub\":\"s\",\"scope\":\"a b\",\"scp\":[\"b\",\"c\"],"
                          "\"permissions\":[\"p1\",\"p1\"],\"client_id\":\"cid\",\"azp\":\"az\","
                          "\"exp\":1800000000.9,\"aud\":[\"x\",\"https://mcp.example/mcp\"]}");
    ck_assert_str_eq(joined(json_object_get(r, "scopes")), "a,b,c");
    ck_assert_str_eq(joined(json_object_get(r, "permissions")), "p1");
    ck_assert_str_eq(json_string_value(json_object_get(r, "clientId")), "cid");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "expiresAt")), 1800000000);
    ck_assert_str_eq(json_string_value(json_object_get(r, "resource")), "https://mcp.example/mcp");
    ck_assert_str_eq(json_string_value(json_object_get(r, "accessToken")), "tok.en.x");
    ck_assert(json_is_object(json_object_get(r, "payload")));
    json_decref(r);
    r = result(c, "{\"sub\":\"s\",\"scp\":\"only\",\"azp\":\"az\",\"aud\":\"other\"}");
    ck_assert_str_eq(joined(json_object_get(r, "scopes")), "only");
    ck_assert_str_eq(json_string_value(json_object_get(r, "clientId")), "az");
    ck_assert(json_is_null(json_object_get(r, "expiresAt")));
    ck_assert(json_is_null(json_object_get(r, "resource")));
    json_decref(r);
    r = result(c, "{\"sub\":\"s\",\"resource\":\"https://r.example\"}");
    ck_assert_str_eq(json_string_value(json_object_get(r, "resource")), "https://r.example");
    ck_assert(json_is_null(json_object_get(r, "clientId")));
    json_decref(r);
    /* no user id at all: refused */
    json_error_t je;
    json_t *p = json_loads("{\"email\":\"e\"}", 0, &je);
    mcp_err err = {0, {0}};
    ck_assert_ptr_null(mcp_auth_result(c, mcp_provider_find("jwks"), p, NULL, 0, &err));
    ck_assert_int_eq(err.code, MCPAUTH_E_CLAIM_INVALID);
    json_decref(p);
    mcp_config_free(c);
}
END_TEST

START_TEST(scopes_check_lists_missing) {
    json_error_t je;
    json_t *r = json_loads("{\"scopes\":[\"a\",\"b\"],\"permissions\":[\"p\"]}", 0, &je);
    mcp_err err = {0, {0}};
    const char *ok[] = {"a", "p", NULL};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)ok, &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_scopes_check(r, NULL, &err), MCPAUTH_OK);
    const char *bad[] = {"a", "x", "p", "y", NULL};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)bad, &err), MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_str_eq(err.msg, "missing required scopes: x y");
    const char *one[] = {"zz", NULL};
    ck_assert_int_eq(mcp_scopes_check(r, (mcp_strv)one, &err), MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_str_eq(err.msg, "missing required scope: zz");
    json_decref(r);
}
END_TEST

START_TEST(provider_opt_env) {
    json_error_t je;
    json_t *in = json_loads("{\"a\":\"x\",\"n\":5,\"z\":null,\"e\":\"\"}", 0, &je);
    mcp_err err = {0, {0}};
    char *out = NULL;
    ck_assert_int_eq(mcp_provider_opt(in, "a", NULL, "ENV_A", &out, &err), MCPAUTH_OK);
    ck_assert_str_eq(out, "x");
    free(out);
    ck_assert_int_eq(mcp_provider_opt(in, "n", NULL, NULL, &out, &err), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "'n'"));
    ck_assert_int_eq(mcp_provider_opt(in, "e", NULL, NULL, &out, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_provider_opt(in, "missing", NULL, "X", &out, &err), MCPAUTH_OK);
    ck_assert_ptr_null(out);
    ck_assert_ptr_null(mcp_provider_find("nope"));
    ck_assert_ptr_nonnull(mcp_provider_find("better-auth"));
    json_decref(in);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("providers");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, auth0_derivation_and_mapping);
    tcase_add_test(tc, workos_derivation_and_mapping);
    tcase_add_test(tc, supabase_derivation_and_mapping);
    tcase_add_test(tc, keycloak_roles_and_permissions);
    tcase_add_test(tc, clerk_org_role_and_permissions);
    tcase_add_test(tc, auth_permissions_follow_the_claim);
    tcase_add_test(tc, empty_claims_are_not_values);
    tcase_add_test(tc, betterauth_derivation_and_mapping);
    tcase_add_test(tc, custom_and_jwks_defaults);
    tcase_add_test(tc, claims_map_overrides);
    tcase_add_test(tc, auth_result_fields);
    tcase_add_test(tc, scopes_check_lists_missing);
    tcase_add_test(tc, provider_opt_env);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
