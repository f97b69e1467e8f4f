/* metadata.h - the HTTP surface's state (router.c, metadata.c, challenge.c): RFC 9728
 * protected resource metadata, RFC 8414 authorization server metadata (mirrored from the
 * upstream issuer with a TTL cache, or synthesized), URL and scope helpers. */
#ifndef MCP_METADATA_H
#define MCP_METADATA_H

#include <jansson.h>
#include <stdint.h>

#include "util/common.h"
#include "config/config.h"

struct mcpauth_engine;

#define MCP_PRM_WELL_KNOWN "/.well-known/oauth-protected-resource"
#define MCP_ASM_WELL_KNOWN "/.well-known/oauth-authorization-server"
#define MCP_OIDC_WELL_KNOWN "/.well-known/openid-configuration"

/* One routeScopes entry: a path prefix (key starts with '/') or an MCP method name. */
typedef struct mcp_route_scope {
    char *key;
    int is_path;
    mcp_strv scopes;
} mcp_route_scope;

typedef struct mcp_as_cache mcp_as_cache;

/* e->http_state. Immutable after mcp_http_surface_init() except `as` (internally locked). */
typedef struct mcp_http_state {
    char *resource;           /* canonical resource URL; NULL: derived per request (trustHostHeader)
                                 or unavailable (then HTTP calls give MCPAUTH_E_CONFIG) */
    char *prm_url;            /* path-inserted PRM URL of `resource` (NULL with resource) */
    mcp_strv prm_routes;      /* local paths answering PRM: root, root + resource path, root +
                                 mcpPath (deduplicated) */
    mcp_strv as_routes;       /* local paths answering AS metadata (empty without issuer) */
    mcp_strv protected_paths; /* normalized protectedPaths (no trailing '/') */
    mcp_route_scope *routes;  /* routeScopes */
    size_t n_routes;
    mcp_strv all_method_scopes; /* union of every method-keyed routeScopes entry */
    mcp_as_cache *as;           /* NULL without issuer */
} mcp_http_state;

/* ---- small helpers ---- */

/* Appends a copy of s to *v unless already present. 0, or -1 on no memory. */
int mcp_strv_add_unique(mcp_strv *v, const char *s);

/* Splits an absolute http(s) URL into origin ("https://h:8443") and path (query and fragment
 * dropped; "" for none or "/"; trailing '/' removed). Both malloc'd. MCPAUTH_E_CONFIG naming
 * `what` when the URL is not absolute http(s) or has bytes outside 0x21-0x7E. */
int mcp_url_split(const char *url, const char *what, char **origin, char **path, mcp_err *err);

/* The path-inserted RFC 9728 metadata URL of `resource` (malloc'd), or NULL. */
char *mcp_prm_url_for(const char *resource, mcp_err *err);

/* ---- documents ---- */

/* The RFC 9728 document for `resource`: resource, authorization_servers ([as_issuer], or
 * [cfg->issuer] when as_issuer is NULL), scopes_supported, bearer_methods_supported,
 * resource_name, resource_documentation (absent ones omitted).
 * New reference or NULL on no memory. */
json_t *mcp_prm_document(const mcp_config *cfg, const mcp_http_state *st, const char *resource,
                         const char *as_issuer);

/* The RFC 8414 document synthesized from the configured endpoints (issuer,
 * authorization_endpoint and token_endpoint required). MCPAUTH_E_UPSTREAM when they are
 * missing. */
int mcp_as_synthesize(const mcp_config *cfg, json_t **out, mcp_err *err);

/* ---- upstream AS metadata cache ---- */

mcp_as_cache *mcp_as_cache_new(void);
void mcp_as_cache_free(mcp_as_cache *c);

/*
 * The AS metadata document (a new reference in *out):
 *  - a fresh cached copy (metadataTtl seconds) is returned without I/O;
 *  - else it is fetched from the issuer: RFC 8414 insertion form
 *    (origin + /.well-known/oauth-authorization-server + issuer path), then the OIDC append
 *    form (issuer + /.well-known/openid-configuration); a document counts only with status
 *    200, a JSON object and "issuer" identical to the configured issuer (RFC 8414 3.3);
 *  - one thread fetches at a time (others wait);
 *  - on failure, for min(metadataTtl, 30) seconds no new fetch is tried and the last good
 *    copy is served, else a document synthesized from the configured endpoints, else
 *    MCPAUTH_E_UPSTREAM;
 *  - code_challenge_methods_supported is set to ["S256"] when absent.
 * With nonblock, MCPAUTH_E_WOULD_BLOCK whenever a fetch would be needed.
 */
int mcp_as_metadata_get(const struct mcpauth_engine *e, mcp_as_cache *c, int nonblock, json_t **out,
                        mcp_err *err);

/* Upstream HTTP requests made so far (tests). */
uint64_t mcp_as_cache_fetch_count(mcp_as_cache *c);

#endif
