/* decode.h - reading a token without verifying it. */
#ifndef MCP_DECODE_H
#define MCP_DECODE_H

#include <jansson.h>
#include <stddef.h>

#include "util/common.h"

/* Splits a compact JWS into exactly three segments and decodes header and payload as strict
 * JSON objects (new references in *header and *payload), without verifying anything. A token
 * longer than `max` bytes is MCPAUTH_E_TOKEN_TOO_LARGE; anything else malformed is
 * MCPAUTH_E_TOKEN_MALFORMED naming the part. */
int mcp_decode_parts(const char *token, size_t len, size_t max, json_t **header, json_t **payload,
                     mcp_err *err);

#endif
