/* jws.h - compact JWS parsing with every structural check, and the signature primitive. */
#ifndef MCP_JWS_H
#define MCP_JWS_H

#include <jansson.h>

#include "util/common.h"
#include "jose/jwk.h"

typedef struct mcp_jws {
    json_t *header;             /* parsed protected header (owned) */
    json_t *payload;            /* parsed claims object (owned); NULL with MCP_JWS_PAYLOAD_ANY */
    unsigned char *payload_raw; /* decoded payload bytes (owned) */
    size_t payload_raw_len;
    unsigned char *sig; /* decoded signature (owned) */
    size_t sig_len;
    const char *signing_input; /* points into the token: "header.payload" */
    size_t signing_input_len;
    mcp_alg alg;     /* from header "alg", checked to be a known name (never none) */
    const char *kid; /* borrowed from header, NULL if absent */
    const char *typ; /* borrowed from header, NULL if absent */
} mcp_jws;

/* Flags for mcp_jws_parse(). */
#define MCP_JWS_PAYLOAD_ANY 0x1u /* signature-only: do not require a JSON object payload */

/* Parses a compact JWS: size cap (max_len) before anything else, exactly three segments,
 * strict base64url, header and payload JSON strict (duplicates rejected, depth bounded),
 * alg a known name (none refused in any case), crit refused (we implement no extension),
 * b64:false refused, cty JWT refused, jwk/jku/x5u/x5c refused, empty payload and empty
 * signature refused, kid a string of at most 256 bytes.
 * Codes: MCPAUTH_E_TOKEN_TOO_LARGE, _MALFORMED, _HEADER, _ALG_NOT_ALLOWED, _NOMEM. */
int mcp_jws_parse(const char *token, size_t len, size_t max_len, unsigned flags, mcp_jws *out,
                  mcp_err *err);
void mcp_jws_clear(mcp_jws *jws);

/* Verifies `sig` over `data` with `key` under `alg`. The key must allow alg (checked again).
 * ES: raw r||s of exactly 2 * coordinate size; PS: MGF1 same hash, salt = hash length;
 * HS: constant-time compare after a length check. Returns 1 valid, 0 invalid, -1 error. */
int mcp_sig_verify(mcp_alg alg, const mcp_key *key, const unsigned char *data, size_t data_len,
                   const unsigned char *sig, size_t sig_len);

/* Pre-initialises key->vctx[] for every alg the key allows (called by jwk.c at import; a
 * failure only leaves entries NULL, which verification handles). Returns 0. */
int mcp_sig_prepare(mcp_key *key);
/* Frees key->vctx[] (called by jwk.c when a key is destroyed). */
void mcp_sig_release(mcp_key *key);

/* Verifies a parsed JWS against a keyset (alg must be in allowed_mask; kid lookup; each
 * candidate key tried). MCPAUTH_OK, _ALG_NOT_ALLOWED, _KEY_NOT_FOUND, _BAD_SIGNATURE. */
int mcp_jws_verify(const mcp_jws *jws, const mcp_keyset *ks, unsigned allowed_mask, mcp_err *err);

#endif
