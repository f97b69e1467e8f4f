/* strv.h - NULL-terminated lists of malloc'd strings (audiences, scopes, paths...). */
#ifndef MCP_STRV_H
#define MCP_STRV_H

#include <jansson.h>
#include <stddef.h>

#include "util/common.h"

typedef char **mcp_strv;
void mcp_strv_free(mcp_strv v);
size_t mcp_strv_len(const mcp_strv v);
int mcp_strv_contains(const mcp_strv v, const char *s);
/* Appends a copy of s[0..n) (0, or -1 when out of memory). */
int mcp_strv_push(mcp_strv *v, const char *s, size_t n);
/* Appends a copy of the string s (0, or -1 when out of memory or s is NULL). */
int mcp_strv_add(mcp_strv *v, const char *s);
/* The strings joined by single spaces ("" for none), malloc'd, or NULL on no memory. */
char *mcp_strv_join(const mcp_strv v);
/* A JSON array of the strings ([] for NULL), new reference, or NULL on no memory. */
json_t *mcp_strv_to_json(const mcp_strv v);
/* A copy of a NULL-terminated array of strings (an empty list for NULL), or NULL on no
 * memory. */
mcp_strv mcp_strv_from_list(const char *const *list);

#endif
