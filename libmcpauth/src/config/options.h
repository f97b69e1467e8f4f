/* options.h - typed readers of configuration options (options.c). Absent or null = not set:
 * *out is left untouched and the reader returns MCPAUTH_OK. Errors are MCPAUTH_E_CONFIG with a
 * message naming the option. */
#ifndef MCP_OPTIONS_H
#define MCP_OPTIONS_H

#include <jansson.h>
#include <stdint.h>

#include "util/common.h"
#include "util/strv.h"

/* The value of KEY in `in`, NULL when absent or null (borrowed). */
json_t *mcp_opt_get(json_t *in, const char *key);
/* A non-empty string (replaces *out). */
int mcp_opt_str(json_t *in, const char *key, char **out, mcp_err *err);
/* A non-empty string that passes mcp_url_check (replaces *out). */
int mcp_opt_url(json_t *in, const char *key, char **out, mcp_err *err);
int mcp_opt_bool(json_t *in, const char *key, int *out, mcp_err *err);
/* An integer in [min, max]. */
int mcp_opt_int(json_t *in, const char *key, int64_t min, int64_t max, int64_t *out, mcp_err *err);
/* An array of non-empty strings, or (allow_string) one string split on whitespace;
 * no_space: elements may not contain whitespace (scopes). Replaces *out. mcp_opt_strv_value
 * reads the value v itself (KEY only names it in errors). */
int mcp_opt_strv(json_t *in, const char *key, int allow_string, int no_space, mcp_strv *out,
                 mcp_err *err);
int mcp_opt_strv_value(json_t *v, const char *key, int allow_string, int no_space, mcp_strv *out,
                       mcp_err *err);

/* Readers of one option KEY of a section object (absent or null = not set, *out untouched);
 * their errors (MCPAUTH_E_CONFIG) name it 'SECT.KEY'. A string must be non-empty and free of
 * NUL bytes (replaces *out); an integer must lie in [min, max]. */
int mcp_opt_section_str(json_t *obj, const char *sect, const char *key, char **out, mcp_err *err);
int mcp_opt_section_int(json_t *obj, const char *sect, const char *key, int64_t min, int64_t max,
                        int64_t *out, mcp_err *err);

#endif
