/* check_config.c - configuration parsing: option types (every error names its option),
 * unknown keys, defaults, the algorithm allow-list, env fallback (explicit beats env),
 * zero-config per preset through a fake environment, production guard, resolved view. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define BASE "\"issuer\":\"https://issuer.example\",\"secret\":\"" SECRET "\""

/* ---- a fake environment ----------------------------------------------------------------- */

static const char *fake_names[16];
static const char *fake_values[16];

static void fake_env_set(const char *const *pairs) {
    memset(fake_names, 0, sizeof fake_names);
    memset(fake_values, 0, sizeof fake_values);
    for (size_t i = 0; pairs && pairs[2 * i] && i < 15; i++) {
        fake_names[i] = pairs[2 * i];
        fake_values[i] = pairs[2 * i + 1];
    }
}

static const char *fake_env(const char *name) {
    for (size_t i = 0; fake_names[i]; i++)
        if (strcmp(fake_names[i], name) == 0) return fake_values[i];
    return NULL;
}

static int load(const char *json, mcp_config **out, mcp_err *err) {
    memset(err, 0, sizeof *err);
    *out = NULL;
    int rc = mcp_config_load(json, strlen(json), fake_env, out, err);
    if (rc != MCPAUTH_OK) {
        ck_assert_int_eq(err->code, rc);
        ck_assert_ptr_null(*out);
    }
    return rc;
}

/* Loads and expects MCPAUTH_E_CONFIG with `needle` in the message. */
static void expect_error(const char *json, const char *needle) {
    mcp_config *c = NULL;
    mcp_err err;
    int rc = load(json, &c, &err);
    ck_assert_msg(rc == MCPAUTH_E_CONFIG, "expected a config error for %s, got %d", json, rc);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "message \"%s\" lacks \"%s\" (input %s)",
                  err.msg, needle, json);
}

static mcp_config *expect_ok(const char *json) {
    mcp_config *c = NULL;
    mcp_err err;
    int rc = load(json, &c, &err);
    ck_assert_msg(rc == MCPAUTH_OK, "config %s failed: %s", json, err.msg);
    return c;
}

/* ---- tests ---------------------------------------------------------------------------- */

START_TEST(type_errors_name_the_option) {
    fake_env_set(NULL);
    static const struct {
        const char *opt;
        const char *bad;
    } cases[] = {
        {"issuer", "1"},
        {"issuer", "\"\""},
        {"issuer", "\"http://issuer.example\""},
        {"audience", "1"},
        {"audience", "[1]"},
        {"audience", "[]"},
        {"audience", "\"\""},
        {"resource", "5"},
        {"resource", "\"http://mcp.example.com/mcp\""},
        {"resource", "\"https://mcp.example.com/mcp#frag\""},
        {"jwks", "\"x\""},
        {"jwksUrl", "true"},
        {"jwksUrl", "\"ftp://keys.example\""},
        {"publicKey", "1"},
        {"secret", "5"},
        {"secret", "\"short\""},
        {"algorithms", "\"RS256\""},
        {"algorithms", "[]"},
        {"algorithms", "[\"none\"]"},
        {"algorithms", "[\"NONE\"]"},
        {"algorithms", "[\"XX256\"]"},
        {"algorithms", "[\"rs256\"]"},
        {"algorithms", "[7]"},
        {"leewaySeconds", "601"},
        {"leewaySeconds", "-1"},
        {"leewaySeconds", "\"60\""},
        {"leewaySeconds", "1.5"},
        {"requiredScopes", "5"},
        {"requiredScopes", "[1]"},
        {"requiredScopes", "[\"a b\"]"},
        {"claims", "[]"},
        {"claims", "{\"email\":5}"},
        {"claims", "{\"email\":\"\"}"},
        {"typ", "\"foo\""},
        {"typ", "5"},
        {"typ", "[]"},
        {"typ", "[\"JWT\",\"none\"]"},
        {"requireExp", "\"yes\""},
        {"verifyJwt", "1"},
        {"maxTokenBytes", "100"},
        {"maxTokenBytes", "70000"},
        {"tokenCacheSize", "-1"},
        {"tokenCacheMaxSeconds", "\"x\""},
        {"jwksCacheSeconds", "0"},
        {"jwksCacheMinSeconds", "\"x\""},
        {"jwksCacheMaxSeconds", "0"},
        {"jwksCooldownSeconds", "99999"},
        {"maxKeys", "0"},
        {"httpTimeoutMs", "10"},
        {"httpConnectTimeoutMs", "1000000000"},
        {"authorizationEndpoint", "\"ftp://x.example\""},
        {"authEndpoint", "3"},
        {"tokenEndpoint", "\"nope\""},
        {"registrationEndpoint", "1"},
        {"userInfoEndpoint", "[]"},
        {"scopesSupported", "\"a\""},
        {"grantTypes", "1"},
        {"grantTypesSupported", "[2]"},
        {"baseUrl", "1"},
        {"baseUrl", "\"https://h.example/path\""},
        {"baseUrl", "\"http://h.example\""},
        {"mcpPath", "\"mcp\""},
        {"mcpPath", "5"},
        {"protectedPaths", "[\"x\"]"},
        {"protectedPaths", "\"/mcp\""},
        {"resourceName", "1"},
        {"resourceDocumentation", "1"},
        {"routeScopes", "[]"},
        {"routeScopes", "{\"/a\":5}"},
        {"trustHostHeader", "\"no\""},
        {"metadataCacheSeconds", "-5"},
        {"proxy", "1"},
        {"introspection", "\"https://as.example/introspect\""},
        {"userinfo", "[]"},
        {"provider", "5"},
    };
    char json[512], needle[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *base = BASE;
        if (strcmp(cases[i].opt, "issuer") == 0)
            base = "\"jwksUrl\":\"https://issuer.example/jwks\"";
        else if (strcmp(cases[i].opt, "secret") == 0)
            base = "\"issuer\":\"https://issuer.example\"";
        snprintf(json, sizeof json, "{%s,\"%s\":%s}", base, cases[i].opt, cases[i].bad);
        snprintf(needle, sizeof needle, "'%s'", cases[i].opt);
        expect_error(json, needle);
    }
}
END_TEST

START_TEST(unknown_keys) {
    fake_env_set(NULL);
    expect_error("{" BASE ",\"foo\":1}", "unknown option 'foo'");
    expect_error("{" BASE ",\"Issuer\":\"x\"}", "unknown option 'Issuer'");
    /* a preset's own option is unknown for another provider, and the message says whose */
    expect_error("{" BASE ",\"domain\":\"t.auth0.com\"}", "provider 'auth0'");
    expect_error("{\"provider\":\"nope\"}", "unknown provider");
    /* strict JSON: duplicates, trailing data, not an object */
    expect_error("{\"issuer\":\"https://a.example\",\"issuer\":\"https://b.example\"}",
                 "configuration");
    expect_error("{" BASE "} x", "configuration");
    expect_error("[1]", "configuration");
}
END_TEST

START_TEST(defaults) {
    fake_env_set(NULL);
    mcp_config *c = expect_ok("{" BASE "}");
    ck_assert_str_eq(c->provider, "jwks");
    ck_assert_int_eq(c->leeway, 60);
    ck_assert_int_eq(c->max_iat_future, 60);
    ck_assert_int_eq(c->require_exp, 1);
    ck_assert_int_eq(c->verify_jwt, 1);
    ck_assert_uint_eq(c->typ_policy, MCP_TYP_ABSENT | MCP_TYP_JWT | MCP_TYP_AT_JWT);
    ck_assert_uint_eq(c->max_token_bytes, 16384);
    ck_assert_uint_eq(c->token_cache_size, 10000);
    ck_assert_int_eq(c->token_cache_max_seconds, 300);
    ck_assert_int_eq(c->jwks_cooldown, 30);
    ck_assert_uint_eq(c->max_keys, 64);
    ck_assert_int_eq(c->timeout_ms, 5000);
    ck_assert_int_eq(c->connect_timeout_ms, 3000);
    ck_assert_str_eq(c->mcp_path, "/mcp");
    ck_assert_str_eq(c->protected_paths[0], "/mcp");
    ck_assert_ptr_null(c->protected_paths[1]);
    ck_assert_ptr_null(c->resource);
    ck_assert_ptr_null(c->audience);
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_HS256)); /* a 32-byte secret */
    ck_assert_int_eq(c->trust_host_header, 0);
    ck_assert_ptr_nonnull(c->extra);
    mcp_config_free(c);

    c = expect_ok("{" BASE ",\"leewaySeconds\":0,\"typ\":\"at+jwt\",\"requireExp\":false,"
                  "\"audience\":[\"a\",\"b\"],\"requiredScopes\":\"x y\",\"maxTokenBytes\":1024,"
                  "\"claims\":{\"email\":\"mail\"},\"proxy\":{\"clientId\":\"c\"},"
                  "\"routeScopes\":{\"/mcp/admin\":\"admin root\",\"tools/call\":[\"tools\"]}}");
    json_t *rs = json_object_get(c->route_scopes, "/mcp/admin");
    ck_assert_uint_eq(json_array_size(rs), 2);
    ck_assert_str_eq(json_string_value(json_array_get(rs, 1)), "root");
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(c->route_scopes, "tools/call"), 0)),
        "tools");
    ck_assert_int_eq(c->leeway, 0);
    ck_assert_int_eq(c->max_iat_future, 0);
    ck_assert_uint_eq(c->typ_policy, MCP_TYP_AT_JWT);
    ck_assert_int_eq(c->require_exp, 0);
    ck_assert_str_eq(c->audience[1], "b");
    ck_assert_str_eq(c->required_scopes[0], "x");
    ck_assert_str_eq(c->required_scopes[1], "y");
    ck_assert_uint_eq(c->max_token_bytes, 1024);
    ck_assert_str_eq(json_string_value(json_object_get(c->claims_map, "email")), "mail");
    ck_assert_ptr_nonnull(json_object_get(c->extra, "proxy"));
    mcp_config_free(c);

    /* null means "not set" */
    c = expect_ok("{" BASE ",\"leewaySeconds\":null,\"audience\":null}");
    ck_assert_int_eq(c->leeway, 60);
    ck_assert_ptr_null(c->audience);
    mcp_config_free(c);
}
END_TEST

START_TEST(algorithm_allow_list) {
    fake_env_set(NULL);
    mcp_config *c = expect_ok("{\"issuer\":\"https://i.example\",\"jwksUrl\":"
                              "\"https://i.example/jwks\"}");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_MASK_ASYMMETRIC);
    mcp_config_free(c);
    c = expect_ok("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/jwks\","
                  "\"algorithms\":[\"RS256\",\"ES256\"]}");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_RS256) | MCP_ALG_BIT(MCP_ALG_ES256));
    mcp_config_free(c);
    /* HS* with only a JWKS URL (algorithm confusion waiting to happen) */
    expect_error("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/jwks\","
                 "\"algorithms\":[\"RS256\",\"HS256\"]}",
                 "HS256");
    expect_error("{\"issuer\":\"https://i.example\",\"secret\":\"" SECRET "\","
                 "\"algorithms\":[\"RS256\"]}",
                 "RS256");
    /* secret plus remote JWKS: both families */
    c = expect_ok("{\"issuer\":\"https://i.example\",\"jwksUrl\":\"https://i.example/jwks\","
                  "\"secret\":\"" SECRET "\"}");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_MASK_ASYMMETRIC | MCP_ALG_BIT(MCP_ALG_HS256));
    mcp_config_free(c);
    /* inline JWKS: oct keys allow HS*, others the asymmetric algorithms */
    c = expect_ok("{\"issuer\":\"https://i.example\",\"jwks\":{\"keys\":[{\"kty\":\"oct\","
                  "\"k\":\"AAAA\"}]}}");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_MASK_HMAC);
    mcp_config_free(c);
    c = expect_ok("{\"issuer\":\"https://i.example\",\"jwks\":{\"keys\":[{\"kty\":\"EC\"}]}}");
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_MASK_ASYMMETRIC);
    mcp_config_free(c);
    expect_error("{\"issuer\":\"https://i.example\",\"jwks\":{\"keys\":[{\"n\":\"x\"}]}}",
                 "'jwks'");
    expect_error("{\"issuer\":\"https://i.example\",\"jwks\":{}}", "'jwks'");
    /* static key sources are exclusive */
    expect_error("{\"issuer\":\"https://i.example\",\"secret\":\"" SECRET "\","
                 "\"publicKey\":\"-----BEGIN PUBLIC KEY-----\"}",
                 "mutually exclusive");
}
END_TEST

START_TEST(requirements) {
    fake_env_set(NULL);
    expect_error("{\"secret\":\"" SECRET "\"}", "'issuer'");
    expect_error("{\"issuer\":\"https://i.example\"}", "key source");
    /* development mode needs neither */
    mcp_config *c = expect_ok("{\"verifyJwt\":false}");
    ck_assert_int_eq(c->verify_jwt, 0);
    mcp_config_free(c);
    /* opaque tokens (introspection / userinfo) need neither issuer nor JWT keys */
    c = expect_ok("{\"introspection\":{\"url\":\"https://as.example/introspect\"}}");
    ck_assert_ptr_nonnull(json_object_get(c->extra, "introspection"));
    mcp_config_free(c);
    c = expect_ok("{\"userinfo\":{\"preset\":\"github\"}}");
    mcp_config_free(c);
    /* loopback http is fine for local identity providers */
    c = expect_ok("{\"issuer\":\"http://127.0.0.1:8080\",\"jwksUrl\":"
                  "\"http://localhost:8080/jwks\"}");
    mcp_config_free(c);
    /* both endpoint aliases at once */
    expect_error("{" BASE ",\"authEndpoint\":\"https://a.example/authorize\","
                 "\"authorizationEndpoint\":\"https://a.example/authorize\"}",
                 "aliases");
    expect_error("{" BASE ",\"jwksCacheMinSeconds\":100,\"jwksCacheMaxSeconds\":50}",
                 "'jwksCacheMinSeconds'");
    expect_error("{" BASE ",\"jwksCacheSeconds\":10}", "'jwksCacheSeconds'");
}
END_TEST

START_TEST(production_guard) {
    static const char *const names[] = {"NODE_ENV", "MCPAUTH_ENV", "ENVIRONMENT", "PYTHON_ENV",
                                        "APP_ENV"};
    for (size_t i = 0; i < 5; i++) {
        const char *pairs[] = {names[i], "production", NULL};
        fake_env_set(pairs);
        expect_error("{\"verifyJwt\":false}", "'verifyJwt'");
    }
    const char *dev[] = {"NODE_ENV", "development", NULL};
    fake_env_set(dev);
    mcp_config *c = expect_ok("{\"verifyJwt\":false}");
    mcp_config_free(c);
    /* the real process environment counts even when the env hook hides everything */
    setenv("MCPAUTH_ENV", "production", 1);
    mcp_err err;
    const char *j = "{\"verifyJwt\":false}";
    ck_assert_int_eq(mcp_config_load(j, strlen(j), NULL, &c, &err), MCPAUTH_E_CONFIG);
    unsetenv("MCPAUTH_ENV");
    ck_assert_int_eq(mcp_config_load(j, strlen(j), NULL, &c, &err), MCPAUTH_OK);
    mcp_config_free(c);
}
END_TEST

START_TEST(env_zero_config_per_preset) {
    mcp_config *c;
    {
        const char *e[] = {"MCP_USE_OAUTH_AUTH0_DOMAIN", "tenant.auth0.com",
                           "MCP_USE_OAUTH_AUTH0_AUDIENCE", "https://api.example", NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"auth0\"}");
        ck_assert_str_eq(c->issuer, "https://tenant.auth0.com/");
        ck_assert_str_eq(c->audience[0], "https://api.example");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_WORKOS_SUBDOMAIN", "acme.authkit.app", NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"workos\"}");
        ck_assert_str_eq(c->issuer, "https://acme.authkit.app");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "abcdefgh", NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"supabase\"}");
        ck_assert_str_eq(c->issuer, "https://abcdefgh.supabase.co/auth/v1");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_SUPABASE_URL", "http://127.0.0.1:54321/",
                           "MCP_USE_OAUTH_SUPABASE_JWT_SECRET", SECRET, NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"supabase\"}");
        ck_assert_str_eq(c->issuer, "http://127.0.0.1:54321/auth/v1");
        ck_assert_uint_eq(c->secret_len, 32);
        /* the secret for HS256, the project's JWKS for ES256 / RS256 */
        ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_HS256) | MCP_ALG_BIT(MCP_ALG_ES256) |
                                           MCP_ALG_BIT(MCP_ALG_RS256));
        ck_assert_str_eq(c->jwks_url, "http://127.0.0.1:54321/auth/v1/.well-known/jwks.json");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_KEYCLOAK_SERVER_URL",
                           "https://kc.example",
                           "MCP_USE_OAUTH_KEYCLOAK_REALM",
                           "demo",
                           "MCP_USE_OAUTH_KEYCLOAK_AUDIENCE",
                           "mcp-server",
                           NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"keycloak\"}");
        ck_assert_str_eq(c->issuer, "https://kc.example/realms/demo");
        ck_assert_str_eq(c->audience[0], "mcp-server");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_CLERK_FRONTEND_API_URL", "https://clerk.acme.dev/", NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"clerk\"}");
        ck_assert_str_eq(c->issuer, "https://clerk.acme.dev");
        mcp_config_free(c);
    }
    {
        const char *e[] = {"MCP_USE_OAUTH_BETTER_AUTH_URL", "https://app.example/api/auth", NULL};
        fake_env_set(e);
        c = expect_ok("{\"provider\":\"betterauth\"}");
        ck_assert_str_eq(c->issuer, "https://app.example/api/auth");
        mcp_config_free(c);
    }
}
END_TEST

/* Supabase: explicit configuration (projectId or supabaseUrl in the JSON) beats both env
 * variables; between the two env variables, and between the two JSON options, the URL wins. */
START_TEST(supabase_explicit_beats_env) {
    mcp_config *c;
    const char *both[] = {"MCP_USE_OAUTH_SUPABASE_URL", "http://127.0.0.1:54321",
                          "MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "envproject", NULL};
    fake_env_set(both);
    c = expect_ok("{\"provider\":\"supabase\",\"projectId\":\"jsonproject\"}");
    ck_assert_str_eq(c->issuer, "https://jsonproject.supabase.co/auth/v1");
    mcp_config_free(c);
    c = expect_ok("{\"provider\":\"supabase\",\"supabaseUrl\":\"https://sb.example.com/\"}");
    ck_assert_str_eq(c->issuer, "https://sb.example.com/auth/v1");
    mcp_config_free(c);
    c = expect_ok("{\"provider\":\"supabase\",\"projectId\":\"jsonproject\",\"supabaseUrl\":"
                  "\"https://sb.example.com\"}");
    ck_assert_str_eq(c->issuer, "https://sb.example.com/auth/v1");
    mcp_config_free(c);
    /* env only: the URL wins over the project id */
    c = expect_ok("{\"provider\":\"supabase\"}");
    ck_assert_str_eq(c->issuer, "http://127.0.0.1:54321/auth/v1");
    mcp_config_free(c);
    /* an env URL alone against a JSON projectId */
    const char *url_only[] = {"MCP_USE_OAUTH_SUPABASE_URL", "http://127.0.0.1:54321", NULL};
    fake_env_set(url_only);
    c = expect_ok("{\"provider\":\"supabase\",\"projectId\":\"jsonproject\"}");
    ck_assert_str_eq(c->issuer, "https://jsonproject.supabase.co/auth/v1");
    mcp_config_free(c);
    /* an env project id against a JSON supabaseUrl */
    const char *pid_only[] = {"MCP_USE_OAUTH_SUPABASE_PROJECT_ID", "envproject", NULL};
    fake_env_set(pid_only);
    c = expect_ok("{\"provider\":\"supabase\",\"supabaseUrl\":\"https://sb.example.com\"}");
    ck_assert_str_eq(c->issuer, "https://sb.example.com/auth/v1");
    mcp_config_free(c);
    /* a bad explicit project id is an error even when the env has a usable URL */
    fake_env_set(url_only);
    expect_error("{\"provider\":\"supabase\",\"projectId\":\"bad/id\"}", "projectId");
    fake_env_set(NULL);
}
END_TEST

START_TEST(missing_required_names_option_and_env) {
    fake_env_set(NULL);
    expect_error("{\"provider\":\"auth0\"}",
                 "auth0: option 'domain' is required (or set MCP_USE_OAUTH_AUTH0_DOMAIN)");
    expect_error("{\"provider\":\"auth0\",\"domain\":\"t.auth0.com\"}",
                 "auth0: option 'audience' is required (or set MCP_USE_OAUTH_AUTH0_AUDIENCE)");
    expect_error("{\"provider\":\"workos\"}",
                 "workos: option 'subdomain' is required (or set MCP_USE_OAUTH_WORKOS_SUBDOMAIN)");
    expect_error("{\"provider\":\"supabase\"}", "MCP_USE_OAUTH_SUPABASE_PROJECT_ID");
    expect_error("{\"provider\":\"supabase\"}", "MCP_USE_OAUTH_SUPABASE_URL");
    expect_error("{\"provider\":\"keycloak\",\"realm\":\"r\"}",
                 "keycloak: option 'serverUrl' is required (or set "
                 "MCP_USE_OAUTH_KEYCLOAK_SERVER_URL)");
    expect_error("{\"provider\":\"keycloak\",\"serverUrl\":\"https://kc.example\"}",
                 "keycloak: option 'realm' is required (or set MCP_USE_OAUTH_KEYCLOAK_REALM)");
    expect_error("{\"provider\":\"clerk\"}", "clerk: option 'frontendApiUrl' is required (or "
                                             "set MCP_USE_OAUTH_CLERK_FRONTEND_API_URL)");
    expect_error("{\"provider\":\"betterauth\"}",
                 "betterauth: option 'authURL' is required (or set "
                 "MCP_USE_OAUTH_BETTER_AUTH_URL)");
    expect_error("{\"provider\":\"custom\"}", "custom: option 'issuer' is required");
    /* a preset option of the wrong type */
    expect_error("{\"provider\":\"auth0\",\"domain\":5,\"audience\":\"a\"}", "'domain'");
}
END_TEST

START_TEST(explicit_beats_env) {
    const char *e[] = {"MCP_USE_OAUTH_AUTH0_DOMAIN",
                       "env.auth0.com",
                       "MCP_USE_OAUTH_AUTH0_AUDIENCE",
                       "env-audience",
                       "MCP_URL",
                       "https://env.example",
                       NULL};
    fake_env_set(e);
    mcp_config *c = expect_ok("{\"provider\":\"auth0\",\"domain\":\"cfg.auth0.com\","
                              "\"audience\":\"cfg-audience\",\"baseUrl\":\"https://cfg.example\"}");
    ck_assert_str_eq(c->issuer, "https://cfg.auth0.com/");
    ck_assert_str_eq(c->audience[0], "cfg-audience");
    ck_assert_ptr_null(c->audience[1]);
    ck_assert_str_eq(c->base_url, "https://cfg.example");
    ck_assert_str_eq(c->resource, "https://cfg.example/mcp");
    mcp_config_free(c);
    /* only the missing ones come from env */
    c = expect_ok("{\"provider\":\"auth0\",\"domain\":\"cfg.auth0.com\"}");
    ck_assert_str_eq(c->issuer, "https://cfg.auth0.com/");
    ck_assert_str_eq(c->audience[0], "env-audience");
    ck_assert_str_eq(c->resource, "https://env.example/mcp");
    mcp_config_free(c);
    /* explicit issuer beats the preset's derivation */
    c = expect_ok("{\"provider\":\"auth0\",\"domain\":\"cfg.auth0.com\","
                  "\"issuer\":\"https://login.cfg.example/\"}");
    ck_assert_str_eq(c->issuer, "https://login.cfg.example/");
    mcp_config_free(c);
}
END_TEST

START_TEST(base_url_and_resource) {
    const char *e[] = {"MCP_URL", "https://mcp.example.com/", NULL};
    fake_env_set(e);
    mcp_config *c = expect_ok("{" BASE "}");
    ck_assert_str_eq(c->base_url, "https://mcp.example.com");
    ck_assert_str_eq(c->resource, "https://mcp.example.com/mcp");
    mcp_config_free(c);
    c = expect_ok("{" BASE ",\"mcpPath\":\"/api/mcp/\",\"protectedPaths\":[\"/api\"]}");
    ck_assert_str_eq(c->mcp_path, "/api/mcp");
    ck_assert_str_eq(c->resource, "https://mcp.example.com/api/mcp");
    ck_assert_str_eq(c->protected_paths[0], "/api");
    mcp_config_free(c);
    c = expect_ok("{" BASE ",\"mcpPath\":\"/\"}");
    ck_assert_str_eq(c->resource, "https://mcp.example.com");
    mcp_config_free(c);
    c = expect_ok("{" BASE ",\"resource\":\"https://other.example/x\"}");
    ck_assert_str_eq(c->resource, "https://other.example/x");
    mcp_config_free(c);
    const char *bad[] = {"MCP_URL", "https://mcp.example.com/prefix", NULL};
    fake_env_set(bad);
    expect_error("{" BASE "}", "MCP_URL");
}
END_TEST

/* HS384 / HS512 need a secret at least as long as their hash: refused at load, not at the
 * first token, and left out of the default list for a shorter secret. */
START_TEST(hmac_algorithms_follow_secret_length) {
    fake_env_set(NULL);
    const char *s32 = SECRET, *s48 = SECRET "0123456789abcdef",
               *s64 = SECRET "0123456789abcdef0123456789abcdef";
    struct {
        const char *secret;
        unsigned want;
    } def[] = {{s32, MCP_ALG_BIT(MCP_ALG_HS256)},
               {s48, MCP_ALG_BIT(MCP_ALG_HS256) | MCP_ALG_BIT(MCP_ALG_HS384)},
               {s64, MCP_ALG_MASK_HMAC}};
    char json[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(json, sizeof json, "{\"issuer\":\"https://i.example\",\"secret\":\"%s\"}",
                 def[i].secret);
        mcp_config *c = expect_ok(json);
        ck_assert_uint_eq(c->alg_mask, def[i].want);
        mcp_config_free(c);
    }
    snprintf(json, sizeof json,
             "{\"issuer\":\"https://i.example\",\"secret\":\"%s\",\"algorithms\":[\"HS384\"]}",
             s32);
    expect_error(json,
                 "option 'algorithms': HS384 needs a 'secret' of at least 48 bytes (it has 32)");
    snprintf(json, sizeof json,
             "{\"issuer\":\"https://i.example\",\"secret\":\"%s\",\"algorithms\":[\"HS256\","
             "\"HS512\"]}",
             s48);
    expect_error(json,
                 "option 'algorithms': HS512 needs a 'secret' of at least 64 bytes (it has 48)");
    snprintf(json, sizeof json,
             "{\"issuer\":\"https://i.example\",\"secret\":\"%s\",\"algorithms\":[\"HS512\"]}",
             s64);
    mcp_config *c = expect_ok(json);
    ck_assert_uint_eq(c->alg_mask, MCP_ALG_BIT(MCP_ALG_HS512));
    mcp_config_free(c);
}
END_TEST

/* provider custom: opaque tokens (introspection, userinfo, proxy presets github / google) and
 * verifyJwt: false need neither issuer nor key source, as for the other providers. */
START_TEST(custom_provider_opaque_exemption) {
    fake_env_set(NULL);
#define CUSTOM_EP                                                                                  \
    "\"provider\":\"custom\",\"authEndpoint\":\"https://a.example/authorize\","                    \
    "\"tokenEndpoint\":\"https://a.example/token\""
    const char *ok[] = {
        "{" CUSTOM_EP ",\"introspection\":{\"url\":\"https://a.example/introspect\","
        "\"clientId\":\"c\",\"clientSecret\":\"s\"}}",
        "{" CUSTOM_EP ",\"userinfo\":{\"url\":\"https://a.example/userinfo\"}}",
        "{" CUSTOM_EP ",\"baseUrl\":\"https://mcp.example\",\"proxy\":{\"preset\":\"github\","
        "\"clientId\":\"a\",\"clientSecret\":\"b\"}}",
        "{" CUSTOM_EP ",\"baseUrl\":\"https://mcp.example\",\"proxy\":{\"preset\":\"google\","
        "\"clientId\":\"a\",\"clientSecret\":\"b\"}}",
        "{" CUSTOM_EP ",\"verifyJwt\":false}"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) mcp_config_free(expect_ok(ok[i]));
    /* JWTs still need both */
    expect_error("{" CUSTOM_EP "}", "custom: option 'issuer' is required");
    expect_error("{" CUSTOM_EP ",\"issuer\":\"https://a.example\"}",
                 "custom: option 'jwksUrl' is required");
    expect_error("{" CUSTOM_EP ",\"baseUrl\":\"https://mcp.example\",\"proxy\":{\"preset\":"
                 "\"okta\",\"domain\":\"x.okta.com\",\"clientId\":\"a\"}}",
                 "custom: option 'issuer' is required");
#undef CUSTOM_EP
}
END_TEST

/* Without an environment (MCPAUTH_ENGINE_NO_ENV) messages do not offer variables. */
START_TEST(no_env_messages_name_no_variables) {
    mcp_config *c = NULL;
    mcp_err err;
    const char *cases[] = {"{\"provider\":\"auth0\"}",    "{\"provider\":\"keycloak\"}",
                           "{\"provider\":\"supabase\"}", "{\"provider\":\"clerk\"}",
                           "{\"provider\":\"workos\"}",   "{\"provider\":\"betterauth\"}"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&err, 0, sizeof err);
        ck_assert_int_eq(mcp_config_load(cases[i], strlen(cases[i]), mcp_getenv_none, &c, &err),
                         MCPAUTH_E_CONFIG);
        ck_assert_msg(strstr(err.msg, "is required") != NULL, "%s", err.msg);
        ck_assert_msg(strstr(err.msg, "MCP_USE_OAUTH") == NULL, "%s: %s", cases[i], err.msg);
        /* with an environment, the variable is offered */
        fake_env_set(NULL);
        ck_assert_int_eq(load(cases[i], &c, &err), MCPAUTH_E_CONFIG);
        ck_assert_msg(strstr(err.msg, "MCP_USE_OAUTH") != NULL, "%s: %s", cases[i], err.msg);
    }
}
END_TEST

START_TEST(resolved_view_has_no_secrets) {
    fake_env_set(NULL);
    mcp_config *c = expect_ok(
        "{" BASE ",\"proxy\":{\"clientId\":\"cid\",\"clientSecret\":"
        "\"very-secret-value\",\"previousSecrets\":[\"old-secret-one\",\"old-secret-two\"],"
        "\"tokenEndpoint\":\"https://idp.example/token\",\"nested\":{\"password\":\"pw-123\"}}}");
    json_t *j = mcp_config_to_json(c);
    char *s = json_dumps(j, JSON_COMPACT);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(strstr(s, SECRET));
    ck_assert_ptr_null(strstr(s, "very-secret-value"));
    ck_assert_ptr_null(strstr(s, "pw-123"));
    ck_assert_ptr_null(strstr(s, "old-secret-one"));
    ck_assert_ptr_null(strstr(s, "old-secret-two"));
    ck_assert_ptr_nonnull(strstr(s, "\"tokenEndpoint\":\"https://idp.example/token\""));
    ck_assert_ptr_nonnull(strstr(s, "\"secret\":\"<set>\""));
    ck_assert_ptr_nonnull(strstr(s, "\"clientId\":\"cid\""));
    ck_assert_str_eq(json_string_value(json_object_get(j, "issuer")), "https://issuer.example");
    json_t *algs = json_object_get(j, "algorithms");
    /* a 32-byte secret: HS256 only (HS384 needs 48 bytes, HS512 64) */
    ck_assert_uint_eq(json_array_size(algs), 1);
    ck_assert_str_eq(json_string_value(json_array_get(algs, 0)), "HS256");
    free(s);
    json_decref(j);
    mcp_config_free(c);
}
END_TEST

START_TEST(opaque_proxy_presets_need_no_jwt_keys) {
    fake_env_set(NULL);
    /* github / google proxies verify returned tokens at the provider: no issuer, no keys */
    mcp_config *c = expect_ok("{\"baseUrl\":\"http://localhost:8080\",\"proxy\":{\"preset\":"
                              "\"github\",\"clientId\":\"a\",\"clientSecret\":\"b\"}}");
    mcp_config_free(c);
    /* a proxy without a preset still needs a verifier for the tokens that come back */
    expect_error("{\"baseUrl\":\"http://localhost:8080\",\"proxy\":{\"authEndpoint\":"
                 "\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
                 "\"clientId\":\"a\"}}",
                 "option 'issuer' is required");
}
END_TEST

/* okta / azure proxies: the preset's issuer and JWKS URL become the top-level verification
 * configuration when the user left them unset. */
START_TEST(jwt_proxy_presets_fill_verification) {
    fake_env_set(NULL);
    mcp_config *c = expect_ok("{\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":"
                              "\"okta\",\"domain\":\"x.okta.com\",\"clientId\":\"a\"}}");
    ck_assert_str_eq(c->issuer, "https://x.okta.com/oauth2/default");
    ck_assert_str_eq(c->jwks_url, "https://x.okta.com/oauth2/default/v1/keys");
    ck_assert(c->alg_mask & MCP_ALG_BIT(MCP_ALG_RS256));
    ck_assert(!(c->alg_mask & MCP_ALG_MASK_HMAC));
    mcp_config_free(c);
    c = expect_ok("{\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":\"azure\","
                  "\"tenant\":\"contoso\",\"clientId\":\"a\"}}");
    ck_assert_str_eq(c->issuer, "https://login.microsoftonline.com/contoso/v2.0");
    ck_assert_str_eq(c->jwks_url, "https://login.microsoftonline.com/contoso/discovery/v2.0/keys");
    mcp_config_free(c);
    /* explicit values win */
    c = expect_ok("{\"issuer\":\"https://x.okta.com/oauth2/default\",\"jwksUrl\":"
                  "\"https://keys.example.com/jwks\",\"baseUrl\":\"https://mcp.example.com\","
                  "\"proxy\":{\"preset\":\"okta\",\"domain\":\"x.okta.com\",\"clientId\":\"a\"}}");
    ck_assert_str_eq(c->jwks_url, "https://keys.example.com/jwks");
    mcp_config_free(c);
    /* the preset's issuer given explicitly: the preset's keys still apply */
    c = expect_ok("{\"issuer\":\"https://x.okta.com/oauth2/default\",\"baseUrl\":"
                  "\"https://mcp.example.com\",\"proxy\":{\"preset\":\"okta\",\"domain\":"
                  "\"x.okta.com\",\"clientId\":\"a\"}}");
    ck_assert_str_eq(c->jwks_url, "https://x.okta.com/oauth2/default/v1/keys");
    mcp_config_free(c);
    /* another issuer (a custom authorization server) needs its own key source */
    expect_error("{\"issuer\":\"https://x.okta.com/oauth2/aus123\",\"baseUrl\":"
                 "\"https://mcp.example.com\",\"proxy\":{\"preset\":\"okta\",\"domain\":"
                 "\"x.okta.com\",\"clientId\":\"a\"}}",
                 "a key source is required");
    /* a static key source of the user's: kept, no JWKS URL added */
    c = expect_ok("{\"secret\":\"" SECRET "\",\"baseUrl\":\"https://mcp.example.com\","
                  "\"proxy\":{\"preset\":\"okta\",\"domain\":\"x.okta.com\",\"clientId\":\"a\"}}");
    ck_assert_ptr_null(c->jwks_url);
    ck_assert_str_eq(c->issuer, "https://x.okta.com/oauth2/default");
    mcp_config_free(c);
    /* the preset's parameter is checked here already */
    expect_error("{\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":\"okta\","
                 "\"clientId\":\"a\"}}",
                 "option 'proxy.domain' is required by the okta preset");
    expect_error("{\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":\"okta\","
                 "\"domain\":\"evil.example/x?\",\"clientId\":\"a\"}}",
                 "option 'proxy.domain' has invalid characters");
    expect_error("{\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":\"nope\","
                 "\"clientId\":\"a\"}}",
                 "unknown preset");
}
END_TEST

/* hostVerifies: custom provider only; lifts the key-source requirement; excludes key sources
 * and the opaque verifiers; shown in the resolved view. */
#define CUSTOM_BASE                                                                                \
    "\"provider\":\"custom\",\"issuer\":\"https://idp.example.com\",\"authEndpoint\":"             \
    "\"https://idp.example.com/a\",\"tokenEndpoint\":\"https://idp.example.com/t\""

START_TEST(host_verifies_option) {
    fake_env_set(NULL);
    expect_error("{" CUSTOM_BASE "}", "custom: option 'jwksUrl' is required");
    mcp_config *c = expect_ok("{" CUSTOM_BASE ",\"hostVerifies\":true}");
    ck_assert_int_eq(c->host_verifies, 1);
    ck_assert_ptr_null(c->jwks_url);
    ck_assert_ptr_null(c->secret);
    json_t *v = mcp_config_to_json(c);
    ck_assert(json_is_true(json_object_get(v, "hostVerifies")));
    json_decref(v);
    mcp_config_free(c);
    c = expect_ok("{" CUSTOM_BASE
                  ",\"hostVerifies\":false,\"jwksUrl\":\"https://idp.example.com/k\"}");
    ck_assert_int_eq(c->host_verifies, 0);
    v = mcp_config_to_json(c);
    ck_assert(json_is_false(json_object_get(v, "hostVerifies")));
    json_decref(v);
    mcp_config_free(c);
    expect_error("{" CUSTOM_BASE ",\"hostVerifies\":1}",
                 "option 'hostVerifies' must be true or false");
    expect_error("{\"issuer\":\"https://idp.example.com\",\"hostVerifies\":true}",
                 "option 'hostVerifies' is only allowed with provider \"custom\"");
    expect_error("{\"provider\":\"auth0\",\"domain\":\"t.auth0.com\",\"audience\":\"api\","
                 "\"hostVerifies\":true}",
                 "only allowed with provider \"custom\"");
    expect_error("{" CUSTOM_BASE ",\"hostVerifies\":true,\"secret\":\"" SECRET "\"}",
                 "would never be used");
    expect_error("{" CUSTOM_BASE
                 ",\"hostVerifies\":true,\"jwksUrl\":\"https://idp.example.com/k\"}",
                 "would never be used");
    expect_error("{" CUSTOM_BASE ",\"hostVerifies\":true,\"introspection\":{\"url\":"
                 "\"https://idp.example.com/i\"}}",
                 "excludes 'introspection'");
    /* an okta proxy preset does not add its JWKS URL to a host-verified engine */
    c = expect_ok("{" CUSTOM_BASE ",\"hostVerifies\":true,\"baseUrl\":\"https://mcp.example.com\","
                  "\"proxy\":{\"preset\":\"okta\",\"domain\":\"x.okta.com\",\"clientId\":\"a\"}}");
    ck_assert_ptr_null(c->jwks_url);
    mcp_config_free(c);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, type_errors_name_the_option);
    tcase_add_test(tc, unknown_keys);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, algorithm_allow_list);
    tcase_add_test(tc, requirements);
    tcase_add_test(tc, production_guard);
    tcase_add_test(tc, env_zero_config_per_preset);
    tcase_add_test(tc, supabase_explicit_beats_env);
    tcase_add_test(tc, missing_required_names_option_and_env);
    tcase_add_test(tc, explicit_beats_env);
    tcase_add_test(tc, base_url_and_resource);
    tcase_add_test(tc, resolved_view_has_no_secrets);
    tcase_add_test(tc, opaque_proxy_presets_need_no_jwt_keys);
    tcase_add_test(tc, jwt_proxy_presets_fill_verification);
    tcase_add_test(tc, hmac_algorithms_follow_secret_length);
    tcase_add_test(tc, custom_provider_opaque_exemption);
    tcase_add_test(tc, no_env_messages_name_no_variables);
    tcase_add_test(tc, host_verifies_option);
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
