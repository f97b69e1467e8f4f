/* check_claims.c - registered claim validation: time claims with leeway boundaries, exact
 * issuer, audience and resource binding, claim types, typ policy. */
#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify/claims.h"
#include "config/config.h"

#define NOW 1700000000LL

static mcp_config *cfg_new(void) {
    mcp_config *c = calloc(1, sizeof *c);
    ck_assert_ptr_nonnull(c);
    c->leeway = 60;
    c->max_iat_future = 60;
    c->require_exp = 1;
    c->typ_policy = MCP_TYP_ABSENT | MCP_TYP_JWT | MCP_TYP_AT_JWT;
    c->bind_resource = 1;
    return c;
}

static void cfg_free(mcp_config *c) {
    free(c->issuer);
    free(c->resource);
    mcp_strv_free(c->audience);
    free(c);
}

static void set_audience(mcp_config *c, const char *a, const char *b) {
    c->audience = calloc(3, sizeof(char *));
    c->audience[0] = strdup(a);
    if (b) c->audience[1] = strdup(b);
}

/* Runs the check on a JSON text; returns the code. */
static int run(mcp_config *c, const char *json, int64_t now, int64_t *exp_out) {
    json_error_t je;
    json_t *p = json_loads(json, 0, &je);
    ck_assert_msg(p != NULL, "bad test JSON: %s", json);
    mcp_err err = {0, {0}};
    int64_t exp = -1, nbf = -1;
    int rc = mcp_claims_check(c, p, now, &exp, &nbf, &err);
    if (rc != MCPAUTH_OK) ck_assert_int_eq(err.code, rc);
    if (exp_out) *exp_out = exp;
    json_decref(p);
    return rc;
}

static char buf[512];
static const char *fmt_exp(long long exp) {
    snprintf(buf, sizeof buf, "{\"exp\":%lld}", exp);
    return buf;
}

START_TEST(exp_leeway_boundaries) {
    mcp_config *c = cfg_new();
    ck_assert_int_eq(run(c, fmt_exp(NOW - 61), NOW, NULL), MCPAUTH_E_EXPIRED);
    ck_assert_int_eq(run(c, fmt_exp(NOW - 60), NOW, NULL), MCPAUTH_E_EXPIRED);
    ck_assert_int_eq(run(c, fmt_exp(NOW - 59), NOW, NULL), MCPAUTH_OK);
    ck_assert_int_eq(run(c, fmt_exp(NOW + 3600), NOW, NULL), MCPAUTH_OK);
    c->leeway = 0;
    ck_assert_int_eq(run(c, fmt_exp(NOW), NOW, NULL), MCPAUTH_E_EXPIRED);
    ck_assert_int_eq(run(c, fmt_exp(NOW + 1), NOW, NULL), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

START_TEST(exp_required_by_default) {
    mcp_config *c = cfg_new();
    int64_t exp = 0;
    ck_assert_int_eq(run(c, "{\"sub\":\"a\"}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    c->require_exp = 0;
    ck_assert_int_eq(run(c, "{\"sub\":\"a\"}", NOW, &exp), MCPAUTH_OK);
    ck_assert(exp == INT64_MAX);
    ck_assert_int_eq(run(c, fmt_exp(NOW + 10), NOW, &exp), MCPAUTH_OK);
    ck_assert(exp == NOW + 10);
    cfg_free(c);
}
END_TEST

START_TEST(nbf_leeway_boundaries) {
    mcp_config *c = cfg_new();
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 600, NOW + 60);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 600, NOW + 61);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_NOT_YET_VALID);
    c->leeway = 0;
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 600, NOW);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"nbf\":%lld}", NOW + 600, NOW + 1);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_NOT_YET_VALID);
    cfg_free(c);
}
END_TEST

START_TEST(iat_future_refused) {
    mcp_config *c = cfg_new();
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iat\":%lld}", NOW + 600, NOW + 60);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iat\":%lld}", NOW + 600, NOW + 61);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_NOT_YET_VALID);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iat\":%lld}", NOW + 600, NOW - 86400);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

START_TEST(time_claim_types) {
    mcp_config *c = cfg_new();
    /* strings, booleans, negatives, NaN-like huge reals: refused as CLAIM_INVALID */
    snprintf(buf, sizeof buf, "{\"exp\":\"%lld\"}", NOW + 600);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":true}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":null}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":-5}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":-0.5}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":1e300}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    ck_assert_int_eq(run(c, "{\"exp\":9.3e18}", NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"nbf\":\"0\"}", NOW + 600);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iat\":[1]}", NOW + 600);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    /* a real exp is accepted (truncated) */
    int64_t exp = 0;
    snprintf(buf, sizeof buf, "{\"exp\":%lld.75}", NOW + 600);
    ck_assert_int_eq(run(c, buf, NOW, &exp), MCPAUTH_OK);
    ck_assert(exp == NOW + 600);
    snprintf(buf, sizeof buf, "{\"exp\":%lld.5}", NOW - 60);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_EXPIRED);
    cfg_free(c);
}
END_TEST

START_TEST(huge_values_no_overflow) {
    mcp_config *c = cfg_new();
    int64_t exp = 0;
    ck_assert_int_eq(run(c, "{\"exp\":9223372036854775807}", NOW, &exp), MCPAUTH_OK);
    ck_assert(exp == INT64_MAX);
    ck_assert_int_eq(run(c, "{\"exp\":9223372036854775807,\"nbf\":9223372036854775807}", NOW, NULL),
                     MCPAUTH_E_NOT_YET_VALID);
    ck_assert_int_eq(run(c, "{\"exp\":9223372036854775807,\"iat\":9223372036854775807}", NOW, NULL),
                     MCPAUTH_E_NOT_YET_VALID);
    ck_assert_int_eq(run(c, "{\"exp\":0}", NOW, NULL), MCPAUTH_E_EXPIRED);
    /* exp just past 2^63 does not even parse as an integer: jansson refuses it */
    json_error_t je;
    ck_assert_ptr_null(json_loads("{\"exp\":9223372036854775808}", 0, &je));
    /* clock near the end of time and at zero */
    ck_assert_int_eq(run(c, "{\"exp\":9223372036854775807}", INT64_MAX - 1, NULL), MCPAUTH_OK);
    ck_assert_int_eq(run(c, "{\"exp\":10,\"nbf\":0}", 0, NULL), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

START_TEST(issuer_exact) {
    mcp_config *c = cfg_new();
    c->issuer = strdup("https://issuer.example");
    const long long e = NOW + 600;
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iss\":\"https://issuer.example\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    const char *bad[] = {"https://issuer.example/", "https://issuer.example.evil",
                         "https://issuer.exampl",   "https://ISSUER.example",
                         "https://issuer",          " https://issuer.example",
                         "http://issuer.example",   ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iss\":\"%s\"}", e, bad[i]);
        ck_assert_msg(run(c, buf, NOW, NULL) == MCPAUTH_E_ISSUER_MISMATCH, "iss %s", bad[i]);
    }
    snprintf(buf, sizeof buf, "{\"exp\":%lld}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_ISSUER_MISMATCH);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iss\":[\"https://issuer.example\"]}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_ISSUER_MISMATCH);
    /* configured issuer with trailing slash (Auth0 style) requires the slash */
    free(c->issuer);
    c->issuer = strdup("https://tenant.auth0.com/");
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iss\":\"https://tenant.auth0.com\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_ISSUER_MISMATCH);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"iss\":\"https://tenant.auth0.com/\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

START_TEST(audience_string_array_types) {
    mcp_config *c = cfg_new();
    set_audience(c, "api://one", "api://two");
    const long long e = NOW + 600;
    const struct {
        const char *aud;
        int rc;
    } cases[] = {
        {"\"api://one\"", MCPAUTH_OK},
        {"\"api://two\"", MCPAUTH_OK},
        {"[\"x\",\"api://two\"]", MCPAUTH_OK},
        {"\"api://three\"", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"\"api://one/\"", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"[]", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"[\"api://one\",5]", MCPAUTH_E_CLAIM_INVALID},
        {"[null]", MCPAUTH_E_CLAIM_INVALID},
        {"{\"a\":\"api://one\"}", MCPAUTH_E_CLAIM_INVALID},
        {"7", MCPAUTH_E_CLAIM_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":%s}", e, cases[i].aud);
        ck_assert_msg(run(c, buf, NOW, NULL) == cases[i].rc, "aud %s", cases[i].aud);
    }
    snprintf(buf, sizeof buf, "{\"exp\":%lld}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    /* without a configured audience, aud is only type-checked */
    mcp_strv_free(c->audience);
    c->audience = NULL;
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":\"anything\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":[1]}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_CLAIM_INVALID);
    cfg_free(c);
}
END_TEST

START_TEST(resource_binding) {
    mcp_config *c = cfg_new();
    c->resource = strdup("https://mcp.example.com/mcp");
    const long long e = NOW + 600;
    const struct {
        const char *extra;
        int rc;
    } cases[] = {
        {"\"aud\":\"https://mcp.example.com/mcp\"", MCPAUTH_OK},
        {"\"aud\":[\"other\",\"https://mcp.example.com/mcp\"]", MCPAUTH_OK},
        {"\"aud\":\"https://mcp.example.com/mcp/\"", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"\"aud\":\"https://mcp.example.com\"", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"\"aud\":\"https://other.example.com/mcp\"", MCPAUTH_E_AUDIENCE_MISMATCH},
        {"\"sub\":\"u\"", MCPAUTH_E_AUDIENCE_MISMATCH}, /* no aud, no resource */
        {"\"aud\":\"x\",\"resource\":\"https://mcp.example.com/mcp\"", MCPAUTH_OK},
        {"\"aud\":\"https://mcp.example.com/mcp\",\"resource\":\"https://evil.example/mcp\"",
         MCPAUTH_E_AUDIENCE_MISMATCH},
        {"\"aud\":\"https://mcp.example.com/mcp\",\"resource\":5", MCPAUTH_E_CLAIM_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "{\"exp\":%lld,%s}", e, cases[i].extra);
        ck_assert_msg(run(c, buf, NOW, NULL) == cases[i].rc, "case %s", cases[i].extra);
    }
    /* a configured audience that matched binds the token (v2 semantics) */
    set_audience(c, "authenticated", NULL);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":\"authenticated\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":\"https://mcp.example.com/mcp\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    /* issuer-bound presets (Clerk) do not require the binding */
    mcp_strv_free(c->audience);
    c->audience = NULL;
    c->bind_resource = 0;
    snprintf(buf, sizeof buf, "{\"exp\":%lld,\"aud\":\"https://other.example.com/mcp\"}", e);
    ck_assert_int_eq(run(c, buf, NOW, NULL), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

/* The binding rule on its own, for a resource given by the caller (the router's Host-derived
 * resource): same outcomes as resource_binding, no configured resource needed. */
static int bound(mcp_config *c, const char *json, const char *resource) {
    json_error_t je;
    json_t *p = json_loads(json, 0, &je);
    ck_assert_ptr_nonnull(p);
    mcp_err err = {0, {0}};
    int rc = mcp_claims_check_resource(c, p, resource, &err);
    if (rc != MCPAUTH_OK) ck_assert_int_eq(err.code, rc);
    json_decref(p);
    return rc;
}

START_TEST(resource_binding_for_given_resource) {
    const char *r = "https://h.example/mcp";
    mcp_config *c = cfg_new();
    ck_assert_int_eq(bound(c, "{\"aud\":\"https://h.example/mcp\"}", r), MCPAUTH_OK);
    ck_assert_int_eq(bound(c, "{\"aud\":[\"a\",\"https://h.example/mcp\"]}", r), MCPAUTH_OK);
    ck_assert_int_eq(bound(c, "{\"aud\":\"https://other.example/mcp\"}", r),
                     MCPAUTH_E_AUDIENCE_MISMATCH);
    ck_assert_int_eq(bound(c, "{}", r), MCPAUTH_E_AUDIENCE_MISMATCH);
    ck_assert_int_eq(bound(c, "{\"aud\":\"x\",\"resource\":\"https://h.example/mcp\"}", r),
                     MCPAUTH_OK);
    ck_assert_int_eq(bound(c, "{\"aud\":\"https://h.example/mcp\",\"resource\":\"y\"}", r),
                     MCPAUTH_E_AUDIENCE_MISMATCH);
    ck_assert_int_eq(bound(c, "{\"aud\":\"https://h.example/mcp\"}", NULL),
                     MCPAUTH_E_AUDIENCE_MISMATCH);
    set_audience(c, "api://a", NULL);
    ck_assert_int_eq(bound(c, "{\"aud\":\"api://a\"}", r), MCPAUTH_OK);
    c->bind_resource = 0;
    ck_assert_int_eq(bound(c, "{\"aud\":\"https://other.example/mcp\"}", r), MCPAUTH_OK);
    cfg_free(c);
}
END_TEST

START_TEST(claim_types) {
    mcp_config *c = cfg_new();
    const long long e = NOW + 600;
    const struct {
        const char *extra;
        int rc;
    } cases[] = {
        {"\"sub\":\"u1\"", MCPAUTH_OK},
        {"\"sub\":5", MCPAUTH_E_CLAIM_INVALID},
        {"\"sub\":null", MCPAUTH_E_CLAIM_INVALID},
        {"\"scope\":\"a b\"", MCPAUTH_OK},
        {"\"scope\":[\"a\",\"b\"]", MCPAUTH_OK},
        {"\"scope\":[\"a\",1]", MCPAUTH_E_CLAIM_INVALID},
        {"\"scope\":{}", MCPAUTH_E_CLAIM_INVALID},
        {"\"scp\":[\"a\"]", MCPAUTH_OK},
        {"\"scp\":\"a\"", MCPAUTH_OK},
        {"\"scp\":false", MCPAUTH_E_CLAIM_INVALID},
        {"\"client_id\":\"c\"", MCPAUTH_OK},
        {"\"client_id\":[\"c\"]", MCPAUTH_E_CLAIM_INVALID},
        {"\"azp\":1", MCPAUTH_E_CLAIM_INVALID},
        {"\"iss\":1", MCPAUTH_E_CLAIM_INVALID}, /* no issuer configured: type only */
        {"\"resource\":[\"x\"]", MCPAUTH_E_CLAIM_INVALID},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "{\"exp\":%lld,%s}", e, cases[i].extra);
        ck_assert_msg(run(c, buf, NOW, NULL) == cases[i].rc, "case %s", cases[i].extra);
    }
    /* not an object */
    json_t *arr = json_array();
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_claims_check(c, arr, NOW, NULL, NULL, &err), MCPAUTH_E_CLAIM_INVALID);
    json_decref(arr);
    cfg_free(c);
}
END_TEST

START_TEST(typ_policy) {
    mcp_config *c = cfg_new();
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_typ_check(c, NULL, &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "JWT", &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "jwt", &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "at+jwt", &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "application/at+JWT", &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "JOSE", &err), MCPAUTH_E_TOKEN_HEADER);
    ck_assert_int_eq(mcp_typ_check(c, "logout+jwt", &err), MCPAUTH_E_TOKEN_HEADER);
    ck_assert_int_eq(mcp_typ_check(c, "", &err), MCPAUTH_E_TOKEN_HEADER);
    c->typ_policy = MCP_TYP_AT_JWT;
    ck_assert_int_eq(mcp_typ_check(c, "at+jwt", &err), MCPAUTH_OK);
    ck_assert_int_eq(mcp_typ_check(c, "JWT", &err), MCPAUTH_E_TOKEN_HEADER);
    ck_assert_int_eq(mcp_typ_check(c, NULL, &err), MCPAUTH_E_TOKEN_HEADER);
    cfg_free(c);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("claims");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, exp_leeway_boundaries);
    tcase_add_test(tc, exp_required_by_default);
    tcase_add_test(tc, nbf_leeway_boundaries);
    tcase_add_test(tc, iat_future_refused);
    tcase_add_test(tc, time_claim_types);
    tcase_add_test(tc, huge_values_no_overflow);
    tcase_add_test(tc, issuer_exact);
    tcase_add_test(tc, audience_string_array_types);
    tcase_add_test(tc, resource_binding);
    tcase_add_test(tc, resource_binding_for_given_resource);
    tcase_add_test(tc, claim_types);
    tcase_add_test(tc, typ_policy);
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
