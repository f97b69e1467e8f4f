/* check_seal.c - AES-256-GCM sealing: round trip, tampering, purpose binding, expiry and
 * secret rotation. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "proxy/seal.h"

#define NOW 1700000000LL
#define SECRET_A "a-very-long-sealing-secret-with-more-than-32-bytes-A"
#define SECRET_B "another-sealing-secret-with-more-than-32-bytes----B"
#define SECRET_C "third-sealing-secret-that-is-long-enough-for-use-C"

static int contains(const unsigned char *h, size_t hl, const char *n) {
    size_t nl = strlen(n);
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp(h + i, n, nl) == 0) return 1;
    return 0;
}

static mcp_sealer *sealer(const char *primary) {
    mcp_sealer *s = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_sealer_new((const unsigned char *)primary, strlen(primary), &s, &err),
                     MCPAUTH_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

static char *seal_obj(mcp_sealer *s, mcp_seal_purpose p, const char *json, int64_t exp) {
    json_error_t je;
    json_t *v = json_loads(json, 0, &je);
    ck_assert_ptr_nonnull(v);
    char *out = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_seal(s, p, v, exp, &out, &err), MCPAUTH_OK);
    json_decref(v);
    ck_assert_ptr_nonnull(out);
    return out;
}

static int open_code(mcp_sealer *s, mcp_seal_purpose p, const char *in, int64_t now, json_t **out) {
    mcp_err err = {0, {0}};
    json_t *dummy = NULL;
    int rc = mcp_unseal(s, p, in, strlen(in), now, out ? out : &dummy, &err);
    if (rc != MCPAUTH_OK) {
        ck_assert_int_eq(err.code, rc);
        ck_assert(strlen(err.msg) > 0);
    }
    json_decref(dummy);
    return rc;
}

START_TEST(round_trip) {
    mcp_sealer *s = sealer(SECRET_A);
    char *sealed =
        seal_obj(s, MCP_SEAL_STATE, "{\"ru\":\"https://c.example/cb\",\"n\":7}", NOW + 60);
    /* base64url alphabet only */
    for (const char *c = sealed; *c; c++)
        ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *c));
    json_t *out = NULL;
    ck_assert_int_eq(open_code(s, MCP_SEAL_STATE, sealed, NOW, &out), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(out, "ru")), "https://c.example/cb");
    ck_assert_int_eq(json_integer_value(json_object_get(out, "n")), 7);
    json_decref(out);
    /* the plaintext does not appear in the sealed value */
    unsigned char *raw = NULL;
    size_t rl = 0;
    ck_assert_int_eq(mcp_b64url_decode(sealed, strlen(sealed), &raw, &rl), 0);
    ck_assert(!contains(raw, rl, "c.example"));
    free(raw);
    free(sealed);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(fresh_iv_each_time) {
    mcp_sealer *s = sealer(SECRET_A);
    char *a = seal_obj(s, MCP_SEAL_CODE, "{\"x\":1}", NOW + 60);
    char *b = seal_obj(s, MCP_SEAL_CODE, "{\"x\":1}", NOW + 60);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(open_code(s, MCP_SEAL_CODE, a, NOW, NULL), MCPAUTH_OK);
    ck_assert_int_eq(open_code(s, MCP_SEAL_CODE, b, NOW, NULL), MCPAUTH_OK);
    free(a);
    free(b);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(tamper_every_byte) {
    mcp_sealer *s = sealer(SECRET_A);
    char *sealed = seal_obj(s, MCP_SEAL_CODE, "{\"uc\":\"upstream-code\"}", NOW + 60);
    unsigned char *raw = NULL;
    size_t rl = 0;
    ck_assert_int_eq(mcp_b64url_decode(sealed, strlen(sealed), &raw, &rl), 0);
    for (size_t i = 0; i < rl; i++) {
        raw[i] ^= 0x01;
        char *t = mcp_b64url_encode(raw, rl, NULL);
        int rc = open_code(s, MCP_SEAL_CODE, t, NOW, NULL);
        /* byte 0 is the version: malformed; every other byte fails authentication */
        ck_assert_int_eq(rc, i == 0 ? MCPAUTH_E_TOKEN_MALFORMED : MCPAUTH_E_BAD_SIGNATURE);
        free(t);
        raw[i] ^= 0x01;
    }
    /* truncation and extension */
    char *t = mcp_b64url_encode(raw, rl - 1, NULL);
    ck_assert_int_eq(open_code(s, MCP_SEAL_CODE, t, NOW, NULL), MCPAUTH_E_BAD_SIGNATURE);
    free(t);
    free(raw);
    /* not base64url, empty, short */
    ck_assert_int_eq(open_code(s, MCP_SEAL_CODE, "abc$def", NOW, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    mcp_err err = {0, {0}};
    json_t *out = NULL;
    ck_assert_int_eq(mcp_unseal(s, MCP_SEAL_CODE, "", 0, NOW, &out, &err),
                     MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_int_eq(open_code(s, MCP_SEAL_CODE, "AQID", NOW, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    free(sealed);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(wrong_purpose) {
    mcp_sealer *s = sealer(SECRET_A);
    char *sealed = seal_obj(s, MCP_SEAL_CLIENT, "{\"ru\":[\"https://c.example/cb\"]}", NOW + 60);
    for (int p = 0; p < MCP_SEAL_PURPOSES; p++) {
        int rc = open_code(s, (mcp_seal_purpose)p, sealed, NOW, NULL);
        ck_assert_int_eq(rc, p == MCP_SEAL_CLIENT ? MCPAUTH_OK : MCPAUTH_E_BAD_SIGNATURE);
    }
    ck_assert_str_eq(mcp_seal_purpose_name(MCP_SEAL_BINDING), "binding");
    ck_assert_str_eq(mcp_seal_purpose_name(MCP_SEAL_CONSENT), "consent");
    free(sealed);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(expiry) {
    mcp_sealer *s = sealer(SECRET_A);
    char *sealed = seal_obj(s, MCP_SEAL_STATE, "{}", NOW + 600);
    ck_assert_int_eq(open_code(s, MCP_SEAL_STATE, sealed, NOW + 599, NULL), MCPAUTH_OK);
    ck_assert_int_eq(open_code(s, MCP_SEAL_STATE, sealed, NOW + 600, NULL), MCPAUTH_E_EXPIRED);
    ck_assert_int_eq(open_code(s, MCP_SEAL_STATE, sealed, NOW + 100000, NULL), MCPAUTH_E_EXPIRED);
    free(sealed);
    /* exp must be positive */
    char *out = NULL;
    mcp_err err = {0, {0}};
    json_t *v = json_object();
    ck_assert_int_eq(mcp_seal(s, MCP_SEAL_STATE, v, 0, &out, &err), MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    json_decref(v);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(rotation) {
    mcp_sealer *old = sealer(SECRET_A);
    char *by_old = seal_obj(old, MCP_SEAL_CODE, "{\"k\":\"old\"}", NOW + 60);

    /* new primary B, previous A: opens both, seals with B */
    mcp_sealer *rot = sealer(SECRET_B);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(
        mcp_sealer_add_previous(rot, (const unsigned char *)SECRET_A, strlen(SECRET_A), &err),
        MCPAUTH_OK);
    json_t *out = NULL;
    ck_assert_int_eq(open_code(rot, MCP_SEAL_CODE, by_old, NOW, &out), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(out, "k")), "old");
    json_decref(out);
    char *by_rot = seal_obj(rot, MCP_SEAL_CODE, "{\"k\":\"new\"}", NOW + 60);
    /* the old replica does not know B */
    ck_assert_int_eq(open_code(old, MCP_SEAL_CODE, by_rot, NOW, NULL), MCPAUTH_E_BAD_SIGNATURE);

    /* A retired entirely: its values no longer open */
    mcp_sealer *later = sealer(SECRET_C);
    ck_assert_int_eq(
        mcp_sealer_add_previous(later, (const unsigned char *)SECRET_B, strlen(SECRET_B), &err),
        MCPAUTH_OK);
    ck_assert_int_eq(open_code(later, MCP_SEAL_CODE, by_old, NOW, NULL), MCPAUTH_E_BAD_SIGNATURE);
    ck_assert_int_eq(open_code(later, MCP_SEAL_CODE, by_rot, NOW, NULL), MCPAUTH_OK);

    /* previous secrets are bounded */
    for (int i = 2; i < MCP_SEAL_MAX_SECRETS; i++)
        ck_assert_int_eq(
            mcp_sealer_add_previous(later, (const unsigned char *)SECRET_A, strlen(SECRET_A), &err),
            MCPAUTH_OK);
    ck_assert_int_eq(
        mcp_sealer_add_previous(later, (const unsigned char *)SECRET_A, strlen(SECRET_A), &err),
        MCPAUTH_E_CONFIG);
    free(by_old);
    free(by_rot);
    mcp_sealer_free(old);
    mcp_sealer_free(rot);
    mcp_sealer_free(later);
}
END_TEST

START_TEST(same_secret_other_instance) {
    /* two replicas built from the same secret interoperate */
    mcp_sealer *a = sealer(SECRET_A), *b = sealer(SECRET_A);
    char *sealed = seal_obj(a, MCP_SEAL_BINDING, "{\"n\":\"x\"}", NOW + 60);
    ck_assert_int_eq(open_code(b, MCP_SEAL_BINDING, sealed, NOW, NULL), MCPAUTH_OK);
    free(sealed);
    mcp_sealer_free(a);
    mcp_sealer_free(b);
}
END_TEST

START_TEST(short_secret_refused) {
    mcp_sealer *s = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(
        mcp_sealer_new((const unsigned char *)"0123456789abcdef0123456789abcde", 31, &s, &err),
        MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(strstr(err.msg, "32"));
    ck_assert_int_eq(
        mcp_sealer_new((const unsigned char *)"0123456789abcdef0123456789abcdef", 32, &s, &err),
        MCPAUTH_OK);
    ck_assert_int_eq(mcp_sealer_add_previous(s, (const unsigned char *)"short", 5, &err),
                     MCPAUTH_E_CONFIG);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(payload_bounds) {
    mcp_sealer *s = sealer(SECRET_A);
    size_t n = MCP_SEAL_MAX_PLAINTEXT + 10;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    json_t *v = json_string(big);
    char *out = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_seal(s, MCP_SEAL_CLIENT, v, NOW + 5, &out, &err),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(out);
    json_decref(v);
    /* oversized input is refused before decoding */
    json_t *p = NULL;
    ck_assert_int_eq(mcp_unseal(s, MCP_SEAL_CLIENT, big, MCP_SEAL_MAX_SEALED + 1, NOW, &p, &err),
                     MCPAUTH_E_TOKEN_MALFORMED);
    free(big);
    mcp_sealer_free(s);
}
END_TEST

START_TEST(helpers) {
    char *a = mcp_random_b64url(32), *b = mcp_random_b64url(32);
    ck_assert_int_eq(strlen(a), 43);
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
    /* RFC 7636 appendix B */
    char *h = mcp_sha256_b64url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", 43);
    ck_assert_str_eq(h, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    free(h);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("seal");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, fresh_iv_each_time);
    tcase_add_test(tc, tamper_every_byte);
    tcase_add_test(tc, wrong_purpose);
    tcase_add_test(tc, expiry);
    tcase_add_test(tc, rotation);
    tcase_add_test(tc, same_secret_other_instance);
    tcase_add_test(tc, short_secret_refused);
    tcase_add_test(tc, payload_bounds);
    tcase_add_test(tc, helpers);
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
