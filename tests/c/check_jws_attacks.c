/* check_jws_attacks.c - one named test per JWS-layer attack of the catalogue in
 * ../shared/reference/jose-and-c-anchors.md section 4, each asserting the exact error code. */
#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/b64url.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "tokens.h"

#define CAP 16384
#define ALLOW_ALL ((1u << MCP_ALG_COUNT) - 2u)
#define CLAIMS "{\"sub\":\"alice\",\"exp\":4102444800}"

static tu_key rs, ps, es256, es384, es512, ed, hs, hs512;
static mcp_keyset *asym_ks; /* rs (RS256 pinned), ps (PS256 pinned), es*, ed */
static mcp_keyset *hs_ks;   /* hs (HS256), hs512 (HS512) */

static mcp_keyset *keyset_of(const tu_key *const *keys, size_t n, unsigned flags) {
    char *text = tu_jwks(keys, n);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    int rc = mcp_keyset_from_jwks_text(text, strlen(text), flags, 0, &ks, &err);
    ck_assert_msg(rc == MCPAUTH_OK, "keyset: %s", err.msg);
    free(text);
    return ks;
}

static void setup(void) {
    tu_key_gen(&rs, "RS256", "rs");
    tu_key_gen(&ps, "PS256", "ps");
    tu_key_gen(&es256, "ES256", "es256");
    tu_key_gen(&es384, "ES384", "es384");
    tu_key_gen(&es512, "ES512", "es512");
    tu_key_gen(&ed, "EdDSA", "ed");
    tu_key_gen(&hs, "HS256", "hs");
    tu_key_gen(&hs512, "HS512", "hs512");
    const tu_key *a[] = {&rs, &ps, &es256, &es384, &es512, &ed};
    asym_ks = keyset_of(a, 6, 0);
    const tu_key *h[] = {&hs, &hs512};
    hs_ks = keyset_of(h, 2, MCP_JWKS_ALLOW_OCT);
}

static void teardown(void) {
    mcp_keyset_unref(asym_ks);
    mcp_keyset_unref(hs_ks);
    tu_key *all[] = {&rs, &ps, &es256, &es384, &es512, &ed, &hs, &hs512};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) tu_key_free(all[i]);
}

/* Parses and verifies; returns the first failing code (or MCPAUTH_OK). */
static int check_len(const char *tok, size_t len, const mcp_keyset *ks, unsigned allowed,
                     unsigned flags, size_t cap) {
    mcp_jws j;
    mcp_err err = {0};
    int rc = mcp_jws_parse(tok, len, cap, flags, &j, &err);
    if (rc != MCPAUTH_OK) {
        ck_assert_int_eq(err.code, rc);
        ck_assert_ptr_null(j.header); /* nothing left behind on failure */
        ck_assert_ptr_null(j.sig);
        return rc;
    }
    rc = mcp_jws_verify(&j, ks, allowed, &err);
    if (rc != MCPAUTH_OK) ck_assert_int_eq(err.code, rc);
    mcp_jws_clear(&j);
    return rc;
}

static int check(const char *tok, const mcp_keyset *ks) {
    return check_len(tok, strlen(tok), ks, ALLOW_ALL, 0, CAP);
}

/* b64url(header) "." b64url(payload) "." sig_b64 from raw bytes (no signing). */
static char *assemble(const char *h, size_t hl, const char *p, size_t pl, const char *sig_b64) {
    size_t a, b;
    char *eh = mcp_b64url_encode((const unsigned char *)h, hl, &a);
    char *ep = mcp_b64url_encode((const unsigned char *)p, pl, &b);
    size_t n = a + b + strlen(sig_b64) + 3;
    char *out = malloc(n);
    snprintf(out, n, "%s.%s.%s", eh, ep, sig_b64);
    free(eh);
    free(ep);
    return out;
}

/* Replaces the signature segment of tok with raw bytes sig. */
static char *with_sig(const char *tok, const unsigned char *sig, size_t sig_len) {
    const char *d = strrchr(tok, '.');
    size_t pre = (size_t)(d - tok) + 1, sl;
    char *s = mcp_b64url_encode(sig, sig_len, &sl);
    char *out = malloc(pre + sl + 1);
    memcpy(out, tok, pre);
    memcpy(out + pre, s, sl + 1);
    free(s);
    return out;
}

/* Decoded signature of tok (malloc'd). */
static unsigned char *sig_of(const char *tok, size_t *len) {
    const char *d = strrchr(tok, '.');
    unsigned char *out = NULL;
    ck_assert_int_eq(mcp_b64url_decode(d + 1, strlen(d + 1), &out, len), 0);
    return out;
}

static char *hdr(const tu_key *k, const char *extra) {
    char *s = malloc(512);
    snprintf(s, 512, "{\"alg\":\"%s\",\"kid\":\"%s\"%s%s}", k->alg, k->kid, extra ? "," : "",
             extra ? extra : "");
    return s;
}

static char *sign_extra(const tu_key *k, const char *extra_header) {
    char *h = hdr(k, extra_header);
    char *t = tu_sign(k, h, CLAIMS);
    free(h);
    return t;
}

/* ---- baseline ------------------------------------------------------------------------------ */

START_TEST(baseline_every_alg_verifies_and_bit_flip_fails) {
    const tu_key *keys[] = {&rs, &ps, &es256, &es384, &es512, &ed, &hs, &hs512};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const mcp_keyset *ks = keys[i]->pkey ? asym_ks : hs_ks;
        char *t = tu_sign_claims(keys[i], CLAIMS);
        ck_assert_msg(check(t, ks) == MCPAUTH_OK, "%s valid token refused", keys[i]->alg);
        size_t sl;
        unsigned char *sig = sig_of(t, &sl);
        sig[sl / 2] ^= 0x01;
        char *bad = with_sig(t, sig, sl);
        ck_assert_msg(check(bad, ks) == MCPAUTH_E_BAD_SIGNATURE, "%s flipped accepted",
                      keys[i]->alg);
        free(bad);
        free(sig);
        free(t);
    }
}
END_TEST

START_TEST(parse_exposes_header_fields) {
    char *t = sign_extra(&rs, "\"typ\":\"at+jwt\"");
    mcp_jws j;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_jws_parse(t, strlen(t), CAP, 0, &j, &err), MCPAUTH_OK);
    ck_assert_int_eq(j.alg, MCP_ALG_RS256);
    ck_assert_str_eq(j.kid, "rs");
    ck_assert_str_eq(j.typ, "at+jwt");
    ck_assert_str_eq(json_string_value(json_object_get(j.payload, "sub")), "alice");
    ck_assert_uint_eq(j.payload_raw_len, strlen(CLAIMS));
    ck_assert_int_eq(memcmp(j.payload_raw, CLAIMS, j.payload_raw_len), 0);
    ck_assert_uint_eq(j.sig_len, 256);
    ck_assert_ptr_eq(j.signing_input, t);
    ck_assert_uint_eq(j.signing_input_len, (size_t)(strrchr(t, '.') - t));
    mcp_jws_clear(&j);
    mcp_jws_clear(&j); /* idempotent */
    free(t);
}
END_TEST

/* ---- alg none ------------------------------------------------------------------------------ */

START_TEST(alg_none_every_case_and_signature) {
    const char *names[] = {"none", "None", "NONE", "nOnE", "NoNe", "nonE"};
    char *real = tu_sign_claims(&rs, CLAIMS);
    const char *sigs[] = {"", "c2lnbmF0dXJl", strrchr(real, '.') + 1};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (size_t s = 0; s < 3; s++) {
            char h[128];
            snprintf(h, sizeof h, "{\"alg\":\"%s\",\"kid\":\"rs\"}", names[i]);
            char *t = assemble(h, strlen(h), CLAIMS, strlen(CLAIMS), sigs[s]);
            ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_ALG_NOT_ALLOWED, "%s/%zu", names[i], s);
            ck_assert_int_eq(check(t, hs_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
            free(t);
        }
    }
    free(real);
}
END_TEST

START_TEST(unknown_and_miscased_alg_refused) {
    const char *names[] = {"rs256", "Rs256", "RS256 ",       " RS256", "HS1",     "ES256K",
                           "RS1",   "",      "PS256\\u0000", "EDDSA",  "Ed25519", "HS256\\n"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "{\"alg\":\"%s\"}", names[i]);
        char *t = assemble(h, strlen(h), CLAIMS, strlen(CLAIMS), "c2ln");
        int rc = check(t, asym_ks);
        /* "\u0000" is refused by the strict JSON parser before alg is looked at. */
        if (strstr(names[i], "u0000"))
            ck_assert_int_eq(rc, MCPAUTH_E_TOKEN_MALFORMED);
        else
            ck_assert_msg(rc == MCPAUTH_E_ALG_NOT_ALLOWED, "alg \"%s\" gave %d", names[i], rc);
        free(t);
    }
}
END_TEST

START_TEST(alg_missing_or_not_string_refused) {
    const char *hdrs[] = {"{\"kid\":\"rs\"}", "{\"alg\":256}", "{\"alg\":null}",
                          "{\"alg\":[\"RS256\"]}", "{\"alg\":{\"name\":\"RS256\"}}"};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        char *t = assemble(hdrs[i], strlen(hdrs[i]), CLAIMS, strlen(CLAIMS), "c2ln");
        ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_TOKEN_HEADER, "%s", hdrs[i]);
        free(t);
    }
}
END_TEST

/* ---- algorithm confusion ---------------------------------------------------------------- */

START_TEST(hs256_signed_with_rsa_public_key_confusion) {
    /* The attacker MACs with the server's public key (PEM text, and raw modulus bytes). */
    char *pem = tu_key_pem_public(&rs);
    tu_key forged = {0};
    snprintf(forged.alg, sizeof forged.alg, "HS256");
    size_t pl = strlen(pem);
    forged.secret_len = pl < sizeof forged.secret ? pl : sizeof forged.secret;
    memcpy(forged.secret, pem, forged.secret_len);
    char *t = tu_sign(&forged, "{\"alg\":\"HS256\",\"kid\":\"rs\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    /* Same without kid: no key of the set allows HS256. */
    t = tu_sign(&forged, "{\"alg\":\"HS256\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    /* A PEM-configured key (no kid, RS*|PS* allowed) refuses it as well. */
    mcp_keyset *pks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_pem(pem, pl, &pks, &err), MCPAUTH_OK);
    t = tu_sign(&forged, "{\"alg\":\"HS256\"}", CLAIMS);
    ck_assert_int_eq(check(t, pks), MCPAUTH_E_ALG_NOT_ALLOWED);
    /* And the primitive refuses to use RSA material as an HMAC key. */
    const unsigned char x[1] = {0};
    ck_assert_int_eq(mcp_sig_verify(MCP_ALG_HS256, &pks->keys[0], x, 1, x, 1), -1);
    free(t);
    mcp_keyset_unref(pks);
    free(pem);
}
END_TEST

START_TEST(rs512_token_vs_rs256_pinned_key_downgrade) {
    tu_key rs512 = rs; /* same private key, other hash */
    snprintf(rs512.alg, sizeof rs512.alg, "RS512");
    char *t = tu_sign(&rs512, "{\"alg\":\"RS512\",\"kid\":\"rs\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    /* The same signature is fine for a key that is not pinned. */
    char *pem = tu_key_pem_public(&rs);
    mcp_keyset *pks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &pks, &err), MCPAUTH_OK);
    ck_assert_int_eq(check(t, pks), MCPAUTH_OK);
    /* ... unless the policy allow-list pins RS256. */
    ck_assert_int_eq(check_len(t, strlen(t), pks, MCP_ALG_BIT(MCP_ALG_RS256), 0, CAP),
                     MCPAUTH_E_ALG_NOT_ALLOWED);
    mcp_keyset_unref(pks);
    free(pem);
    free(t);
}
END_TEST

START_TEST(ps_token_vs_rs_pinned_key_and_policy_allow_list) {
    tu_key ps_rs = rs;
    snprintf(ps_rs.alg, sizeof ps_rs.alg, "PS256");
    char *t = tu_sign(&ps_rs, "{\"alg\":\"PS256\",\"kid\":\"rs\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    char *ok = tu_sign_claims(&es256, CLAIMS);
    ck_assert_int_eq(check_len(ok, strlen(ok), asym_ks, MCP_ALG_BIT(MCP_ALG_RS256), 0, CAP),
                     MCPAUTH_E_ALG_NOT_ALLOWED);
    ck_assert_int_eq(check_len(ok, strlen(ok), asym_ks, MCP_ALG_BIT(MCP_ALG_ES256), 0, CAP),
                     MCPAUTH_OK);
    free(ok);
}
END_TEST

START_TEST(es256_token_vs_p384_key) {
    /* Signed by the P-384 key (96-byte r||s) under a header claiming ES256 and its kid. */
    char *t = tu_sign(&es384, "{\"alg\":\"ES256\",\"kid\":\"es384\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    const mcp_key *c[2];
    ck_assert_uint_eq(mcp_keyset_candidates(asym_ks, "es384", MCP_ALG_ES384, c, 2), 1);
    unsigned char sig[64] = {1};
    ck_assert_int_eq(mcp_sig_verify(MCP_ALG_ES256, c[0], sig, 1, sig, 64), -1);
}
END_TEST

/* ---- kid ----------------------------------------------------------------------------------- */

START_TEST(kid_injection_strings_are_opaque) {
    const char *kids[] = {"../../dev/null",
                          "/etc/passwd",
                          "' OR '1'='1' --",
                          "rs' UNION SELECT 'secret",
                          "$(id)",
                          "rs\\nrs",
                          "%2e%2e%2f",
                          "rs\\u00e9",
                          "RS",
                          "rs ",
                          " rs",
                          "r"};
    for (size_t i = 0; i < sizeof kids / sizeof kids[0]; i++) {
        char h[160];
        snprintf(h, sizeof h, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kids[i]);
        char *t = tu_sign(&rs, h, CLAIMS);
        ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_KEY_NOT_FOUND, "kid %s", kids[i]);
        free(t);
    }
    /* A key whose kid really is "../../dev/null" matches by plain equality, nothing more. */
    tu_key odd = rs;
    snprintf(odd.kid, sizeof odd.kid, "../../dev/null");
    const tu_key *one[] = {&odd};
    mcp_keyset *ks = keyset_of(one, 1, 0);
    char *t = tu_sign_claims(&odd, CLAIMS);
    ck_assert_int_eq(check(t, ks), MCPAUTH_OK);
    free(t);
    mcp_keyset_unref(ks);
}
END_TEST

START_TEST(kid_length_and_type_bounded) {
    char kid[300];
    memset(kid, 'k', sizeof kid);
    kid[256] = '\0';
    char h[400];
    snprintf(h, sizeof h, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    char *t = tu_sign(&rs, h, CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_KEY_NOT_FOUND); /* 256: allowed, unknown */
    free(t);
    kid[256] = 'k';
    kid[257] = '\0';
    snprintf(h, sizeof h, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    t = tu_sign(&rs, h, CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_HEADER); /* 257: refused */
    free(t);
    const char *bad[] = {"1", "null", "true", "[\"rs\"]", "{\"k\":\"rs\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(h, sizeof h, "{\"alg\":\"RS256\",\"kid\":%s}", bad[i]);
        t = tu_sign(&rs, h, CLAIMS);
        ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_TOKEN_HEADER, "kid %s", bad[i]);
        free(t);
    }
}
END_TEST

START_TEST(kid_hint_falls_back_to_kidless_configured_key) {
    /* A PEM key has no kid; tokens from its issuer often carry one anyway. */
    char *pem = tu_key_pem_public(&es256);
    mcp_keyset *pks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &pks, &err), MCPAUTH_OK);
    char *t = tu_sign_claims(&es256, CLAIMS);
    ck_assert_int_eq(check(t, pks), MCPAUTH_OK);
    free(t);
    /* ... but a kid naming a key of the set never falls back to other keys. */
    t = tu_sign(&es256, "{\"alg\":\"ES256\",\"kid\":\"es384\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    t = tu_sign(&es256, "{\"alg\":\"ES256\",\"kid\":\"ps\"}", CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    mcp_keyset_unref(pks);
    free(pem);
}
END_TEST

/* ---- header injection ------------------------------------------------------------------- */

static void expect_header_refused(const char *extra) {
    char *t = sign_extra(&rs, extra);
    ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_TOKEN_HEADER, "header %s", extra);
    free(t);
}

START_TEST(jku_header_refused) {
    expect_header_refused("\"jku\":\"https://attacker.example/jwks.json\"");
    expect_header_refused("\"jku\":null");
}
END_TEST

START_TEST(x5u_header_refused) { expect_header_refused("\"x5u\":\"https://attacker.example/c\""); }
END_TEST

START_TEST(embedded_jwk_header_refused) {
    /* The attacker signs with their own key and embeds its public JWK. */
    tu_key evil;
    tu_key_gen(&evil, "RS256", "rs");
    char *jwk = tu_key_jwk(&evil);
    size_t n = strlen(jwk) + 64;
    char *h = malloc(n);
    snprintf(h, n, "{\"alg\":\"RS256\",\"kid\":\"rs\",\"jwk\":%s}", jwk);
    char *t = tu_sign(&evil, h, CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_HEADER);
    free(t);
    free(h);
    free(jwk);
    tu_key_free(&evil);
}
END_TEST

START_TEST(x5c_header_refused) { expect_header_refused("\"x5c\":[\"MIIB\"]"); }
END_TEST

START_TEST(crit_refused) {
    expect_header_refused("\"crit\":[\"exp\"]");
    expect_header_refused("\"crit\":[]");
    expect_header_refused("\"crit\":[\"b64\"],\"b64\":true");
    expect_header_refused("\"crit\":\"nonsense\"");
}
END_TEST

START_TEST(b64_false_refused) {
    expect_header_refused("\"b64\":false,\"crit\":[\"b64\"]");
    expect_header_refused("\"b64\":false");
    expect_header_refused("\"b64\":\"false\"");
    expect_header_refused("\"b64\":0");
}
END_TEST

START_TEST(cty_jwt_nested_refused) {
    expect_header_refused("\"cty\":\"JWT\"");
    expect_header_refused("\"cty\":\"jwt\"");
    expect_header_refused("\"cty\":\"Jwt\"");
    expect_header_refused("\"cty\":5");
    char *t = sign_extra(&rs, "\"cty\":\"application/example\"");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_OK);
    free(t);
}
END_TEST

START_TEST(typ_not_string_refused) {
    expect_header_refused("\"typ\":1");
    expect_header_refused("\"typ\":null");
}
END_TEST

/* ---- ECDSA ----------------------------------------------------------------------------------- */

static const unsigned char p256_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

START_TEST(psychic_signature_r_s_zero) {
    const tu_key *keys[] = {&es256, &es384, &es512};
    const size_t lens[] = {64, 96, 132};
    for (int i = 0; i < 3; i++) {
        char *t = tu_sign_claims(keys[i], CLAIMS);
        unsigned char zero[132] = {0};
        char *bad = with_sig(t, zero, lens[i]);
        ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
        free(bad);
        /* r valid, s = 0 and r = 0, s valid */
        size_t sl;
        unsigned char *sig = sig_of(t, &sl);
        memset(sig + sl / 2, 0, sl / 2);
        bad = with_sig(t, sig, sl);
        ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
        free(bad);
        free(sig);
        sig = sig_of(t, &sl);
        memset(sig, 0, sl / 2);
        bad = with_sig(t, sig, sl);
        ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
        free(bad);
        free(sig);
        free(t);
    }
}
END_TEST

START_TEST(ecdsa_r_or_s_at_or_above_order_refused) {
    char *t = tu_sign_claims(&es256, CLAIMS);
    size_t sl;
    unsigned char *sig = sig_of(t, &sl);
    ck_assert_uint_eq(sl, 64);
    unsigned char v[64];
    /* r = n */
    memcpy(v, p256_n, 32);
    memcpy(v + 32, sig + 32, 32);
    char *bad = with_sig(t, v, 64);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    /* s = n */
    memcpy(v, sig, 32);
    memcpy(v + 32, p256_n, 32);
    bad = with_sig(t, v, 64);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    /* r = s = 2^256 - 1 */
    memset(v, 0xff, 64);
    bad = with_sig(t, v, 64);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    /* High-S (s' = n - s) is the other valid signature: accepted, as Wycheproof requires. */
    memcpy(v, sig, 32);
    unsigned borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = (int)p256_n[i] - (int)sig[32 + i] - (int)borrow;
        borrow = d < 0;
        v[32 + i] = (unsigned char)(d + (borrow ? 256 : 0));
    }
    bad = with_sig(t, v, 64);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_OK);
    free(bad);
    free(sig);
    free(t);
}
END_TEST

START_TEST(ecdsa_wrong_signature_length_refused) {
    char *t = tu_sign_claims(&es256, CLAIMS);
    size_t sl;
    unsigned char *sig = sig_of(t, &sl);
    unsigned char buf[200] = {0};
    /* one byte short / long, leading zero, doubled, and the DER form OpenSSL would take */
    size_t lens[] = {63, 65, 128, 1, 32};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, sig, lens[i] < sl ? lens[i] : sl);
        char *bad = with_sig(t, buf, lens[i]);
        ck_assert_msg(check(bad, asym_ks) == MCPAUTH_E_BAD_SIGNATURE, "len %zu", lens[i]);
        free(bad);
    }
    buf[0] = 0;
    memcpy(buf + 1, sig, 64);
    char *bad = with_sig(t, buf, 65);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    /* DER SEQUENCE { INTEGER r, INTEGER s } with both high bits clear is at most 70 bytes. */
    unsigned char der[80];
    size_t dl = 0;
    der[dl++] = 0x30;
    der[dl++] = 0;
    der[dl++] = 0x02;
    der[dl++] = 33;
    der[dl++] = 0;
    memcpy(der + dl, sig, 32);
    dl += 32;
    der[dl++] = 0x02;
    der[dl++] = 33;
    der[dl++] = 0;
    memcpy(der + dl, sig + 32, 32);
    dl += 32;
    der[1] = (unsigned char)(dl - 2);
    bad = with_sig(t, der, dl);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    free(sig);
    free(t);
}
END_TEST

/* ---- RSA ------------------------------------------------------------------------------------- */

START_TEST(rsa_e1_and_1024_bit_keys_refused) {
    json_error_t je;
    char *jwk = tu_key_jwk(&rs);
    json_t *j = json_loads(jwk, 0, &je);
    json_object_set_new(j, "e", json_string("AQ"));
    json_t *set = json_pack("{s:[O]}", "keys", j);
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_keyset_from_jwks(set, 0, 0, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    json_decref(set);
    json_decref(j);
    free(jwk);

    tu_key weak = {0};
    weak.pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    snprintf(weak.alg, sizeof weak.alg, "RS256");
    snprintf(weak.kid, sizeof weak.kid, "weak");
    char *pem = tu_key_pem_public(&weak);
    ck_assert_int_eq(mcp_keyset_from_pem(pem, strlen(pem), &ks, &err), MCPAUTH_E_CONFIG);
    jwk = tu_jwks((const tu_key *const[]){&weak}, 1);
    ck_assert_int_eq(mcp_keyset_from_jwks_text(jwk, strlen(jwk), 0, 0, &ks, &err),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(ks);
    free(jwk);
    free(pem);
    tu_key_free(&weak);
}
END_TEST

START_TEST(rsa_signature_length_must_equal_modulus) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    size_t sl;
    unsigned char *sig = sig_of(t, &sl);
    ck_assert_uint_eq(sl, 256);
    unsigned char buf[300] = {0};
    memcpy(buf + 1, sig, 256); /* leading zero: same integer, 257 bytes */
    char *bad = with_sig(t, buf, 257);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    bad = with_sig(t, sig, 255);
    ck_assert_int_eq(check(bad, asym_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    free(sig);
    free(t);
}
END_TEST

/* ---- HMAC ------------------------------------------------------------------------------------ */

START_TEST(weak_or_empty_hmac_key_refused) {
    mcp_keyset *ks = NULL;
    mcp_err err = {0};
    unsigned char k[32] = {0};
    ck_assert_int_eq(mcp_keyset_from_secret(k, 0, &ks, &err), MCPAUTH_E_CONFIG);
    ck_assert_int_eq(mcp_keyset_from_secret(k, 31, &ks, &err), MCPAUTH_E_CONFIG);
    const char *empty = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"\",\"alg\":\"HS256\"}]}";
    ck_assert_int_eq(
        mcp_keyset_from_jwks_text(empty, strlen(empty), MCP_JWKS_ALLOW_OCT, 0, &ks, &err),
        MCPAUTH_E_CONFIG);
    /* A token MACed with the empty key never verifies against a real key. */
    tu_key e = {0};
    snprintf(e.alg, sizeof e.alg, "HS256");
    char *t = tu_sign(&e, "{\"alg\":\"HS256\",\"kid\":\"hs\"}", CLAIMS);
    ck_assert_int_eq(check(t, hs_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(t);
    /* HS512 against a 32-byte key: the key is shorter than the hash. */
    tu_key hs_as_512 = hs;
    snprintf(hs_as_512.alg, sizeof hs_as_512.alg, "HS512");
    t = tu_sign(&hs_as_512, "{\"alg\":\"HS512\",\"kid\":\"hs\"}", CLAIMS);
    ck_assert_int_eq(check(t, hs_ks), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
}
END_TEST

START_TEST(hmac_truncated_or_extended_mac_refused) {
    char *t = tu_sign_claims(&hs, CLAIMS);
    size_t sl;
    unsigned char *sig = sig_of(t, &sl);
    ck_assert_uint_eq(sl, 32);
    for (size_t n = 1; n < 32; n += 7) {
        char *bad = with_sig(t, sig, n);
        ck_assert_int_eq(check(bad, hs_ks), MCPAUTH_E_BAD_SIGNATURE);
        free(bad);
    }
    unsigned char longer[33];
    memcpy(longer, sig, 32);
    longer[32] = 0;
    char *bad = with_sig(t, longer, 33);
    ck_assert_int_eq(check(bad, hs_ks), MCPAUTH_E_BAD_SIGNATURE);
    free(bad);
    free(sig);
    free(t);
}
END_TEST

/* ---- structure ------------------------------------------------------------------------------- */

START_TEST(empty_signature_refused) {
    const tu_key *keys[] = {&rs, &es256, &ed, &hs};
    for (int i = 0; i < 4; i++) {
        char *t = tu_sign_claims(keys[i], CLAIMS);
        *(strrchr(t, '.') + 1) = '\0';
        ck_assert_int_eq(check(t, keys[i]->pkey ? asym_ks : hs_ks), MCPAUTH_E_TOKEN_MALFORMED);
        free(t);
    }
}
END_TEST

START_TEST(duplicate_json_keys_in_header_refused) {
    const char *hdrs[] = {"{\"alg\":\"none\",\"alg\":\"RS256\",\"kid\":\"rs\"}",
                          "{\"alg\":\"RS256\",\"alg\":\"RS256\",\"kid\":\"rs\"}",
                          "{\"alg\":\"RS256\",\"kid\":\"rs\",\"kid\":\"ps\"}"};
    for (int i = 0; i < 3; i++) {
        char *t = tu_sign(&rs, hdrs[i], CLAIMS);
        ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_TOKEN_MALFORMED, "%s", hdrs[i]);
        free(t);
    }
}
END_TEST

START_TEST(duplicate_json_keys_in_payload_refused) {
    char *t =
        tu_sign(&rs, "{\"alg\":\"RS256\",\"kid\":\"rs\"}", "{\"sub\":\"alice\",\"sub\":\"admin\"}");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    t = tu_sign(&rs, "{\"alg\":\"RS256\",\"kid\":\"rs\"}",
                "{\"a\":{\"role\":\"user\",\"role\":\"admin\"}}");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
}
END_TEST

START_TEST(embedded_nul_and_trailing_data_refused) {
    static const char h_ok[] = "{\"alg\":\"RS256\",\"kid\":\"rs\"}";
    char h_nul[] = "{\"alg\":\"RS256\",\"kid\":\"rs\"}\0";
    char h_nul_in[] = "{\"alg\":\"RS256\",\"kid\":\"r\0s\"}";
    const char *p_ok = CLAIMS;
    char *t;
    t = assemble(h_nul, sizeof h_nul - 1, p_ok, strlen(p_ok), "c2ln"); /* NUL after object */
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    t = assemble(h_nul_in, sizeof h_nul_in - 1, p_ok, strlen(p_ok), "c2ln");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    const char *h_esc = "{\"alg\":\"RS256\",\"kid\":\"rs\\u0000x\"}";
    t = assemble(h_esc, strlen(h_esc), p_ok, strlen(p_ok), "c2ln");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    const char *h_trail = "{\"alg\":\"RS256\",\"kid\":\"rs\"} {}";
    t = assemble(h_trail, strlen(h_trail), p_ok, strlen(p_ok), "c2ln");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    char p_nul[] = "{\"sub\":\"alice\"}\0{\"sub\":\"admin\"}";
    t = assemble(h_ok, strlen(h_ok), p_nul, sizeof p_nul - 1, "c2ln");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* A correctly signed token whose payload has trailing data is still refused. */
    t = tu_sign(&rs, h_ok, "{\"sub\":\"alice\"}x");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* A NUL byte inside the token text itself. */
    t = tu_sign_claims(&rs, CLAIMS);
    size_t len = strlen(t);
    t[10] = '\0';
    ck_assert_int_eq(check_len(t, len, asym_ks, ALLOW_ALL, 0, CAP), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* Invalid UTF-8 in the header. */
    const char *h_utf = "{\"alg\":\"RS256\",\"kid\":\"\xc3\x28\"}";
    t = assemble(h_utf, strlen(h_utf), p_ok, strlen(p_ok), "c2ln");
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
}
END_TEST

START_TEST(non_canonical_base64url_refused) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    size_t len = strlen(t);
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char buf[2048];
    /* padding appended to each segment */
    const char *pads[] = {"=", "=="};
    for (int p = 0; p < 2; p++) {
        snprintf(buf, sizeof buf, "%.*s%s%.*s%s%s%s", (int)(d1 - t), t, pads[p], (int)(d2 - d1), d1,
                 pads[p], d2, "");
        ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
        snprintf(buf, sizeof buf, "%s%s", t, pads[p]);
        ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    }
    /* standard alphabet and whitespace */
    const char *subs[] = {"+", "/", " ", "\n", "\t", "%"};
    for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
        memcpy(buf, t, len + 1);
        buf[(size_t)(d2 - t) + 5] = subs[s][0];
        ck_assert_msg(check(buf, asym_ks) == MCPAUTH_E_TOKEN_MALFORMED, "sub '%s'", subs[s]);
        memcpy(buf, t, len + 1);
        buf[3] = subs[s][0];
        ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    }
    /* Non-zero unused bits: a 256-byte signature leaves 4 unused bits in its last char. */
    memcpy(buf, t, len + 1);
    char last = buf[len - 1];
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    buf[len - 1] = alpha[(strchr(alpha, last) - alpha) + 1];
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    /* Length % 4 == 1 in a segment. */
    snprintf(buf, sizeof buf, "%sAAA", t); /* 342 + 3 chars */
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
}
END_TEST

START_TEST(huge_token_over_cap_refused_before_parsing) {
    char *t = malloc(CAP + 2);
    memset(t, 'A', CAP + 1);
    t[10] = '.';
    t[20] = '.';
    t[CAP + 1] = '\0';
    ck_assert_int_eq(check_len(t, CAP + 1, asym_ks, ALLOW_ALL, 0, CAP), MCPAUTH_E_TOKEN_TOO_LARGE);
    ck_assert_int_eq(check_len(t, CAP, asym_ks, ALLOW_ALL, 0, CAP), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* max_len 0 means the library default (16 KiB) */
    char big[16385];
    memset(big, 'A', sizeof big);
    ck_assert_int_eq(check_len(big, sizeof big, asym_ks, ALLOW_ALL, 0, 0),
                     MCPAUTH_E_TOKEN_TOO_LARGE);
}
END_TEST

START_TEST(huge_token_64mib_refused_fast) {
    size_t n = (size_t)64 << 20;
    char *t = malloc(n);
    ck_assert_ptr_nonnull(t);
    memset(t, '.', n); /* many dots too: the cap comes first */
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = check_len(t, n, asym_ks, ALLOW_ALL, 0, CAP);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ck_assert_int_eq(rc, MCPAUTH_E_TOKEN_TOO_LARGE);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    ck_assert_msg(ms < 5.0, "64 MiB token took %.3f ms to refuse", ms);
    free(t);
}
END_TEST

START_TEST(many_dots_refused) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    const char *forms[] = {"a.b", "a", ".", "..", "...", "a.b.c.d", "a..b.c", "....."};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        ck_assert_msg(check(forms[i], asym_ks) == MCPAUTH_E_TOKEN_MALFORMED, "%s", forms[i]);
    char buf[2048];
    snprintf(buf, sizeof buf, "%s.", t);
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "%s.%s", t, strrchr(t, '.') + 1);
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    char *dots = malloc(CAP);
    memset(dots, '.', CAP);
    ck_assert_int_eq(check_len(dots, CAP, asym_ks, ALLOW_ALL, 0, CAP), MCPAUTH_E_TOKEN_MALFORMED);
    free(dots);
    ck_assert_int_eq(check_len(NULL, 0, asym_ks, ALLOW_ALL, 0, CAP), MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_int_eq(check("", asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
}
END_TEST

START_TEST(nesting_depth_bomb_refused) {
    /* 33 levels inside the payload object (34 with it): over the cap of 32. */
    char p[512];
    size_t o = 0;
    o += (size_t)snprintf(p, sizeof p, "{\"x\":");
    for (int i = 0; i < 33; i++) p[o++] = '[';
    for (int i = 0; i < 33; i++) p[o++] = ']';
    p[o++] = '}';
    p[o] = '\0';
    char *t = tu_sign(&rs, "{\"alg\":\"RS256\",\"kid\":\"rs\"}", p);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* 32 levels in all is fine. */
    o = (size_t)snprintf(p, sizeof p, "{\"x\":");
    for (int i = 0; i < 31; i++) p[o++] = '[';
    for (int i = 0; i < 31; i++) p[o++] = ']';
    p[o++] = '}';
    p[o] = '\0';
    t = tu_sign(&rs, "{\"alg\":\"RS256\",\"kid\":\"rs\"}", p);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_OK);
    free(t);
    /* Same bomb in the header. */
    o = (size_t)snprintf(p, sizeof p, "{\"alg\":\"RS256\",\"kid\":\"rs\",\"x\":");
    for (int i = 0; i < 40; i++)
        p[o++] = '{', p[o++] = '"', p[o++] = 'a', p[o++] = '"', p[o++] = ':';
    p[o++] = '1';
    for (int i = 0; i < 41; i++) p[o++] = '}';
    p[o] = '\0';
    t = tu_sign(&rs, p, CLAIMS);
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* A 1 MiB bomb with a raised size cap: refused by the depth scan, quickly. */
    size_t n = (size_t)1 << 20;
    char *bomb = malloc(n + 1);
    memset(bomb, '[', n);
    bomb[n] = '\0';
    char *big = assemble("{\"alg\":\"RS256\"}", 15, bomb, n, "c2ln");
    ck_assert_int_eq(check_len(big, strlen(big), asym_ks, ALLOW_ALL, 0, 4 * n),
                     MCPAUTH_E_TOKEN_MALFORMED);
    free(big);
    free(bomb);
}
END_TEST

START_TEST(jwe_five_segments_refused) {
    const char *jwe = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6"
                      "DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYI"
                      "zOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji.XFBoMYUZodetZdvTiFvSkQ";
    ck_assert_int_eq(check(jwe, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
}
END_TEST

START_TEST(json_serialization_refused) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char buf[2048];
    snprintf(
        buf, sizeof buf,
        "{\"payload\":\"%.*s\",\"signatures\":[{\"protected\":\"%.*s\",\"signature\":\"%s\"}]}",
        (int)(d2 - d1 - 1), d1 + 1, (int)(d1 - t), t, d2 + 1);
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    snprintf(buf, sizeof buf, "{\"payload\":\"%.*s\",\"protected\":\"%.*s\",\"signature\":\"%s\"}",
             (int)(d2 - d1 - 1), d1 + 1, (int)(d1 - t), t, d2 + 1);
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
}
END_TEST

START_TEST(detached_payload_refused) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s.%s", (int)(d1 - t), t, d2);
    ck_assert_int_eq(check(buf, asym_ks), MCPAUTH_E_TOKEN_MALFORMED);
    /* Signature-only mode: the empty payload parses, and the signature (made over the real
     * payload) does not verify. */
    ck_assert_int_eq(check_len(buf, strlen(buf), asym_ks, ALLOW_ALL, MCP_JWS_PAYLOAD_ANY, CAP),
                     MCPAUTH_E_BAD_SIGNATURE);
    free(t);
}
END_TEST

START_TEST(payload_must_be_object_unless_any) {
    const char *pays[] = {"[1,2]", "\"str\"", "123", "null", "true", "not json"};
    for (size_t i = 0; i < sizeof pays / sizeof pays[0]; i++) {
        char *t = tu_sign(&rs, "{\"alg\":\"RS256\",\"kid\":\"rs\"}", pays[i]);
        ck_assert_msg(check(t, asym_ks) == MCPAUTH_E_TOKEN_MALFORMED, "%s", pays[i]);
        mcp_jws j;
        ck_assert_int_eq(mcp_jws_parse(t, strlen(t), CAP, MCP_JWS_PAYLOAD_ANY, &j, NULL),
                         MCPAUTH_OK);
        ck_assert_ptr_null(j.payload);
        ck_assert_uint_eq(j.payload_raw_len, strlen(pays[i]));
        ck_assert_int_eq(mcp_jws_verify(&j, asym_ks, ALLOW_ALL, NULL), MCPAUTH_OK);
        mcp_jws_clear(&j);
        free(t);
    }
}
END_TEST

START_TEST(header_must_be_json_object) {
    const char *hdrs[] = {"[\"RS256\"]", "\"RS256\"", "RS256", "{\"alg\":\"RS256\"", "", "{}"};
    const int want[] = {MCPAUTH_E_TOKEN_MALFORMED, MCPAUTH_E_TOKEN_MALFORMED,
                        MCPAUTH_E_TOKEN_MALFORMED, MCPAUTH_E_TOKEN_MALFORMED,
                        MCPAUTH_E_TOKEN_MALFORMED, MCPAUTH_E_TOKEN_HEADER};
    for (size_t i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
        char *t = assemble(hdrs[i], strlen(hdrs[i]), CLAIMS, strlen(CLAIMS), "c2ln");
        ck_assert_msg(check(t, asym_ks) == want[i], "header %s", hdrs[i]);
        free(t);
    }
}
END_TEST

START_TEST(no_keys_and_no_key_for_alg) {
    char *t = tu_sign_claims(&es256, CLAIMS);
    ck_assert_int_eq(check(t, NULL), MCPAUTH_E_KEY_NOT_FOUND);
    mcp_keyset *empty = NULL;
    ck_assert_int_eq(mcp_keyset_from_jwks_text("{\"keys\":[]}", 11, 0, 0, &empty, NULL),
                     MCPAUTH_OK);
    ck_assert_int_eq(check(t, empty), MCPAUTH_E_KEY_NOT_FOUND);
    mcp_keyset_unref(empty);
    ck_assert_int_eq(check(t, hs_ks), MCPAUTH_E_KEY_NOT_FOUND); /* kid es256 unknown there */
    free(t);
    t = tu_sign(&es256, "{\"alg\":\"ES256\"}", CLAIMS);
    ck_assert_int_eq(check(t, hs_ks), MCPAUTH_E_ALG_NOT_ALLOWED); /* no kid, no ES key */
    ck_assert_int_eq(check(t, asym_ks), MCPAUTH_OK);              /* no kid: tried by alg */
    free(t);
}
END_TEST

START_TEST(error_messages_never_contain_the_token) {
    char *t = tu_sign_claims(&rs, CLAIMS);
    const char *sig = strrchr(t, '.') + 1;
    mcp_jws j;
    mcp_err err = {0};
    ck_assert_int_eq(mcp_jws_parse(t, strlen(t), CAP, 0, &j, &err), MCPAUTH_OK);
    j.sig[0] ^= 1;
    ck_assert_int_eq(mcp_jws_verify(&j, asym_ks, ALLOW_ALL, &err), MCPAUTH_E_BAD_SIGNATURE);
    ck_assert_ptr_null(strstr(err.msg, "eyJ"));
    ck_assert_ptr_null(strstr(err.msg, sig));
    mcp_jws_clear(&j);
    const char *h = "{\"alg\":\"RS256\"} secret-stuff";
    char *bad = assemble(h, strlen(h), CLAIMS, strlen(CLAIMS), "c2ln");
    ck_assert_int_eq(mcp_jws_parse(bad, strlen(bad), CAP, 0, &j, &err), MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_ptr_null(strstr(err.msg, "secret-stuff"));
    free(bad);
    free(t);
}
END_TEST

/* ---- prepared contexts are shared between threads ------------------------------------------ */

typedef struct worker_arg {
    char *good[4], *bad[4];
    int failures;
} worker_arg;

static void *verify_worker(void *p) {
    worker_arg *w = p;
    for (int round = 0; round < 60; round++) {
        for (int i = 0; i < 4; i++) {
            const mcp_keyset *ks = i == 3 ? hs_ks : asym_ks;
            if (check_len(w->good[i], strlen(w->good[i]), ks, ALLOW_ALL, 0, CAP) != MCPAUTH_OK)
                w->failures++;
            if (check_len(w->bad[i], strlen(w->bad[i]), ks, ALLOW_ALL, 0, CAP) !=
                MCPAUTH_E_BAD_SIGNATURE)
                w->failures++;
        }
    }
    return NULL;
}

START_TEST(shared_keyset_concurrent_verification) {
    const tu_key *keys[4] = {&rs, &ps, &es256, &hs};
    worker_arg w[4];
    memset(w, 0, sizeof w);
    char *good[4], *bad[4];
    for (int i = 0; i < 4; i++) {
        good[i] = tu_sign_claims(keys[i], CLAIMS);
        size_t sl;
        unsigned char *sig = sig_of(good[i], &sl);
        sig[0] ^= 0x80;
        bad[i] = with_sig(good[i], sig, sl);
        free(sig);
    }
    pthread_t th[4];
    for (int t = 0; t < 4; t++) {
        memcpy(w[t].good, good, sizeof good);
        memcpy(w[t].bad, bad, sizeof bad);
        ck_assert_int_eq(pthread_create(&th[t], NULL, verify_worker, &w[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_int_eq(w[t].failures, 0);
    }
    for (int i = 0; i < 4; i++) {
        free(good[i]);
        free(bad[i]);
    }
}
END_TEST

static Suite *attacks_suite(void) {
    Suite *s = suite_create("jws_attacks");
    TCase *tc = tcase_create("attacks");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, baseline_every_alg_verifies_and_bit_flip_fails);
    tcase_add_test(tc, parse_exposes_header_fields);
    tcase_add_test(tc, alg_none_every_case_and_signature);
    tcase_add_test(tc, unknown_and_miscased_alg_refused);
    tcase_add_test(tc, alg_missing_or_not_string_refused);
    tcase_add_test(tc, hs256_signed_with_rsa_public_key_confusion);
    tcase_add_test(tc, rs512_token_vs_rs256_pinned_key_downgrade);
    tcase_add_test(tc, ps_token_vs_rs_pinned_key_and_policy_allow_list);
    tcase_add_test(tc, es256_token_vs_p384_key);
    tcase_add_test(tc, kid_injection_strings_are_opaque);
    tcase_add_test(tc, kid_length_and_type_bounded);
    tcase_add_test(tc, kid_hint_falls_back_to_kidless_configured_key);
    tcase_add_test(tc, jku_header_refused);
    tcase_add_test(tc, x5u_header_refused);
    tcase_add_test(tc, embedded_jwk_header_refused);
    tcase_add_test(tc, x5c_header_refused);
    tcase_add_test(tc, crit_refused);
    tcase_add_test(tc, b64_false_refused);
    tcase_add_test(tc, cty_jwt_nested_refused);
    tcase_add_test(tc, typ_not_string_refused);
    tcase_add_test(tc, psychic_signature_r_s_zero);
    tcase_add_test(tc, ecdsa_r_or_s_at_or_above_order_refused);
    tcase_add_test(tc, ecdsa_wrong_signature_length_refused);
    tcase_add_test(tc, rsa_e1_and_1024_bit_keys_refused);
    tcase_add_test(tc, rsa_signature_length_must_equal_modulus);
    tcase_add_test(tc, weak_or_empty_hmac_key_refused);
    tcase_add_test(tc, hmac_truncated_or_extended_mac_refused);
    tcase_add_test(tc, empty_signature_refused);
    tcase_add_test(tc, duplicate_json_keys_in_header_refused);
    tcase_add_test(tc, duplicate_json_keys_in_payload_refused);
    tcase_add_test(tc, embedded_nul_and_trailing_data_refused);
    tcase_add_test(tc, non_canonical_base64url_refused);
    tcase_add_test(tc, huge_token_over_cap_refused_before_parsing);
    tcase_add_test(tc, huge_token_64mib_refused_fast);
    tcase_add_test(tc, many_dots_refused);
    tcase_add_test(tc, nesting_depth_bomb_refused);
    tcase_add_test(tc, jwe_five_segments_refused);
    tcase_add_test(tc, json_serialization_refused);
    tcase_add_test(tc, detached_payload_refused);
    tcase_add_test(tc, payload_must_be_object_unless_any);
    tcase_add_test(tc, header_must_be_json_object);
    tcase_add_test(tc, no_keys_and_no_key_for_alg);
    tcase_add_test(tc, error_messages_never_contain_the_token);
    tcase_add_test(tc, shared_keyset_concurrent_verification);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(attacks_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
