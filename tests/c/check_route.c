/* check_route.c - the router's second form (MCPAUTH_1.1): mcpauth_route and
 * mcpauth_route_complete decisions (pass, respond with "code", need_body, host_verify), the
 * body rule for method-keyed scopes (requests without a JSON-RPC message need only the base
 * scopes), the checks applied to a host verifier's claims, details, the accessToken opt-in,
 * argument validation, and mcpauth_constants. */
#include <check.h>
#include <pthread.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/common.h"
#include "mcpauth.h"
#include "tokens.h"

#define ISS "https://issuer.example.com"
#define RES "https://mcp.example.com/mcp"
#define PRM "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
#define T0 ((int64_t)1800000000)
#define SCOPES                                                                                     \
    "\"requiredScopes\":[\"mcp:read\"],\"routeScopes\":{\"tools/call\":\"tools:call\","            \
    "\"resources/read\":[\"res:read\"],\"/mcp/admin\":\"admin\"}"

static tu_key KEY;

static void setup(void) {
    mcp_time_set_override(T0);
    ck_assert_int_eq(tu_key_gen(&KEY, "ES256", "k1"), 0);
}

static void teardown(void) {
    tu_key_free(&KEY);
    mcp_time_set_override(0);
}

static mcpauth_engine *engine_json(const char *cfg) {
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    if (rc != MCPAUTH_OK) ck_abort_msg("engine: %s (%s)", detail ? detail : "?", cfg);
    return e;
}

/* An engine verifying with KEY, with `extra` members. */
static mcpauth_engine *engine(const char *extra) {
    const tu_key *keys[] = {&KEY};
    char *jwks = tu_jwks(keys, 1);
    char cfg[8192];
    snprintf(cfg, sizeof cfg,
             "{\"issuer\":\"" ISS "\",\"jwks\":%s,\"baseUrl\":\"https://mcp.example.com\"%s%s}",
             jwks, extra[0] ? "," : "", extra);
    free(jwks);
    return engine_json(cfg);
}

/* A hostVerifies engine (the host verifies signatures) with `extra` members. */
static mcpauth_engine *host_engine(const char *extra) {
    char cfg[4096];
    snprintf(cfg, sizeof cfg,
             "{\"provider\":\"custom\",\"issuer\":\"" ISS "\",\"authEndpoint\":\"" ISS
             "/a\",\"tokenEndpoint\":\"" ISS "/t\",\"hostVerifies\":true,\"baseUrl\":"
             "\"https://mcp.example.com\"%s%s}",
             extra[0] ? "," : "", extra);
    return engine_json(cfg);
}

static char *claims_json(const char *iss, const char *aud, int64_t exp, const char *scope) {
    char *s = malloc(1024);
    snprintf(s, 1024,
             "{\"iss\":\"%s\",\"aud\":\"%s\",\"sub\":\"user-1\",\"email\":\"u@example.com\","
             "\"iat\":%lld,\"exp\":%lld%s%s%s}",
             iss, aud, (long long)T0, (long long)exp, scope ? ",\"scope\":\"" : "",
             scope ? scope : "", scope ? "\"" : "");
    return s;
}

static char *token_ex(const char *iss, const char *aud, int64_t exp, const char *scope) {
    char *c = claims_json(iss, aud, exp, scope);
    char *t = tu_sign_claims(&KEY, c);
    free(c);
    return t;
}

static char *token(const char *scope) { return token_ex(ISS, RES, T0 + 600, scope); }

/* {"method","path","headers":{"authorization":"Bearer tok"}} plus `more` members. */
static char *request(const char *method, const char *path, const char *tok, const char *more) {
    json_t *r = json_pack("{s:s,s:s}", "method", method, "path", path);
    json_t *h = json_object();
    if (tok) {
        char *v = malloc(strlen(tok) + 8);
        sprintf(v, "Bearer %s", tok);
        json_object_set_new(h, "authorization", json_string(v));
        free(v);
    }
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

/* A call's decision text parsed (rc must be OK; `what` names the input in the message);
 * *detail_out receives the detail. */
static json_t *decision(int rc, char *out, char *detail, const char *what, char **detail_out) {
    ck_assert_msg(rc == MCPAUTH_OK, "rc %s (%s) for %s", mcpauth_code_name(rc),
                  detail ? detail : "", what);
    json_t *d = json_loads(out, 0, NULL);
    ck_assert_ptr_nonnull(d);
    mcpauth_free(out);
    if (detail_out)
        *detail_out = detail;
    else
        mcpauth_free(detail);
    return d;
}

/* mcpauth_route -> parsed decision (rc must be OK); *detail_out receives the detail. */
static json_t *route_f(mcpauth_engine *e, const char *req, unsigned flags, char **detail_out) {
    char *out = (char *)"sentinel", *detail = (char *)"sentinel";
    int rc = mcpauth_route(e, req, strlen(req), flags, &out, &detail);
    return decision(rc, out, detail, req, detail_out);
}

static json_t *route(mcpauth_engine *e, const char *req) { return route_f(e, req, 0, NULL); }

static json_t *complete_f(mcpauth_engine *e, const char *req, const char *result, unsigned flags,
                          char **detail_out) {
    char *out = (char *)"sentinel", *detail = (char *)"sentinel";
    int rc =
        mcpauth_route_complete(e, req, strlen(req), result, strlen(result), flags, &out, &detail);
    return decision(rc, out, detail, result, detail_out);
}

static const char *action(json_t *d) { return json_string_value(json_object_get(d, "action")); }

static int status(json_t *d) { return (int)json_integer_value(json_object_get(d, "status")); }

static int code(json_t *d) { return (int)json_integer_value(json_object_get(d, "code")); }

static const char *header(json_t *d, const char *name) {
    size_t i;
    json_t *h;
    json_array_foreach(json_object_get(d, "headers"), i, h) {
        if (strcmp(json_string_value(json_array_get(h, 0)), name) == 0)
            return json_string_value(json_array_get(h, 1));
    }
    return NULL;
}

/* A pass with an auth result; returns 1 for pass. */
static int passes(json_t *d) { return strcmp(action(d), "pass") == 0; }

/* ---- pass, accessToken, detail ---------------------------------------------------------- */

START_TEST(pass_without_token_unless_asked) {
    mcpauth_engine *e = engine("\"requiredScopes\":[\"mcp:read\"]");
    char *tok = token("mcp:read");
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    char *detail = (char *)"sentinel";
    json_t *d = route_f(e, r, 0, &detail);
    ck_assert(passes(d));
    ck_assert_ptr_null(detail); /* no detail for a pass */
    json_t *auth = json_object_get(d, "auth");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(auth, "user"), "userId")),
                     "user-1");
    ck_assert_ptr_null(json_object_get(auth, "accessToken"));
    ck_assert_ptr_nonnull(json_object_get(auth, "payload"));
    json_decref(d);
    /* twice: the second answer comes from the token cache, still without the token */
    d = route(e, r);
    ck_assert(passes(d));
    ck_assert_ptr_null(json_object_get(json_object_get(d, "auth"), "accessToken"));
    json_decref(d);
    d = route_f(e, r, MCPAUTH_ROUTE_WITH_TOKEN, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "auth"), "accessToken")),
                     tok);
    json_decref(d);
    /* mcpauth_handle_request keeps the documented result (with accessToken) */
    char *out = NULL;
    ck_assert_int_eq(mcpauth_handle_request(e, r, strlen(r), 0, &out), MCPAUTH_OK);
    d = json_loads(out, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "auth"), "accessToken")),
                     tok);
    json_decref(d);
    mcpauth_free(out);
    /* not protected: a bare pass */
    free(r);
    r = request("GET", "/health", NULL, NULL);
    d = route(e, r);
    ck_assert(passes(d));
    ck_assert_ptr_null(json_object_get(d, "auth"));
    json_decref(d);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(failures_carry_code_and_detail) {
    mcpauth_engine *e = engine("\"requiredScopes\":[\"mcp:read\"]");
    /* expired */
    char *tok = token_ex(ISS, RES, T0 - 3600, "mcp:read");
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    char *detail = NULL;
    json_t *d = route_f(e, r, 0, &detail);
    ck_assert_str_eq(action(d), "respond");
    ck_assert_int_eq(status(d), 401);
    ck_assert_int_eq(code(d), MCPAUTH_E_EXPIRED);
    ck_assert_str_eq(header(d, "WWW-Authenticate"),
                     "Bearer error=\"invalid_token\", error_description=\"token has expired\", "
                     "resource_metadata=\"" PRM "\", scope=\"mcp:read\"");
    ck_assert_ptr_nonnull(detail);
    ck_assert_ptr_nonnull(strstr(detail, "expired"));
    ck_assert_ptr_null(strstr(detail, tok));
    mcpauth_free(detail);
    json_decref(d);
    free(r);
    free(tok);
    /* no credentials: code 10, detail says so */
    r = request("POST", "/mcp", NULL, "{\"body\":\"{}\"}");
    d = route_f(e, r, 0, &detail);
    ck_assert_int_eq(status(d), 401);
    ck_assert_int_eq(code(d), MCPAUTH_E_TOKEN_MISSING);
    ck_assert_str_eq(header(d, "WWW-Authenticate"),
                     "Bearer resource_metadata=\"" PRM "\", scope=\"mcp:read\"");
    ck_assert_str_eq(detail, "no access token was presented");
    mcpauth_free(detail);
    json_decref(d);
    free(r);
    /* insufficient scope: 403, code 30, the detail names the missing scope */
    tok = token("other");
    r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    d = route_f(e, r, 0, &detail);
    ck_assert_int_eq(status(d), 403);
    ck_assert_int_eq(code(d), MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_ptr_nonnull(strstr(detail, "mcp:read"));
    mcpauth_free(detail);
    json_decref(d);
    free(r);
    free(tok);
    /* metadata answers carry no code and no detail */
    r = request("GET", "/.well-known/oauth-protected-resource", NULL, NULL);
    d = route_f(e, r, 0, &detail);
    ck_assert_int_eq(status(d), 200);
    ck_assert_ptr_null(json_object_get(d, "code"));
    ck_assert_ptr_null(detail);
    json_decref(d);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- the body rule ---------------------------------------------------------------------- */

START_TEST(need_body_only_for_method_scopes) {
    mcpauth_engine *e = engine(SCOPES);
    char *tok = token("mcp:read");
    /* a POST to the MCP endpoint: the method decides, the body is needed */
    char *r = request("POST", "/mcp", tok, NULL);
    json_t *d = route(e, r);
    ck_assert_str_eq(action(d), "need_body");
    ck_assert_int_eq(json_integer_value(json_object_get(d, "maxBytes")), 1 << 20);
    json_decref(d);
    free(r);
    /* even without credentials (the challenge names the message's scopes) */
    r = request("POST", "/mcp", NULL, NULL);
    d = route(e, r);
    ck_assert_str_eq(action(d), "need_body");
    json_decref(d);
    free(r);
    /* requests without a JSON-RPC message: base scopes only, no body */
    const char *nomsg[] = {"GET", "DELETE", "HEAD"};
    for (size_t i = 0; i < 3; i++) {
        r = request(nomsg[i], "/mcp", tok, NULL);
        d = route(e, r);
        ck_assert_msg(passes(d), "%s", nomsg[i]);
        json_decref(d);
        free(r);
    }
    r = request("GET", "/mcp", NULL, NULL);
    d = route(e, r);
    ck_assert_str_eq(header(d, "WWW-Authenticate"),
                     "Bearer resource_metadata=\"" PRM "\", scope=\"mcp:read\"");
    json_decref(d);
    free(r);
    /* the path scope still applies to a GET */
    r = request("GET", "/mcp/admin", tok, NULL);
    d = route(e, r);
    ck_assert_int_eq(status(d), 403);
    ck_assert_ptr_nonnull(strstr(header(d, "WWW-Authenticate"), "scope=\"mcp:read admin\""));
    json_decref(d);
    free(r);
    /* with the body: the message's method */
    r = request("POST", "/mcp", tok,
                "{\"body\":\"{\\\"jsonrpc\\\":\\\"2.0\\\",\\\"id\\\":1,\\\"method\\\":"
                "\\\"tools/call\\\"}\"}");
    d = route(e, r);
    ck_assert_int_eq(status(d), 403);
    ck_assert_ptr_nonnull(strstr(header(d, "WWW-Authenticate"), "scope=\"mcp:read tools:call\""));
    json_decref(d);
    free(r);
    r = request("POST", "/mcp", tok, "{\"body\":\"{\\\"method\\\":\\\"tools/list\\\"}\"}");
    d = route(e, r);
    ck_assert(passes(d));
    json_decref(d);
    free(r);
    /* an empty body carries no message */
    r = request("POST", "/mcp", tok, "{\"body\":\"\"}");
    d = route(e, r);
    ck_assert(passes(d));
    json_decref(d);
    free(r);
    /* a body that could not be read (truncated, unparsable): every method scope applies */
    const char *unread[] = {"{\"bodyTruncated\":true}", "{\"body\":\"{not json\"}",
                            "{\"body\":\"{\\\"method\\\":\\\"ping\\\"}\",\"bodyTruncated\":true}"};
    for (size_t i = 0; i < 3; i++) {
        r = request("POST", "/mcp", tok, unread[i]);
        d = route(e, r);
        ck_assert_int_eq(status(d), 403);
        ck_assert_ptr_nonnull(
            strstr(header(d, "WWW-Authenticate"), "scope=\"mcp:read tools:call res:read\""));
        json_decref(d);
        free(r);
    }
    /* mcpMethod is not read by mcpauth_route: the body decides */
    r = request("POST", "/mcp", tok,
                "{\"mcpMethod\":\"ping\",\"body\":\"{\\\"method\\\":\\\"tools/call\\\"}\"}");
    d = route(e, r);
    ck_assert_int_eq(status(d), 403);
    json_decref(d);
    free(r);
    free(tok);
    tok = token("mcp:read tools:call res:read");
    r = request("POST", "/mcp", tok, "{\"bodyTruncated\":true}");
    d = route(e, r);
    ck_assert(passes(d));
    json_decref(d);
    free(r);
    free(tok);
    mcpauth_engine_free(e);

    /* without method-keyed scopes the body is never asked for */
    e = engine("\"requiredScopes\":[\"mcp:read\"],\"routeScopes\":{\"/mcp/admin\":\"admin\"}");
    tok = token("mcp:read");
    r = request("POST", "/mcp", tok, NULL);
    d = route(e, r);
    ck_assert(passes(d));
    json_decref(d);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* mcpauth_handle_request follows the same rule: mcpMethod null on a request without a
 * message needs the base scopes only; on a POST every method scope applies. */
START_TEST(handle_request_no_message_rule) {
    mcpauth_engine *e = engine(SCOPES);
    char *tok = token("mcp:read");
    const char *cases[][2] = {{"GET", "pass"}, {"DELETE", "pass"}, {"POST", "respond"}};
    for (size_t i = 0; i < 3; i++) {
        char *r = request(cases[i][0], "/mcp", tok, "{\"mcpMethod\":null}");
        char *out = NULL;
        ck_assert_int_eq(mcpauth_handle_request(e, r, strlen(r), 0, &out), MCPAUTH_OK);
        json_t *d = json_loads(out, 0, NULL);
        ck_assert_msg(strcmp(action(d), cases[i][1]) == 0, "%s: %s", cases[i][0], out);
        json_decref(d);
        mcpauth_free(out);
        free(r);
    }
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- host verification ------------------------------------------------------------------ */

START_TEST(host_verify_flow) {
    mcpauth_engine *e = host_engine("\"requiredScopes\":[\"mcp:read\"]");
    const char *tok = "opaque-token.value_1";
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    json_t *d = route(e, r);
    ck_assert_str_eq(action(d), "host_verify");
    ck_assert_str_eq(json_string_value(json_object_get(d, "token")), tok);
    json_decref(d);
    /* the host's claims pass the checks: pass without accessToken */
    char *c = claims_json(ISS, RES, T0 + 600, "mcp:read");
    char result[2048];
    snprintf(result, sizeof result, "{\"claims\":%s}", c);
    char *detail = (char *)"sentinel";
    d = complete_f(e, r, result, 0, &detail);
    ck_assert(passes(d));
    ck_assert_ptr_null(detail);
    json_t *auth = json_object_get(d, "auth");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(auth, "user"), "userId")),
                     "user-1");
    ck_assert_ptr_null(json_object_get(auth, "accessToken"));
    json_decref(d);
    d = complete_f(e, r, result, MCPAUTH_ROUTE_WITH_TOKEN, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(d, "auth"), "accessToken")),
                     tok);
    json_decref(d);
    /* the host's own user mapping replaces the provider's */
    snprintf(result, sizeof result, "{\"claims\":%s,\"user\":{\"userId\":\"h-1\",\"x\":1}}", c);
    d = complete_f(e, r, result, 0, NULL);
    ck_assert(passes(d));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_object_get(d, "auth"), "user"), "userId")),
                     "h-1");
    json_decref(d);
    free(c);
    /* insufficient scope */
    c = claims_json(ISS, RES, T0 + 600, "other");
    snprintf(result, sizeof result, "{\"claims\":%s}", c);
    d = complete_f(e, r, result, 0, NULL);
    ck_assert_int_eq(status(d), 403);
    ck_assert_int_eq(code(d), MCPAUTH_E_INSUFFICIENT_SCOPE);
    json_decref(d);
    free(c);
    /* the host refused: 401 invalid_token, the default code is TOKEN_INACTIVE */
    d = complete_f(e, r, "{\"error\":\"revoked\",\"detail\":\"token revoked at 12:00\"}", 0,
                   &detail);
    ck_assert_int_eq(status(d), 401);
    ck_assert_int_eq(code(d), MCPAUTH_E_TOKEN_INACTIVE);
    ck_assert_ptr_nonnull(strstr(header(d, "WWW-Authenticate"), "error=\"invalid_token\""));
    ck_assert_ptr_nonnull(strstr(detail, "token revoked at 12:00"));
    mcpauth_free(detail);
    json_decref(d);
    d = complete_f(e, r, "{\"error\":\"expired\",\"code\":17}", 0, NULL);
    ck_assert_int_eq(code(d), MCPAUTH_E_EXPIRED);
    json_decref(d);
    d = complete_f(e, r, "{\"error\":\"jwks down\",\"code\":41}", 0, NULL);
    ck_assert_int_eq(status(d), 503);
    json_decref(d);
    free(r);
    /* no credentials: answered by mcpauth_route itself, no host_verify */
    r = request("POST", "/mcp", NULL, "{\"body\":\"{}\"}");
    d = route(e, r);
    ck_assert_int_eq(status(d), 401);
    json_decref(d);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

/* The defect of issue 11: a host verifier returning a foreign aud, a foreign iss and exp 1
 * was accepted. Each check on its own, and all together. */
START_TEST(host_claims_are_checked) {
    mcpauth_engine *e = host_engine("");
    char *r = request("POST", "/mcp", "tok", "{\"body\":\"{}\"}");
    struct {
        const char *iss, *aud;
        int64_t exp;
        int code;
    } cases[] = {
        {"https://evil.example.com", "https://other.example.com/mcp", 1, MCPAUTH_E_EXPIRED},
        {ISS, RES, 1, MCPAUTH_E_EXPIRED},
        {"https://evil.example.com", RES, T0 + 600, MCPAUTH_E_ISSUER_MISMATCH},
        {ISS, "https://other.example.com/mcp", T0 + 600, MCPAUTH_E_AUDIENCE_MISMATCH},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *c = claims_json(cases[i].iss, cases[i].aud, cases[i].exp, NULL);
        char result[2048];
        snprintf(result, sizeof result, "{\"claims\":%s}", c);
        free(c);
        char *detail = NULL;
        json_t *d = complete_f(e, r, result, 0, &detail);
        ck_assert_msg(strcmp(action(d), "respond") == 0, "case %zu passed", i);
        ck_assert_int_eq(status(d), 401);
        ck_assert_int_eq(code(d), cases[i].code);
        ck_assert_ptr_nonnull(detail);
        mcpauth_free(detail);
        json_decref(d);
    }
    /* nbf in the future, beyond the leeway */
    char result[2048];
    snprintf(result, sizeof result,
             "{\"claims\":{\"iss\":\"" ISS "\",\"aud\":\"" RES
             "\",\"sub\":\"u\",\"exp\":%lld,\"nbf\":%lld}}",
             (long long)(T0 + 600), (long long)(T0 + 300));
    json_t *d = complete_f(e, r, result, 0, NULL);
    ck_assert_int_eq(code(d), MCPAUTH_E_NOT_YET_VALID);
    json_decref(d);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

/* The host's refusal and the router's own verification render the same challenge. */
START_TEST(host_challenge_matches_router) {
    mcpauth_engine *own = engine("\"requiredScopes\":[\"mcp:read\"]");
    mcpauth_engine *host = host_engine("\"requiredScopes\":[\"mcp:read\"]");
    char *tok = token_ex(ISS, RES, T0 - 3600, "mcp:read");
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    json_t *a = route(own, r);
    char *c = claims_json(ISS, RES, T0 - 3600, "mcp:read");
    char result[2048];
    snprintf(result, sizeof result, "{\"claims\":%s}", c);
    json_t *b = complete_f(host, r, result, 0, NULL);
    ck_assert_int_eq(status(a), 401);
    ck_assert(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    free(c);
    free(r);
    free(tok);
    mcpauth_engine_free(own);
    mcpauth_engine_free(host);
}
END_TEST

/* route_complete on an engine that verifies itself: the host's claims are ignored. */
START_TEST(complete_on_own_engine_ignores_claims) {
    mcpauth_engine *e = engine("");
    char *tok = token_ex(ISS, RES, T0 - 3600, NULL);
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    char *c = claims_json(ISS, RES, T0 + 600, NULL);
    char result[2048];
    snprintf(result, sizeof result, "{\"claims\":%s}", c);
    json_t *d = complete_f(e, r, result, 0, NULL);
    ck_assert_int_eq(code(d), MCPAUTH_E_EXPIRED);
    json_decref(d);
    free(c);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- the OAuth proxy's forms ------------------------------------------------------------ */

START_TEST(proxy_forms_need_body) {
    mcpauth_engine *e = engine_json(
        "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://idp.example.com/jwks\","
        "\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"authEndpoint\":\"https://"
        "idp.example.com/authorize\",\"tokenEndpoint\":\"https://idp.example.com/token\","
        "\"clientId\":\"c\",\"clientSecret\":\"s\",\"sealingSecret\":\"proxy-test-sealing-"
        "secret-0123456789-abcdefghij\"}}");
    const char *forms[] = {"/register", "/token", "/authorize"};
    for (size_t i = 0; i < 3; i++) {
        char *r = request("POST", forms[i], NULL, NULL);
        json_t *d = route(e, r);
        ck_assert_msg(strcmp(action(d), "need_body") == 0, "%s", forms[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(d, "maxBytes")), 65536);
        json_decref(d);
        free(r);
        r = request("POST", forms[i], NULL, "{\"bodyTruncated\":true}");
        d = route(e, r);
        ck_assert_int_eq(status(d), 413);
        json_decref(d);
        free(r);
    }
    /* the proxy answers once it has the body */
    char *r = request("POST", "/token", NULL,
                      "{\"headers\":{\"content-type\":\"application/x-www-form-urlencoded\"},"
                      "\"body\":\"grant_type=nope\"}");
    json_t *d = route(e, r);
    ck_assert_str_eq(action(d), "respond");
    ck_assert_int_eq(status(d), 400);
    json_decref(d);
    free(r);
    /* GET /authorize reads no body */
    r = request("GET", "/authorize", NULL, NULL);
    d = route(e, r);
    ck_assert_str_eq(action(d), "respond");
    json_decref(d);
    free(r);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- non-blocking ----------------------------------------------------------------------- */

START_TEST(nonblock_would_block) {
    mcpauth_engine *e = engine_json("{\"issuer\":\"" ISS "\",\"jwksUrl\":\"http://127.0.0.1:1/"
                                    "jwks\",\"baseUrl\":\"https://mcp.example.com\"}");
    char *tok = token(NULL);
    char *r = request("POST", "/mcp", tok, "{\"body\":\"{}\"}");
    char *out = (char *)"x", *detail = NULL;
    ck_assert_int_eq(mcpauth_route(e, r, strlen(r), MCPAUTH_ROUTE_NONBLOCK, &out, &detail),
                     MCPAUTH_E_WOULD_BLOCK);
    ck_assert_ptr_null(out);
    mcpauth_free(detail);
    free(r);
    free(tok);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- arguments -------------------------------------------------------------------------- */

START_TEST(invalid_arguments) {
    mcpauth_engine *e = host_engine("");
    const char *good = "{\"method\":\"POST\",\"path\":\"/mcp\"}";
    char *out = (char *)"x", *detail = NULL;
    ck_assert_int_eq(mcpauth_route(NULL, good, strlen(good), 0, &out, &detail),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(detail);
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_route(e, good, strlen(good), 0, NULL, NULL),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcpauth_route(e, good, strlen(good), 0x80, &out, NULL),
                     MCPAUTH_E_INVALID_ARGUMENT);
    const char *bad_req[] = {
        "{\"method\":\"POST\",\"path\":\"/mcp\",\"bodyTruncated\":1}",
        "{\"method\":\"POST\",\"path\":\"/mcp\",\"peer\":5}",
        "{\"method\":\"POST\",\"path\":\"/mcp\",\"body\":5}",
        "{\"method\":\"POST\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof bad_req / sizeof bad_req[0]; i++) {
        out = (char *)"x";
        ck_assert_int_eq(mcpauth_route(e, bad_req[i], strlen(bad_req[i]), 0, &out, NULL),
                         MCPAUTH_E_INVALID_ARGUMENT);
        ck_assert_ptr_null(out);
    }
    const char *peer_ok = "{\"method\":\"GET\",\"path\":\"/x\",\"peer\":\"192.0.2.7\"}";
    ck_assert_int_eq(mcpauth_route(e, peer_ok, strlen(peer_ok), 0, &out, NULL), MCPAUTH_OK);
    mcpauth_free(out);
    const char *req = "{\"method\":\"POST\",\"path\":\"/mcp\",\"headers\":{\"authorization\":"
                      "\"Bearer t\"},\"body\":\"\"}";
    const char *bad_res[] = {
        "",
        "[]",
        "{}",
        "{\"claims\":1}",
        "{\"claims\":{},\"error\":\"x\"}",
        "{\"claims\":{},\"user\":[]}",
        "{\"error\":1}",
        "{\"error\":\"x\",\"user\":{}}",
        "{\"error\":\"x\",\"code\":0}",
        "{\"error\":\"x\",\"code\":3}",
        "{\"error\":\"x\",\"code\":10}",
        "{\"error\":\"x\",\"code\":\"17\"}",
        "{\"claims\":{},\"extra\":1}",
        "{\"claims\":{},\"claims\":{}}",
    };
    for (size_t i = 0; i < sizeof bad_res / sizeof bad_res[0]; i++) {
        out = (char *)"x";
        detail = NULL;
        ck_assert_msg(mcpauth_route_complete(e, req, strlen(req), bad_res[i], strlen(bad_res[i]), 0,
                                             &out, &detail) == MCPAUTH_E_INVALID_ARGUMENT,
                      "%s", bad_res[i]);
        ck_assert_ptr_null(out);
        ck_assert_ptr_nonnull(detail);
        mcpauth_free(detail);
    }
    mcpauth_engine_free(e);
}
END_TEST

/* Protected resource metadata lists the configured scopes and every scope the server asks for
 * (issue 11: with scopesSupported or a preset's list, requiredScopes were left out). */
START_TEST(prm_lists_required_scopes) {
    mcpauth_engine *e = engine("\"scopesSupported\":[\"openid\",\"profile\"],"
                               "\"requiredScopes\":[\"mcp:read\"],\"routeScopes\":{\"tools/call\":"
                               "\"tools:call\"}");
    char *doc = NULL;
    ck_assert_int_eq(mcpauth_protected_resource_metadata(e, &doc), MCPAUTH_OK);
    json_t *d = json_loads(doc, 0, NULL);
    char *list = json_dumps(json_object_get(d, "scopes_supported"), JSON_COMPACT);
    ck_assert_str_eq(list, "[\"openid\",\"profile\",\"mcp:read\",\"tools:call\"]");
    free(list);
    json_decref(d);
    mcpauth_free(doc);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- threads ---------------------------------------------------------------------------- */

typedef struct route_worker {
    mcpauth_engine *e;
    char *reqs[4]; /* [0..1] pass, [2] 403, [3] expired */
    int bad;
} route_worker;

static void *route_run(void *arg) {
    route_worker *w = arg;
    for (int i = 0; i < 400 && !w->bad; i++) {
        const char *r = w->reqs[i % 4];
        char *out = NULL;
        if (mcpauth_route(w->e, r, strlen(r), 0, &out, NULL) != MCPAUTH_OK) {
            w->bad = 1;
            break;
        }
        int pass = strncmp(out, "{\"action\":\"pass\",\"auth\":{", 25) == 0;
        if (pass != (i % 4 < 2)) w->bad = 1;
        mcpauth_free(out);
    }
    return NULL;
}

/* Several threads route the same tokens through the cache (hits, puts, refusals) at once. */
START_TEST(route_many_threads) {
    mcpauth_engine *e = engine(SCOPES);
    char *t1 = token("mcp:read"), *t2 = token("mcp:read tools:call"), *t3 = token("other");
    char *t4 = token_ex(ISS, RES, T0 - 3600, "mcp:read");
    route_worker w[4];
    pthread_t th[4];
    const char *body = "{\"body\":\"{\\\"method\\\":\\\"tools/call\\\"}\"}";
    for (int t = 0; t < 4; t++) {
        w[t].e = e;
        w[t].bad = 0;
        w[t].reqs[0] = request("GET", "/mcp", t1, NULL);
        w[t].reqs[1] = request("POST", "/mcp", t2, body);
        w[t].reqs[2] = request("POST", "/mcp", t1, body);
        w[t].reqs[3] = request("GET", "/mcp", t4, NULL);
        ck_assert_int_eq(pthread_create(&th[t], NULL, route_run, &w[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_msg(!w[t].bad, "thread %d got a wrong decision", t);
        for (int i = 0; i < 4; i++) free(w[t].reqs[i]);
    }
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- constants -------------------------------------------------------------------------- */

START_TEST(constants_json) {
    char *s = NULL;
    ck_assert_int_eq(mcpauth_constants(NULL), MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_int_eq(mcpauth_constants(&s), MCPAUTH_OK);
    json_error_t je;
    json_t *c = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(json_string_value(json_object_get(c, "version")), MCPAUTH_VERSION_STR);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "versionNum")), MCPAUTH_VERSION_NUM);
    json_t *codes = json_object_get(c, "codes");
    ck_assert_int_eq(json_object_size(codes), 24);
    const char *name;
    json_t *v;
    json_object_foreach(codes, name, v) {
        ck_assert_str_eq(mcpauth_code_name((int)json_integer_value(v)), name);
    }
    ck_assert_int_eq(json_integer_value(json_object_get(codes, "MCPAUTH_E_TOKEN_IN_QUERY")), 43);
    /* every code has a class; the class follows the OAuth error where there is one */
    json_t *classes = json_object_get(c, "classes");
    ck_assert_int_eq(json_object_size(classes), 24);
    json_object_foreach(codes, name, v) {
        const char *cls = json_string_value(json_object_get(classes, name));
        ck_assert_msg(cls != NULL, "%s has no class", name);
        const char *oauth = mcpauth_oauth_error((int)json_integer_value(v));
        if (oauth && strcmp(oauth, "invalid_token") == 0) ck_assert_str_eq(cls, "token");
        if (oauth && strcmp(oauth, "invalid_request") == 0) ck_assert_str_eq(cls, "request");
        if (oauth && strcmp(oauth, "insufficient_scope") == 0) ck_assert_str_eq(cls, "scope");
    }
    ck_assert_str_eq(json_string_value(json_object_get(classes, "MCPAUTH_E_TOKEN_MISSING")),
                     "token");
    ck_assert_str_eq(json_string_value(json_object_get(classes, "MCPAUTH_E_CONFIG")), "config");
    ck_assert_str_eq(json_string_value(json_object_get(classes, "MCPAUTH_E_KEYS_UNAVAILABLE")),
                     "unavailable");
    ck_assert_str_eq(json_string_value(json_object_get(classes, "MCPAUTH_E_UPSTREAM")), "upstream");
    ck_assert_str_eq(json_string_value(json_object_get(classes, "MCPAUTH_E_NOMEM")), "internal");
    json_t *flags = json_object_get(c, "flags");
    ck_assert_int_eq(json_integer_value(json_object_get(flags, "MCPAUTH_ROUTE_WITH_TOKEN")),
                     MCPAUTH_ROUTE_WITH_TOKEN);
    ck_assert_int_eq(json_integer_value(json_object_get(flags, "MCPAUTH_ROUTE_NONBLOCK")),
                     MCPAUTH_REQUEST_NONBLOCK);
    ck_assert_int_eq(json_integer_value(json_object_get(flags, "MCPAUTH_VERIFY_NO_CACHE")),
                     MCPAUTH_VERIFY_NO_CACHE);
    ck_assert_int_eq(json_integer_value(json_object_get(flags, "MCPAUTH_ENGINE_SIGNATURE_ONLY")),
                     MCPAUTH_ENGINE_SIGNATURE_ONLY);
    ck_assert_int_eq(json_object_size(flags), 9);
    json_decref(c);
    mcpauth_free(s);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("route");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pass_without_token_unless_asked);
    tcase_add_test(tc, failures_carry_code_and_detail);
    tcase_add_test(tc, need_body_only_for_method_scopes);
    tcase_add_test(tc, handle_request_no_message_rule);
    tcase_add_test(tc, host_verify_flow);
    tcase_add_test(tc, host_claims_are_checked);
    tcase_add_test(tc, host_challenge_matches_router);
    tcase_add_test(tc, complete_on_own_engine_ignores_claims);
    tcase_add_test(tc, proxy_forms_need_body);
    tcase_add_test(tc, nonblock_would_block);
    tcase_add_test(tc, invalid_arguments);
    tcase_add_test(tc, prm_lists_required_scopes);
    tcase_add_test(tc, route_many_threads);
    tcase_add_test(tc, constants_json);
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
