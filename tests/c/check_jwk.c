/* check_jwk.c - JWK / JWKS / PEM / secret import: every strength and consistency check. */
#include <check.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "jose/jwk.h"
#include "tokens.h"

#define ALL_RSA                                                                                    \
    (MCP_ALG_BIT(MCP_ALG_RS256) | MCP_ALG_BIT(MCP_ALG_RS384) | MCP_ALG_BIT(MCP_ALG_RS512) |        \
     MCP_ALG_BIT(MCP_ALG_PS256) | MCP_ALG_BIT(MCP_ALG_PS384) | MCP_ALG_BIT(MCP_ALG_PS512))

/* The public JWK of k as a jansson object (new reference). */
static json_t *jwk_of(const tu_key *k) {
    char *s = tu_key_jwk(k);
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    free(s);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Wraps JWKs (references stolen) into {"keys":[...]} and imports it. */
static int import_set(unsigned flags, mcp_keyset **out, mcp_err *err, json_t *a, json_t *b) {
    json_t *keys = json_array();
    if (a) json_array_append_new(keys, a);
    if (b) json_array_append_new(keys, b);
    json_t *set = json_pack("{s:o}", "keys", keys);
    int rc = mcp_keyset_from_jwks(set, flags, 16, out, err);
    json_decref(set);
    return rc;
}

static int import_one(unsigned flags, json_t *jwk, mcp_keyset **out) {
    mcp_err err = {0};
    int rc = import_set(flags, out, &err, jwk, NULL);
    if (rc == MCPAUTH_OK) ck_assert_ptr_nonnull(*out);
    if (rc != MCPAUTH_OK) {
        ck_assert_ptr_null(*out);
        ck_assert_int_eq(err.code, rc);
        ck_assert(err.msg[0] != '\0');
    }
    return rc;
}

static void set_b64(json_t *jwk, const char *name, const unsigned char *bytes, size_t len) {
    size_t n;
    char *s = mcp_b64url_encode(bytes, len, &n);
    json_object_set_new(jwk, name, json_string(s));
    free(s);
}

/* Decoded bytes of a JWK member (malloc'd). */
static unsigned char *get_b64(json_t *jwk, const char *name, size_t *len) {
    unsigned char *out = NULL;
    const char *s = json_string_value(json_object_get(jwk, name));
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(mcp_b64url_decode(s, strlen(s), &out, len), 0);
    return out;
}

/* An RSA JWK of `bits` bits generated on the fly. */
static json_t *rsa_jwk_bits(size_t bits) {
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits);
    ck_assert_ptr_nonnull(pk);
    BIGNUM *n = NULL, *e = NULL;
    ck_assert_int_eq(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n), 1);
    ck_assert_int_eq(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e), 1);
    unsigned char nb[1024], eb[16];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    json_t *j = json_pack("{s:s}", "kty", "RSA");
    set_b64(j, "n", nb, (size_t)nl);
    set_b64(j, "e", eb, (size_t)el);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(pk);
    return j;
}

static tu_key rsa_k, ec256_k, ec384_k, ec521_k, ed_k, hs_k;

static void setup(void) {
    tu_key_gen(&rsa_k, "RS256", "rsa-1");
    tu_key_gen(&ec256_k, "ES256", "ec-256");
    tu_key_gen(&ec384_k, "ES384", "ec-384");
    tu_key_gen(&ec521_k, "ES512", "ec-521");
    tu_key_gen(&ed_k, "EdDSA", "ed-1");
    tu_key_gen(&hs_k, "HS256", "hs-1");
}

static void teardown(void) {
    tu_key_free(&rsa_k);
    tu_key_free(&ec256_k);
    tu_key_free(&ec384_k);
    tu_key_free(&ec521_k);
    tu_key_free(&ed_k);
    tu_key_free(&hs_k);
}

/* ---- RSA ---- */

START_TEST(rsa_2048_imports_with_alg_pinned) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, jwk_of(&rsa_k), &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 1);
    ck_assert_int_eq(ks->keys[0].kty, MCP_KTY_RSA);
    ck_assert_str_eq(ks->keys[0].kid, "rsa-1");
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(MCP_ALG_RS256));
    ck_assert_ptr_nonnull(ks->keys[0].pkey);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(rsa_without_alg_allows_rs_and_ps_only) {
    json_t *j = jwk_of(&rsa_k);
    json_object_del(j, "alg");
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->keys[0].alg_mask, ALL_RSA);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(rsa_1024_refused) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, rsa_jwk_bits(1024), &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(rsa_2047_bit_modulus_refused) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, rsa_jwk_bits(2047), &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(rsa_e_1_refused) {
    json_t *j = jwk_of(&rsa_k);
    json_object_set_new(j, "e", json_string("AQ"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(rsa_e_even_or_zero_or_huge_refused) {
    const char *bad[] = {"Ag", "AA", "AAE", "", "AQAAAAAAAAAAAQ" /* 10 bytes */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = jwk_of(&rsa_k);
        json_object_set_new(j, "e", json_string(bad[i]));
        mcp_keyset *ks = NULL;
        ck_assert_msg(import_one(0, j, &ks) == MCPAUTH_E_CONFIG, "e=%s accepted", bad[i]);
    }
}
END_TEST

START_TEST(rsa_e_3_accepted) {
    json_t *j = jwk_of(&rsa_k);
    json_object_set_new(j, "e", json_string("Aw"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(rsa_even_modulus_refused) {
    json_t *j = jwk_of(&rsa_k);
    size_t len;
    unsigned char *n = get_b64(j, "n", &len);
    n[len - 1] &= 0xfe;
    set_b64(j, "n", n, len);
    free(n);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(rsa_missing_or_bad_members_refused) {
    mcp_keyset *ks = NULL;
    json_t *j = jwk_of(&rsa_k);
    json_object_del(j, "n");
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
    j = jwk_of(&rsa_k);
    json_object_set_new(j, "e", json_integer(65537));
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
    j = jwk_of(&rsa_k);
    json_object_set_new(j, "e", json_string("AQAB=")); /* padded base64 */
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(rsa_private_members_refused) {
    const char *priv[] = {"d", "p", "q", "dp", "dq", "qi"};
    for (size_t i = 0; i < sizeof priv / sizeof priv[0]; i++) {
        json_t *j = jwk_of(&rsa_k);
        json_object_set_new(j, priv[i], json_string("AQAB"));
        mcp_keyset *ks = NULL;
        ck_assert_msg(import_one(0, j, &ks) == MCPAUTH_E_CONFIG, "%s accepted", priv[i]);
    }
}
END_TEST

/* ---- EC ---- */

START_TEST(ec_curves_import_with_fixed_alg) {
    const tu_key *keys[] = {&ec256_k, &ec384_k, &ec521_k};
    const mcp_alg algs[] = {MCP_ALG_ES256, MCP_ALG_ES384, MCP_ALG_ES512};
    for (int i = 0; i < 3; i++) {
        json_t *j = jwk_of(keys[i]);
        json_object_del(j, "alg"); /* the curve alone decides */
        mcp_keyset *ks = NULL;
        ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
        ck_assert_int_eq(ks->keys[0].kty, MCP_KTY_EC);
        ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(algs[i]));
        mcp_keyset_unref(ks);
    }
}
END_TEST

START_TEST(ec_off_curve_point_refused) {
    json_t *j = jwk_of(&ec256_k);
    size_t len;
    unsigned char *y = get_b64(j, "y", &len);
    y[len - 1] ^= 0x01;
    set_b64(j, "y", y, len);
    free(y);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_point_at_origin_refused) {
    unsigned char zero[32] = {0};
    json_t *j = jwk_of(&ec256_k);
    set_b64(j, "x", zero, 32);
    set_b64(j, "y", zero, 32);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_short_coordinate_refused) {
    json_t *j = jwk_of(&ec256_k);
    size_t len;
    unsigned char *x = get_b64(j, "x", &len);
    ck_assert_uint_eq(len, 32);
    set_b64(j, "x", x + 1, 31); /* drop a byte: never a valid fixed-length coordinate */
    free(x);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_long_coordinate_refused) {
    json_t *j = jwk_of(&ec256_k);
    size_t len;
    unsigned char *y = get_b64(j, "y", &len);
    unsigned char buf[33] = {0};
    memcpy(buf + 1, y, 32); /* leading zero: same number, wrong length */
    set_b64(j, "y", buf, 33);
    free(y);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_wrong_crv_for_coordinates_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_del(j, "alg");
    json_object_set_new(j, "crv", json_string("P-384"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_missing_crv_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_del(j, "crv");
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_private_d_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_set_new(j, "d", json_string("AAAA"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(ec_unsupported_curve_skipped) {
    json_t *j = jwk_of(&ec256_k);
    json_object_del(j, "alg");
    json_object_set_new(j, "crv", json_string("secp256k1"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 0);
    mcp_keyset_unref(ks);
}
END_TEST

/* ---- alg / crv / kty consistency ---- */

START_TEST(alg_crv_mismatch_refused) {
    static const struct {
        const tu_key *k;
        const char *alg;
    } bad[] = {
        {&ec256_k, "ES384"}, {&ec256_k, "ES512"}, {&ec384_k, "ES256"}, {&ec521_k, "ES384"},
        {&ec256_k, "RS256"}, {&ec256_k, "HS256"}, {&rsa_k, "ES256"},   {&rsa_k, "HS256"},
        {&rsa_k, "EdDSA"},   {&ed_k, "ES256"},    {&ed_k, "RS256"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = jwk_of(bad[i].k);
        json_object_set_new(j, "alg", json_string(bad[i].alg));
        mcp_keyset *ks = NULL;
        ck_assert_msg(import_one(0, j, &ks) == MCPAUTH_E_CONFIG, "case %zu accepted", i);
    }
}
END_TEST

START_TEST(unknown_or_none_alg_refused) {
    const char *bad[] = {"ES521", "ES224", "none", "A256GCM", "RSA-OAEP", "rs256", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = jwk_of(&ec256_k);
        json_object_set_new(j, "alg", json_string(bad[i]));
        mcp_keyset *ks = NULL;
        ck_assert_msg(import_one(0, j, &ks) == MCPAUTH_E_CONFIG, "alg %s accepted", bad[i]);
    }
    json_t *j = jwk_of(&ec256_k);
    json_object_set_new(j, "alg", json_integer(7));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(wrong_kty_for_members_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_set_new(j, "kty", json_string("RSA")); /* x/y but no n/e */
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
    j = jwk_of(&ec256_k);
    json_object_del(j, "kty");
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(unknown_kty_skipped) {
    json_t *j = json_pack("{s:s,s:s}", "kty", "AKP", "kid", "pq");
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 0);
    mcp_keyset_unref(ks);
}
END_TEST

/* ---- OKP ---- */

START_TEST(ed25519_imports) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, jwk_of(&ed_k), &ks), MCPAUTH_OK);
    ck_assert_int_eq(ks->keys[0].kty, MCP_KTY_OKP);
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(MCP_ALG_EDDSA));
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(ed25519_wrong_length_refused) {
    json_t *j = jwk_of(&ed_k);
    size_t len;
    unsigned char *x = get_b64(j, "x", &len);
    set_b64(j, "x", x, 31);
    free(x);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

START_TEST(okp_x25519_skipped) {
    json_t *j = jwk_of(&ed_k);
    json_object_del(j, "alg");
    json_object_set_new(j, "crv", json_string("X25519"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 0);
    mcp_keyset_unref(ks);
}
END_TEST

/* ---- use / key_ops ---- */

START_TEST(use_enc_skipped) {
    json_t *j = jwk_of(&rsa_k);
    json_object_set_new(j, "use", json_string("enc"));
    json_object_set_new(j, "alg", json_string("RSA-OAEP")); /* never looked at */
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(import_set(0, &ks, &err, j, jwk_of(&ec256_k)), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 1);
    ck_assert_str_eq(ks->keys[0].kid, "ec-256");
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(key_ops_without_verify_skipped) {
    json_t *j = jwk_of(&ec256_k);
    json_object_del(j, "use");
    json_object_set_new(j, "key_ops", json_pack("[s,s]", "encrypt", "sign"));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 0);
    mcp_keyset_unref(ks);
    j = jwk_of(&ec256_k);
    json_object_del(j, "use");
    json_object_set_new(j, "key_ops", json_pack("[s]", "verify"));
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 1);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(use_or_key_ops_wrong_type_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_set_new(j, "use", json_integer(1));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
    j = jwk_of(&ec256_k);
    json_object_set_new(j, "key_ops", json_string("verify"));
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

/* ---- sets ---- */

START_TEST(duplicate_kid_refused) {
    json_t *a = jwk_of(&ec256_k);
    json_t *b = jwk_of(&rsa_k);
    json_object_set_new(b, "kid", json_string("ec-256"));
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(import_set(0, &ks, &err, a, b), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate kid"));
}
END_TEST

START_TEST(keys_without_kid_are_not_duplicates) {
    json_t *a = jwk_of(&ec256_k), *b = jwk_of(&rsa_k);
    json_object_del(a, "kid");
    json_object_del(b, "kid");
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(import_set(0, &ks, &err, a, b), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 2);
    ck_assert_ptr_null(ks->keys[0].kid);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(mixed_symmetric_asymmetric_set_refused) {
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(import_set(MCP_JWKS_ALLOW_OCT, &ks, &err, jwk_of(&hs_k), jwk_of(&ec256_k)),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    ck_assert_ptr_nonnull(strstr(err.msg, "symmetric"));
}
END_TEST

START_TEST(too_many_keys_refused) {
    json_t *keys = json_array();
    for (int i = 0; i < 5; i++) {
        json_t *j = jwk_of(&ec256_k);
        json_object_set_new(j, "kid", json_sprintf("k%d", i));
        json_array_append_new(keys, j);
    }
    json_t *set = json_pack("{s:o}", "keys", keys);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_jwks(set, 0, 4, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_jwks(set, 0, 5, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 5);
    mcp_keyset_unref(ks);
    json_decref(set);
}
END_TEST

START_TEST(jwks_shape_refused) {
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    const char *bad[] = {
        "[]",
        "{}",
        "{\"keys\":{}}",
        "{\"keys\":[1]}",
        "{\"keys\":[],\"keys\":[]}",
        "{\"keys\":[]} x",
        "{\"keys\":[\"a\\u0000b\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(mcp_keyset_from_jwks_text(bad[i], strlen(bad[i]), 0, 0, &ks, &err) ==
                          MCPAUTH_E_CONFIG,
                      "%s accepted", bad[i]);
    ck_assert_int_eq(mcp_keyset_from_jwks_text("{\"keys\":[]}", 11, 0, 0, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 0);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(jwks_text_round_trip) {
    const tu_key *keys[] = {&rsa_k, &ec256_k, &ec384_k, &ec521_k, &ed_k};
    char *text = tu_jwks(keys, 5);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_jwks_text(text, strlen(text), 0, 0, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 5);
    ck_assert(mcp_keyset_has_kid(ks, "ed-1"));
    ck_assert(!mcp_keyset_has_kid(ks, "ed-2"));
    ck_assert(!mcp_keyset_has_kid(ks, NULL));
    free(text);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(kid_wrong_type_refused) {
    json_t *j = jwk_of(&ec256_k);
    json_object_set_new(j, "kid", json_integer(5));
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

/* ---- oct ---- */

START_TEST(oct_requires_allow_flag) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, jwk_of(&hs_k), &ks), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(import_one(MCP_JWKS_ALLOW_OCT, jwk_of(&hs_k), &ks), MCPAUTH_OK);
    ck_assert_int_eq(ks->keys[0].kty, MCP_KTY_OCT);
    ck_assert_uint_eq(ks->keys[0].secret_len, 32);
    ck_assert_int_eq(memcmp(ks->keys[0].secret, hs_k.secret, 32), 0);
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(MCP_ALG_HS256));
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(oct_short_refused) {
    unsigned char k[64] = {1, 2, 3};
    size_t lens[] = {0, 1, 16, 31};
    for (size_t i = 0; i < 4; i++) {
        json_t *j = json_pack("{s:s,s:s}", "kty", "oct", "kid", "short");
        set_b64(j, "k", k, lens[i]);
        mcp_keyset *ks = NULL;
        ck_assert_msg(import_one(MCP_JWKS_ALLOW_OCT, j, &ks) == MCPAUTH_E_CONFIG,
                      "%zu-byte key accepted", lens[i]);
    }
}
END_TEST

START_TEST(oct_mask_follows_key_length) {
    unsigned char k[64];
    memset(k, 0x5a, sizeof k);
    const struct {
        size_t len;
        unsigned mask;
    } v[] = {
        {32, MCP_ALG_BIT(MCP_ALG_HS256)},
        {47, MCP_ALG_BIT(MCP_ALG_HS256)},
        {48, MCP_ALG_BIT(MCP_ALG_HS256) | MCP_ALG_BIT(MCP_ALG_HS384)},
        {64, MCP_ALG_MASK_HMAC},
    };
    for (size_t i = 0; i < 4; i++) {
        json_t *j = json_pack("{s:s}", "kty", "oct");
        set_b64(j, "k", k, v[i].len);
        mcp_keyset *ks = NULL;
        ck_assert_int_eq(import_one(MCP_JWKS_ALLOW_OCT, j, &ks), MCPAUTH_OK);
        ck_assert_uint_eq(ks->keys[0].alg_mask, v[i].mask);
        mcp_keyset_unref(ks);
    }
    /* HS512 pinned on a 32-byte key: the key is too weak for the alg it claims. */
    json_t *j = json_pack("{s:s,s:s}", "kty", "oct", "alg", "HS512");
    set_b64(j, "k", k, 32);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(MCP_JWKS_ALLOW_OCT, j, &ks), MCPAUTH_E_CONFIG);
}
END_TEST

/* ---- PEM and secrets ---- */

START_TEST(pem_public_keys_import) {
    const tu_key *keys[] = {&rsa_k, &ec256_k, &ec384_k, &ec521_k, &ed_k};
    const mcp_kty kty[] = {MCP_KTY_RSA, MCP_KTY_EC, MCP_KTY_EC, MCP_KTY_EC, MCP_KTY_OKP};
    const unsigned mask[] = {ALL_RSA, MCP_ALG_BIT(MCP_ALG_ES256), MCP_ALG_BIT(MCP_ALG_ES384),
                             MCP_ALG_BIT(MCP_ALG_ES512), MCP_ALG_BIT(MCP_ALG_EDDSA)};
    for (int i = 0; i < 5; i++) {
        char *pem = tu_key_pem_public(keys[i]);
        mcp_keyset *ks = NULL;
        mcp_err err = {0};
        ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &ks, &err), MCPAUTH_OK);
        ck_assert_uint_eq(ks->n, 1);
        ck_assert_ptr_null(ks->keys[0].kid);
        ck_assert_int_eq(ks->keys[0].kty, kty[i]);
        ck_assert_uint_eq(ks->keys[0].alg_mask, mask[i]);
        mcp_keyset_unref(ks);
        free(pem);
    }
}
END_TEST

START_TEST(pem_rsa_1024_refused) {
    tu_key weak = {0};
    weak.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    ck_assert_ptr_nonnull(weak.pkey);
    char *pem = tu_key_pem_public(&weak);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    free(pem);
    tu_key_free(&weak);
}
END_TEST

START_TEST(pem_private_key_and_garbage_refused) {
    char *pem = tu_key_pem_private(&ec256_k);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &ks, &err), MCPAUTH_E_CONFIG);
    free(pem);
    const char *junk = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    ck_assert_int_eq(mcp_keyset_from_pem(junk, strlen(junk), &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_pem("", 0, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_pem("hello", 5, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
}
END_TEST

START_TEST(secret_import) {
    unsigned char s[64];
    memset(s, 7, sizeof s);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_secret(s, 31, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_secret(s, 0, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_secret(NULL, 32, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_secret(s, 32, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_BIT(MCP_ALG_HS256));
    ck_assert_int_eq(ks->keys[0].kty, MCP_KTY_OCT);
    mcp_keyset_unref(ks);
    ck_assert_int_eq(mcp_keyset_from_secret(s, 64, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->keys[0].alg_mask, MCP_ALG_MASK_HMAC);
    mcp_keyset_unref(ks);
}
END_TEST

/* ---- lookup and lifetime ---- */

START_TEST(candidates_exact_kid_and_alg) {
    json_t *b = jwk_of(&rsa_k);
    json_object_del(b, "alg");
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(import_set(0, &ks, &err, jwk_of(&ec256_k), b), MCPAUTH_OK);
    const mcp_key *c[4];
    ck_assert_uint_eq(mcp_keyset_candidates(ks, "ec-256", MCP_ALG_ES256, c, 4), 1);
    ck_assert_str_eq(c[0]->kid, "ec-256");
    ck_assert_uint_eq(mcp_keyset_candidates(ks, "ec-256", MCP_ALG_RS256, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, "EC-256", MCP_ALG_ES256, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, "ec-25", MCP_ALG_ES256, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, "ec-256 ", MCP_ALG_ES256, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, NULL, MCP_ALG_PS512, c, 4), 1);
    ck_assert_str_eq(c[0]->kid, "rsa-1");
    ck_assert_uint_eq(mcp_keyset_candidates(ks, NULL, MCP_ALG_HS256, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, NULL, MCP_ALG_UNKNOWN, c, 4), 0);
    ck_assert_uint_eq(mcp_keyset_candidates(ks, NULL, MCP_ALG_ES256, c, 0), 0);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(refcount) {
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(import_one(0, jwk_of(&ec256_k), &ks), MCPAUTH_OK);
    ck_assert_int_eq(atomic_load(&ks->refs), 1);
    mcp_keyset_ref(ks);
    mcp_keyset_ref(ks);
    ck_assert_int_eq(atomic_load(&ks->refs), 3);
    mcp_keyset_unref(ks);
    mcp_keyset_unref(ks);
    ck_assert_int_eq(atomic_load(&ks->refs), 1);
    mcp_keyset_unref(ks); /* freed: ASan/valgrind check the rest */
    mcp_keyset_unref(NULL);
    mcp_keyset_ref(NULL);
}
END_TEST

static Suite *jwk_suite(void) {
    Suite *s = suite_create("jwk");
    TCase *tc = tcase_create("core");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, rsa_2048_imports_with_alg_pinned);
    tcase_add_test(tc, rsa_without_alg_allows_rs_and_ps_only);
    tcase_add_test(tc, rsa_1024_refused);
    tcase_add_test(tc, rsa_2047_bit_modulus_refused);
    tcase_add_test(tc, rsa_e_1_refused);
    tcase_add_test(tc, rsa_e_even_or_zero_or_huge_refused);
    tcase_add_test(tc, rsa_e_3_accepted);
    tcase_add_test(tc, rsa_even_modulus_refused);
    tcase_add_test(tc, rsa_missing_or_bad_members_refused);
    tcase_add_test(tc, rsa_private_members_refused);
    tcase_add_test(tc, ec_curves_import_with_fixed_alg);
    tcase_add_test(tc, ec_off_curve_point_refused);
    tcase_add_test(tc, ec_point_at_origin_refused);
    tcase_add_test(tc, ec_short_coordinate_refused);
    tcase_add_test(tc, ec_long_coordinate_refused);
    tcase_add_test(tc, ec_wrong_crv_for_coordinates_refused);
    tcase_add_test(tc, ec_missing_crv_refused);
    tcase_add_test(tc, ec_private_d_refused);
    tcase_add_test(tc, ec_unsupported_curve_skipped);
    tcase_add_test(tc, alg_crv_mismatch_refused);
    tcase_add_test(tc, unknown_or_none_alg_refused);
    tcase_add_test(tc, wrong_kty_for_members_refused);
    tcase_add_test(tc, unknown_kty_skipped);
    tcase_add_test(tc, ed25519_imports);
    tcase_add_test(tc, ed25519_wrong_length_refused);
    tcase_add_test(tc, okp_x25519_skipped);
    tcase_add_test(tc, use_enc_skipped);
    tcase_add_test(tc, key_ops_without_verify_skipped);
    tcase_add_test(tc, use_or_key_ops_wrong_type_refused);
    tcase_add_test(tc, duplicate_kid_refused);
    tcase_add_test(tc, keys_without_kid_are_not_duplicates);
    tcase_add_test(tc, mixed_symmetric_asymmetric_set_refused);
    tcase_add_test(tc, too_many_keys_refused);
    tcase_add_test(tc, jwks_shape_refused);
    tcase_add_test(tc, jwks_text_round_trip);
    tcase_add_test(tc, kid_wrong_type_refused);
    tcase_add_test(tc, oct_requires_allow_flag);
    tcase_add_test(tc, oct_short_refused);
    tcase_add_test(tc, oct_mask_follows_key_length);
    tcase_add_test(tc, pem_public_keys_import);
    tcase_add_test(tc, pem_rsa_1024_refused);
    tcase_add_test(tc, pem_private_key_and_garbage_refused);
    tcase_add_test(tc, secret_import);
    tcase_add_test(tc, candidates_exact_kid_and_alg);
    tcase_add_test(tc, refcount);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(jwk_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
