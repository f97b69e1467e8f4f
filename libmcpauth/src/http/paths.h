/* paths.h - request paths for the router (paths.c).
 *
 * A protected path P covers P and everything under it by whole segments ("/mcp" covers "/mcp",
 * "/mcp/x", "/mcp;p" but not "/mcpx"), case-insensitively. It is applied to the raw path and to
 * a normalized copy (percent-decoded, '\\' as '/', dot segments resolved, repeated '/'
 * collapsed); a match on either protects the request, so an upstream that normalizes
 * differently cannot be reached around the check. */
#ifndef MCP_HTTP_PATHS_H
#define MCP_HTTP_PATHS_H

#include "config/config.h"

/* "/a/b/" -> "/a/b"; "/" -> "". malloc'd; NULL on no memory. */
char *mcp_path_trim(const char *p);

/* 1 when s is in v. */
int mcp_strv_has(const mcp_strv v, const char *s);

/* Percent-decodes once, maps '\\' to '/', resolves "." and ".." segments and collapses repeated
 * '/'. malloc'd; NULL on no memory. */
char *mcp_path_normalize(const char *raw);

/* 1 when the raw or the normalized path (may be NULL) is under prefix (whole segments,
 * case-insensitive; "" matches everything). */
int mcp_path_under2(const char *raw, const char *norm, const char *prefix);

/* 1 when the request path is under one of protected_paths. */
int mcp_path_protected(const mcp_strv protected_paths, const char *raw, const char *norm);

/* 1 when the query has an access_token parameter (name percent-decoded, '+' as space). */
int mcp_query_has_token(const char *q);

#endif
