/* request.h - the HTTP request model shared by the router and the OAuth proxy: the request JSON
 * a host hands in, read once, strictly, member by member (no tree), into one structure. */
#ifndef MCP_HTTP_REQUEST_H
#define MCP_HTTP_REQUEST_H

#include <stddef.h>

#include "util/common.h"

#define MCP_REQ_MAX_PATH 8192
#define MCP_REQ_MAX_QUERY 16384
#define MCP_REQ_MAX_HEADER_VALUE 65536
#define MCP_REQ_MAX_HEADERS 256
#define MCP_REQ_MAX_METHOD 32
#define MCP_REQ_MAX_MCP_METHODS 256
#define MCP_REQ_MAX_PEER 256

/* One "headers" member: its name and its values (a string gives one, an array any number). */
typedef struct mcp_req_header {
    const char *name;
    size_t first; /* index of the first value in mcp_http_req.values */
    size_t count;
} mcp_req_header;

typedef struct mcp_req_value {
    const char *s; /* NUL-terminated */
    size_t n;
} mcp_req_value;

/* What "mcpMethod" said (mcpauth_handle_request only). */
typedef enum { MCP_MM_ABSENT, MCP_MM_NULL, MCP_MM_GIVEN } mcp_mm_state;

typedef struct mcp_http_req {
    char *strings; /* every decoded string below lives here (owned) */
    const char *method;
    char *path;  /* raw path without query and fragment (owned) */
    char *query; /* raw query or NULL (owned) */
    mcp_req_header *headers;
    size_t n_headers;
    mcp_req_value *values; /* header values */
    size_t n_values;
    const char *body; /* NULL when absent or null */
    size_t body_len;
    int body_truncated; /* "bodyTruncated": true */
    const char *peer;   /* "peer", or NULL */
    mcp_mm_state mm;
    const char **mcp_methods; /* with MCP_MM_GIVEN */
    size_t n_mcp_methods;
} mcp_http_req;

/*
 * Parses a request object {"method","path","query","headers","body","mcpMethod",
 * "bodyTruncated","peer"} (unknown members are validated and ignored; a known member twice is
 * refused; null is "absent"). Returns 0; an HTTP status to answer (414 path or query too long,
 * 431 header fields too large); or a negated mcpauth code (-MCPAUTH_E_INVALID_ARGUMENT for
 * anything malformed, -MCPAUTH_E_NOMEM). `r` must be cleared with mcp_http_req_clear() whatever
 * the result.
 */
int mcp_http_req_parse(const char *json, size_t len, mcp_http_req *r);
void mcp_http_req_clear(mcp_http_req *r);

/* Looks a header up case-insensitively. 0 absent (or an empty array), 1 found (*value), -1
 * ambiguous (several members or several values). */
int mcp_http_req_header_get(const mcp_http_req *r, const char *name, const char **value);

/* The first value of a header (names compared case-insensitively), or NULL. */
const char *mcp_http_req_header(const mcp_http_req *r, const char *name);

/* The value of cookie `name` (malloc'd) or NULL: every "cookie" value is searched. Bounded
 * parsing. */
char *mcp_http_req_cookie(const mcp_http_req *r, const char *name);

#endif
