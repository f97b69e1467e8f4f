/* tokens.h - test-only key generation and JWS signing on OpenSSL (any header, any payload),
 * so tests can forge exactly the hostile tokens they need. */
#ifndef TU_TOKENS_H
#define TU_TOKENS_H

#include <openssl/evp.h>
#include <stddef.h>

typedef struct tu_key {
    EVP_PKEY *pkey; /* NULL for HMAC keys */
    char alg[8];    /* "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "HS256" */
    char kid[64];
    unsigned char secret[64]; /* HMAC keys */
    size_t secret_len;
} tu_key;

/* Generates a key for alg: RS* and PS* -> RSA 2048, ES256 -> P-256, ES384 -> P-384,
 * ES512 -> P-521, EdDSA -> Ed25519, HS* -> 32 random bytes (64 for HS512). Returns 0. */
int tu_key_gen(tu_key *k, const char *alg, const char *kid);
void tu_key_free(tu_key *k);

/* Public JWK JSON text {"kty",...,"kid","alg","use":"sig"} (oct keys include "k").
 * malloc'd. */
char *tu_key_jwk(const tu_key *k);
/* {"keys":[...]} of n keys. malloc'd. */
char *tu_jwks(const tu_key *const *keys, size_t n);
/* PEM SubjectPublicKeyInfo / PKCS#8 private key. malloc'd. */
char *tu_key_pem_public(const tu_key *k);
char *tu_key_pem_private(const tu_key *k);

/* Signs b64url(header_json) "." b64url(payload_json) with k under k->alg (whatever the header
 * says; the test decides the header). ES signatures are raw r||s. malloc'd compact JWS. */
char *tu_sign(const tu_key *k, const char *header_json, const char *payload_json);
/* Same with a standard header {"alg":k->alg,"typ":"JWT","kid":k->kid}. */
char *tu_sign_claims(const tu_key *k, const char *payload_json);

/* Reads a whole file (malloc'd, NUL-terminated) or NULL. */
char *tu_read_file(const char *path, size_t *len);
/* Path of a file under ../shared/testdata (static buffer), or NULL when ../shared is absent;
 * prints "shared test data not found at ..." once in that case. */
const char *tu_shared(const char *rel);

#endif
