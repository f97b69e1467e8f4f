/* jws.h - compact JWS parsing with every structural check, and verification of a parsed JWS
 * against a key set (the signature primitive itself is sig.h). */
#ifndef MCP_JWS_H
#define MCP_JWS_H

#include <jansson.h>

#include "util/common.h"
#include "jose/jwk.h"
#include "jose/sig.h"

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

/* Verifies a parsed JWS against a keyset (alg must be in allowed_mask; kid lookup; each
 * candidate key tried). MCPAUTH_OK, _ALG_NOT_ALLOWED, _KEY_NOT_FOUND, _BAD_SIGNATURE. */
int mcp_jws_verify(const mcp_jws *jws, const mcp_keyset *ks, unsigned allowed_mask, mcp_err *err);

#endif
