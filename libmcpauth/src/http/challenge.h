/* challenge.h - RFC 6750 / RFC 9728 WWW-Authenticate rendering for the HTTP surface.
 *
 * The parameter order is fixed (tests compare byte for byte) and follows the examples of the
 * MCP 2025-11-25 authorization spec:
 *
 *   no credentials (error == NULL):
 *     Bearer resource_metadata="<prm>", scope="<scopes>"
 *   insufficient_scope:
 *     Bearer error="insufficient_scope", scope="<scopes>", resource_metadata="<prm>",
 *            error_description="<text>"
 *   any other error (invalid_token, invalid_request):
 *     Bearer error="<code>", error_description="<text>", resource_metadata="<prm>",
 *            scope="<scopes>"
 *
 * A parameter whose value is NULL or empty is left out (scope when nothing is required,
 * resource_metadata when unknown). The result is one line: parameters are separated by ", ".
 * Values are RFC 7230 quoted-strings: '"' and '\' are escaped with a backslash; any byte
 * outside printable ASCII (0x20-0x7E) is refused (MCPAUTH_E_INVALID_ARGUMENT), so nothing a
 * caller passes can inject a header line.
 */
#ifndef MCP_CHALLENGE_H
#define MCP_CHALLENGE_H

#include "util/common.h"

/* Renders the header value into a malloc'd string (free with free()). Returns MCPAUTH_OK,
 * MCPAUTH_E_NOMEM or MCPAUTH_E_INVALID_ARGUMENT (a value with bytes outside 0x20-0x7E, or an
 * error code that is not a token). */
int mcp_challenge_render(const char *error, const char *description, const char *scope,
                         const char *resource_metadata, char **out);

/* 1 if `s` is one RFC 6749 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ), at most 256 bytes. */
int mcp_scope_token_valid(const char *s);

#endif
