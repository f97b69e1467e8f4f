/* tokens.c - test-only key generation and JWS signing on OpenSSL 3 (see tokens.h). */
#include "tokens.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void tu_die(const char *what) {
    fprintf(stderr, "tokens.c: %s failed\n", what);
    ERR_print_errors_fp(stderr);
    abort();
}

static void *tu_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) tu_die("malloc");
    return p;
}

/* Small base64url encoder without padding (test support keeps its own). */
static char *tu_b64url(const unsigned char *in, size_t len) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = tu_xmalloc(len / 3 * 4 + 5);
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
        out[o++] = tab[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = tab[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static const EVP_MD *tu_md_for(const char *alg) {
    const char *bits = alg + 2;
    if (strcmp(alg, "EdDSA") == 0) return NULL;
    if (strcmp(bits, "256") == 0) return EVP_sha256();
    if (strcmp(bits, "384") == 0) return EVP_sha384();
    if (strcmp(bits, "512") == 0) return EVP_sha512();
    tu_die("unknown alg");
    return NULL;
}

int tu_key_gen(tu_key *k, const char *alg, const char *kid) {
    memset(k, 0, sizeof *k);
    snprintf(k->alg, sizeof k->alg, "%s", alg);
    snprintf(k->kid, sizeof k->kid, "%s", kid ? kid : "");
    if (alg[0] == 'R' || alg[0] == 'P') {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else if (strcmp(alg, "ES256") == 0) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    } else if (strcmp(alg, "ES384") == 0) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    } else if (strcmp(alg, "ES512") == 0) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    } else if (strcmp(alg, "EdDSA") == 0) {
        k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    } else if (alg[0] == 'H') {
        k->secret_len = strcmp(alg, "HS512") == 0 ? 64 : 32;
        if (RAND_bytes(k->secret, (int)k->secret_len) != 1) tu_die("RAND_bytes");
        return 0;
    } else {
        tu_die("unknown alg");
    }
    if (!k->pkey) tu_die("EVP_PKEY_Q_keygen");
    return 0;
}

void tu_key_free(tu_key *k) {
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
    OPENSSL_cleanse(k->secret, sizeof k->secret);
    k->secret_len = 0;
}

static char *tu_bn_param_b64(const EVP_PKEY *pk, const char *name, size_t pad_to) {
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1) tu_die("EVP_PKEY_get_bn_param");
    size_t n = (size_t)BN_num_bytes(bn);
    if (pad_to < n) pad_to = n;
    unsigned char *buf = tu_xmalloc(pad_to);
    if (BN_bn2binpad(bn, buf, (int)pad_to) < 0) tu_die("BN_bn2binpad");
    char *s = tu_b64url(buf, pad_to);
    free(buf);
    BN_free(bn);
    return s;
}

static char *tu_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *tu_strdupf(const char *fmt, ...) {
    if (!fmt) tu_die("format");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) tu_die("vsnprintf");
    char *s = tu_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

char *tu_key_jwk(const tu_key *k) {
    char *out = NULL;
    if (!k->pkey) {
        char *kk = tu_b64url(k->secret, k->secret_len);
        out = tu_strdupf("{\"kty\":\"oct\",\"k\":\"%s\",\"kid\":\"%s\",\"alg\":\"%s\","
                         "\"use\":\"sig\"}",
                         kk, k->kid, k->alg);
        free(kk);
        return out;
    }
    int id = EVP_PKEY_get_base_id(k->pkey);
    if (id == EVP_PKEY_RSA) {
        char *n = tu_bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        char *e = tu_bn_param_b64(k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        out = tu_strdupf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"%s\","
                         "\"alg\":\"%s\",\"use\":\"sig\"}",
                         n, e, k->kid, k->alg);
        free(n);
        free(e);
    } else if (id == EVP_PKEY_EC) {
        char group[32] = {0};
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                           &glen) != 1)
            tu_die("group name");
        const char *crv;
        size_t clen;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            crv = "P-256";
            clen = 32;
        } else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
            crv = "P-384";
            clen = 48;
        } else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0) {
            crv = "P-521";
            clen = 66;
        } else {
            tu_die("unknown curve");
            return NULL;
        }
        char *x = tu_bn_param_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_X, clen);
        char *y = tu_bn_param_b64(k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, clen);
        out = tu_strdupf("{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\","
                         "\"kid\":\"%s\",\"alg\":\"%s\",\"use\":\"sig\"}",
                         crv, x, y, k->kid, k->alg);
        free(x);
        free(y);
    } else if (id == EVP_PKEY_ED25519) {
        unsigned char pub[32];
        size_t plen = 0;
        if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub,
                                            &plen) != 1 ||
            plen != 32)
            tu_die("ed25519 public key");
        char *x = tu_b64url(pub, plen);
        out = tu_strdupf("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"%s\","
                         "\"alg\":\"%s\",\"use\":\"sig\"}",
                         x, k->kid, k->alg);
        free(x);
    } else {
        tu_die("unsupported key type");
    }
    return out;
}

char *tu_jwks(const tu_key *const *keys, size_t n) {
    size_t cap = 16, len = 0;
    char **parts = tu_xmalloc(sizeof *parts * (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
        parts[i] = tu_key_jwk(keys[i]);
        cap += strlen(parts[i]) + 1;
    }
    char *out = tu_xmalloc(cap);
    len = (size_t)snprintf(out, cap, "{\"keys\":[");
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(parts[i]);
        if (i) out[len++] = ',';
        memcpy(out + len, parts[i], pl);
        len += pl;
        free(parts[i]);
    }
    memcpy(out + len, "]}", 3);
    free(parts);
    return out;
}

static char *tu_bio_string(BIO *b) {
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n < 0) tu_die("BIO_get_mem_data");
    char *s = tu_xmalloc((size_t)n + 1);
    memcpy(s, data, (size_t)n);
    s[n] = '\0';
    BIO_free(b);
    return s;
}

char *tu_key_pem_public(const tu_key *k) {
    if (!k->pkey) return NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_PUBKEY(b, k->pkey) != 1) tu_die("PEM_write_bio_PUBKEY");
    return tu_bio_string(b);
}

char *tu_key_pem_private(const tu_key *k) {
    if (!k->pkey) return NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (!b || PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) != 1)
        tu_die("PEM_write_bio_PrivateKey");
    return tu_bio_string(b);
}

/* DER ECDSA signature -> raw r||s, each padded to clen bytes. */
static unsigned char *tu_ecdsa_raw(const unsigned char *der, size_t der_len, size_t clen) {
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (!es) tu_die("d2i_ECDSA_SIG");
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(es, &r, &s);
    unsigned char *raw = tu_xmalloc(2 * clen);
    if (BN_bn2binpad(r, raw, (int)clen) < 0 || BN_bn2binpad(s, raw + clen, (int)clen) < 0)
        tu_die("BN_bn2binpad");
    ECDSA_SIG_free(es);
    return raw;
}

static size_t tu_ec_coord_len(const EVP_PKEY *pk) {
    int bits = EVP_PKEY_get_bits(pk);
    return (size_t)(bits + 7) / 8;
}

char *tu_sign(const tu_key *k, const char *header_json, const char *payload_json) {
    char *h = tu_b64url((const unsigned char *)header_json, strlen(header_json));
    char *p = tu_b64url((const unsigned char *)payload_json, strlen(payload_json));
    size_t hl = strlen(h), pl = strlen(p);
    size_t in_len = hl + 1 + pl;
    char *input = tu_xmalloc(in_len + 1);
    memcpy(input, h, hl);
    input[hl] = '.';
    memcpy(input + hl + 1, p, pl + 1);
    free(h);
    free(p);

    unsigned char *sig = NULL;
    size_t sig_len = 0;
    const EVP_MD *md = tu_md_for(k->alg);
    if (!k->pkey) {
        unsigned int ml = 0;
        sig = tu_xmalloc(EVP_MAX_MD_SIZE);
        if (!HMAC(md, k->secret, (int)k->secret_len, (const unsigned char *)input, in_len, sig,
                  &ml))
            tu_die("HMAC");
        sig_len = ml;
    } else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        if (!ctx || EVP_DigestSignInit(ctx, &pctx, md, NULL, k->pkey) != 1)
            tu_die("EVP_DigestSignInit");
        if (k->alg[0] == 'P') {
            if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)
                tu_die("PSS parameters");
        }
        if (EVP_DigestSign(ctx, NULL, &sig_len, (const unsigned char *)input, in_len) != 1)
            tu_die("EVP_DigestSign size");
        sig = tu_xmalloc(sig_len);
        if (EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)input, in_len) != 1)
            tu_die("EVP_DigestSign");
        EVP_MD_CTX_free(ctx);
        if (EVP_PKEY_get_base_id(k->pkey) == EVP_PKEY_EC) {
            size_t clen = tu_ec_coord_len(k->pkey);
            unsigned char *raw = tu_ecdsa_raw(sig, sig_len, clen);
            free(sig);
            sig = raw;
            sig_len = 2 * clen;
        }
    }
    char *s = tu_b64url(sig, sig_len);
    free(sig);
    size_t sl = strlen(s);
    char *out = tu_xmalloc(in_len + 1 + sl + 1);
    memcpy(out, input, in_len);
    out[in_len] = '.';
    memcpy(out + in_len + 1, s, sl + 1);
    free(s);
    free(input);
    return out;
}

char *tu_sign_claims(const tu_key *k, const char *payload_json) {
    char hdr[160];
    snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}", k->alg, k->kid);
    return tu_sign(k, hdr, payload_json);
}
