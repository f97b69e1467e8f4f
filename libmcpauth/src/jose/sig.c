/* sig.c - the signature primitive on OpenSSL 3 EVP. Per key and algorithm, a verification state
 * prepared once at key import (jwk.c calls mcp_sig_prepare): for RSA (PKCS#1 v1.5 and PSS) and
 * ECDSA an EVP_PKEY_CTX initialised for verification with its padding and digest, for HMAC an
 * EVP_MAC_CTX keyed once, for EdDSA an EVP_MD_CTX. A verification borrows one of a small pool
 * of ready contexts (a copy made on first use, reused afterwards: OpenSSL 3 makes a fresh init,
 * and even a copy, cost several microseconds of fetching and allocation), hashes the signing
 * input with a pre-fetched digest and verifies the digest. When every pooled context is busy it
 * works on a temporary copy. ECDSA's raw r||s is converted to DER; HMAC compares in constant
 * time. */
#include "jose/sig.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Ready contexts per key and algorithm; threads beyond this many at once use temporary copies. */
#define MCP_SIG_POOL 8

typedef enum { SIG_PKEY = 1, SIG_MD, SIG_MAC } sig_kind;

typedef struct sig_slot {
    atomic_int busy;
    void *ctx;        /* EVP_PKEY_CTX, EVP_MD_CTX or EVP_MAC_CTX by kind; NULL until first use */
    EVP_MD_CTX *hash; /* SIG_PKEY: the context hashing the signing input */
} sig_slot;

struct mcp_sig_state {
    sig_kind kind;
    const EVP_MD *md; /* the digest (NULL for EdDSA) */
    void *tmpl;       /* the prepared context every slot starts as a copy of */
    sig_slot slots[MCP_SIG_POOL];
};

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

static int fetched(void) {
    pthread_once(&fetch_once, fetch_algorithms);
    return md_sha256 && md_sha384 && md_sha512 && mac_hmac;
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

static int is_hmac_alg(int alg) {
    return alg == MCP_ALG_HS256 || alg == MCP_ALG_HS384 || alg == MCP_ALG_HS512;
}

static int is_pss_alg(int alg) { return alg >= MCP_ALG_PS256 && alg <= MCP_ALG_PS512; }

/* ---- preparing contexts -------------------------------------------------------------------- */

/* EVP_PKEY_CTX for verifying a digest under alg with pkey (PSS: MGF1 with the same hash, salt of
 * the hash's length). */
static EVP_PKEY_CTX *pkey_ctx_new(mcp_alg alg, EVP_PKEY *pkey) {
    const EVP_MD *md = alg_md(alg);
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!pctx || EVP_PKEY_verify_init(pctx) != 1) goto fail;
    if (is_pss_alg(alg)) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(pctx, md) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
            goto fail;
    } else if (alg <= MCP_ALG_RS512) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(pctx, md) != 1)
            goto fail;
    } else if (EVP_PKEY_CTX_set_signature_md(pctx, md) != 1) { /* ECDSA */
        goto fail;
    }
    return pctx;
fail:
    EVP_PKEY_CTX_free(pctx);
    return NULL;
}

/* EdDSA: one-shot EVP_DigestVerify (no separate digest). */
static EVP_MD_CTX *md_ctx_new(EVP_PKEY *pkey) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1) return ctx;
    EVP_MD_CTX_free(ctx);
    return NULL;
}

static EVP_MAC_CTX *mac_ctx_new(mcp_alg alg, const mcp_key *key) {
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac_hmac);
    OSSL_PARAM params[2];
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)alg_md_name(alg), 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx && EVP_MAC_init(ctx, key->secret, key->secret_len, params) == 1) return ctx;
    EVP_MAC_CTX_free(ctx);
    return NULL;
}

static void ctx_free(sig_kind kind, void *ctx) {
    if (!ctx) return;
    if (kind == SIG_PKEY)
        EVP_PKEY_CTX_free(ctx);
    else if (kind == SIG_MD)
        EVP_MD_CTX_free(ctx);
    else
        EVP_MAC_CTX_free(ctx);
}

static void *ctx_dup(sig_kind kind, const void *tmpl) {
    if (kind == SIG_PKEY) return EVP_PKEY_CTX_dup((EVP_PKEY_CTX *)tmpl);
    if (kind == SIG_MAC) return EVP_MAC_CTX_dup(tmpl);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_MD_CTX_copy_ex(ctx, tmpl) == 1) return ctx;
    EVP_MD_CTX_free(ctx);
    return NULL;
}

static void state_free(mcp_sig_state *st) {
    if (!st) return;
    for (int i = 0; i < MCP_SIG_POOL; i++) {
        ctx_free(st->kind, st->slots[i].ctx);
        EVP_MD_CTX_free(st->slots[i].hash);
    }
    ctx_free(st->kind, st->tmpl);
    free(st);
}

static mcp_sig_state *state_new(mcp_alg alg, const mcp_key *key) {
    mcp_sig_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->md = alg_md(alg);
    if (is_hmac_alg(alg)) {
        st->kind = SIG_MAC;
        if (key->kty == MCP_KTY_OCT && key->secret) st->tmpl = mac_ctx_new(alg, key);
    } else if (alg == MCP_ALG_EDDSA) {
        st->kind = SIG_MD;
        if (key->pkey) st->tmpl = md_ctx_new(key->pkey);
    } else {
        st->kind = SIG_PKEY;
        if (key->pkey) st->tmpl = pkey_ctx_new(alg, key->pkey);
    }
    for (int i = 0; i < MCP_SIG_POOL; i++) atomic_init(&st->slots[i].busy, 0);
    if (!st->tmpl) {
        free(st);
        return NULL;
    }
    return st;
}

int mcp_sig_prepare(mcp_key *key) {
    if (!key || !fetched()) return 0;
    for (int a = MCP_ALG_UNKNOWN + 1; a < MCP_ALG_COUNT; a++) {
        if (key->sig[a] || !(key->alg_mask & MCP_ALG_BIT(a))) continue;
        key->sig[a] = state_new((mcp_alg)a, key);
    }
    ERR_clear_error();
    return 0;
}

void mcp_sig_release(mcp_key *key) {
    if (!key) return;
    for (int a = 0; a < MCP_ALG_COUNT; a++) {
        state_free(key->sig[a]);
        key->sig[a] = NULL;
    }
}

/* ---- borrowing a context ------------------------------------------------------------------- */

typedef struct sig_lease {
    sig_slot *slot; /* NULL: ctx and hash are temporaries to free */
    void *ctx;
    EVP_MD_CTX *hash;
} sig_lease;

/* Borrows a ready context of st (a free pooled one, made on first use, or a temporary copy).
 * 0 on success, -1 when no context could be made. */
static int lease_take(mcp_sig_state *st, sig_lease *l) {
    memset(l, 0, sizeof *l);
    for (int i = 0; i < MCP_SIG_POOL; i++) {
        sig_slot *s = &st->slots[i];
        if (atomic_load_explicit(&s->busy, memory_order_relaxed) ||
            atomic_exchange_explicit(&s->busy, 1, memory_order_acquire))
            continue;
        if (!s->ctx) s->ctx = ctx_dup(st->kind, st->tmpl);
        if (st->kind == SIG_PKEY && !s->hash) s->hash = EVP_MD_CTX_new();
        if (!s->ctx || (st->kind == SIG_PKEY && !s->hash)) {
            atomic_store_explicit(&s->busy, 0, memory_order_release);
            break;
        }
        l->slot = s;
        l->ctx = s->ctx;
        l->hash = s->hash;
        return 0;
    }
    l->ctx = ctx_dup(st->kind, st->tmpl);
    if (st->kind == SIG_PKEY) l->hash = EVP_MD_CTX_new();
    if (!l->ctx || (st->kind == SIG_PKEY && !l->hash)) {
        ctx_free(st->kind, l->ctx);
        EVP_MD_CTX_free(l->hash);
        return -1;
    }
    return 0;
}

/* Returns the context. A context that failed (`reusable` 0) is not trusted again: a pooled one
 * is freed and made afresh on its next use. */
static void lease_give(mcp_sig_state *st, sig_lease *l, int reusable) {
    if (!l->slot) {
        ctx_free(st->kind, l->ctx);
        EVP_MD_CTX_free(l->hash);
        return;
    }
    if (!reusable) {
        ctx_free(st->kind, l->slot->ctx);
        l->slot->ctx = NULL;
    }
    atomic_store_explicit(&l->slot->busy, 0, memory_order_release);
}

/* ---- verification -------------------------------------------------------------------------- */

/* Hash then verify the digest with a prepared EVP_PKEY_CTX (RSA, PSS, ECDSA-DER). */
static int verify_pkey(mcp_sig_state *st, const unsigned char *data, size_t data_len,
                       const unsigned char *sig, size_t sig_len) {
    sig_lease l;
    if (lease_take(st, &l) != 0) return -1;
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dg_len = 0;
    int ok = -1;
    if (EVP_DigestInit_ex(l.hash, st->md, NULL) == 1 &&
        EVP_DigestUpdate(l.hash, data, data_len) == 1 &&
        EVP_DigestFinal_ex(l.hash, dg, &dg_len) == 1)
        ok = EVP_PKEY_verify(l.ctx, sig, sig_len, dg, dg_len) == 1 ? 1 : 0;
    /* a bad signature is an ordinary answer (OpenSSL 3 returns 0 for it; some paths -1): the
     * context stays usable either way, only the error queue is left to clear */
    if (ok != 1) ERR_clear_error();
    lease_give(st, &l, 1);
    return ok;
}

static int verify_eddsa(mcp_sig_state *st, const unsigned char *data, size_t data_len,
                        const unsigned char *sig, size_t sig_len) {
    /* EVP_DigestVerify finalises its context: work on a fresh copy of the template each time */
    EVP_MD_CTX *ctx = ctx_dup(SIG_MD, st->tmpl);
    if (!ctx) return -1;
    int ok = EVP_DigestVerify(ctx, sig, sig_len, data, data_len) == 1 ? 1 : 0;
    if (ok != 1) ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int verify_hmac(mcp_sig_state *st, const unsigned char *data, size_t data_len,
                       const unsigned char *sig, size_t sig_len) {
    size_t md_len = (size_t)EVP_MD_get_size(st->md);
    if (sig_len != md_len) return 0;
    sig_lease l;
    if (lease_take(st, &l) != 0) return -1;
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    int ok = -1;
    /* a pooled context was finalised by its previous use: EVP_MAC_init without a key restarts
     * it under the key it already holds */
    if ((!l.slot || EVP_MAC_init(l.ctx, NULL, 0, NULL) == 1) &&
        EVP_MAC_update(l.ctx, data, data_len) == 1 &&
        EVP_MAC_final(l.ctx, mac, &mac_len, sizeof mac) == 1 && mac_len == md_len)
        ok = CRYPTO_memcmp(mac, sig, md_len) == 0 ? 1 : 0;
    if (ok < 0) ERR_clear_error();
    OPENSSL_cleanse(mac, sizeof mac);
    lease_give(st, &l, ok >= 0);
    return ok;
}

/* JWS ECDSA signatures are raw r||s of twice the coordinate size; OpenSSL wants DER. */
static int verify_ecdsa(mcp_alg alg, mcp_sig_state *st, const unsigned char *data, size_t data_len,
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
            ok = verify_pkey(st, data, data_len, der, (size_t)der_len);
    }
    ECDSA_SIG_free(es);
    return ok;
}

int mcp_sig_verify(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                   const unsigned char *sig, size_t sig_len) {
    if (!key || alg <= MCP_ALG_UNKNOWN || alg >= MCP_ALG_COUNT) return -1;
    if (!(key->alg_mask & MCP_ALG_BIT(alg))) return -1;
    if (!data && data_len) return -1;
    if (!sig || sig_len == 0) return 0;
    if (!fetched()) return -1;
    /* The state is made at import; a key whose state could not be made (out of memory) gets
     * one now for this call only. */
    mcp_sig_state *st = key->sig[alg], *tmp = NULL;
    if (!st) {
        if (!(st = tmp = state_new(alg, key))) return -1;
    }
    int ok = -1;
    switch (alg) {
    case MCP_ALG_RS256:
    case MCP_ALG_RS384:
    case MCP_ALG_RS512:
    case MCP_ALG_PS256:
    case MCP_ALG_PS384:
    case MCP_ALG_PS512: {
        if (key->kty != MCP_KTY_RSA || !key->pkey) break;
        int size = EVP_PKEY_get_size(key->pkey);
        ok =
            size > 0 && sig_len == (size_t)size ? verify_pkey(st, data, data_len, sig, sig_len) : 0;
        break;
    }
    case MCP_ALG_ES256:
    case MCP_ALG_ES384:
    case MCP_ALG_ES512:
        if (key->kty != MCP_KTY_EC || !key->pkey) break;
        ok = verify_ecdsa(alg, st, data, data_len, sig, sig_len);
        break;
    case MCP_ALG_EDDSA:
        if (key->kty != MCP_KTY_OKP || !key->pkey) break;
        ok = sig_len == 64 ? verify_eddsa(st, data, data_len, sig, sig_len) : 0;
        break;
    case MCP_ALG_HS256:
    case MCP_ALG_HS384:
    case MCP_ALG_HS512:
        if (key->kty != MCP_KTY_OCT || !key->secret ||
            key->secret_len < (size_t)EVP_MD_get_size(st->md))
            break;
        ok = verify_hmac(st, data, data_len, sig, sig_len);
        break;
    default:
        break;
    }
    state_free(tmp);
    return ok;
}
