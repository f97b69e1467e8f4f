/* check_router.c - the HTTP surface: every route and challenge byte for byte, CORS, 405,
 * query tokens, malformed headers, scopes per route and per MCP method, path segment matching,
 * host-derived resources, request bounds, and the authorization server metadata mirror
 * (loopback upstream: fresh cache, OIDC fallback, issuer mismatch, outage with the last good
 * copy, synthesized fallback, non-blocking mode). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/common.h"
#include "engine/engine.h"
#include "httpd.h"
#include "mcpauth.h"
#include "http/metadata.h"
#include "proxy/proxy.h"
#include "tokens.h"

#define ISS "https://issuer.example.com"
#define RES "https://mcp.example.com/mcp"
#define PRM "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
#define T0 ((int64_t)1800000000)

static tu_key KEY;

static void setup(void) {
    mcp_time_set_override(T0);
    ck_assert_int_eq(tu_key_gen(&KEY, "ES256", "k1"), 0);
}

static void teardown(void) {
    tu_key_free(&KEY);
    mcp_time_set_override(0);
}

/* An engine with the test key inline, the given issuer, and `extra` members appended. */
static mcpauth_engine *engine_iss(const char *iss, const char *extra) {
    const tu_key *keys[] = {&KEY};
    char *jwks = tu_jwks(keys, 1);
    size_t n = strlen(jwks) + strlen(extra) + strlen(iss) + 256;
    char *cfg = malloc(n);
    ck_assert_ptr_nonnull(cfg);
    snprintf(cfg, n, "{\"issuer\":\"%s\",\"jwks\":%s,\"tokenCacheSize\":0%s%s}", iss, jwks,
             extra[0] ? "," : "", extra);
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    if (rc != MCPAUTH_OK) ck_abort_msg("engine: %s (%s)", detail ? detail : "?", cfg);
    free(cfg);
    free(jwks);
    return e;
}

static mcpauth_engine *engine(const char *extra) {
    char buf[2048];
    snprintf(buf, sizeof buf, "\"baseUrl\":\"https://mcp.example.com\"%s%s", extra[0] ? "," : "",
             extra);
    return engine_iss(ISS, buf);
}

/* A token for RES with `scope` (NULL: none); exp_delta relative to T0. */
static char *token_ex(const char *scope, const char *aud, int64_t exp_delta) {
    char payload[1024];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISS "\",\"aud\":\"%s\",\"sub\":\"user-1\",\"email\":\"u@example.com\","
             "\"iat\":%lld,\"exp\":%lld%s%s%s}",
             aud, (long long)T0, (long long)(T0 + exp_delta), scope ? ",\"scope\":\"" : "",
             scope ? scope : "", scope ? "\"" : "");
    return tu_sign_claims(&KEY, payload);
}

static char *token(const char *scope) { return token_ex(scope, RES, 600); }

static char *handle_f(mcpauth_engine *e, const char *req, unsigned flags, int want_rc) {
    char *out = (char *)"sentinel";
    int rc = mcpauth_handle_request(e, req, strlen(req), flags, &out);
    ck_assert_msg(rc == want_rc, "rc %s, want %s for %s", mcpauth_code_name(rc),
                  mcpauth_code_name(want_rc), req);
    if (rc != MCPAUTH_OK) ck_assert_ptr_null(out);
    return rc == MCPAUTH_OK ? out : NULL;
}

static char *handle(mcpauth_engine *e, const char *req) { return handle_f(e, req, 0, MCPAUTH_OK); }

static void expect(mcpauth_engine *e, const char *req, const char *want) {
    char *out = handle(e, req);
    ck_assert_str_eq(out, want);
    mcpauth_free(out);
}

/* A request with an Authorization header value. */
static char *req_auth(const char *method, const char *path, const char *authz, const char *more) {
    json_t *r = json_pack("{s:s,s:s}", "method", method, "path", path);
    json_t *h = json_object();
    if (authz) json_object_set_new(h, "authorization", json_string(authz));
    json_object_set_new(r, "headers", h);
    if (more) {
        json_t *m = json_loads(more, 0, NULL);
        ck_assert_ptr_nonnull(m);
        json_object_update(r, m);
        json_decref(m);
    }
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

static char *req_bearer(const char *path, const char *tok, const char *more) {
    char *h = malloc(strlen(tok) + 8);
    sprintf(h, "Bearer %s", tok);
    char *r = req_auth("POST", path, h, more);
    free(h);
    return r;
}

static json_t *decision(mcpauth_engine *e, const char *req) {
    char *out = handle(e, req);
    json_t *d = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(d);
    mcpauth_free(out);
    return d;
}

static int status_of(mcpauth_engine *e, const char *req) {
    json_t *d = decision(e, req);
    const char *a = json_string_value(json_object_get(d, "action"));
    int st = strcmp(a, "pass") == 0 ? 0 : (int)json_integer_value(json_object_get(d, "status"));
    json_decref(d);
    return st;
}

/* Expected wire answers. */
#define H_JSON "[\"Content-Type\",\"application/json\"],[\"Cache-Control\",\"no-store\"]"
#define H_EXPOSE "[\"Access-Control-Expose-Headers\",\"WWW-Authenticate\"]"
#define PASS "{\"action\":\"pass\"}"

#define CH_401_MISSING(scope)                                                                      \
    "{\"action\":\"respond\",\"status\":401,\"headers\":[" H_JSON                                  \
    ",[\"WWW-Authenticate\",\"Bearer resource_metadata=\\\"" PRM "\\\", scope=\\\"" scope          \
    "\\\"\"]," H_EXPOSE "],\"body\":\"{"                                                           \
    "\\\"error_description\\\":\\\"no access token was presented\\\"}\"}"

#define CH_401(code, desc, scope)                                                                  \
    "{\"action\":\"respond\",\"status\":401,\"headers\":[" H_JSON                                  \
    ",[\"WWW-Authenticate\",\"Bearer error=\\\"" code "\\\", error_description=\\\"" desc          \
    "\\\", resource_metadata=\\\"" PRM "\\\", scope=\\\"" scope "\\\"\"]," H_EXPOSE                \
    "],\"body\":\"{\\\"error\\\":\\\"" code "\\\",\\\"error_description\\\":\\\"" desc "\\\"}\"}"

#define CH_403(scope)                                                                              \
    "{\"action\":\"respond\",\"status\":403,\"headers\":[" H_JSON                                  \
    ",[\"WWW-Authenticate\",\"Bearer error=\\\"insufficient_scope\\\", scope=\\\"" scope           \
    "\\\", resource_metadata=\\\"" PRM                                                             \
    "\\\", error_description=\\\"insufficient scope\\\"\"]," H_EXPOSE                              \
    "],\"body\":\"{\\\"error\\\":\\\"insufficient_scope\\\","                                      \
    "\\\"error_description\\\":\\\"insufficient scope\\\"}\"}"

/* ---- routing ---------------------------------------------------------------------------- */

START_TEST(unprotected_paths_pass) {
    mcpauth_engine *e = engine("");
    expect(e, "{\"method\":\"GET\",\"path\":\"/\"}", PASS);
    expect(e, "{\"method\":\"GET\",\"path\":\"/health\"}", PASS);
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcpx\"}", PASS);
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp-admin/x\"}", PASS);
    expect(e, "{\"method\":\"GET\",\"path\":\"/other/mcp\"}", PASS);
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/other\"}",
           PASS);
    mcpauth_engine_free(e);
}
END_TEST

/* The challenge without scopes (no requiredScopes): scope parameter omitted. */
#define CH_401_MISSING_NOSCOPE                                                                     \
    "{\"action\":\"respond\",\"status\":401,\"headers\":[" H_JSON                                  \
    ",[\"WWW-Authenticate\",\"Bearer resource_metadata=\\\"" PRM "\\\"\"]," H_EXPOSE               \
    "],\"body\":\"{"                                                                               \
    "\\\"error_description\\\":\\\"no access token was presented\\\"}\"}"

START_TEST(no_token_challenge) {
    mcpauth_engine *e = engine("");
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp\"}", CH_401_MISSING_NOSCOPE);
    mcpauth_engine_free(e);
    /* with required scopes, the no-error challenge names them */
    e = engine("\"requiredScopes\":[\"mcp:read\",\"mcp:write\"]");
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp\",\"headers\":{}}",
           "{\"action\":\"respond\",\"status\":401,\"headers\":[" H_JSON
           ",[\"WWW-Authenticate\",\"Bearer resource_metadata=\\\"" PRM
           "\\\", scope=\\\"mcp:read mcp:write\\\"\"]," H_EXPOSE
           "],\"body\":\"{\\\"error_description\\\":\\\"no "
           "access token was presented\\\"}\"}");
    /* an empty or blank Authorization header counts as no credentials */
    char *r = req_auth("POST", "/mcp", "", NULL);
    ck_assert_int_eq(status_of(e, r), 401);
    char *out = handle(e, r);
    ck_assert_ptr_null(strstr(out, "error=\\\""));
    mcpauth_free(out);
    free(r);
    r = req_auth("POST", "/mcp", "  ", NULL);
    out = handle(e, r);
    ck_assert_ptr_null(strstr(out, "error=\\\""));
    mcpauth_free(out);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(no_scope_parameter_without_required_scopes) {
    mcpauth_engine *e = engine("");
    expect(e, "{\"method\":\"GET\",\"path\":\"/mcp\"}", CH_401_MISSING_NOSCOPE);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(segment_matching) {
    mcpauth_engine *e = engine("");
    const char *protected_paths[] = {
        "/mcp",       "/mcp/",     "/mcp/x/y",        "/MCP",        "/Mcp/x",
        "/mcp;jsid",  "/a/../mcp", "/./mcp",          "/%6dcp",      "//mcp",
        "/x/..//mcp", "/mcp%2fx",  "/x\\\\..\\\\mcp", "/%2e%2e/mcp", "/mcp#frag",
        "/mcp?x=1"};
    for (size_t i = 0; i < sizeof protected_paths / sizeof protected_paths[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "{\"method\":\"POST\",\"path\":\"%s\"}", protected_paths[i]);
        ck_assert_msg(status_of(e, req) == 401, "%s not protected", protected_paths[i]);
    }
    const char *open_paths[] = {"/mcpx", "/mc", "/mcp-x", "/xmcp", "/mcp/../x", "/static/mcp"};
    for (size_t i = 0; i < sizeof open_paths / sizeof open_paths[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "{\"method\":\"POST\",\"path\":\"%s\"}", open_paths[i]);
        /* "/mcp/../x" is protected through its raw prefix: the upstream might not normalize */
        int want = strcmp(open_paths[i], "/mcp/../x") == 0 ? 401 : 0;
        ck_assert_msg(status_of(e, req) == want, "%s: want %d", open_paths[i], want);
    }
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(custom_protected_paths) {
    mcpauth_engine *e = engine("\"protectedPaths\":[\"/api/v1/\",\"/tools\"]");
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/api/v1\"}"), 401);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/api/v1/x\"}"), 401);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/tools/a\"}"), 401);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/api/v2\"}"), 0);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/mcp\"}"), 0);
    mcpauth_engine_free(e);
    /* "/" protects everything except the metadata routes */
    e = engine("\"protectedPaths\":[\"/\"]");
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/\"}"), 401);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/anything\"}"), 401);
    ck_assert_int_eq(
        status_of(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}"),
        200);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(cors_preflight_on_protected_path_passes) {
    mcpauth_engine *e = engine("");
    expect(e,
           "{\"method\":\"OPTIONS\",\"path\":\"/mcp\",\"headers\":{"
           "\"access-control-request-method\":\"POST\",\"origin\":\"https://app.example\"}}",
           PASS);
    /* a plain OPTIONS (not a preflight) is protected like any other method */
    ck_assert_int_eq(status_of(e, "{\"method\":\"OPTIONS\",\"path\":\"/mcp\"}"), 401);
    /* HEAD is not exempt */
    ck_assert_int_eq(status_of(e, "{\"method\":\"HEAD\",\"path\":\"/mcp\"}"), 401);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- tokens ----------------------------------------------------------------------------- */

START_TEST(good_token_passes_with_auth) {
    mcpauth_engine *e = engine("");
    char *tok = token("mcp:read mcp:write");
    char *r = req_bearer("/mcp", tok, NULL);
    json_t *d = decision(e, r);
    ck_assert_str_eq(json_string_value(json_object_get(d, "action")), "pass");
    json_t *auth = json_object_get(d, "auth");
    ck_assert_ptr_nonnull(auth);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(auth, "user"), "userId")),
                     "user-1");
    json_t *scopes = json_object_get(auth, "scopes");
    ck_assert_uint_eq(json_array_size(scopes), 2);
    ck_assert_str_eq(json_string_value(json_array_get(scopes, 0)), "mcp:read");
    ck_assert_str_eq(json_string_value(json_array_get(scopes, 1)), "mcp:write");
    ck_assert_str_eq(json_string_value(json_object_get(auth, "accessToken")), tok);
    ck_assert_uint_eq(json_object_size(d), 2);
    json_decref(d);
    free(r);
    /* scheme is case-insensitive; surrounding whitespace is OWS */
    char *h = malloc(strlen(tok) + 16);
    sprintf(h, "bEARER %s ", tok);
    r = req_auth("GET", "/mcp/sub", h, NULL);
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    /* header names are matched case-insensitively */
    sprintf(h, "Bearer %s", tok);
    json_t *rq = json_pack("{s:s,s:s,s:{s:s}}", "method", "POST", "path", "/mcp", "headers",
                           "Authorization", h);
    char *rs = json_dumps(rq, JSON_COMPACT);
    ck_assert_int_eq(status_of(e, rs), 0);
    free(rs);
    json_decref(rq);
    /* a single-element array value is accepted */
    rq = json_pack("{s:s,s:s,s:{s:[s]}}", "method", "POST", "path", "/mcp", "headers",
                   "authorization", h);
    rs = json_dumps(rq, JSON_COMPACT);
    ck_assert_int_eq(status_of(e, rs), 0);
    free(rs);
    json_decref(rq);
    free(h);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(invalid_tokens_401) {
    mcpauth_engine *e = engine("\"requiredScopes\":\"mcp:read\"");
    char *tok = token_ex("mcp:read", RES, -3600);
    char *r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_401("invalid_token", "token has expired", "mcp:read"));
    free(r);
    free(tok);

    tok = token_ex("mcp:read", "https://other.example.com/mcp", 600);
    r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_401("invalid_token", "token audience or resource mismatch", "mcp:read"));
    free(r);
    free(tok);

    r = req_bearer("/mcp", "not.a.jwt", NULL);
    char *out = handle(e, r);
    ck_assert_ptr_nonnull(strstr(out, "\"status\":401"));
    ck_assert_ptr_nonnull(strstr(out, "Bearer error=\\\"invalid_token\\\""));
    mcpauth_free(out);
    free(r);

    /* a token signed by another key */
    tu_key other;
    ck_assert_int_eq(tu_key_gen(&other, "ES256", "k1"), 0);
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISS "\",\"aud\":\"" RES "\",\"sub\":\"u\",\"iat\":%lld,\"exp\":%lld}",
             (long long)T0, (long long)T0 + 600);
    tok = tu_sign_claims(&other, payload);
    r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_401("invalid_token", "signature verification failed", "mcp:read"));
    free(r);
    free(tok);
    tu_key_free(&other);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(verification_internals_never_leak) {
    mcpauth_engine *e = engine("");
    char *tok = token_ex(NULL, "https://evil.example.com/secret-aud", 600);
    char *r = req_bearer("/mcp", tok, NULL);
    char *out = handle(e, r);
    ck_assert_ptr_null(strstr(out, "evil.example.com"));
    ck_assert_ptr_null(strstr(out, tok));
    mcpauth_free(out);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(malformed_authorization_header) {
    mcpauth_engine *e = engine("\"requiredScopes\":\"mcp:read\"");
    const char *bad[] = {"Basic dXNlcjpwYXNz", "Bearer",      "Bearer ",
                         "Bearer  abc",        "Bearer\tabc", "Bearerabc",
                         "Bearer abc def",     "Bearer abc!", "Bearer a=b",
                         "Bearer \"abc\"",     "Token abc",   "Bearer abc,Bearer def"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *r = req_auth("POST", "/mcp", bad[i], NULL);
        char *out = handle(e, r);
        ck_assert_msg(strcmp(out, CH_401("invalid_request", "malformed Authorization header",
                                         "mcp:read")) == 0,
                      "%s: %s", bad[i], out);
        mcpauth_free(out);
        free(r);
    }
    /* two Authorization values, or two spellings of the name */
    expect(e,
           "{\"method\":\"POST\",\"path\":\"/mcp\",\"headers\":{\"authorization\":[\"Bearer a\","
           "\"Bearer b\"]}}",
           CH_401("invalid_request", "malformed Authorization header", "mcp:read"));
    expect(e,
           "{\"method\":\"POST\",\"path\":\"/mcp\",\"headers\":{\"authorization\":\"Bearer a\","
           "\"Authorization\":\"Bearer b\"}}",
           CH_401("invalid_request", "malformed Authorization header", "mcp:read"));
    /* b64token characters and trailing '=' are accepted by the parser (then verified) */
    char *r = req_auth("POST", "/mcp", "Bearer a-._~+/b==", NULL);
    char *out = handle(e, r);
    ck_assert_ptr_nonnull(strstr(out, "Bearer error=\\\"invalid_token\\\""));
    mcpauth_free(out);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

#define CH_400_QUERY(scope)                                                                        \
    "{\"action\":\"respond\",\"status\":400,\"headers\":[" H_JSON                                  \
    ",[\"WWW-Authenticate\",\"Bearer error=\\\"invalid_request\\\", "                              \
    "error_description=\\\"access token in the query string is refused\\\", "                      \
    "resource_metadata=\\\"" PRM "\\\", scope=\\\"" scope "\\\"\"]," H_EXPOSE                      \
    "],\"body\":\"{\\\"error\\\":\\\"invalid_request\\\",\\\"error_description\\\":\\\"access "    \
    "token in the query string is refused\\\"}\"}"

START_TEST(query_token_refused) {
    mcpauth_engine *e = engine("\"requiredScopes\":\"s\"");
    char *tok = token("s");
    const char *queries[] = {"access_token=abc", "a=1&access_token=abc", "access%5Ftoken=x",
                             "x=1;access_token", "access_token"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char more[128];
        snprintf(more, sizeof more, "{\"query\":\"%s\"}", queries[i]);
        char *r = req_bearer("/mcp", tok, more); /* even with a good header */
        expect(e, r, CH_400_QUERY("s"));
        free(r);
    }
    expect(e, "{\"method\":\"GET\",\"path\":\"/mcp?access_token=abc\"}", CH_400_QUERY("s"));
    /* lookalikes are fine */
    const char *fine[] = {"my_access_token=1", "access_tokens=1", "x=access_token", "a=1&b=2"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        char more[128];
        snprintf(more, sizeof more, "{\"query\":\"%s\"}", fine[i]);
        char *r = req_bearer("/mcp", tok, more);
        ck_assert_msg(status_of(e, r) == 0, "%s refused", fine[i]);
        free(r);
    }
    /* not our business outside the protected paths */
    expect(e, "{\"method\":\"GET\",\"path\":\"/public\",\"query\":\"access_token=1\"}", PASS);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- scopes ----------------------------------------------------------------------------- */

#define SCOPE_CFG                                                                                  \
    "\"requiredScopes\":[\"mcp:read\"],\"routeScopes\":{\"/mcp/admin\":[\"admin\"],"               \
    "\"tools/call\":\"tools:call\",\"resources/read\":[\"res:read\",\"mcp:read\"]}"

START_TEST(required_scopes_403) {
    mcpauth_engine *e = engine(SCOPE_CFG);
    char *tok = token("other");
    char *r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_403("mcp:read"));
    free(r);
    free(tok);
    tok = token(NULL);
    r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_403("mcp:read"));
    free(r);
    free(tok);
    tok = token("mcp:read");
    r = req_bearer("/mcp", tok, NULL);
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(route_path_scopes) {
    mcpauth_engine *e = engine(SCOPE_CFG);
    char *tok = token("mcp:read");
    char *r = req_bearer("/mcp/admin", tok, NULL);
    expect(e, r, CH_403("mcp:read admin"));
    free(r);
    r = req_bearer("/mcp/admin/users", tok, NULL);
    expect(e, r, CH_403("mcp:read admin"));
    free(r);
    r = req_bearer("/mcp/administrator", tok, NULL); /* not under /mcp/admin */
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    r = req_bearer("/mcp/x/../admin", tok, NULL); /* normalized form counts too */
    ck_assert_int_eq(status_of(e, r), 403);
    free(r);
    free(tok);
    /* the no-credentials challenge names the route's scopes too */
    expect(e, "{\"method\":\"GET\",\"path\":\"/mcp/admin\"}", CH_401_MISSING("mcp:read admin"));
    tok = token("mcp:read admin");
    r = req_bearer("/mcp/admin", tok, NULL);
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(mcp_method_scopes) {
    mcpauth_engine *e = engine(SCOPE_CFG);
    char *tok = token("mcp:read");
    char *r = req_bearer("/mcp", tok, "{\"mcpMethod\":\"tools/call\"}");
    expect(e, r, CH_403("mcp:read tools:call"));
    free(r);
    r = req_bearer("/mcp", tok, "{\"mcpMethod\":\"tools/list\"}");
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    /* from the JSON-RPC body */
    r = req_bearer("/mcp", tok,
                   "{\"body\":\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"method\\\":"
                   "\\\"tools/call\\\",\\\"params\\\":{}}\"}");
    expect(e, r, CH_403("mcp:read tools:call"));
    free(r);
    r = req_bearer("/mcp", tok,
                   "{\"body\":\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"method\\\":"
                   "\\\"ping\\\"}\"}");
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    /* a batch: the union of its methods */
    r = req_bearer("/mcp", tok,
                   "{\"body\":\"[{\\\"method\\\":\\\"resources/read\\\"},{\\\"method\\\":"
                   "\\\"tools/call\\\"},{\\\"id\\\":3,\\\"result\\\":{}}]\"}");
    expect(e, r, CH_403("mcp:read tools:call res:read")); /* routeScopes order */
    free(r);
    r = req_bearer("/mcp", tok, "{\"mcpMethod\":[\"ping\",\"resources/read\"]}");
    expect(e, r, CH_403("mcp:read res:read"));
    free(r);
    /* unknown method (unparseable body, duplicate keys, or explicit null): fail closed */
    r = req_bearer("/mcp", tok, "{\"body\":\"{not json\"}");
    expect(e, r, CH_403("mcp:read tools:call res:read"));
    free(r);
    r = req_bearer(
        "/mcp", tok,
        "{\"body\":\"{\\\"method\\\":\\\"ping\\\",\\\"method\\\":\\\"tools/call\\\"}\"}");
    expect(e, r, CH_403("mcp:read tools:call res:read"));
    free(r);
    r = req_bearer("/mcp", tok, "{\"mcpMethod\":null}");
    expect(e, r, CH_403("mcp:read tools:call res:read"));
    free(r);
    /* mcpMethod wins over the body */
    r = req_bearer("/mcp", tok,
                   "{\"mcpMethod\":\"ping\",\"body\":\"{\\\"method\\\":\\\"tools/call\\\"}\"}");
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    free(tok);
    tok = token("mcp:read tools:call res:read");
    r = req_bearer("/mcp", tok, "{\"mcpMethod\":null}");
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* A token signed with KEY for `aud` (NULL: no aud claim) with extra payload members (`more`:
 * JSON members, may be ""). */
static char *token_claims(const char *aud, const char *more) {
    char payload[1024];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISS "\",%s%s%s\"sub\":\"user-1\",\"iat\":%lld,\"exp\":%lld%s%s}",
             aud ? "\"aud\":\"" : "", aud ? aud : "", aud ? "\"," : "", (long long)T0,
             (long long)(T0 + 600), more[0] ? "," : "", more);
    return tu_sign_claims(&KEY, payload);
}

/* The router checks scopes with the engine's rule: a permission counts as a scope, for
 * requiredScopes and for routeScopes alike (mcpauth_verify and the router agree). */
START_TEST(permissions_count_as_scopes) {
    mcpauth_engine *e =
        engine("\"requiredScopes\":[\"mcp:use\"],\"routeScopes\":{\"/mcp/admin\":\"admin\"}");
    char *tok = token_claims(RES, "\"permissions\":[\"mcp:use\"]");
    char *auth = NULL, *detail = NULL;
    ck_assert_int_eq(mcpauth_verify(e, tok, strlen(tok), 0, &auth, &detail), MCPAUTH_OK);
    mcpauth_free(auth);
    char *r = req_bearer("/mcp", tok, NULL);
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    r = req_bearer("/mcp/admin", tok, NULL);
    ck_assert_int_eq(status_of(e, r), 403);
    free(r);
    free(tok);
    /* a route scope held as a permission, the required one as a scope */
    tok = token_claims(RES, "\"scope\":\"mcp:use\",\"permissions\":[\"admin\"]");
    r = req_bearer("/mcp/admin", tok, NULL);
    ck_assert_int_eq(status_of(e, r), 0);
    free(r);
    free(tok);
    /* neither: 403 from the router, INSUFFICIENT_SCOPE from mcpauth_verify */
    tok = token_claims(RES, "\"permissions\":[\"other\"]");
    ck_assert_int_eq(mcpauth_verify(e, tok, strlen(tok), 0, &auth, &detail),
                     MCPAUTH_E_INSUFFICIENT_SCOPE);
    mcpauth_free(detail);
    r = req_bearer("/mcp", tok, NULL);
    expect(e, r, CH_403("mcp:use"));
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- protected resource metadata -------------------------------------------------------- */

#define PRM_DOC_FULL                                                                               \
    "{\\\"resource\\\":\\\"" RES "\\\",\\\"authorization_servers\\\":[\\\"" ISS "\\\"],"           \
    "\\\"scopes_supported\\\":[\\\"mcp:read\\\",\\\"mcp:write\\\"],"                               \
    "\\\"bearer_methods_supported\\\":[\\\"header\\\"],\\\"resource_name\\\":\\\"Test MCP\\\","    \
    "\\\"resource_documentation\\\":\\\"https://docs.example.com/mcp\\\"}"

#define PRM_GET(body)                                                                              \
    "{\"action\":\"respond\",\"status\":200,\"headers\":[[\"Content-Type\","                       \
    "\"application/json\"],[\"Access-Control-Allow-Origin\",\"*\"]],\"body\":\"" body "\"}"

#define PRM_CFG                                                                                    \
    "\"scopesSupported\":[\"mcp:read\",\"mcp:write\"],\"resourceName\":\"Test MCP\","              \
    "\"resourceDocumentation\":\"https://docs.example.com/mcp\""

START_TEST(prm_routes) {
    mcpauth_engine *e = engine(PRM_CFG);
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/mcp\"}",
           PRM_GET(PRM_DOC_FULL));
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}",
           PRM_GET(PRM_DOC_FULL));
    expect(e, "{\"method\":\"HEAD\",\"path\":\"/.well-known/oauth-protected-resource/mcp\"}",
           PRM_GET(""));
    /* query strings do not matter */
    expect(e,
           "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\",\"query\":"
           "\"x=1\"}",
           PRM_GET(PRM_DOC_FULL));
    char *json = NULL;
    ck_assert_int_eq(mcpauth_protected_resource_metadata(e, &json), MCPAUTH_OK);
    json_t *d = json_loads(json, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(d, "resource")), RES);
    json_decref(d);
    mcpauth_free(json);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(prm_minimal_document) {
    mcpauth_engine *e = engine("");
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}",
           PRM_GET("{\\\"resource\\\":\\\"" RES "\\\",\\\"authorization_servers\\\":[\\\"" ISS
                   "\\\"],\\\"bearer_methods_supported\\\":[\\\"header\\\"]}"));
    mcpauth_engine_free(e);
    /* without scopesSupported, every scope the server may ask for is listed */
    e = engine(SCOPE_CFG);
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}",
           PRM_GET("{\\\"resource\\\":\\\"" RES "\\\",\\\"authorization_servers\\\":[\\\"" ISS
                   "\\\"],\\\"scopes_supported\\\":[\\\"mcp:read\\\",\\\"admin\\\","
                   "\\\"tools:call\\\",\\\"res:read\\\"],"
                   "\\\"bearer_methods_supported\\\":[\\\"header\\\"]}"));
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(prm_custom_mcp_path_and_resource) {
    mcpauth_engine *e = engine("\"mcpPath\":\"/api/mcp\"");
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/api/mcp\"}",
           PRM_GET("{\\\"resource\\\":\\\"https://mcp.example.com/api/mcp\\\","
                   "\\\"authorization_servers\\\":[\\\"" ISS "\\\"],"
                   "\\\"bearer_methods_supported\\\":[\\\"header\\\"]}"));
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/api/mcp/x\"}"), 401);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/mcp\"}"), 0);
    char *out = handle(e, "{\"method\":\"GET\",\"path\":\"/api/mcp\"}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://mcp.example.com/.well-known/"
                                      "oauth-protected-resource/api/mcp\\\""));
    mcpauth_free(out);
    mcpauth_engine_free(e);
    /* an explicit resource (a gateway in front): its path-inserted form and mcpPath both */
    e = engine_iss(ISS, "\"resource\":\"https://gw.example.com/team/mcp\"");
    ck_assert_int_eq(
        status_of(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/"
                     "team/mcp\"}"),
        200);
    ck_assert_int_eq(
        status_of(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource/mcp\"}"),
        200);
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\"}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://gw.example.com/.well-known/"
                                      "oauth-protected-resource/team/mcp\\\""));
    mcpauth_free(out);
    mcpauth_engine_free(e);
}
END_TEST

#define PREFLIGHT(allow_headers)                                                                   \
    "{\"action\":\"respond\",\"status\":204,\"headers\":[[\"Access-Control-Allow-Origin\","        \
    "\"*\"],[\"Access-Control-Allow-Methods\",\"GET, HEAD, OPTIONS\"]," allow_headers              \
    "[\"Access-Control-Max-Age\",\"86400\"],[\"Allow\",\"GET, HEAD, OPTIONS\"],"                   \
    "[\"Vary\",\"Access-Control-Request-Headers\"]],\"body\":\"\"}"

#define NOT_ALLOWED                                                                                \
    "{\"action\":\"respond\",\"status\":405,\"headers\":[" H_JSON                                  \
    ",[\"Allow\",\"GET, HEAD, OPTIONS\"],[\"Access-Control-Allow-Origin\",\"*\"]],\"body\":"       \
    "\"{\\\"error\\\":\\\"invalid_request\\\",\\\"error_description\\\":\\\"method not "           \
    "allowed\\\"}\"}"

START_TEST(metadata_cors_and_methods) {
    mcpauth_engine *e = engine("");
    expect(e,
           "{\"method\":\"OPTIONS\",\"path\":\"/.well-known/oauth-protected-resource/mcp\","
           "\"headers\":{\"origin\":\"https://app.example\",\"access-control-request-method\":"
           "\"GET\",\"access-control-request-headers\":\"mcp-protocol-version, authorization\"}}",
           PREFLIGHT("[\"Access-Control-Allow-Headers\",\"mcp-protocol-version, "
                     "authorization\"],"));
    expect(e, "{\"method\":\"OPTIONS\",\"path\":\"/.well-known/oauth-protected-resource\"}",
           PREFLIGHT(""));
    /* a hostile request-headers value is not reflected */
    expect(e,
           "{\"method\":\"OPTIONS\",\"path\":\"/.well-known/oauth-protected-resource\","
           "\"headers\":{\"access-control-request-headers\":\"x\\r\\nSet-Cookie: a=b\"}}",
           PREFLIGHT(""));
    const char *methods[] = {"POST", "PUT", "DELETE", "PATCH", "TRACE"};
    for (size_t i = 0; i < 5; i++) {
        char r[256];
        snprintf(r, sizeof r,
                 "{\"method\":\"%s\",\"path\":\"/.well-known/oauth-protected-resource\"}",
                 methods[i]);
        expect(e, r, NOT_ALLOWED);
        snprintf(r, sizeof r,
                 "{\"method\":\"%s\",\"path\":\"/.well-known/oauth-authorization-server\"}",
                 methods[i]);
        expect(e, r, NOT_ALLOWED);
    }
    expect(e, "{\"method\":\"OPTIONS\",\"path\":\"/.well-known/openid-configuration\"}",
           PREFLIGHT(""));
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(host_derived_resource) {
    mcpauth_engine *e = engine_iss(ISS, "\"trustHostHeader\":true");
    char *out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"host\":"
                          "\"MCP.Example.com:8443\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://mcp.example.com:8443/"
                                      ".well-known/oauth-protected-resource/mcp\\\""));
    mcpauth_free(out);
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\","
                    "\"headers\":{\"host\":\"127.0.0.1:8080\"}}");
    ck_assert_ptr_nonnull(strstr(out, "\\\"resource\\\":\\\"http://127.0.0.1:8080/mcp\\\""));
    mcpauth_free(out);
    /* X-Forwarded-* from a client that is no trusted proxy: ignored */
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"peer\":\"192.0.2.1\",\"headers\":{"
                    "\"host\":\"h.example\",\"x-forwarded-proto\":\"http\",\"x-forwarded-host\":"
                    "\"pub.example\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://h.example/"));
    mcpauth_free(out);
    mcpauth_engine_free(e);
    /* from a trusted proxy (trustedProxies), and only then, they choose the resource */
    e = engine_iss(ISS, "\"trustHostHeader\":true,\"trustedProxies\":[\"10.0.0.0/8\",\"::1\"]");
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"peer\":\"10.1.2.3\",\"headers\":{"
                    "\"host\":\"h.example\",\"x-forwarded-proto\":\"http\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"http://h.example/"));
    mcpauth_free(out);
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"peer\":\"::1\",\"headers\":{"
                    "\"host\":\"h.example\",\"x-forwarded-host\":\"pub.example\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://pub.example/"));
    mcpauth_free(out);
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"peer\":\"11.0.0.1\",\"headers\":{"
                    "\"host\":\"h.example\",\"x-forwarded-host\":\"pub.example\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://h.example/"));
    mcpauth_free(out);
    out = handle(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{"
                    "\"host\":\"h.example\",\"x-forwarded-host\":\"pub.example\"}}");
    ck_assert_ptr_nonnull(strstr(out, "resource_metadata=\\\"https://h.example/"));
    mcpauth_free(out);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"peer\":\"10.0.0.1\","
                                  "\"headers\":{\"host\":\"h\",\"x-forwarded-proto\":\"gopher\"}}"),
                     400);
    mcpauth_engine_free(e);
    /* allowedHosts: any other Host is refused */
    e = engine_iss(ISS, "\"trustHostHeader\":true,\"allowedHosts\":[\"MCP.example.com\"]");
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"host\":"
                                  "\"other.example.com\"}}"),
                     400);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"host\":"
                                  "\"mcp.EXAMPLE.com\"}}"),
                     401);
    mcpauth_engine_free(e);
    e = engine_iss(ISS, "\"trustHostHeader\":true");
    /* missing or hostile Host: 400 */
    const char *bad[] = {"{}", "{\"host\":\"a b\"}", "{\"host\":\"evil\\\"x\"}",
                         "{\"host\":\"h:99999999\"}", "{\"host\":\"h/x\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char r[256];
        snprintf(r, sizeof r, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":%s}", bad[i]);
        ck_assert_msg(status_of(e, r) == 400, "%s", bad[i]);
    }
    /* the static APIs cannot know the host */
    char *json = (char *)"sentinel";
    ck_assert_int_eq(mcpauth_protected_resource_metadata(e, &json), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(json);
    mcpauth_engine_free(e);
}
END_TEST

/* A request for `path` on `host` with a bearer token (and `more` headers: JSON members). */
static char *req_host(const char *host, const char *tok, const char *more) {
    char *h = malloc(strlen(tok) + 8);
    sprintf(h, "Bearer %s", tok);
    json_t *r = json_pack("{s:s,s:s,s:{s:s,s:s}}", "method", "POST", "path", "/mcp", "headers",
                          "host", host, "authorization", h);
    free(h);
    if (more) {
        json_t *m = json_loads(more, 0, NULL);
        ck_assert_ptr_nonnull(m);
        json_object_update(json_object_get(r, "headers"), m);
        json_decref(m);
    }
    char *s = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return s;
}

static int host_status(mcpauth_engine *e, const char *host, const char *tok, const char *more) {
    char *r = req_host(host, tok, more);
    int st = status_of(e, r);
    free(r);
    return st;
}

/* trustHostHeader: the token must be bound to the resource derived from the Host header, by
 * the rule claims.c applies to a configured resource. */
START_TEST(host_derived_resource_binds_tokens) {
    mcpauth_engine *e = engine_iss(ISS, "\"trustHostHeader\":true");
    const char *host = "mcp.example.com";
    char *tok = token_claims(RES, "");
    ck_assert_int_eq(host_status(e, host, tok, NULL), 0);
    /* the same token on another host, or over http, names another resource */
    ck_assert_int_eq(host_status(e, "other.example.com", tok, NULL), 401);
    ck_assert_int_eq(host_status(e, "mcp.example.com:8443", tok, NULL), 401);
    /* X-Forwarded-* of an untrusted client change nothing */
    ck_assert_int_eq(host_status(e, host, tok, "{\"x-forwarded-proto\":\"http\"}"), 0);
    ck_assert_int_eq(host_status(e, "h.example", tok, "{\"x-forwarded-host\":\"mcp.example.com\"}"),
                     401);
    free(tok);
    /* a token for another server: 401 invalid_token, the challenge names this resource */
    tok = token_claims("https://elsewhere.example.com/mcp", "");
    char *r = req_host(host, tok, NULL);
    char *out = handle(e, r);
    ck_assert_ptr_nonnull(strstr(out, "\"status\":401"));
    ck_assert_ptr_nonnull(strstr(out, "Bearer error=\\\"invalid_token\\\", error_description="
                                      "\\\"token audience or resource mismatch\\\", "
                                      "resource_metadata=\\\"" PRM "\\\""));
    mcpauth_free(out);
    free(r);
    free(tok);
    /* aud as an array containing the resource */
    tok = token_claims(NULL, "\"aud\":[\"https://a.example\",\"" RES "\"]");
    ck_assert_int_eq(host_status(e, host, tok, NULL), 0);
    free(tok);
    /* a resource claim decides when present */
    tok = token_claims("https://elsewhere.example.com/mcp", "\"resource\":\"" RES "\"");
    ck_assert_int_eq(host_status(e, host, tok, NULL), 0);
    free(tok);
    tok = token_claims(RES, "\"resource\":\"https://elsewhere.example.com/mcp\"");
    ck_assert_int_eq(host_status(e, host, tok, NULL), 401);
    free(tok);
    /* no aud, no resource: not bound */
    char payload[512];
    snprintf(payload, sizeof payload,
             "{\"iss\":\"" ISS "\",\"sub\":\"u\",\"iat\":%lld,\"exp\":%lld}", (long long)T0,
             (long long)T0 + 600);
    tok = tu_sign_claims(&KEY, payload);
    ck_assert_int_eq(host_status(e, host, tok, NULL), 401);
    free(tok);
    mcpauth_engine_free(e);
    /* a configured audience that the token names stands for the binding, as in claims.c */
    e = engine_iss(ISS, "\"trustHostHeader\":true,\"audience\":\"api://mcp\"");
    tok = token_claims("api://mcp", "");
    ck_assert_int_eq(host_status(e, host, tok, NULL), 0);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* The scheme of a Host-derived resource: http only for loopback hosts (127.0.0.0/8,
 * localhost, [::1]), https for every other name, including ones that start with "127.". */
START_TEST(host_derived_scheme_loopback_only) {
    mcpauth_engine *e = engine_iss(ISS, "\"trustHostHeader\":true");
    struct {
        const char *host, *want;
    } cases[] = {
        {"127.0.0.1:8080", "http://127.0.0.1:8080/"},
        {"127.255.3.4", "http://127.255.3.4/"},
        {"localhost:3000", "http://localhost:3000/"},
        {"LocalHost", "http://localhost/"},
        {"[::1]:8080", "http://[::1]:8080/"},
        {"[::1]", "http://[::1]/"},
        {"127.evil.example", "https://127.evil.example/"},
        {"127.0.0.1.nip.io", "https://127.0.0.1.nip.io/"},
        {"127.0.0.256", "https://127.0.0.256/"},
        {"127.1", "https://127.1/"},
        {"localhost.example", "https://localhost.example/"},
        {"128.0.0.1", "https://128.0.0.1/"},
        {"[::2]:8080", "https://[::2]:8080/"},
        {"mcp.example.com", "https://mcp.example.com/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char req[256], want[256];
        snprintf(req, sizeof req,
                 "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"host\":\"%s\"}}",
                 cases[i].host);
        snprintf(want, sizeof want, "resource_metadata=\\\"%s.well-known/", cases[i].want);
        char *out = handle(e, req);
        ck_assert_msg(strstr(out, want) != NULL, "%s: %s", cases[i].host, out);
        mcpauth_free(out);
    }
    mcpauth_engine_free(e);
}
END_TEST

/* hostVerifies: the router answers challenges and metadata, but a request with a token is a
 * configuration error (the host verifies those itself). */
START_TEST(host_verifies_router) {
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"provider\":\"custom\",\"issuer\":\"" ISS "\",\"authEndpoint\":\"" ISS
             "/a\",\"tokenEndpoint\":\"" ISS "/t\",\"hostVerifies\":true,\"baseUrl\":"
             "\"https://mcp.example.com\",\"tokenCacheSize\":0}");
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    ck_assert_int_eq(mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail),
                     MCPAUTH_OK);
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp\"}", CH_401_MISSING_NOSCOPE);
    expect(e, "{\"method\":\"GET\",\"path\":\"/public\"}", PASS);
    ck_assert_int_eq(
        status_of(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}"),
        200);
    char *tok = token(NULL);
    char *r = req_bearer("/mcp", tok, NULL);
    handle_f(e, r, 0, MCPAUTH_E_CONFIG);
    free(r);
    free(tok);
    /* a malformed header is still answered (nothing to verify) */
    r = req_auth("POST", "/mcp", "Basic dXNlcjpwYXNz", NULL);
    ck_assert_int_eq(status_of(e, r), 401);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(no_base_url_is_config_error) {
    mcpauth_engine *e = engine_iss(ISS, "\"audience\":\"api\"");
    handle_f(e, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"host\":\"h\"}}", 0,
             MCPAUTH_E_CONFIG);
    handle_f(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-protected-resource\"}", 0,
             MCPAUTH_E_CONFIG);
    /* routes that need no resource still work */
    expect(e, "{\"method\":\"GET\",\"path\":\"/public\"}", PASS);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- request bounds and validation ------------------------------------------------------ */

START_TEST(request_validation) {
    mcpauth_engine *e = engine("");
    const char *bad[] = {"",
                         "not json",
                         "[]",
                         "{\"path\":\"/mcp\"}",
                         "{\"method\":\"GET\"}",
                         "{\"method\":\"\",\"path\":\"/\"}",
                         "{\"method\":\"G E T\",\"path\":\"/\"}",
                         "{\"method\":1,\"path\":\"/\"}",
                         "{\"method\":\"GET\",\"path\":\"\"}",
                         "{\"method\":\"GET\",\"path\":\"/\",\"headers\":[]}",
                         "{\"method\":\"GET\",\"path\":\"/\",\"headers\":{\"a\":1}}",
                         "{\"method\":\"GET\",\"path\":\"/\",\"mcpMethod\":5}",
                         "{\"method\":\"GET\",\"path\":\"/\",\"query\":5}",
                         "{\"method\":\"GET\",\"path\":\"/?a\",\"query\":\"b\"}",
                         "{\"method\":\"GET\",\"path\":\"/\",\"method\":\"POST\"}",
                         "{\"method\":\"GET\",\"path\":\"/a\\u0000b\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        handle_f(e, bad[i], 0, MCPAUTH_E_INVALID_ARGUMENT);
    char *out = (char *)"x";
    ck_assert_int_eq(mcpauth_handle_request(NULL, "{}", 2, 0, &out), MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcpauth_handle_request(e, NULL, 0, 0, &out), MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcpauth_handle_request(e, "{}", 2, 0, NULL), MCPAUTH_E_INVALID_ARGUMENT);

    /* over 1 MiB of request JSON */
    size_t big = ((size_t)1 << 20) + 100;
    char *b = malloc(big + 1);
    int n = sprintf(b, "{\"method\":\"GET\",\"path\":\"/\",\"body\":\"");
    memset(b + n, 'a', big - (size_t)n - 2);
    memcpy(b + big - 2, "\"}", 3);
    ck_assert_int_eq(mcpauth_handle_request(e, b, big, 0, &out), MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    free(b);

    /* long path: 414; long query: 414; big header: 431 */
    char *p = malloc(20000);
    n = sprintf(p, "{\"method\":\"GET\",\"path\":\"/");
    memset(p + n, 'a', 9000);
    strcpy(p + n + 9000, "\"}");
    ck_assert_int_eq(status_of(e, p), 414);
    n = sprintf(p, "{\"method\":\"GET\",\"path\":\"/mcp\",\"query\":\"");
    memset(p + n, 'a', 17000);
    strcpy(p + n + 17000, "\"}");
    ck_assert_int_eq(status_of(e, p), 414);
    free(p);
    p = malloc(70000);
    n = sprintf(p, "{\"method\":\"GET\",\"path\":\"/mcp\",\"headers\":{\"x\":\"");
    memset(p + n, 'a', 66000);
    strcpy(p + n + 66000, "\"}}");
    ck_assert_int_eq(status_of(e, p), 431);
    free(p);

    /* request targets that are not origin-form */
    expect(e, "{\"method\":\"OPTIONS\",\"path\":\"*\"}", PASS);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"*\"}"), 400);
    ck_assert_int_eq(status_of(e, "{\"method\":\"GET\",\"path\":\"http://h/mcp\"}"), 400);
    /* null members are "absent" */
    expect(e, "{\"method\":\"GET\",\"path\":\"/x\",\"headers\":null,\"query\":null,\"body\":null}",
           PASS);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(route_scopes_config_validation) {
    const tu_key *keys[] = {&KEY};
    char *jwks = tu_jwks(keys, 1);
    const char *bad[] = {"\"routeScopes\":{\"/a\":[\"bad\\\"scope\"]}",
                         "\"requiredScopes\":[\"a\\\\b\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char cfg[4096];
        snprintf(cfg, sizeof cfg,
                 "{\"issuer\":\"" ISS "\",\"jwks\":%s,\"baseUrl\":\"https://m.example\",%s}", jwks,
                 bad[i]);
        mcpauth_engine *e = NULL;
        int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, NULL);
        ck_assert_msg(rc == MCPAUTH_E_CONFIG, "%s: %s", bad[i], mcpauth_code_name(rc));
        ck_assert_ptr_null(e);
    }
    free(jwks);
}
END_TEST

/* ---- keys unavailable / non-blocking ---------------------------------------------------- */

START_TEST(keys_unavailable_503) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    tu_httpd_route(s, "/jwks", 500, "{}");
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"issuer\":\"" ISS "\",\"jwksUrl\":\"%s\",\"baseUrl\":\"https://mcp.example.com\","
             "\"algorithms\":[\"ES256\"]}",
             tu_httpd_url(s, "/jwks"));
    mcpauth_engine *e = NULL;
    ck_assert_int_eq(mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, NULL),
                     MCPAUTH_OK);
    char *tok = token("x");
    char *r = req_bearer("/mcp", tok, NULL);
    /* non-blocking: the keys would need a fetch */
    handle_f(e, r, MCPAUTH_REQUEST_NONBLOCK, MCPAUTH_E_WOULD_BLOCK);
    ck_assert_uint_eq(tu_httpd_hits(s, "/jwks"), 0);
    char *out = handle(e, r);
    ck_assert_str_eq(out, "{\"action\":\"respond\",\"status\":503,\"headers\":[" H_JSON
                          ",[\"Retry-After\",\"30\"]],\"body\":\"{\\\"error\\\":"
                          "\\\"temporarily_unavailable\\\",\\\"error_description\\\":"
                          "\\\"verification keys are unavailable\\\"}\"}");
    mcpauth_free(out);
    /* no token: still the ordinary challenge, no key fetch needed */
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp\"}", CH_401_MISSING_NOSCOPE);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
    tu_httpd_stop(s);
}
END_TEST

/* ---- authorization server metadata ------------------------------------------------------ */

static char *as_doc(const char *iss, const char *extra) {
    char *d = malloc(2048);
    snprintf(d, 2048,
             "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth\",\"token_endpoint\":"
             "\"%s/token\",\"response_types_supported\":[\"code\"]%s}",
             iss, iss, iss, extra);
    return d;
}

static char *as_get(mcpauth_engine *e, const char *path, unsigned flags, int want_status) {
    char r[512];
    snprintf(r, sizeof r, "{\"method\":\"GET\",\"path\":\"%s\"}", path);
    char *out = handle_f(e, r, flags, MCPAUTH_OK);
    json_t *d = json_loads(out, 0, NULL);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "status")), want_status);
    char *body = strdup(json_string_value(json_object_get(d, "body")));
    json_decref(d);
    mcpauth_free(out);
    return body;
}

START_TEST(as_metadata_mirror_and_cache) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    const char *iss = tu_httpd_url(s, "");
    char *doc = as_doc(iss, ",\"registration_endpoint\":\"x\"");
    tu_httpd_route(s, "/.well-known/oauth-authorization-server", 200, doc);
    mcpauth_engine *e = engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\"");
    /* non-blocking before the first fetch */
    handle_f(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-authorization-server\"}",
             MCPAUTH_REQUEST_NONBLOCK, MCPAUTH_E_WOULD_BLOCK);
    char *json = (char *)"x";
    ck_assert_int_eq(mcpauth_authorization_server_metadata(e, MCPAUTH_REQUEST_NONBLOCK, &json),
                     MCPAUTH_E_WOULD_BLOCK);
    ck_assert_ptr_null(json);
    ck_assert_uint_eq(tu_httpd_hits(s, "/.well-known/oauth-authorization-server"), 0);

    char *body = as_get(e, "/.well-known/oauth-authorization-server", 0, 200);
    char want[4096];
    snprintf(want, sizeof want,
             "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/auth\",\"token_endpoint\":"
             "\"%s/token\",\"response_types_supported\":[\"code\"],\"registration_endpoint\":"
             "\"x\",\"code_challenge_methods_supported\":[\"S256\"]}",
             iss, iss, iss);
    ck_assert_str_eq(body, want);
    free(body);
    ck_assert_uint_eq(tu_httpd_hits(s, "/.well-known/oauth-authorization-server"), 1);
    /* cached: the OIDC route and the public API, blocking or not, do no I/O */
    body = as_get(e, "/.well-known/openid-configuration", MCPAUTH_REQUEST_NONBLOCK, 200);
    ck_assert_str_eq(body, want);
    free(body);
    ck_assert_int_eq(mcpauth_authorization_server_metadata(e, MCPAUTH_REQUEST_NONBLOCK, &json),
                     MCPAUTH_OK);
    ck_assert_str_eq(json, want);
    mcpauth_free(json);
    ck_assert_uint_eq(tu_httpd_hits(s, "/.well-known/oauth-authorization-server"), 1);
    /* HEAD: headers only */
    expect(e, "{\"method\":\"HEAD\",\"path\":\"/.well-known/oauth-authorization-server\"}",
           PRM_GET(""));
    /* an upstream code_challenge_methods_supported is kept as is */
    mcpauth_engine_free(e);
    free(doc);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(as_metadata_ttl_and_outage) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    const char *iss = tu_httpd_url(s, "");
    char *doc = as_doc(iss, ",\"code_challenge_methods_supported\":[\"S256\",\"plain\"]");
    tu_httpd_route(s, "/.well-known/oauth-authorization-server", 200, doc);
    mcpauth_engine *e =
        engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\",\"metadataCacheSeconds\":100");
    const char *path = "/.well-known/oauth-authorization-server";
    char *good = as_get(e, path, 0, 200);
    ck_assert_str_eq(good, doc);
    ck_assert_uint_eq(tu_httpd_hits(s, path), 1);
    mcp_time_set_override(T0 + 99);
    free(as_get(e, path, 0, 200));
    ck_assert_uint_eq(tu_httpd_hits(s, path), 1);
    /* expired: refetched */
    mcp_time_set_override(T0 + 101);
    handle_f(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-authorization-server\"}",
             MCPAUTH_REQUEST_NONBLOCK, MCPAUTH_E_WOULD_BLOCK);
    free(as_get(e, path, 0, 200));
    ck_assert_uint_eq(tu_httpd_hits(s, path), 2);
    /* outage after expiry: the last good copy is served */
    tu_httpd_set_status(s, path, 503);
    mcp_time_set_override(T0 + 250);
    char *body = as_get(e, path, 0, 200);
    ck_assert_str_eq(body, good);
    free(body);
    ck_assert_uint_eq(tu_httpd_hits(s, path), 3);
    mcp_as_cache *c = ((mcp_http_state *)e->http_state)->as;
    uint64_t fetches = mcp_as_cache_fetch_count(c);
    ck_assert_uint_eq(fetches, 4); /* 2 good rounds + the failed one tried both URLs */
    /* within the back-off no fetch is tried, even blocking, even non-blocking */
    mcp_time_set_override(T0 + 270);
    body = as_get(e, path, MCPAUTH_REQUEST_NONBLOCK, 200);
    ck_assert_str_eq(body, good);
    free(body);
    ck_assert_uint_eq(mcp_as_cache_fetch_count(c), fetches);
    /* a changed upstream document with a wrong issuer is refused (RFC 8414 3.3) */
    mcp_time_set_override(T0 + 400);
    char *wrong = as_doc("https://attacker.example", "");
    tu_httpd_set_status(s, path, 200);
    tu_httpd_set_body(s, path, wrong);
    body = as_get(e, path, 0, 200);
    ck_assert_str_eq(body, good);
    free(body);
    /* upstream recovers */
    mcp_time_set_override(T0 + 500);
    char *doc2 = as_doc(iss, ",\"scopes_supported\":[\"a\"]");
    tu_httpd_set_body(s, path, doc2);
    body = as_get(e, path, 0, 200);
    ck_assert_ptr_nonnull(strstr(body, "\"scopes_supported\":[\"a\"]"));
    free(body);
    free(doc2);
    free(wrong);
    free(good);
    free(doc);
    mcpauth_engine_free(e);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(as_metadata_oidc_fallback) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    const char *iss = tu_httpd_url(s, "");
    char *doc = as_doc(iss, "");
    tu_httpd_route(s, "/.well-known/openid-configuration", 200, doc);
    mcpauth_engine *e = engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\"");
    char *body = as_get(e, "/.well-known/oauth-authorization-server", 0, 200);
    ck_assert_ptr_nonnull(strstr(body, "\"code_challenge_methods_supported\":[\"S256\"]"));
    ck_assert_ptr_nonnull(strstr(body, "/token\""));
    free(body);
    ck_assert_uint_eq(tu_httpd_misses(s), 1);
    ck_assert_uint_eq(tu_httpd_hits(s, "/.well-known/openid-configuration"), 1);
    mcpauth_engine_free(e);
    free(doc);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(as_metadata_path_issuer) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    char iss[256];
    snprintf(iss, sizeof iss, "%s", tu_httpd_url(s, "/tenant1"));
    char *doc = as_doc(iss, "");
    tu_httpd_route(s, "/.well-known/oauth-authorization-server/tenant1", 200, doc);
    mcpauth_engine *e = engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\"");
    char *body = as_get(e, "/.well-known/oauth-authorization-server/tenant1", 0, 200);
    ck_assert_ptr_nonnull(strstr(body, iss));
    free(body);
    body = as_get(e, "/.well-known/oauth-authorization-server", 0, 200);
    free(body);
    body = as_get(e, "/.well-known/openid-configuration/tenant1", 0, 200);
    free(body);
    ck_assert_uint_eq(tu_httpd_hits(s, "/.well-known/oauth-authorization-server/tenant1"), 1);
    /* the OIDC append form is the fallback for a path issuer */
    tu_httpd_stop(s);
    mcpauth_engine_free(e);
    free(doc);

    s = tu_httpd_start();
    snprintf(iss, sizeof iss, "%s", tu_httpd_url(s, "/tenant1"));
    doc = as_doc(iss, "");
    tu_httpd_route(s, "/tenant1/.well-known/openid-configuration", 200, doc);
    e = engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\"");
    body = as_get(e, "/.well-known/openid-configuration", 0, 200);
    ck_assert_ptr_nonnull(strstr(body, iss));
    free(body);
    ck_assert_uint_eq(tu_httpd_hits(s, "/tenant1/.well-known/openid-configuration"), 1);
    mcpauth_engine_free(e);
    free(doc);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(as_metadata_synthesized) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    const char *iss = tu_httpd_url(s, "");
    char extra[1024];
    snprintf(extra, sizeof extra,
             "\"baseUrl\":\"https://mcp.example.com\",\"authorizationEndpoint\":\"%s/authorize\","
             "\"tokenEndpoint\":\"%s/oauth/token\",\"scopesSupported\":[\"openid\",\"mcp\"]",
             iss, iss);
    mcpauth_engine *e = engine_iss(iss, extra);
    char *body = as_get(e, "/.well-known/oauth-authorization-server", 0, 200);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"issuer\":\"%s\",\"authorization_endpoint\":\"%s/authorize\",\"token_endpoint\":"
             "\"%s/oauth/token\",\"scopes_supported\":[\"openid\",\"mcp\"],"
             "\"response_types_supported\":[\"code\"],\"grant_types_supported\":["
             "\"authorization_code\",\"refresh_token\"],\"code_challenge_methods_supported\":["
             "\"S256\"]}",
             iss, iss, iss);
    ck_assert_str_eq(body, want);
    free(body);
    ck_assert_uint_eq(tu_httpd_misses(s), 2);
    mcpauth_engine_free(e);

    /* nothing upstream and nothing configured: 503 */
    e = engine_iss(iss, "\"baseUrl\":\"https://mcp.example.com\"");
    char r[] = "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-authorization-server\"}";
    expect(e, r,
           "{\"action\":\"respond\",\"status\":503,\"headers\":[" H_JSON
           ",[\"Retry-After\",\"30\"],[\"Access-Control-Allow-Origin\",\"*\"]],\"body\":"
           "\"{\\\"error\\\":\\\"temporarily_unavailable\\\",\\\"error_description\\\":"
           "\\\"upstream server failure\\\"}\"}");
    char *json = (char *)"x";
    ck_assert_int_eq(mcpauth_authorization_server_metadata(e, 0, &json), MCPAUTH_E_UPSTREAM);
    ck_assert_ptr_null(json);
    mcpauth_engine_free(e);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(as_routes_absent_without_issuer_path) {
    /* the path-suffixed AS route only exists for an issuer with a path */
    mcpauth_engine *e = engine("");
    expect(e, "{\"method\":\"GET\",\"path\":\"/.well-known/oauth-authorization-server/x\"}", PASS);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- the OAuth proxy as authorization server -------------------------------------------- */

#define PROXY_CFG                                                                                  \
    "\"proxy\":{\"authEndpoint\":\"https://up.example.com/authorize\",\"tokenEndpoint\":"          \
    "\"https://up.example.com/token\",\"clientId\":\"cid\",\"clientSecret\":\"csecret\","          \
    "\"sealingSecret\":\"0123456789abcdef0123456789abcdef-sealing\"}"

/* trustHostHeader with introspection: an answer whose aud names another resource is refused,
 * as opaque.c refuses it for a configured resource. */
START_TEST(host_derived_resource_binds_introspected_tokens) {
    tu_httpd *s = tu_httpd_start();
    ck_assert_ptr_nonnull(s);
    char cfg[512], body[512];
    snprintf(cfg, sizeof cfg,
             "\"trustHostHeader\":true,\"introspection\":{\"url\":\"%s\",\"clientId\":\"c\","
             "\"clientSecret\":\"s\"}",
             tu_httpd_url(s, "/introspect"));
    mcpauth_engine *e = engine_iss(ISS, cfg);
    const char *auds[] = {"\"aud\":\"" RES "\",", "\"aud\":\"https://elsewhere.example.com/mcp\",",
                          "", "\"aud\":[\"x\",\"" RES "\"],"};
    const int want[] = {0, 401, 0, 0};
    for (size_t i = 0; i < 4; i++) {
        snprintf(body, sizeof body, "{\"active\":true,%s\"sub\":\"u\",\"exp\":%lld}", auds[i],
                 (long long)T0 + 600);
        tu_httpd_route(s, "/introspect", 200, body);
        char tok[32];
        snprintf(tok, sizeof tok, "opaque-%zu", i);
        ck_assert_msg(host_status(e, "mcp.example.com", tok, NULL) == want[i], "%zu", i);
    }
    ck_assert_uint_eq(tu_httpd_hits(s, "/introspect"), 4);
    mcpauth_engine_free(e);
    tu_httpd_stop(s);
}
END_TEST

START_TEST(oauth_proxy_routes) {
    mcpauth_engine *e = engine(PROXY_CFG);
    int own = 0; /* until the engine initializes the proxy itself, the test does */
    if (!e->proxy_state) {
        mcp_err err = {0};
        ck_assert_int_eq(mcp_proxy_init(e, &err), MCPAUTH_OK);
        ck_assert_ptr_nonnull(e->proxy_state);
        own = 1;
    }
    /* PRM names the proxy as the authorization server */
    char *body = as_get(e, "/.well-known/oauth-protected-resource/mcp", 0, 200);
    json_t *d = json_loads(body, 0, NULL);
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(d, "authorization_servers"), 0)),
        "https://mcp.example.com");
    json_decref(d);
    free(body);
    char *json = NULL;
    ck_assert_int_eq(mcpauth_protected_resource_metadata(e, &json), MCPAUTH_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"authorization_servers\":[\"https://mcp.example.com\"]"));
    mcpauth_free(json);
    /* AS metadata is the proxy's own, served without I/O (non-blocking works) */
    body = as_get(e, "/.well-known/oauth-authorization-server", MCPAUTH_REQUEST_NONBLOCK, 200);
    d = json_loads(body, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(d, "issuer")), "https://mcp.example.com");
    ck_assert_str_eq(json_string_value(json_object_get(d, "token_endpoint")),
                     "https://mcp.example.com/token");
    json_decref(d);
    free(body);
    free(as_get(e, "/.well-known/openid-configuration", MCPAUTH_REQUEST_NONBLOCK, 200));
    ck_assert_int_eq(mcpauth_authorization_server_metadata(e, MCPAUTH_REQUEST_NONBLOCK, &json),
                     MCPAUTH_OK);
    ck_assert_ptr_nonnull(strstr(json, "\"issuer\":\"https://mcp.example.com\""));
    mcpauth_free(json);
    /* proxy routes are answered by the proxy, never passed */
    json_t *x = decision(e, "{\"method\":\"OPTIONS\",\"path\":\"/token\"}");
    ck_assert_str_eq(json_string_value(json_object_get(x, "action")), "respond");
    ck_assert_int_eq(json_integer_value(json_object_get(x, "status")), 204);
    json_decref(x);
    x = decision(e, "{\"method\":\"GET\",\"path\":\"/register\"}");
    ck_assert_int_eq(json_integer_value(json_object_get(x, "status")), 405);
    json_decref(x);
    x = decision(e, "{\"method\":\"GET\",\"path\":\"/authorize?client_id=nope\"}");
    ck_assert_str_eq(json_string_value(json_object_get(x, "action")), "respond");
    json_decref(x);
    /* the MCP path is still protected, other paths still pass */
    expect(e, "{\"method\":\"POST\",\"path\":\"/mcp\"}", CH_401_MISSING_NOSCOPE);
    expect(e, "{\"method\":\"GET\",\"path\":\"/tokens\"}", PASS);
    if (own) {
        mcp_proxy_free(e->proxy_state);
        e->proxy_state = NULL;
    }
    mcpauth_engine_free(e);
}
END_TEST

static Suite *router_suite(void) {
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("routes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, unprotected_paths_pass);
    tcase_add_test(tc, no_token_challenge);
    tcase_add_test(tc, no_scope_parameter_without_required_scopes);
    tcase_add_test(tc, segment_matching);
    tcase_add_test(tc, custom_protected_paths);
    tcase_add_test(tc, cors_preflight_on_protected_path_passes);
    tcase_add_test(tc, good_token_passes_with_auth);
    tcase_add_test(tc, invalid_tokens_401);
    tcase_add_test(tc, verification_internals_never_leak);
    tcase_add_test(tc, malformed_authorization_header);
    tcase_add_test(tc, query_token_refused);
    tcase_add_test(tc, required_scopes_403);
    tcase_add_test(tc, route_path_scopes);
    tcase_add_test(tc, mcp_method_scopes);
    tcase_add_test(tc, permissions_count_as_scopes);
    tcase_add_test(tc, prm_routes);
    tcase_add_test(tc, prm_minimal_document);
    tcase_add_test(tc, prm_custom_mcp_path_and_resource);
    tcase_add_test(tc, metadata_cors_and_methods);
    tcase_add_test(tc, host_derived_resource);
    tcase_add_test(tc, host_derived_resource_binds_tokens);
    tcase_add_test(tc, host_derived_scheme_loopback_only);
    tcase_add_test(tc, no_base_url_is_config_error);
    tcase_add_test(tc, host_verifies_router);
    tcase_add_test(tc, request_validation);
    tcase_add_test(tc, route_scopes_config_validation);
    tcase_add_test(tc, keys_unavailable_503);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("as_metadata");
    tcase_add_checked_fixture(ta, setup, teardown);
    tcase_set_timeout(ta, 60);
    tcase_add_test(ta, as_metadata_mirror_and_cache);
    tcase_add_test(ta, as_metadata_ttl_and_outage);
    tcase_add_test(ta, as_metadata_oidc_fallback);
    tcase_add_test(ta, as_metadata_path_issuer);
    tcase_add_test(ta, as_metadata_synthesized);
    tcase_add_test(ta, as_routes_absent_without_issuer_path);
    tcase_add_test(ta, oauth_proxy_routes);
    tcase_add_test(ta, host_derived_resource_binds_introspected_tokens);
    suite_add_tcase(s, ta);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
