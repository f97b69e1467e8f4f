/* b64url.h - strict base64url (RFC 7515 section 2, RFC 4648 section 5). */
#ifndef MCP_B64URL_H
#define MCP_B64URL_H

#include <stddef.h>

/* Decodes `in` strictly: alphabet [A-Za-z0-9_-] only, no padding, no whitespace, zero unused
 * bits, length % 4 != 1. *out is malloc'd (NUL-terminated for convenience, not counted in
 * *out_len; free with free()). Returns 0 on success, -1 on invalid input, -2 on no memory. */
int mcp_b64url_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len);

/* Encodes without padding. Returns a malloc'd NUL-terminated string or NULL. */
char *mcp_b64url_encode(const unsigned char *in, size_t in_len, size_t *out_len);

#endif
