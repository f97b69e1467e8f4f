/* jwk.h - keys: JWK / JWKS / PEM / HMAC secret import onto OpenSSL 3, done once. */
#ifndef MCP_JWK_H
#define MCP_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdatomic.h>

#include "util/common.h"

typedef enum mcp_kty { MCP_KTY_RSA = 1, MCP_KTY_EC, MCP_KTY_OKP, MCP_KTY_OCT } mcp_kty;

/* A key's prepared verification contexts for one algorithm (sig.c). */
typedef struct mcp_sig_state mcp_sig_state;

typedef struct mcp_key {
    char *kid; /* NULL when the key has none */
    mcp_kty kty;
    unsigned alg_mask;     /* algorithms this key may verify: kty, crv and the JWK's "alg" */
    EVP_PKEY *pkey;        /* asymmetric keys */
    unsigned char *secret; /* oct keys */
    size_t secret_len;
    /* Added by sig.c (mcp_sig_prepare): per allowed alg, the verification contexts prepared
     * once at import and the pool each verification borrows from (sig.c keeps the pool
     * thread-safe, so a keyset stays shareable between threads). A NULL entry makes
     * verification prepare a state for that call only. */
    mcp_sig_state *sig[MCP_ALG_COUNT];
} mcp_key;

typedef struct mcp_keyset {
    mcp_key *keys;
    size_t n;
    atomic_int refs;
} mcp_keyset;

/* Flags for mcp_keyset_from_jwks(). */
#define MCP_JWKS_ALLOW_OCT 0x1u /* inline JWKS only: symmetric keys allowed (never from a URL) */

/* Imports a JWKS object ({"keys":[...]}) with every check: RSA >= 2048 bits and sane e, EC
 * points on the curve with exact coordinate length, Ed25519 x of 32 bytes, oct >= 32 bytes,
 * use/key_ops honoured (keys for encryption are skipped), duplicate kids and mixed
 * symmetric/asymmetric sets refused, at most max_keys keys. Keys that are not for signature
 * verification are skipped; an unusable signature key is an error naming its index/kid.
 * On success *out has one reference. Errors use MCPAUTH_E_CONFIG for inline sets; callers
 * fetching from a URL remap. */
int mcp_keyset_from_jwks(json_t *jwks, unsigned flags, size_t max_keys, mcp_keyset **out,
                         mcp_err *err);

/* Same from JSON text (strict parser). */
int mcp_keyset_from_jwks_text(const char *text, size_t len, unsigned flags, size_t max_keys,
                              mcp_keyset **out, mcp_err *err);

/* A single PEM public key (RSA, EC or Ed25519) as a keyset of one key without kid. */
int mcp_keyset_from_pem(const char *pem, size_t len, mcp_keyset **out, mcp_err *err);

/* An HMAC secret (raw bytes, >= 32) as a keyset of one oct key allowing HS256/384/512 whose
 * hash length does not exceed the secret length. */
int mcp_keyset_from_secret(const unsigned char *secret, size_t len, mcp_keyset **out, mcp_err *err);

void mcp_keyset_ref(mcp_keyset *ks);
void mcp_keyset_unref(mcp_keyset *ks); /* frees at zero; NULL-safe */

/* Returns the key whose kid equals `kid` (exactly) and that allows `alg`; when `kid` is NULL,
 * the keys that allow `alg` are candidates. Fills up to `max` candidates into out[] and
 * returns their count. */
size_t mcp_keyset_candidates(const mcp_keyset *ks, const char *kid, mcp_alg alg,
                             const mcp_key **out, size_t max);

/* 1 if any key has this kid. */
int mcp_keyset_has_kid(const mcp_keyset *ks, const char *kid);

#endif
