/* sig.h - the signature primitive (OpenSSL 3 EVP) and the per-key verification contexts. */
#ifndef MCP_SIG_H
#define MCP_SIG_H

#include <stddef.h>

#include "util/common.h"
#include "jose/jwk.h"

/* Verifies `sig` over `data` with `key` under `alg`. The key must allow alg (checked again).
 * ES: raw r||s of exactly 2 * coordinate size; PS: MGF1 same hash, salt = hash length;
 * HS: constant-time compare after a length check. Returns 1 valid, 0 invalid, -1 error. */
int mcp_sig_verify(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                   const unsigned char *sig, size_t sig_len);

/* Prepares key->sig[] for every alg the key allows (called by jwk.c at import; a failure only
 * leaves entries NULL, which verification handles). Returns 0. */
int mcp_sig_prepare(mcp_key *key);
/* Frees key->sig[] (called by jwk.c when a key is destroyed). */
void mcp_sig_release(mcp_key *key);

#endif
