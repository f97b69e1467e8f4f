/* engine.h - the engine object behind the opaque mcpauth_engine handle. */
#ifndef MCP_ENGINE_H
#define MCP_ENGINE_H

#include "config/config.h"
#include "jose/jwk.h"
#include "jose/jwks_cache.h"
#include "providers/provider.h"
#include "verify/token_cache.h"

struct mcpauth_engine {
    mcp_config *cfg;
    const mcp_provider *provider;
    mcp_keyset *static_keys; /* inline JWKS / PEM / secret; NULL if remote only */
    mcp_jwks_source *jwks;   /* remote JWKS; NULL if static only */
    mcp_token_cache *token_cache;
    struct mcp_http_state *http_state; /* router / metadata state (http/router.c), owned */
    struct mcp_proxy *proxy_state;     /* OAuth proxy (proxy/), NULL when not configured, owned */
    struct mcp_opaque *opaque_state;   /* introspection / userinfo verifier (opaque.c), owned */
    /* the environment lookup the configuration was loaded with (returns NULL for everything
     * under MCPAUTH_ENGINE_NO_ENV); modules that read variables of their own use it. NULL:
     * no environment. */
    mcp_getenv_fn env;
    /* MCPAUTH_ENGINE_SIGNATURE_ONLY: created for signature checks only (the audience
     * requirement waived); every verification must pass MCPAUTH_VERIFY_SIGNATURE_ONLY */
    int signature_only;
};

/* What the router asks of a verification. */
typedef struct mcp_route_verify {
    size_t head, tail;        /* room to leave before and after the text */
    int with_token;           /* "accessToken" in the result */
    const char *const *extra; /* scopes this request needs beyond requiredScopes (NULL: none),
                                 checked against the result's scopes and permissions */
} mcp_route_verify;

/* Verifies a token for the router. With buf: the auth result as text at *buf + in->head
 * (*text_len bytes) in a buffer with in->tail bytes after it and a final NUL; a repeated token is
 * answered from the cache without a parse. With json: the result as a tree (a new reference).
 * Codes as mcpauth_verify; MCPAUTH_E_INSUFFICIENT_SCOPE names the missing scopes. */
int mcp_engine_verify_route(const struct mcpauth_engine *e, const char *token, size_t len,
                            unsigned flags, const mcp_route_verify *in, char **buf,
                            size_t *text_len, json_t **json, mcp_err *err);

/* Defined by the HTTP surface (router.c): sets e->http_state from e->cfg at engine creation
 * (metadata URLs, route scopes, upstream metadata cache). */
int mcp_http_surface_init(struct mcpauth_engine *e, mcp_err *err);
void mcp_http_surface_free(struct mcp_http_state *st);

/* Process-wide set-up every entry point runs first (once): jansson's hash seed, the HTTP
 * client's global state. */
void mcp_engine_global_init(void);

#endif
