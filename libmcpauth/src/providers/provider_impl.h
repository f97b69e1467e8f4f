/* provider_impl.h - internals shared by config.c, provider.c and the presets (provider_*.c):
 * the preset objects, configuration helpers and claim-mapping helpers. Not installed. */
#ifndef MCP_PROVIDER_IMPL_H
#define MCP_PROVIDER_IMPL_H

#include <jansson.h>

#include "config/config.h"
#include "providers/provider.h"

/* The presets (one file each). */
extern const mcp_provider mcp_provider_jwks;
extern const mcp_provider mcp_provider_auth0;
extern const mcp_provider mcp_provider_betterauth;
extern const mcp_provider mcp_provider_clerk;
extern const mcp_provider mcp_provider_workos;
extern const mcp_provider mcp_provider_supabase;
extern const mcp_provider mcp_provider_keycloak;
extern const mcp_provider mcp_provider_custom;

/* The preset that declares `option` as one of its own options (for error messages), or NULL. */
const mcp_provider *mcp_provider_owning_option(const char *option);

/* ---- configuration helpers for presets -------------------------------------------------- */

/* 1 when the configuration object's access tokens are opaque (checked at the authorization
 * server, not as JWTs): 'introspection' or 'userinfo' is set, or the proxy preset is an
 * opaque-token one (github, google). */
int mcp_pv_tokens_opaque(json_t *in);

/* MCPAUTH_E_CONFIG "<prov>: option '<opt>' is required (or set <env>)" when value is NULL;
 * the variable is named only when env reads the environment (not under NO_ENV). */
int mcp_pv_required(const char *prov, const char *opt, mcp_getenv_fn env, const char *env_name,
                    const char *value, mcp_err *err);
/* Removes trailing '/' characters. */
void mcp_pv_strip_slashes(char *s);
/* If *field is NULL, sets it to a copy of a followed by b (b may be NULL). */
int mcp_pv_fill(char **field, const char *a, const char *b, mcp_err *err);
/* If *field is NULL, sets it to a copy of list. */
int mcp_pv_fill_strv(mcp_strv *field, const char *const *list, mcp_err *err);
/* If cfg->audience is unset and env_name is set in the environment, uses it as the audience. */
int mcp_pv_audience_env(mcp_config *cfg, mcp_getenv_fn env, const char *env_name, mcp_err *err);
/* 1 if a key source (jwksUrl, jwks, publicKey or secret) was configured explicitly. */
int mcp_pv_has_key_source(const mcp_config *cfg);
/* Normalizes a host option: an optional "https://" prefix and trailing '/' are removed; what
 * remains must be a bare host[:port] (no path, query, userinfo or whitespace). Takes ownership
 * of *value (replaced in place). */
int mcp_pv_host(char **value, const char *prov, const char *opt, mcp_err *err);
/* A URL option of a preset: trailing '/' removed, then mcp_url_check naming the option. */
int mcp_pv_url(char *value, const char *prov, const char *opt, mcp_err *err);

/* ---- claim mapping helpers (return 0, or -1 on no memory) ------------------------------- */

/* user[field] = payload[claim] (dotted path) if it is a string. */
int mcp_map_str(json_t *user, const char *field, json_t *payload, const char *claim);
/* The first string among the claims (NULL-terminated list of dotted paths) into user[field]. */
int mcp_map_str_first(json_t *user, const char *field, json_t *payload, const char *const *claims);
/* user[field] = a deep copy of payload[claim] (any JSON type) if present. */
int mcp_map_any(json_t *user, const char *field, json_t *payload, const char *claim);
/* user[field] = the strings of array v (non-strings dropped). Returns 1 when v was an array,
 * 0 when it was not (nothing set), -1 on no memory. */
int mcp_map_str_array(json_t *user, const char *field, json_t *v);
/* user[field] = [] */
int mcp_map_empty_array(json_t *user, const char *field);
/* user[field] = the strings of array v, or [] when v is not an array. 0, or -1 on no memory. */
int mcp_map_str_list(json_t *user, const char *field, json_t *v);
/* user.scopes = the "scope" claim split on whitespace (or its strings if an array). */
int mcp_map_scopes(json_t *user, json_t *payload);

#endif
