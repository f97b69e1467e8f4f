/* check_cookbook.c - RFC 7520 section 4 and RFC 8037 appendix A.4 examples verify byte for byte
 * through mcp_jws_parse / mcp_jws_verify; detached content, JSON serialization and one-bit
 * changes fail. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "tokens.h"

#define ALLOW_ALL ((1u << MCP_ALG_COUNT) - 2u)

static json_t *load(const char *rel) {
    const char *path = tu_shared(rel);
    if (!path) return NULL;
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    ck_assert_msg(j != NULL, "cannot load %s: %s", path, e.text);
    return j;
}

#define LOAD_OR_SKIP(var, rel)                                                                     \
    json_t *var = load(rel);                                                                       \
    if (!var) {                                                                                    \
        printf("cookbook %s: skipped (shared test data not found)\n", rel);                        \
        return;                                                                                    \
    }

/* The example's key without its private members, as a keyset. */
static mcp_keyset *public_keyset(json_t *ex) {
    json_t *key = json_deep_copy(json_object_get(json_object_get(ex, "input"), "key"));
    const char *priv[] = {"d", "p", "q", "dp", "dq", "qi"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) json_object_del(key, priv[i]);
    json_t *set = json_pack("{s:[o]}", "keys", key);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    int rc = mcp_keyset_from_jwks(set, MCP_JWKS_ALLOW_OCT, 0, &ks, &err);
    ck_assert_msg(rc == MCPAUTH_OK, "key import: %s", err.msg);
    json_decref(set);
    return ks;
}

static const char *compact_of(json_t *ex) {
    return json_string_value(json_object_get(json_object_get(ex, "output"), "compact"));
}

static int verify_text(const char *tok, size_t len, const mcp_keyset *ks, unsigned flags) {
    mcp_jws j;
    int rc = mcp_jws_parse(tok, len, 0, flags, &j, NULL);
    if (rc != MCPAUTH_OK) return rc;
    rc = mcp_jws_verify(&j, ks, ALLOW_ALL, NULL);
    mcp_jws_clear(&j);
    return rc;
}

/* Verifies the example's compact output; checks the decoded payload and signing input too;
 * then a one-bit flip in the signature and in the payload must fail. */
static void verify_example(const char *rel, mcp_alg want_alg) {
    LOAD_OR_SKIP(ex, rel);
    mcp_keyset *ks = public_keyset(ex);
    const char *tok = compact_of(ex);
    ck_assert_ptr_nonnull(tok);

    mcp_jws j;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_jws_parse(tok, strlen(tok), 0, MCP_JWS_PAYLOAD_ANY, &j, &err), MCPAUTH_OK);
    ck_assert_int_eq(j.alg, want_alg);
    ck_assert_ptr_null(j.payload); /* the payloads are prose, not JSON */
    const char *payload =
        json_string_value(json_object_get(json_object_get(ex, "input"), "payload"));
    ck_assert_uint_eq(j.payload_raw_len, strlen(payload));
    ck_assert_int_eq(memcmp(j.payload_raw, payload, j.payload_raw_len), 0);
    const char *sig_input =
        json_string_value(json_object_get(json_object_get(ex, "signing"), "sig-input"));
    ck_assert_uint_eq(j.signing_input_len, strlen(sig_input));
    ck_assert_int_eq(memcmp(j.signing_input, sig_input, j.signing_input_len), 0);
    ck_assert_int_eq(mcp_jws_verify(&j, ks, ALLOW_ALL, &err), MCPAUTH_OK);
    /* The algorithm allow-list still applies. */
    ck_assert_int_eq(mcp_jws_verify(&j, ks, ALLOW_ALL & ~MCP_ALG_BIT(want_alg), &err),
                     MCPAUTH_E_ALG_NOT_ALLOWED);
    /* Without MCP_JWS_PAYLOAD_ANY a prose payload is not a JWT. */
    mcp_jws j2;
    ck_assert_int_eq(mcp_jws_parse(tok, strlen(tok), 0, 0, &j2, &err), MCPAUTH_E_TOKEN_MALFORMED);

    /* One-bit flip in the signature. */
    size_t len = 0;
    j.sig[j.sig_len / 3] ^= 0x10;
    char *s = mcp_b64url_encode(j.sig, j.sig_len, &len);
    const char *dot = strrchr(tok, '.');
    size_t pre = (size_t)(dot - tok) + 1;
    char *bad = malloc(pre + len + 1);
    memcpy(bad, tok, pre);
    memcpy(bad + pre, s, len + 1);
    ck_assert_int_eq(verify_text(bad, strlen(bad), ks, MCP_JWS_PAYLOAD_ANY),
                     MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    free(s);

    /* One-bit flip in the payload (re-encoded canonically). */
    j.payload_raw[0] ^= 0x01;
    size_t plen = 0;
    char *p = mcp_b64url_encode(j.payload_raw, j.payload_raw_len, &plen);
    const char *d1 = strchr(tok, '.');
    size_t hl = (size_t)(d1 - tok);
    size_t total = hl + 1 + plen + strlen(dot) + 1;
    bad = malloc(total);
    snprintf(bad, total, "%.*s.%s%s", (int)hl, tok, p, dot);
    ck_assert_int_eq(verify_text(bad, strlen(bad), ks, MCP_JWS_PAYLOAD_ANY),
                     MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    free(p);

    /* One-bit flip in the protected header (the last character of its last string value:
     * the kid, or the alg name itself): never accepted. */
    unsigned char *h = NULL;
    size_t h_len = 0;
    ck_assert_int_eq(mcp_b64url_decode(tok, hl, &h, &h_len), 0);
    ck_assert_uint_ge(h_len, 3);
    h[h_len - 3] ^= 0x01;
    char *eh = mcp_b64url_encode(h, h_len, &plen);
    total = plen + strlen(d1) + 1;
    bad = malloc(total);
    snprintf(bad, total, "%s%s", eh, d1);
    ck_assert_int_ne(verify_text(bad, strlen(bad), ks, MCP_JWS_PAYLOAD_ANY), MCPAUTH_OK);
    free(bad);
    free(eh);
    free(h);

    mcp_jws_clear(&j);
    mcp_keyset_unref(ks);
    json_decref(ex);
}

START_TEST(rfc7520_4_1_rs256) {
    verify_example("jose-cookbook/jws/4_1.rsa_v15_signature.json", MCP_ALG_RS256);
}
END_TEST

START_TEST(rfc7520_4_2_ps384) {
    verify_example("jose-cookbook/jws/4_2.rsa-pss_signature.json", MCP_ALG_PS384);
}
END_TEST

START_TEST(rfc7520_4_3_es512) {
    verify_example("jose-cookbook/jws/4_3.ecdsa_signature.json", MCP_ALG_ES512);
}
END_TEST

START_TEST(rfc7520_4_4_hs256) {
    verify_example("jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json", MCP_ALG_HS256);
}
END_TEST

START_TEST(rfc8037_a4_ed25519) {
    verify_example("jose-cookbook/curve25519/jws.json", MCP_ALG_EDDSA);
}
END_TEST

START_TEST(rfc7520_4_5_detached_content_rejected) {
    LOAD_OR_SKIP(ex, "jose-cookbook/jws/4_5.signature_with_detached_content.json");
    mcp_keyset *ks = public_keyset(ex);
    const char *tok = compact_of(ex);
    ck_assert_ptr_nonnull(strstr(tok, ".."));
    ck_assert_int_eq(verify_text(tok, strlen(tok), ks, 0), MCPAUTH_E_TOKEN_MALFORMED);
    /* Even in signature-only mode the empty payload is not what was signed. */
    ck_assert_int_eq(verify_text(tok, strlen(tok), ks, MCP_JWS_PAYLOAD_ANY),
                     MCPAUTH_E_BAD_SIGNATURE);
    mcp_keyset_unref(ks);
    json_decref(ex);
}
END_TEST

START_TEST(rfc7520_json_serializations_rejected) {
    const char *files[] = {"jose-cookbook/jws/4_1.rsa_v15_signature.json",
                           "jose-cookbook/jws/4_4.hmac-sha2_integrity_protection.json",
                           "jose-cookbook/jws/4_6.protecting_specific_header_fields.json",
                           "jose-cookbook/jws/4_7.protecting_content_only.json",
                           "jose-cookbook/jws/4_8.multiple_signatures.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        LOAD_OR_SKIP(ex, files[i]);
        json_t *out = json_object_get(ex, "output");
        const char *forms[] = {"json", "json_flat"};
        int seen = 0;
        for (int f = 0; f < 2; f++) {
            json_t *v = json_object_get(out, forms[f]);
            if (!v) continue;
            seen++;
            char *text = json_dumps(v, JSON_COMPACT);
            mcp_jws j;
            ck_assert_msg(mcp_jws_parse(text, strlen(text), 0, MCP_JWS_PAYLOAD_ANY, &j, NULL) ==
                              MCPAUTH_E_TOKEN_MALFORMED,
                          "%s %s accepted", files[i], forms[f]);
            free(text);
        }
        ck_assert_int_gt(seen, 0);
        json_decref(ex);
    }
}
END_TEST

START_TEST(rfc7520_private_jwk_refused_as_verification_key) {
    LOAD_OR_SKIP(ex, "jose-cookbook/jws/4_3.ecdsa_signature.json");
    json_t *set =
        json_pack("{s:[O]}", "keys", json_object_get(json_object_get(ex, "input"), "key"));
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_jwks(set, 0, 0, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    ck_assert_ptr_nonnull(strstr(err.msg, "private"));
    json_decref(set);
    json_decref(ex);
}
END_TEST

START_TEST(rfc7520_3_1_public_key_imports) {
    const char *path = tu_shared("jose-cookbook/jwk/3_1.ec_public_key.json");
    if (!path) {
        printf("cookbook 3_1: skipped (shared test data not found)\n");
        return;
    }
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    size_t n = len + 16;
    char *set = malloc(n);
    snprintf(set, n, "{\"keys\":[%s]}", text);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_jwks_text(set, strlen(set), 0, 0, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 1);
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(MCP_ALG_ES512));
    ck_assert_str_eq(ks->keys[0].kid, "bilbo.baggins@hobbiton.example");
    /* The 4.3 example verifies with this published public key as well. */
    json_t *ex = load("jose-cookbook/jws/4_3.ecdsa_signature.json");
    const char *tok = compact_of(ex);
    ck_assert_int_eq(verify_text(tok, strlen(tok), ks, MCP_JWS_PAYLOAD_ANY), MCPAUTH_OK);
    json_decref(ex);
    mcp_keyset_unref(ks);
    free(set);
    free(text);
}
END_TEST

static Suite *cookbook_suite(void) {
    Suite *s = suite_create("cookbook");
    TCase *tc = tcase_create("examples");
    tcase_add_test(tc, rfc7520_4_1_rs256);
    tcase_add_test(tc, rfc7520_4_2_ps384);
    tcase_add_test(tc, rfc7520_4_3_es512);
    tcase_add_test(tc, rfc7520_4_4_hs256);
    tcase_add_test(tc, rfc8037_a4_ed25519);
    tcase_add_test(tc, rfc7520_4_5_detached_content_rejected);
    tcase_add_test(tc, rfc7520_json_serializations_rejected);
    tcase_add_test(tc, rfc7520_private_jwk_refused_as_verification_key);
    tcase_add_test(tc, rfc7520_3_1_public_key_imports);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(cookbook_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
