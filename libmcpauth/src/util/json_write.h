/* json_write.h - fast compact JSON serialization for results (the verification hot path). */
#ifndef MCP_JSON_WRITE_H
#define MCP_JSON_WRITE_H

#include <jansson.h>
#include <stddef.h>

/* Serializes v compactly (like json_dumps(v, JSON_COMPACT)) into a malloc'd NUL-terminated
 * string; *len (optional) receives its length. NULL on no memory or nesting over 64. */
char *mcp_json_write(const json_t *v, size_t *len);

#endif
