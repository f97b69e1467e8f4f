/* config.h - the engine configuration: JSON + provider preset + environment -> mcp_config. */
#ifndef MCP_CONFIG_H
#define MCP_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/common.h"
#include "util/strv.h"
#include "config/options.h"

/* typ policy */
#define MCP_TYP_ABSENT 0x1u /* header without typ */
#define MCP_TYP_JWT 0x2u    /* "JWT" */
#define MCP_TYP_AT_JWT 0x4u /* "at+jwt" or "application/at+jwt" (case-insensitive, RFC 9068) */

typedef struct mcp_config {
    char *provider; /* "jwks", "auth0", "betterauth", "clerk", "workos", "supabase", "keycloak",
                       "custom" */
    /* verification */
    char *issuer;      /* required unless verifyJwt:false */
    mcp_strv audience; /* NULL: no aud check (unless resource binding) */
    char *resource;    /* RFC 8707 binding: aud contains it or "resource" claim equals */
    char *jwks_url;
    json_t *jwks_inline; /* owned */
    char *public_key_pem;
    unsigned char *secret; /* HMAC secret */
    size_t secret_len;
    unsigned alg_mask;      /* allow-list (MCP_ALG_BIT) */
    int64_t leeway;         /* default 60 */
    int64_t max_iat_future; /* iat further than leeway in the future is rejected */
    int require_exp;        /* default 1 */
    unsigned typ_policy;    /* default ABSENT|JWT|AT_JWT */
    mcp_strv required_scopes;
    json_t *claims_map; /* {"email":"mail","roles":"groups"} dotted paths; owned */
    int verify_jwt;     /* default 1; 0 = development decode-only mode */
    /* limits */
    size_t max_token_bytes;          /* default 16384 */
    size_t token_cache_size;         /* default 10000; 0 disables */
    int64_t token_cache_max_seconds; /* an entry lives at most this long; default 300 */
    int64_t jwks_ttl_default, jwks_ttl_min, jwks_ttl_max, jwks_cooldown;
    size_t max_keys;
    size_t max_fetch_bytes;
    long connect_timeout_ms, timeout_ms;
    /* endpoints of the authorization server (from presets or explicit) */
    char *authorization_endpoint;
    char *token_endpoint;
    char *registration_endpoint;
    char *userinfo_endpoint;
    mcp_strv scopes_supported;
    mcp_strv grant_types_supported;
    /* HTTP surface */
    char *base_url;           /* public origin of the MCP server, e.g. https://h (MCP_URL) */
    char *mcp_path;           /* default "/mcp" */
    mcp_strv protected_paths; /* default [mcp_path] (prefix match on path segments) */
    char *resource_name;
    char *resource_documentation;
    json_t *route_scopes;     /* {"/mcp/admin":["admin"],"tools/call":["tools"]}; owned */
    int trust_host_header;    /* default 0 */
    mcp_strv trusted_proxies; /* addresses / CIDRs whose X-Forwarded-Host/-Proto are honoured */
    struct mcp_cidr *trusted_cidrs; /* parsed trusted_proxies */
    size_t n_trusted_cidrs;
    mcp_strv allowed_hosts;  /* with trustHostHeader: the only hosts a resource is built for */
    int64_t metadata_ttl;    /* upstream AS metadata cache seconds; default 3600 */
    json_t *extra;           /* the whole input object, for modules that read their own options
                                (proxy); owned */
    int bind_resource;       /* 1 (default): when `resource` is set, tokens must be bound to it
                                (RFC 8707: aud contains it, or a "resource" claim equals it, or a
                                configured audience matched); 0: issuer-bound tokens (Clerk) */
    int host_verifies;       /* "hostVerifies" (provider custom only, default 0): the host
                                verifies tokens and calls mcpauth_map_claims; the engine
                                verifies none (no key source needed; verify gives CONFIG) */
    int allow_any_audience;  /* "allowAnyAudience" (default 0): accept tokens issued for any
                                audience when neither `audience` nor a resource is configured
                                (otherwise such a configuration is refused) */
    json_t *preset_user_map; /* the user mapping of the proxy preset (else of the userinfo
                                preset), {"userId":"id","username":"login",...}: applied after
                                the provider's mapping, before `claims`; NULL: none; owned */
} mcp_config;

/* Env lookup hook (tests replace it). Returns a borrowed value or NULL. */
typedef const char *(*mcp_getenv_fn)(const char *name);

/* The env hook of MCPAUTH_ENGINE_NO_ENV: reads nothing. */
const char *mcp_getenv_none(const char *name);
/* 1 when env reads the process environment (not NULL, not mcp_getenv_none): messages then
 * name the environment variables that could supply a value. */
int mcp_env_on(mcp_getenv_fn env);

/* Parses and resolves the configuration: JSON -> preset (provider) -> env fallback ->
 * defaults -> validation. Unknown top-level keys are an error naming the key.
 * Errors: MCPAUTH_E_CONFIG naming the option and its env var. */
int mcp_config_load(const char *json, size_t len, mcp_getenv_fn env, mcp_config **out,
                    mcp_err *err);
void mcp_config_free(mcp_config *cfg);

/* Tokens must be issued for this server: refuses (MCPAUTH_E_CONFIG naming 'audience' and
 * 'baseUrl') a configuration with neither an audience nor a resource (resource, baseUrl,
 * MCP_URL, or the Host-derived one of trustHostHeader) unless allowAnyAudience is true. With
 * allowAnyAudience, writes a warning to stderr (every engine creation). Not applied to engines that
 * only check signatures. */
int mcp_config_require_audience(const mcp_config *cfg, mcp_getenv_fn env, mcp_err *err);

/* The resolved configuration as JSON (no secrets). */
json_t *mcp_config_to_json(const mcp_config *cfg);

#endif
