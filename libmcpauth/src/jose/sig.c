/* sig.c - the signature primitive on OpenSSL 3 EVP: per key and algorithm a verification
 * context prepared once at key import (jwk.c calls mcp_sig_prepare) and copied per
 * verification; RSA PKCS#1 v1.5 and PSS, ECDSA (raw r||s converted to DER), EdDSA and HMAC
 * (constant-time compare). Digests and the HMAC implementation are fetched once. */
#include "jose/sig.h"

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
