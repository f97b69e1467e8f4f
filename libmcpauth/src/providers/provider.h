/* provider.h - identity provider presets: each derives issuer / JWKS / endpoints from its own
 * options (with MCP_USE_OAUTH_* env fallback) and maps claims to the UserInfo. One file per
 * provider: provider_auth0.c, provider_betterauth.c, provider_clerk.c, provider_workos.c,
 * provider_supabase.c, provider_keycloak.c, provider_custom.c, provider_jwks.c. */
#ifndef MCP_PROVIDER_H
#define MCP_PROVIDER_H

#include <jansson.h>

#include "config/config.h"

typedef struct mcp_provider {
    const char *name;
    /* Reads the preset's own options from `in` (the config object) or env, fills cfg fields
     * the user left unset (issuer, jwks_url, endpoints, audience, alg_mask, scopes...). */
    int (*resolve)(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err);
    /* Fills `user` (an empty object) from the verified claims. userId etc. */
    int (*map_user)(json_t *payload, json_t *user);
    /* NULL-terminated list of the preset's own option names (accepted as top-level keys). */
    const char *const *options;
} mcp_provider;

const mcp_provider *mcp_provider_find(const char *name);

/* Reads option `key` from `in` (string) or else env var `env_name`; NULL if neither.
 * Returns a malloc'd string in *out; MCPAUTH_E_CONFIG if present but not a string. */
int mcp_provider_opt(json_t *in, const char *key, mcp_getenv_fn env, const char *env_name,
                     char **out, mcp_err *err);

#endif
