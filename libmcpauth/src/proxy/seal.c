/* seal.c - AES-256-GCM sealing with HKDF-SHA256 purpose keys and secret rotation. */
#include "proxy/seal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "util/json_strict.h"

#define SEAL_VERSION 0x01
#define SEAL_IV_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_KEY_LEN 32
#define SEAL_SALT "libmcpauth-seal-v1"
#define SEAL_AAD_PREFIX "libmcpauth-seal-v1:"

static const char *const purpose_names[MCP_SEAL_PURPOSES] = {
    "client", "state", "code", "consent", "binding", "csrf", "refresh"};

typedef struct seal_key {
    unsigned char k[MCP_SEAL_PURPOSES][SEAL_KEY_LEN];
} seal_key;

struct mcp_sealer {
    seal_key keys[MCP_SEAL_MAX_SECRETS]; /* [0] is the primary */
    size_t n;
};

const char *mcp_seal_purpose_name(mcp_seal_purpose p) {
    if ((int)p < 0 || p >= MCP_SEAL_PURPOSES) return "unknown";
    return purpose_names[p];
}

int mcp_random_bytes(unsigned char *buf, size_t n) {
    if (n > (size_t)INT32_MAX) return -1;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

char *mcp_random_b64url(size_t n) {
    unsigned char buf[64];
    if (n == 0 || n > sizeof buf) return NULL;
    if (mcp_random_bytes(buf, n) != 0) return NULL;
    char *s = mcp_b64url_encode(buf, n, NULL);
    OPENSSL_cleanse(buf, sizeof buf);
    return s;
}

char *mcp_sha256_b64url(const void *data, size_t len) {
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof md)
        return NULL;
    return mcp_b64url_encode(md, sizeof md, NULL);
}

static int hkdf(const unsigned char *secret, size_t len, const char *info, unsigned char *out) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf) return -1;
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!ctx) return -1;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)SEAL_SALT,
                                                  sizeof SEAL_SALT - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
    params[4] = OSSL_PARAM_construct_end();
    int ok = EVP_KDF_derive(ctx, out, SEAL_KEY_LEN, params) == 1;
    EVP_KDF_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int derive_all(const unsigned char *secret, size_t len, seal_key *key, mcp_err *err) {
    if (!secret || len < MCP_SEAL_MIN_SECRET)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "sealing secret must be at least %d bytes",
                           MCP_SEAL_MIN_SECRET);
    for (int p = 0; p < MCP_SEAL_PURPOSES; p++) {
        char info[40];
        size_t pl = strlen(purpose_names[p]);
        memcpy(info, "purpose:", 8);
        memcpy(info + 8, purpose_names[p], pl + 1);
        if (hkdf(secret, len, info, key->k[p]) != 0) {
            OPENSSL_cleanse(key, sizeof *key);
            return mcp_err_set(err, MCPAUTH_E_INTERNAL, "HKDF key derivation failed");
        }
    }
    return MCPAUTH_OK;
}

int mcp_sealer_new(const unsigned char *secret, size_t len, mcp_sealer **out, mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    mcp_sealer *s = calloc(1, sizeof *s);
    if (!s) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    int rc = derive_all(secret, len, &s->keys[0], err);
    if (rc != MCPAUTH_OK) {
        mcp_sealer_free(s);
        return rc;
    }
    s->n = 1;
    *out = s;
    return MCPAUTH_OK;
}

int mcp_sealer_add_previous(mcp_sealer *s, const unsigned char *secret, size_t len, mcp_err *err) {
    if (!s) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no sealer");
    if (s->n >= MCP_SEAL_MAX_SECRETS)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "at most %d previous sealing secrets",
                           MCP_SEAL_MAX_SECRETS - 1);
    int rc = derive_all(secret, len, &s->keys[s->n], err);
    if (rc == MCPAUTH_OK) s->n++;
    return rc;
}

void mcp_sealer_free(mcp_sealer *s) {
    if (!s) return;
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

static size_t aad_fill(mcp_seal_purpose p, char *buf, size_t cap) {
    size_t a = sizeof SEAL_AAD_PREFIX - 1, b = strlen(purpose_names[p]);
    if (a + b + 1 > cap) return 0;
    memcpy(buf, SEAL_AAD_PREFIX, a);
    memcpy(buf + a, purpose_names[p], b + 1);
    return a + b;
}

int mcp_seal(const mcp_sealer *s, mcp_seal_purpose purpose, json_t *payload, int64_t exp,
             char **out, mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    if (!s || !payload || (int)purpose < 0 || purpose >= MCP_SEAL_PURPOSES || exp <= 0)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "bad seal arguments");
    json_t *wrap =
        json_pack("{s:s,s:I,s:O}", "p", purpose_names[purpose], "e", (json_int_t)exp, "d", payload);
    if (!wrap) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    char *pt = json_dumps(wrap, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(wrap);
    if (!pt) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    size_t ptlen = strlen(pt);
    if (ptlen > MCP_SEAL_MAX_PLAINTEXT) {
        OPENSSL_cleanse(pt, ptlen);
        free(pt);
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "sealed payload too large");
    }
    size_t total = 1 + SEAL_IV_LEN + ptlen + SEAL_TAG_LEN;
    unsigned char *buf = malloc(total);
    if (!buf) {
        OPENSSL_cleanse(pt, ptlen);
        free(pt);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    buf[0] = SEAL_VERSION;
    int rc = MCPAUTH_OK;
    EVP_CIPHER_CTX *ctx = NULL;
    char aad[64];
    size_t aadlen = aad_fill(purpose, aad, sizeof aad);
    int outl = 0, finl = 0;
    if (mcp_random_bytes(buf + 1, SEAL_IV_LEN) != 0) {
        rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "random generator failed");
        goto done;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_IV_LEN, NULL) != 1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, s->keys[0].k[purpose], buf + 1) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad, (int)aadlen) != 1 ||
        EVP_EncryptUpdate(ctx, buf + 1 + SEAL_IV_LEN, &outl, (const unsigned char *)pt,
                          (int)ptlen) != 1 ||
        (size_t)outl != ptlen ||
        EVP_EncryptFinal_ex(ctx, buf + 1 + SEAL_IV_LEN + outl, &finl) != 1 || finl != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
                            buf + 1 + SEAL_IV_LEN + ptlen) != 1) {
        rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "AES-GCM encryption failed");
        goto done;
    }
    *out = mcp_b64url_encode(buf, total, NULL);
    if (!*out) rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
done:
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(pt, ptlen);
    free(pt);
    OPENSSL_cleanse(buf, total);
    free(buf);
    return rc;
}

/* 1 when the tag verified and pt (ctlen bytes) holds the plaintext. */
static int gcm_open(const unsigned char *key, const unsigned char *iv, const unsigned char *ct,
                    size_t ctlen, const unsigned char *tag, const char *aad, size_t aadlen,
                    unsigned char *pt) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, finl = 0, ok = 0;
    if (ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SEAL_IV_LEN, NULL) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) == 1 &&
        EVP_DecryptUpdate(ctx, NULL, &outl, (const unsigned char *)aad, (int)aadlen) == 1 &&
        EVP_DecryptUpdate(ctx, pt, &outl, ct, (int)ctlen) == 1 && (size_t)outl == ctlen &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, (void *)tag) == 1 &&
        EVP_DecryptFinal_ex(ctx, pt + outl, &finl) == 1)
        ok = 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int mcp_unseal(const mcp_sealer *s, mcp_seal_purpose purpose, const char *in, size_t len,
               int64_t now, json_t **payload, mcp_err *err) {
    if (!payload) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output pointer");
    *payload = NULL;
    if (!s || (int)purpose < 0 || purpose >= MCP_SEAL_PURPOSES)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "bad unseal arguments");
    if (!in || len == 0 || len > MCP_SEAL_MAX_SEALED)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "sealed %s value has a bad length",
                           purpose_names[purpose]);
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int d = mcp_b64url_decode(in, len, &raw, &rawlen);
    if (d == -2) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (d != 0)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "sealed %s value is not base64url",
                           purpose_names[purpose]);
    if (rawlen < 1 + SEAL_IV_LEN + SEAL_TAG_LEN + 2 || raw[0] != SEAL_VERSION) {
        free(raw);
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                           "sealed %s value has a bad size or version", purpose_names[purpose]);
    }
    size_t ctlen = rawlen - 1 - SEAL_IV_LEN - SEAL_TAG_LEN;
    unsigned char *pt = malloc(ctlen + 1);
    if (!pt) {
        free(raw);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    char aad[64];
    size_t aadlen = aad_fill(purpose, aad, sizeof aad);
    int opened = 0;
    for (size_t i = 0; i < s->n && !opened; i++)
        opened = gcm_open(s->keys[i].k[purpose], raw + 1, raw + 1 + SEAL_IV_LEN, ctlen,
                          raw + 1 + SEAL_IV_LEN + ctlen, aad, aadlen, pt);
    free(raw);
    if (!opened) {
        OPENSSL_cleanse(pt, ctlen);
        free(pt);
        return mcp_err_set(err, MCPAUTH_E_BAD_SIGNATURE, "sealed %s value does not authenticate",
                           purpose_names[purpose]);
    }
    pt[ctlen] = '\0';
    mcp_err perr = {0, {0}};
    json_t *wrap = mcp_json_parse((const char *)pt, ctlen, MCP_JSON_MAX_DEPTH, 1, "sealed value",
                                  MCPAUTH_E_TOKEN_MALFORMED, &perr);
    OPENSSL_cleanse(pt, ctlen);
    free(pt);
    if (!wrap)
        return mcp_err_set(err, perr.code ? perr.code : MCPAUTH_E_TOKEN_MALFORMED,
                           "sealed %s value has a bad payload", purpose_names[purpose]);
    json_t *p = json_object_get(wrap, "p");
    json_t *e = json_object_get(wrap, "e");
    json_t *dv = json_object_get(wrap, "d");
    if (!json_is_string(p) || strcmp(json_string_value(p), purpose_names[purpose]) != 0 ||
        !json_is_integer(e) || !dv) {
        json_decref(wrap);
        return mcp_err_set(err, MCPAUTH_E_BAD_SIGNATURE, "sealed value is not a %s value",
                           purpose_names[purpose]);
    }
    if ((int64_t)json_integer_value(e) <= now) {
        json_decref(wrap);
        return mcp_err_set(err, MCPAUTH_E_EXPIRED, "sealed %s value has expired",
                           purpose_names[purpose]);
    }
    *payload = json_incref(dv);
    json_decref(wrap);
    return MCPAUTH_OK;
}
