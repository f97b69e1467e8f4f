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

#endif
