/* check_opaque.c - opaque access tokens: RFC 7662 introspection and userinfo-style
 * verification (GitHub /user, Google tokeninfo) against the loopback server; active, exp, aud
 * and azp checks, caching bounded by exp, outages, non-blocking mode, configuration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "httpd.h"
#include "verify/opaque.h"
#include "proxy/proxy_impl.h"

#define NOW 1900000000LL
#define BASE_CFG                                                                                   \
    "\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://idp.example.com/jwks\","         \
    "\"baseUrl\":\"https://mcp.example.com\""

static tu_httpd *srv;

static void setup(void) {
    srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
    mcp_time_set_override(NOW);
}

static void teardown(void) {
    tu_httpd_stop(srv);
    srv = NULL;
    mcp_time_set_override(0);
}

typedef struct eng {
    mcpauth_engine *e;
    int manual;
} eng;

/* An engine whose configuration has the extra top-level members `extra` (JSON text without
 * braces, e.g. "\"introspection\":{...}"). While config.c does not accept "introspection" /
 * "userinfo" yet, they are put into cfg->extra after loading, which is what config.c would
 * have done. Returns the rc of mcp_opaque_init (or of engine creation). */
static int eng_try(const char *extra, eng *x, char *msg, size_t cap) {
    memset(x, 0, sizeof *x);
    char json[4096];
    snprintf(json, sizeof json, "{" BASE_CFG "%s%s}", extra[0] ? "," : "", extra);
    char *detail = NULL;
    int rc = mcpauth_engine_new(json, strlen(json), MCPAUTH_ENGINE_NO_ENV, &x->e, &detail);
    if (rc == MCPAUTH_E_CONFIG && detail && strstr(detail, "unknown option") &&
        (strstr(detail, "introspection") || strstr(detail, "userinfo"))) {
        mcpauth_free(detail);
        detail = NULL;
        json_error_t je;
        json_t *all = json_loads(json, 0, &je);
        ck_assert_ptr_nonnull(all);
        json_t *add = json_object();
        const char *keys[] = {"introspection", "userinfo"};
        for (int k = 0; k < 2; k++) {
            json_t *v = json_object_get(all, keys[k]);
            if (v) {
                json_object_set(add, keys[k], v);
                json_object_del(all, keys[k]);
            }
        }
        char *base = json_dumps(all, JSON_COMPACT);
        rc = mcpauth_engine_new(base, strlen(base), MCPAUTH_ENGINE_NO_ENV, &x->e, &detail);
        free(base);
        json_decref(all);
        if (rc != MCPAUTH_OK) fprintf(stderr, "engine: %s\n", detail ? detail : "");
        ck_assert_int_eq(rc, MCPAUTH_OK);
        json_object_update(x->e->cfg->extra, add);
        json_decref(add);
    } else if (rc != MCPAUTH_OK) {
        if (msg) snprintf(msg, cap, "%s", detail ? detail : "");
        mcpauth_free(detail);
        return rc;
    }
    mcpauth_free(detail);
    if (!x->e->opaque_state) {
        mcp_err err = {0, {0}};
        rc = mcp_opaque_init(x->e, &err);
        if (msg) snprintf(msg, cap, "%s", err.msg);
        x->manual = 1;
        return rc;
    }
    return MCPAUTH_OK;
}

static eng eng_new(const char *extra) {
    eng x;
    char msg[300];
    int rc = eng_try(extra, &x, msg, sizeof msg);
    if (rc != MCPAUTH_OK) fprintf(stderr, "opaque init: %s\n", msg);
    ck_assert_int_eq(rc, MCPAUTH_OK);
    return x;
}

static void eng_free(eng *x) {
    if (x->manual && x->e) {
        mcp_opaque_free(x->e->opaque_state);
        x->e->opaque_state = NULL;
    }
    mcpauth_engine_free(x->e);
    x->e = NULL;
}

static char *introspection_cfg(const char *more) {
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "\"introspection\":{\"url\":\"%s\",\"clientId\":\"rs-client\",\"clientSecret\":"
             "\"rs-secret\"%s%s}",
             tu_httpd_url(srv, "/introspect"), more ? "," : "", more ? more : "");
    return buf;
}

static int verify(eng *x, const char *tok, int nonblock, json_t **claims) {
    mcp_err err = {0, {0}};
    json_t *dummy = NULL;
    int rc = mcp_opaque_verify(x->e, tok, strlen(tok), nonblock, claims ? claims : &dummy, &err);
    json_decref(dummy);
    if (rc != MCPAUTH_OK) {
        ck_assert_int_eq(err.code, rc);
        ck_assert_ptr_null(strstr(err.msg, tok)); /* never a token in a message */
    }
    return rc;
}

static void route(const char *path, int status, const char *body) {
    ck_assert_int_eq(tu_httpd_route(srv, path, status, body), 0);
}

/* ---- introspection ---------------------------------------------------------------------- */

START_TEST(introspection_active) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"active\":true,\"sub\":\"u1\",\"scope\":\"mcp:read\",\"client_id\":\"c\","
             "\"exp\":%lld,\"aud\":\"https://mcp.example.com/mcp\",\"iss\":\"https://"
             "idp.example.com\"}",
             NOW + 600);
    route("/introspect", 200, body);
    eng x = eng_new(introspection_cfg(NULL));
    ck_assert(mcp_opaque_enabled(x.e));
    json_t *c = NULL;
    ck_assert_int_eq(verify(&x, "opaque-token-1", 0, &c), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "u1");
    ck_assert_str_eq(json_string_value(json_object_get(c, "scope")), "mcp:read");
    json_decref(c);
    /* the request */
    char *m = tu_httpd_last_method(srv, "/introspect");
    ck_assert_str_eq(m, "POST");
    free(m);
    char *b = tu_httpd_last_body(srv, "/introspect");
    ck_assert_str_eq(b, "token=opaque-token-1&token_type_hint=access_token");
    free(b);
    char *auth = tu_httpd_last_header(srv, "/introspect", "Authorization");
    ck_assert_str_eq(auth, "Basic cnMtY2xpZW50OnJzLXNlY3JldA=="); /* rs-client:rs-secret */
    free(auth);
    char *ct = tu_httpd_last_header(srv, "/introspect", "Content-Type");
    ck_assert_str_eq(ct, "application/x-www-form-urlencoded");
    free(ct);
    /* cached: no second request, also in non-blocking mode */
    ck_assert_int_eq(verify(&x, "opaque-token-1", 1, NULL), MCPAUTH_OK);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 1);
    /* another token in non-blocking mode */
    ck_assert_int_eq(verify(&x, "opaque-token-2", 1, NULL), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 1);
    eng_free(&x);
}
END_TEST

START_TEST(introspection_client_secret_post) {
    route("/introspect", 200, "{\"active\":true,\"sub\":\"u\"}");
    eng x = eng_new(introspection_cfg("\"authMethod\":\"client_secret_post\""));
    ck_assert_int_eq(verify(&x, "t", 0, NULL), MCPAUTH_OK);
    char *b = tu_httpd_last_body(srv, "/introspect");
    ck_assert_str_eq(b, "token=t&token_type_hint=access_token&client_id=rs-client&client_secret="
                        "rs-secret");
    free(b);
    ck_assert_ptr_null(tu_httpd_last_header(srv, "/introspect", "Authorization"));
    eng_free(&x);
}
END_TEST

START_TEST(introspection_rejections) {
    eng x = eng_new(introspection_cfg("\"cacheSeconds\":0"));
    char body[512];
    struct {
        const char *json;
        int rc;
    } cases[] = {
        {"{\"active\":false}", MCPAUTH_E_TOKEN_INACTIVE},
        {"{\"active\":\"true\",\"sub\":\"u\"}", MCPAUTH_E_TOKEN_INACTIVE},
        {"{\"active\":1,\"sub\":\"u\"}", MCPAUTH_E_TOKEN_INACTIVE},
        {"{\"sub\":\"u\"}", MCPAUTH_E_TOKEN_INACTIVE},
        {"{\"active\":true,\"sub\":\"u\",\"exp\":@PAST@}", MCPAUTH_E_EXPIRED},
        {"{\"active\":true,\"sub\":\"u\",\"exp\":\"soon\"}", MCPAUTH_E_CLAIM_INVALID},
        {"{\"active\":true,\"sub\":\"u\",\"nbf\":@FUTURE@}", MCPAUTH_E_NOT_YET_VALID},
        {"{\"active\":true,\"sub\":\"u\",\"aud\":\"https://other.example/mcp\"}",
         MCPAUTH_E_AUDIENCE_MISMATCH},
        {"{\"active\":true,\"sub\":\"u\",\"aud\":[\"x\",\"https://mcp.example.com/mcp\"]}",
         MCPAUTH_OK},
        {"{\"active\":true,\"sub\":\"u\"}", MCPAUTH_OK}, /* aud checked only when present */
        {"{\"active\":true,\"sub\":\"u\",\"iss\":\"https://evil.example\"}",
         MCPAUTH_E_ISSUER_MISMATCH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].json;
        const char *past = strstr(t, "@PAST@"), *fut = strstr(t, "@FUTURE@");
        if (past)
            snprintf(body, sizeof body, "%.*s%lld%s", (int)(past - t), t, NOW - 120, past + 6);
        else if (fut)
            snprintf(body, sizeof body, "%.*s%lld%s", (int)(fut - t), t, NOW + 3600, fut + 8);
        else
            snprintf(body, sizeof body, "%s", t);
        route("/introspect", 200, body);
        int rc = verify(&x, "tk_abc123", 0, NULL);
        if (rc != cases[i].rc) ck_abort_msg("case %zu: rc %d", i, rc);
    }
    /* leeway (60 s default) */
    snprintf(body, sizeof body, "{\"active\":true,\"sub\":\"u\",\"exp\":%lld}", NOW - 30);
    route("/introspect", 200, body);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    eng_free(&x);
}
END_TEST

START_TEST(introspection_outage) {
    eng x = eng_new(introspection_cfg(NULL));
    struct {
        int status;
        const char *body;
    } cases[] = {{500, "{}"},       {503, "down"},   {401, "{\"error\":\"invalid_client\"}"},
                 {200, "not json"}, {200, "[true]"}, {404, ""}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        route("/introspect", cases[i].status, cases[i].body);
        ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_E_UPSTREAM);
    }
    /* slow server: bounded by the engine's timeout */
    tu_route slow = {.path = "/introspect", .body = "{\"active\":true}", .delay_ms = 3000};
    ck_assert_int_eq(tu_httpd_set(srv, &slow), 0);
    eng_free(&x);
    char cfg[2048];
    snprintf(cfg, sizeof cfg, "\"httpTimeoutMs\":300,%s", introspection_cfg(NULL));
    x = eng_new(cfg);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_E_UPSTREAM);
    eng_free(&x);
    /* nothing listening */
    snprintf(cfg, sizeof cfg,
             "\"introspection\":{\"url\":\"http://127.0.0.1:1/i\",\"authMethod\":\"none\"}");
    x = eng_new(cfg);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_E_UPSTREAM);
    eng_free(&x);
}
END_TEST

START_TEST(cache_bounded_by_exp) {
    char body[256];
    snprintf(body, sizeof body, "{\"active\":true,\"sub\":\"u\",\"exp\":%lld}", NOW + 100);
    route("/introspect", 200, body);
    eng x = eng_new(introspection_cfg("\"cacheSeconds\":3600"));
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    mcp_time_set_override(NOW + 50);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 1);
    /* past exp the entry is gone; the endpoint is asked again */
    mcp_time_set_override(NOW + 101);
    ck_assert_int_eq(verify(&x, "tk_abc123", 1, NULL), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK); /* within leeway */
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 2);
    mcp_time_set_override(NOW + 200);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_E_EXPIRED);
    eng_free(&x);
    /* cacheSeconds bounds tokens without exp */
    route("/introspect", 200, "{\"active\":true,\"sub\":\"u\"}");
    tu_httpd_reset_hits(srv, "/introspect");
    mcp_time_set_override(NOW);
    x = eng_new(introspection_cfg("\"cacheSeconds\":10"));
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    mcp_time_set_override(NOW + 9);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    mcp_time_set_override(NOW + 11);
    ck_assert_int_eq(verify(&x, "tk_abc123", 0, NULL), MCPAUTH_OK);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 2);
    eng_free(&x);
}
END_TEST

START_TEST(token_shape) {
    route("/introspect", 200, "{\"active\":true,\"sub\":\"u\"}");
    eng x = eng_new(introspection_cfg(NULL));
    mcp_err err = {0, {0}};
    json_t *c = NULL;
    ck_assert_int_eq(mcp_opaque_verify(x.e, "", 0, 0, &c, &err), MCPAUTH_E_TOKEN_MISSING);
    ck_assert_int_eq(verify(&x, "has space", 0, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_int_eq(verify(&x, "crlf\r\nX-Evil: 1", 0, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_int_eq(mcp_opaque_verify(x.e, "a\0b", 3, 0, &c, &err), MCPAUTH_E_TOKEN_MALFORMED);
    size_t n = 20000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = '\0';
    ck_assert_int_eq(verify(&x, big, 0, NULL), MCPAUTH_E_TOKEN_TOO_LARGE);
    free(big);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/introspect"), 0);
    eng_free(&x);
}
END_TEST

/* ---- userinfo --------------------------------------------------------------------------- */

START_TEST(userinfo_github) {
    route("/user", 200,
          "{\"id\":583231,\"login\":\"octocat\",\"name\":\"The Octocat\",\"email\":"
          "\"octo@example.com\",\"avatar_url\":\"https://avatars.example/u/583231\"}");
    char cfg[512];
    snprintf(cfg, sizeof cfg, "\"userinfo\":{\"preset\":\"github\",\"url\":\"%s\"}",
             tu_httpd_url(srv, "/user"));
    eng x = eng_new(cfg);
    json_t *c = NULL;
    ck_assert_int_eq(verify(&x, "gho_token123", 0, &c), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "583231");
    ck_assert_str_eq(json_string_value(json_object_get(c, "preferred_username")), "octocat");
    ck_assert_str_eq(json_string_value(json_object_get(c, "username")), "octocat");
    ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "The Octocat");
    ck_assert_str_eq(json_string_value(json_object_get(c, "email")), "octo@example.com");
    ck_assert_str_eq(json_string_value(json_object_get(c, "picture")),
                     "https://avatars.example/u/583231");
    json_decref(c);
    char *m = tu_httpd_last_method(srv, "/user");
    ck_assert_str_eq(m, "GET");
    free(m);
    char *auth = tu_httpd_last_header(srv, "/user", "Authorization");
    ck_assert_str_eq(auth, "Bearer gho_token123");
    free(auth);
    char *acc = tu_httpd_last_header(srv, "/user", "Accept");
    ck_assert_str_eq(acc, "application/vnd.github+json");
    free(acc);
    /* rejected tokens and outages */
    route("/user", 401, "{\"message\":\"Bad credentials\"}");
    ck_assert_int_eq(verify(&x, "gho_revoked", 0, NULL), MCPAUTH_E_TOKEN_INACTIVE);
    route("/user", 503, "{}");
    ck_assert_int_eq(verify(&x, "gho_other", 0, NULL), MCPAUTH_E_UPSTREAM);
    route("/user", 429, "{}");
    ck_assert_int_eq(verify(&x, "gho_other", 0, NULL), MCPAUTH_E_UPSTREAM);
    /* the first token is still cached */
    ck_assert_int_eq(verify(&x, "gho_token123", 1, NULL), MCPAUTH_OK);
    eng_free(&x);
}
END_TEST

START_TEST(userinfo_google_audience) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"azp\":\"g-client.apps\",\"aud\":\"g-client.apps\",\"sub\":\"1097\",\"scope\":"
             "\"openid email\",\"exp\":\"%lld\",\"expires_in\":\"3599\",\"email\":\"a@b.c\"}",
             NOW + 3599);
    route("/tokeninfo", 200, body);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "\"userinfo\":{\"preset\":\"google\",\"url\":\"%s\"},\"proxy\":{\"preset\":"
             "\"google\",\"clientId\":\"g-client.apps\",\"sealingSecret\":\"0123456789abcdef0123"
             "456789abcdef\"}",
             tu_httpd_url(srv, "/tokeninfo"));
    eng x = eng_new(cfg);
    json_t *c = NULL;
    ck_assert_int_eq(verify(&x, "ya29.token", 0, &c), MCPAUTH_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), NOW + 3599);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "1097");
    json_decref(c);
    char *b = tu_httpd_last_body(srv, "/tokeninfo");
    ck_assert_str_eq(b, "access_token=ya29.token");
    free(b);
    ck_assert_ptr_null(tu_httpd_last_header(srv, "/tokeninfo", "Authorization"));
    /* a token Google issued to another application */
    snprintf(body, sizeof body,
             "{\"azp\":\"other.apps\",\"aud\":\"other.apps\",\"sub\":\"1\",\"exp\":\"%lld\"}",
             NOW + 3599);
    route("/tokeninfo", 200, body);
    ck_assert_int_eq(verify(&x, "ya29.foreign", 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    /* expired */
    snprintf(body, sizeof body,
             "{\"azp\":\"g-client.apps\",\"aud\":\"g-client.apps\",\"sub\":\"1\",\"exp\":\"%lld\"}",
             NOW - 3600);
    route("/tokeninfo", 200, body);
    ck_assert_int_eq(verify(&x, "ya29.old", 0, NULL), MCPAUTH_E_EXPIRED);
    /* invalid token: Google answers 400 */
    route("/tokeninfo", 400, "{\"error\":\"invalid_token\"}");
    ck_assert_int_eq(verify(&x, "ya29.bad", 0, NULL), MCPAUTH_E_TOKEN_INACTIVE);
    eng_free(&x);
}
END_TEST

START_TEST(userinfo_custom_claims) {
    route("/me", 200, "{\"data\":{\"uid\":\"u-9\",\"mail\":\"m@x\"},\"aud\":\"my-rs\"}");
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "\"userinfo\":{\"url\":\"%s\",\"claims\":{\"sub\":\"data.uid\",\"email\":\"data."
             "mail\"},\"audience\":[\"my-rs\"],\"cacheSeconds\":0}",
             tu_httpd_url(srv, "/me"));
    eng x = eng_new(cfg);
    json_t *c = NULL;
    ck_assert_int_eq(verify(&x, "t1", 0, &c), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "u-9");
    ck_assert_str_eq(json_string_value(json_object_get(c, "email")), "m@x");
    json_decref(c);
    route("/me", 200, "{\"data\":{\"uid\":\"u-9\"}}"); /* no aud / azp while one is required */
    ck_assert_int_eq(verify(&x, "t1", 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/me"), 2); /* cacheSeconds 0: no caching */
    eng_free(&x);
}
END_TEST

/* ---- through the engine ----------------------------------------------------------------- */

START_TEST(engine_verify_opaque) {
    route("/user", 200,
          "{\"id\":42,\"login\":\"octo\",\"name\":\"Octo\",\"email\":\"o@example.com\","
          "\"avatar_url\":\"https://a.example/42\"}");
    char cfg[512];
    snprintf(cfg, sizeof cfg, "\"userinfo\":{\"preset\":\"github\",\"url\":\"%s\"}",
             tu_httpd_url(srv, "/user"));
    eng x = eng_new(cfg);
    if (x.manual) {
        printf("engine does not call mcp_opaque_init yet: skipped\n");
        eng_free(&x);
        return;
    }
    char *auth = NULL, *detail = NULL;
    ck_assert_int_eq(mcpauth_verify(x.e, "gho_abc", 7, 0, &auth, &detail), MCPAUTH_OK);
    json_error_t je;
    json_t *a = json_loads(auth, 0, &je);
    ck_assert_ptr_nonnull(a);
    json_t *user = json_object_get(a, "user");
    ck_assert_str_eq(json_string_value(json_object_get(user, "userId")), "42");
    ck_assert_str_eq(json_string_value(json_object_get(user, "email")), "o@example.com");
    ck_assert_str_eq(json_string_value(json_object_get(user, "picture")), "https://a.example/42");
    ck_assert_str_eq(json_string_value(json_object_get(a, "accessToken")), "gho_abc");
    json_decref(a);
    mcpauth_free(auth);
    /* rejected by the provider: a 401-class code; provider down: 503-class */
    route("/user", 401, "{}");
    ck_assert_int_eq(mcpauth_verify(x.e, "gho_bad", 7, 0, NULL, &detail), MCPAUTH_E_TOKEN_INACTIVE);
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_http_status(MCPAUTH_E_TOKEN_INACTIVE), 401);
    route("/user", 502, "{}");
    ck_assert_int_eq(mcpauth_verify(x.e, "gho_other", 9, 0, NULL, &detail), MCPAUTH_E_UPSTREAM);
    mcpauth_free(detail);
    eng_free(&x);
}
END_TEST

/* The GitHub preset's user mapping (id -> userId, login -> username, name, email, avatar_url ->
 * picture) applies to tokens verified through its userinfo path, whether the preset comes from
 * the proxy or from "userinfo"; the user's own `claims` entries still win. */
static json_t *verified_user(mcpauth_engine *e, const char *tok) {
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, tok, strlen(tok), 0, &auth, &detail);
    ck_assert_msg(rc == MCPAUTH_OK, "%s", detail ? detail : "");
    json_error_t je;
    json_t *a = json_loads(auth, 0, &je);
    mcpauth_free(auth);
    ck_assert_ptr_nonnull(a);
    json_t *u = json_incref(json_object_get(a, "user"));
    json_decref(a);
    return u;
}

START_TEST(github_user_mapping) {
    route("/user", 200,
          "{\"id\":583231,\"login\":\"octocat\",\"name\":\"The Octocat\",\"email\":"
          "\"octo@example.com\",\"avatar_url\":\"https://avatars.example/u/583231\"}");
    char cfg[1024];
    const char *proxy = ",\"proxy\":{\"preset\":\"github\",\"clientId\":\"gh\",\"sealingSecret\":"
                        "\"0123456789abcdef0123456789abcdef\"}";
    const char *extra[] = {"", proxy, ",\"claims\":{\"username\":\"email\"}"};
    for (int i = 0; i < 3; i++) {
        snprintf(cfg, sizeof cfg, "\"userinfo\":{\"preset\":\"github\",\"url\":\"%s\"}%s",
                 tu_httpd_url(srv, "/user"), extra[i]);
        eng x = eng_new(cfg);
        json_t *u = verified_user(x.e, "gho_token123");
        ck_assert_str_eq(json_string_value(json_object_get(u, "userId")), "583231");
        ck_assert_str_eq(json_string_value(json_object_get(u, "username")),
                         i == 2 ? "octo@example.com" : "octocat");
        ck_assert_str_eq(json_string_value(json_object_get(u, "name")), "The Octocat");
        ck_assert_str_eq(json_string_value(json_object_get(u, "email")), "octo@example.com");
        ck_assert_str_eq(json_string_value(json_object_get(u, "picture")),
                         "https://avatars.example/u/583231");
        json_decref(u);
        eng_free(&x);
    }
    /* a GitHub user without a display name or public email: those fields stay absent */
    route("/user", 200, "{\"id\":7,\"login\":\"quiet\",\"name\":null,\"email\":null}");
    snprintf(cfg, sizeof cfg, "\"userinfo\":{\"preset\":\"github\",\"url\":\"%s\"}",
             tu_httpd_url(srv, "/user"));
    eng x = eng_new(cfg);
    json_t *u = verified_user(x.e, "gho_quiet");
    ck_assert_str_eq(json_string_value(json_object_get(u, "userId")), "7");
    ck_assert_str_eq(json_string_value(json_object_get(u, "username")), "quiet");
    ck_assert_ptr_null(json_object_get(u, "name"));
    ck_assert_ptr_null(json_object_get(u, "email"));
    json_decref(u);
    eng_free(&x);
}
END_TEST

/* ---- configuration ---------------------------------------------------------------------- */

START_TEST(config) {
    eng x;
    char msg[300];
    struct {
        const char *cfg;
        const char *needle;
    } bad[] = {
        {"\"introspection\":{\"url\":\"https://a.example/i\",\"authMethod\":\"none\"},"
         "\"userinfo\":{\"url\":\"https://a.example/u\"}",
         "mutually exclusive"},
        {"\"introspection\":{\"clientId\":\"c\",\"clientSecret\":\"s\"}", "introspection.url"},
        {"\"introspection\":{\"url\":\"http://a.example/i\",\"authMethod\":\"none\"}",
         "introspection.url"},
        {"\"introspection\":{\"url\":\"https://a.example/i\"}", "clientSecret"},
        {"\"introspection\":{\"url\":\"https://a.example/i\",\"authMethod\":\"jwt\"}",
         "authMethod"},
        {"\"introspection\":{\"url\":\"https://a.example/i\",\"authMethod\":\"none\",\"x\":1}",
         "introspection.x"},
        {"\"userinfo\":{}", "userinfo.url"},
        {"\"userinfo\":{\"preset\":\"okta\"}", "okta"},
        {"\"userinfo\":{\"url\":\"https://a.example/u\",\"method\":\"PUT\"}", "method"},
        {"\"userinfo\":{\"url\":\"https://a.example/u\",\"claims\":{\"sub\":1}}", "claims"},
        {"\"userinfo\":7", "userinfo"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        int rc = eng_try(bad[i].cfg, &x, msg, sizeof msg);
        if (rc != MCPAUTH_E_CONFIG || !strstr(msg, bad[i].needle))
            ck_abort_msg("case %zu: rc %d '%s'", i, rc, msg);
        eng_free(&x);
    }
    /* nothing configured: not enabled */
    x = eng_new("");
    ck_assert(!mcp_opaque_enabled(x.e));
    ck_assert_ptr_null(x.e->opaque_state);
    eng_free(&x);
    /* the proxy's github preset enables GitHub verification by itself */
    x = eng_new("\"proxy\":{\"preset\":\"github\",\"clientId\":\"gh\",\"sealingSecret\":"
                "\"0123456789abcdef0123456789abcdef\"}");
    ck_assert(mcp_opaque_enabled(x.e));
    eng_free(&x);
    /* introspection credentials default to the proxy's */
    x = eng_new("\"introspection\":{\"url\":\"https://a.example/i\"},\"proxy\":{\"authEndpoint\":"
                "\"https://a.example/a\",\"tokenEndpoint\":\"https://a.example/t\",\"clientId\":"
                "\"pc\",\"clientSecret\":\"ps\",\"sealingSecret\":"
                "\"0123456789abcdef0123456789abcdef\"}");
    ck_assert(mcp_opaque_enabled(x.e));
    eng_free(&x);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("opaque");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, introspection_active);
    tcase_add_test(tc, introspection_client_secret_post);
    tcase_add_test(tc, introspection_rejections);
    tcase_add_test(tc, introspection_outage);
    tcase_add_test(tc, cache_bounded_by_exp);
    tcase_add_test(tc, token_shape);
    tcase_add_test(tc, userinfo_github);
    tcase_add_test(tc, userinfo_google_audience);
    tcase_add_test(tc, userinfo_custom_claims);
    tcase_add_test(tc, engine_verify_opaque);
    tcase_add_test(tc, github_user_mapping);
    tcase_add_test(tc, config);
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
