/* json_strict.h - hostile-input JSON parsing on jansson, and small typed accessors. */
#ifndef MCP_JSON_STRICT_H
#define MCP_JSON_STRICT_H

#include <jansson.h>
#include <stdint.h>

#include "util/common.h"

#define MCP_JSON_MAX_DEPTH 32

/* Parses exactly `len` bytes (no trailing data, no embedded NUL) with duplicate keys rejected
 * and nesting bounded by max_depth. Requires a JSON object when want_object is non-zero.
 * On failure returns NULL and sets err with `code` and a message naming `what`
 * (e.g. "token header"). */
json_t *mcp_json_parse(const char *buf, size_t len, size_t max_depth, int want_object,
                       const char *what, int code, mcp_err *err);

/* Looks up a dotted path ("realm_access.roles") in an object. Borrowed reference or NULL. */
json_t *mcp_json_path(json_t *root, const char *dotted);

/* A JSON number (integer or real, finite, >= 0, within int64) -> *out. Returns 0 or -1. */
int mcp_json_time(const json_t *v, int64_t *out);

/* Returns a new JSON array of strings from a string (split on ASCII whitespace) or an array
 * of strings (non-strings skipped). NULL input gives an empty array. NULL on no memory. */
json_t *mcp_json_string_list(const json_t *v);

/* ---- the reader: member-by-member reading of the same strict language, for callers that want
 * a few members of a document without building a tree (the HTTP request model). Usage:
 * mcp_jreader_init, then peek / eat / string / literal / skip as the grammar goes, then end.
 * Every function returns -1 on failure with r->why set (r->nomem for no memory). */
typedef struct mcp_jreader {
    const unsigned char *p, *end, *start;
    size_t max_depth;
    char *scratch; /* decoded strings: output never exceeds input, so len + 1 bytes suffice */
    size_t used;   /* bytes of scratch in use (strings handed out, keys held by the tree parser) */
    const char *why;
    size_t where;
    int nomem;
} mcp_jreader;

/* Prepares to read exactly `len` bytes (a NUL byte anywhere fails). 0 or -1. */
int mcp_jreader_init(mcp_jreader *r, const char *buf, size_t len, size_t max_depth);
/* The next non-whitespace byte, or -1 at the end. */
int mcp_jreader_peek(mcp_jreader *r);
/* Consumes c (after whitespace) when it is next: 1, else 0. */
int mcp_jreader_eat(mcp_jreader *r, char c);
/* A string, decoded and NUL-terminated in the reader's scratch (valid until the scratch is freed
 * or taken; strings never contain NUL). 0 or -1. */
int mcp_jreader_string(mcp_jreader *r, const char **s, size_t *n);
/* null 0, true 1, false 2; -1 when the next value is none of them (nothing consumed). */
int mcp_jreader_literal(mcp_jreader *r);
/* Validates and skips any value nested `depth` levels deep. 0 or -1. */
int mcp_jreader_skip(mcp_jreader *r, size_t depth);
/* 0 when nothing but whitespace remains. */
int mcp_jreader_end(mcp_jreader *r);
/* Records a failure (why) at the current position; returns -1. */
int mcp_jreader_fail(mcp_jreader *r, const char *why);
/* Hands the scratch (every string read) to the caller, to free(); the reader keeps none. */
char *mcp_jreader_take(mcp_jreader *r);
void mcp_jreader_clear(mcp_jreader *r);

#endif
