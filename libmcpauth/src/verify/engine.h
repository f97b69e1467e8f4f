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
    void *http_state; /* router / metadata state (router.c), owned */
    void (*http_state_free)(void *);
    void *proxy_state;  /* OAuth proxy (proxy/proxy_config.c), NULL when not configured, owned */
    void *opaque_state; /* introspection / userinfo verifier (opaque.c), owned */
    /* the environment lookup the configuration was loaded with (returns NULL for everything
     * under MCPAUTH_ENGINE_NO_ENV); modules that read variables of their own use it. NULL:
     * no environment. */
    mcp_getenv_fn env;
};

/* Verifies into a JSON object (the auth result), without serializing. Used by the router.
 * *result receives a new reference on success. */
int mcp_engine_verify_json(const struct mcpauth_engine *e, const char *token, size_t len,
                           unsigned flags, json_t **result, mcp_err *err);

/* Defined by the HTTP surface (router.c): sets e->http_state from e->cfg at engine creation
 * (metadata URLs, route scopes, upstream metadata cache). */
int mcp_http_surface_init(struct mcpauth_engine *e, mcp_err *err);

#endif
