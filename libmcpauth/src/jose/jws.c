/* jws.c - compact JWS parsing with every structural check, and signature verification on
 * OpenSSL 3 EVP with keys imported once (jwk.c). libjwt is never used here.
 *
 * Parsing order (each step only runs when the previous ones passed):
 *   1. size cap (before touching the token), 2. exactly two dots, counted without allocating,
 *   3. strict base64url of each segment, 4. header: strict JSON object, 5. alg a known name
 *   (any spelling of "none" and anything unknown -> ALG_NOT_ALLOWED), 6. crit / b64 / cty JWT /
 *   jwk / jku / x5u / x5c -> TOKEN_HEADER, kid a string of <= 256 bytes, typ a string,
 *   7. empty signature -> MALFORMED, empty payload -> MALFORMED (unless MCP_JWS_PAYLOAD_ANY,
 *   where the payload is any octet string, the empty one included: a detached-content JWS then
 *   fails at the signature, which covers the real payload), 8. payload: strict JSON object
 *   unless MCP_JWS_PAYLOAD_ANY.
 */
#include "jose/jws.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/b64url.h"
#include "util/json_strict.h"

#define MCP_JWS_DEFAULT_MAX_LEN 16384
#define MCP_JWS_KID_MAX 256
#define MCP_JWS_MAX_CANDIDATES 16

/* ---- digests fetched once ------------------------------------------------------------------ */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static EVP_MAC *mac_hmac;

static void fetch_algorithms(void) {
    md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA2-384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static const EVP_MD *alg_md(mcp_alg alg) {
    switch (alg) {
    case MCP_ALG_RS256:
    case MCP_ALG_PS256:
    case MCP_ALG_ES256:
    case MCP_ALG_HS256:
        return md_sha256;
    case MCP_ALG_RS384:
    case MCP_ALG_PS384:
    case MCP_ALG_ES384:
    case MCP_ALG_HS384:
        return md_sha384;
    case MCP_ALG_RS512:
    case MCP_ALG_PS512:
    case MCP_ALG_ES512:
    case MCP_ALG_HS512:
        return md_sha512;
    default:
        return NULL;
    }
}

static const char *alg_md_name(mcp_alg alg) {
    switch (alg) {
    case MCP_ALG_HS256:
        return "SHA2-256";
    case MCP_ALG_HS384:
        return "SHA2-384";
    case MCP_ALG_HS512:
        return "SHA2-512";
    default:
        return NULL;
    }
}

/* ---- parsing ------------------------------------------------------------------------------- */

static void jws_init(mcp_jws *j) { memset(j, 0, sizeof *j); }

void mcp_jws_clear(mcp_jws *jws) {
    if (!jws) return;
    json_decref(jws->header);
    json_decref(jws->payload);
    free(jws->payload_raw);
    free(jws->sig);
    jws_init(jws);
}

static int is_none_alg(const char *s) { return strcasecmp(s, "none") == 0; }

/* Header members that must not appear: key material or key locations chosen by the sender. */
static const char *const forbidden_members[] = {"jwk", "jku", "x5u", "x5c"};

static int check_header(json_t *h, mcp_jws *out, mcp_err *err) {
    json_t *alg = json_object_get(h, "alg");
    if (!alg) return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: no alg");
    if (!json_is_string(alg))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: alg is not a string");
    const char *name = json_string_value(alg);
    if (is_none_alg(name))
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "unsigned token (alg none) refused");
    out->alg = mcp_alg_from_name(name);
    if (out->alg == MCP_ALG_UNKNOWN)
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "token alg is not supported");

    if (json_object_get(h, "crit"))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           "token header: crit names extensions this verifier does not "
                           "implement");
    json_t *b64 = json_object_get(h, "b64");
    if (b64 && !json_is_true(b64))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           "token header: unencoded payload (b64) refused");
    json_t *cty = json_object_get(h, "cty");
    if (cty) {
        if (!json_is_string(cty))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: cty not a string");
        if (strcasecmp(json_string_value(cty), "JWT") == 0)
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                               "token header: nested JWT (cty JWT) refused");
    }
    for (size_t i = 0; i < sizeof forbidden_members / sizeof forbidden_members[0]; i++)
        if (json_object_get(h, forbidden_members[i]))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                               "token header: embedded key or key URL (%s) refused",
                               forbidden_members[i]);
    json_t *kid = json_object_get(h, "kid");
    if (kid) {
        if (!json_is_string(kid))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: kid not a string");
        if (json_string_length(kid) > MCP_JWS_KID_MAX)
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: kid longer than %d",
                               MCP_JWS_KID_MAX);
        out->kid = json_string_value(kid);
    }
    json_t *typ = json_object_get(h, "typ");
    if (typ) {
        if (!json_is_string(typ))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: typ not a string");
        out->typ = json_string_value(typ);
    }
    return MCPAUTH_OK;
}

static int decode_segment(const char *s, size_t len, unsigned char **out, size_t *out_len,
                          const char *what, mcp_err *err) {
    int r = mcp_b64url_decode(s, len, out, out_len);
    if (r == -2) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (r != 0)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token %s is not strict base64url",
                           what);
    return MCPAUTH_OK;
}

int mcp_jws_parse(const char *token, size_t len, size_t max_len, unsigned flags, mcp_jws *out,
                  mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output");
    jws_init(out);
    if (max_len == 0) max_len = MCP_JWS_DEFAULT_MAX_LEN;
    if (len > max_len)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_TOO_LARGE, "token of %zu bytes exceeds %zu", len,
                           max_len);
    if (!token || len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "empty token");

    /* Exactly two dots; stop counting at the third. */
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                           "token is not a compact JWS (three dot-separated segments)");
    const char *hdr = token, *pay = d1 + 1, *sig = d2 + 1;
    size_t hdr_len = (size_t)(d1 - token), pay_len = (size_t)(d2 - pay);
    size_t sig_len = len - (size_t)(sig - token);
    if (hdr_len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token header is empty");

    int rc;
    unsigned char *hdr_raw = NULL;
    size_t hdr_raw_len = 0;
    if ((rc = decode_segment(hdr, hdr_len, &hdr_raw, &hdr_raw_len, "header", err)) != 0) goto fail;
    if ((rc = decode_segment(pay, pay_len, &out->payload_raw, &out->payload_raw_len, "payload",
                             err)) != 0)
        goto fail;
    if ((rc = decode_segment(sig, sig_len, &out->sig, &out->sig_len, "signature", err)) != 0)
        goto fail;

    out->header = mcp_json_parse((const char *)hdr_raw, hdr_raw_len, MCP_JSON_MAX_DEPTH, 1,
                                 "token header", MCPAUTH_E_TOKEN_MALFORMED, err);
    free(hdr_raw);
    hdr_raw = NULL;
    if (!out->header) {
        rc = err ? err->code : MCPAUTH_E_TOKEN_MALFORMED;
        goto fail;
    }
    if ((rc = check_header(out->header, out, err)) != 0) goto fail;

    if (out->sig_len == 0) {
        rc = mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token signature is empty");
        goto fail;
    }
    if (!(flags & MCP_JWS_PAYLOAD_ANY)) {
        if (out->payload_raw_len == 0) {
            rc = mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                             "token payload is empty (detached content is not supported)");
            goto fail;
        }
        out->payload =
            mcp_json_parse((const char *)out->payload_raw, out->payload_raw_len, MCP_JSON_MAX_DEPTH,
                           1, "token payload", MCPAUTH_E_TOKEN_MALFORMED, err);
        if (!out->payload) {
            rc = err ? err->code : MCPAUTH_E_TOKEN_MALFORMED;
            goto fail;
        }
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(d2 - token);
    return MCPAUTH_OK;
fail:
    free(hdr_raw);
    mcp_jws_clear(out);
    return rc;
}

/* ---- signature primitive ------------------------------------------------------------------- */

/* Initialises ctx for verification under alg with pkey (PSS parameters included). */
static int verify_init(EVP_MD_CTX *ctx, mcp_alg alg, EVP_PKEY *pkey) {
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = alg_md(alg); /* NULL for EdDSA: one-shot, no separate digest */
    if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1) return -1;
    if (alg >= MCP_ALG_PS256 && alg <= MCP_ALG_PS512 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
        return -1;
    return 0;
}

/* EVP_DigestVerify under alg: from the key's prepared context when there is one (a copy is
 * much cheaper than a fresh init on OpenSSL 3), else a full init. 1 valid, 0 invalid,
 * -1 error. */
static int evp_verify(const mcp_key *key, mcp_alg alg, const unsigned char *data, size_t data_len,
                      const unsigned char *sig, size_t sig_len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx) return -1;
    int ok = -1;
    const EVP_MD_CTX *tmpl = key->vctx[alg];
    if (tmpl ? EVP_MD_CTX_copy_ex(ctx, tmpl) != 1 : verify_init(ctx, alg, key->pkey) != 0)
        goto done;
    ok = EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1 ? 1 : 0;
done:
    if (ok != 1) ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int verify_ecdsa(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                        const unsigned char *sig, size_t sig_len) {
    size_t clen = alg == MCP_ALG_ES256 ? 32 : alg == MCP_ALG_ES384 ? 48 : 66;
    if (sig_len != 2 * clen) return 0;
    /* r = 0 or s = 0 never verifies (CVE-2022-21449); OpenSSL also range-checks r, s < n. */
    int r_zero = 1, s_zero = 1;
    for (size_t i = 0; i < clen; i++) {
        if (sig[i]) r_zero = 0;
        if (sig[clen + i]) s_zero = 0;
    }
    if (r_zero || s_zero) return 0;
    BIGNUM *r = BN_bin2bn(sig, (int)clen, NULL);
    BIGNUM *s = BN_bin2bn(sig + clen, (int)clen, NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    if (!r || !s || !es || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    /* DER of two INTEGERs of at most 67 bytes each: well under 160 bytes. */
    unsigned char der[160];
    int der_len = i2d_ECDSA_SIG(es, NULL);
    int ok = -1;
    if (der_len > 0 && (size_t)der_len <= sizeof der) {
        unsigned char *p = der;
        if (i2d_ECDSA_SIG(es, &p) == der_len)
            ok = evp_verify(key, alg, data, data_len, der, (size_t)der_len);
    }
    ECDSA_SIG_free(es);
    return ok;
}

static int hmac_init(EVP_MAC_CTX *ctx, mcp_alg alg, const mcp_key *key) {
    OSSL_PARAM params[2];
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)alg_md_name(alg), 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(ctx, key->secret, key->secret_len, params) == 1 ? 0 : -1;
}

static int verify_hmac(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                       const unsigned char *sig, size_t sig_len) {
    const EVP_MD *md = alg_md(alg);
    size_t md_len = (size_t)EVP_MD_get_size(md);
    if (sig_len != md_len) return 0;
    if (!key->secret || key->secret_len < md_len) return -1;
    const EVP_MAC_CTX *tmpl = key->vctx[alg];
    EVP_MAC_CTX *ctx = tmpl ? EVP_MAC_CTX_dup(tmpl) : EVP_MAC_CTX_new(mac_hmac);
    if (!ctx) return -1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    int ok = -1;
    if ((tmpl || hmac_init(ctx, alg, key) == 0) && EVP_MAC_update(ctx, data, data_len) == 1 &&
        EVP_MAC_final(ctx, mac, &mac_len, sizeof mac) == 1 && mac_len == md_len)
        ok = CRYPTO_memcmp(mac, sig, md_len) == 0 ? 1 : 0;
    if (ok < 0) ERR_clear_error();
    OPENSSL_cleanse(mac, sizeof mac);
    EVP_MAC_CTX_free(ctx);
    return ok;
}

static int is_hmac_alg(int alg) {
    return alg == MCP_ALG_HS256 || alg == MCP_ALG_HS384 || alg == MCP_ALG_HS512;
}

int mcp_sig_prepare(mcp_key *key) {
    if (!key) return 0;
    pthread_once(&fetch_once, fetch_algorithms);
    if (!md_sha256 || !md_sha384 || !md_sha512 || !mac_hmac) return 0;
    for (int a = MCP_ALG_UNKNOWN + 1; a < MCP_ALG_COUNT; a++) {
        if (key->vctx[a] || !(key->alg_mask & MCP_ALG_BIT(a))) continue;
        if (is_hmac_alg(a)) {
            if (key->kty != MCP_KTY_OCT || !key->secret) continue;
            EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);
            if (ctx && hmac_init(ctx, (mcp_alg)a, key) == 0)
                key->vctx[a] = ctx;
            else
                EVP_MAC_CTX_free(ctx);
        } else {
            if (!key->pkey) continue;
            EVP_MD_CTX *ctx = EVP_MD_CTX_new();
            if (ctx && verify_init(ctx, (mcp_alg)a, key->pkey) == 0)
                key->vctx[a] = ctx;
            else
                EVP_MD_CTX_free(ctx);
        }
    }
    ERR_clear_error();
    return 0;
}

void mcp_sig_release(mcp_key *key) {
    if (!key) return;
    for (int a = 0; a < MCP_ALG_COUNT; a++) {
        if (!key->vctx[a]) continue;
        if (is_hmac_alg(a))
            EVP_MAC_CTX_free(key->vctx[a]);
        else
            EVP_MD_CTX_free(key->vctx[a]);
        key->vctx[a] = NULL;
    }
}

int mcp_sig_verify(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                   const unsigned char *sig, size_t sig_len) {
    if (!key || alg <= MCP_ALG_UNKNOWN || alg >= MCP_ALG_COUNT) return -1;
    if (!(key->alg_mask & MCP_ALG_BIT(alg))) return -1;
    if (!data && data_len) return -1;
    if (!sig || sig_len == 0) return 0;
    pthread_once(&fetch_once, fetch_algorithms);
    if (!md_sha256 || !md_sha384 || !md_sha512 || !mac_hmac) return -1;

    switch (alg) {
    case MCP_ALG_RS256:
    case MCP_ALG_RS384:
    case MCP_ALG_RS512:
    case MCP_ALG_PS256:
    case MCP_ALG_PS384:
    case MCP_ALG_PS512: {
        if (key->kty != MCP_KTY_RSA || !key->pkey) return -1;
        int size = EVP_PKEY_get_size(key->pkey);
        if (size <= 0 || sig_len != (size_t)size) return 0;
        return evp_verify(key, alg, data, data_len, sig, sig_len);
    }
    case MCP_ALG_ES256:
    case MCP_ALG_ES384:
    case MCP_ALG_ES512:
        if (key->kty != MCP_KTY_EC || !key->pkey) return -1;
        return verify_ecdsa(alg, key, data, data_len, sig, sig_len);
    case MCP_ALG_EDDSA:
        if (key->kty != MCP_KTY_OKP || !key->pkey) return -1;
        if (sig_len != 64) return 0;
        return evp_verify(key, alg, data, data_len, sig, sig_len);
    case MCP_ALG_HS256:
    case MCP_ALG_HS384:
    case MCP_ALG_HS512:
        if (key->kty != MCP_KTY_OCT) return -1;
        return verify_hmac(alg, key, data, data_len, sig, sig_len);
    default:
        return -1;
    }
}

/* ---- JWS against a keyset ------------------------------------------------------------------ */

int mcp_jws_verify(const mcp_jws *jws, const mcp_keyset *ks, unsigned allowed_mask, mcp_err *err) {
    if (!jws || !jws->signing_input)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no parsed token");
    mcp_alg alg = jws->alg;
    if (alg <= MCP_ALG_UNKNOWN || alg >= MCP_ALG_COUNT || !(allowed_mask & MCP_ALG_BIT(alg)))
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "token alg %s is not allowed",
                           mcp_alg_name(alg));
    if (!ks || ks->n == 0) return mcp_err_set(err, MCPAUTH_E_KEY_NOT_FOUND, "no verification keys");

    const mcp_key *cand[MCP_JWS_MAX_CANDIDATES];
    size_t n = mcp_keyset_candidates(ks, jws->kid, alg, cand, MCP_JWS_MAX_CANDIDATES);
    if (n == 0 && jws->kid) {
        if (mcp_keyset_has_kid(ks, jws->kid))
            return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED,
                               "the key named by kid does not allow alg %s", mcp_alg_name(alg));
        /* The kid names no key: configured keys without a kid (a PEM key or a secret) are
         * still candidates, exactly as for a token without kid. */
        for (size_t i = 0; i < ks->n && n < MCP_JWS_MAX_CANDIDATES; i++)
            if (!ks->keys[i].kid && (ks->keys[i].alg_mask & MCP_ALG_BIT(alg)))
                cand[n++] = &ks->keys[i];
        if (n == 0)
            return mcp_err_set(err, MCPAUTH_E_KEY_NOT_FOUND, "no key matches the token kid");
    }
    if (n == 0) {
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "no configured key allows alg %s",
                           mcp_alg_name(alg));
    }
    int internal = 0;
    for (size_t i = 0; i < n; i++) {
        int r = mcp_sig_verify(alg, cand[i], (const unsigned char *)jws->signing_input,
                               jws->signing_input_len, jws->sig, jws->sig_len);
        if (r == 1) return MCPAUTH_OK;
        if (r < 0) internal = 1;
    }
    return mcp_err_set(err, MCPAUTH_E_BAD_SIGNATURE, "signature verification failed%s",
                       internal ? " (verifier error)" : "");
}
