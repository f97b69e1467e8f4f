/* url.h - URL helpers shared by the proxy, opaque-token verification, the configuration and
 * the HTTP client: outbound URL checks, form (query) parsing, percent-encoding, http(s) URI
 * splitting, redirect URI rules, display hosts, '*' patterns. */
#ifndef MCP_URL_H
#define MCP_URL_H

#include <jansson.h>

#include "util/buf.h"
#include "util/common.h"
#include "util/strv.h"

#define MCP_FORM_MAX_PARAMS 64    /* parameters in one query or form */
#define MCP_REDIRECT_URI_MAX 2048 /* bytes of a redirect URI */

/* Checks a URL for outbound use: https, or http only when the host is loopback
 * (127.0.0.0/8, ::1, localhost). No userinfo, no fragment. MCPAUTH_E_CONFIG with `what`
 * (the option name) in the message. */
int mcp_url_check(const char *url, const char *what, mcp_err *err);

/* 1 if url's host is a loopback host. */
int mcp_url_is_loopback(const char *url);

/* Parses "a=b&c=d" (percent-decoding, '+' as space) into an object of strings.
 * Returns 0, -1 malformed (bad escape, NUL, invalid UTF-8, too many), -2 no memory,
 * -3 a parameter repeated (OAuth: MUST NOT appear more than once). */
int mcp_form_parse(const char *s, size_t len, json_t **out);

/* Appends "name=value" (percent-encoded, '&'-separated) to a buffer. */
void mcp_buf_param(mcp_buf *b, const char *name, const char *value);

/* Percent-encodes (RFC 3986 unreserved kept). malloc'd or NULL. */
char *mcp_url_encode(const char *s);

/* url + ('?' or '&') + params (already encoded "a=b&c=d"); malloc'd or NULL. */
char *mcp_url_with_params(const char *url, const char *params);

/* Splits an http(s) URI: *https, host (malloc'd, IPv6 without brackets), port (0 when
 * absent) and *rest (path and query, pointing into uri). 0, -1 when not http(s) or invalid
 * (userinfo, bad host or port), -2 no memory. */
int mcp_http_uri_split(const char *uri, int *https, char **host, unsigned *port, const char **rest);

/* Checks a redirect URI for registration: https (with a host), http only for a loopback
 * host, or a private-use scheme (cursor://...); never javascript:, data:, file:, vbscript:
 * and the like; never a fragment, userinfo, whitespace or control characters. Returns NULL
 * when acceptable, else a static reason. */
const char *mcp_redirect_uri_problem(const char *uri);

/* 1 when uri matches one of the registered URIs exactly, or differs from a registered
 * loopback http URI only in its port (RFC 8252 section 7.3). */
int mcp_redirect_uri_match(const mcp_strv registered, const char *uri);

/* The host (authority) of a URI for display ("app.example.com", "127.0.0.1:3000",
 * "cursor://anysphere.cursor-mcp"). malloc'd or NULL. */
char *mcp_uri_display_host(const char *uri);

#endif
