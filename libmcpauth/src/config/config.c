/* config.c - loading the engine configuration: strict JSON -> generic options -> provider
 * preset (with MCP_USE_OAUTH_* env fallback) -> defaults -> derived values -> validation. The
 * option readers are options.c; the resolved view (mcpauth_config_resolved) is resolved.c. */
#include "config/config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/cidr.h"
#include "util/http_client.h"
#include "util/json_strict.h"
#include "providers/provider.h"
#include "providers/provider_impl.h"
#include "providers/idp_presets.h"

/* ---- the option list ------------------------------------------------------------------- */

static const char *const generic_options[] = {"provider",
                                              "issuer",
                                              "audience",
                                              "resource",
                                              "jwks",
                                              "jwksUrl",
                                              "publicKey",
                                              "secret",
                                              "algorithms",
                                              "leewaySeconds",
                                              "requiredScopes",
                                              "claims",
                                              "typ",
                                              "requireExp",
                                              "verifyJwt",
                                              "maxTokenBytes",
                                              "tokenCacheSize",
                                              "tokenCacheMaxSeconds",
                                              "jwksCacheSeconds",
                                              "jwksCacheMinSeconds",
                                              "jwksCacheMaxSeconds",
                                              "jwksCooldownSeconds",
                                              "maxKeys",
                                              "httpTimeoutMs",
                                              "httpConnectTimeoutMs",
                                              "authorizationEndpoint",
                                              "authEndpoint",
                                              "tokenEndpoint",
                                              "registrationEndpoint",
                                              "userInfoEndpoint",
                                              "scopesSupported",
                                              "grantTypes",
                                              "grantTypesSupported",
                                              "baseUrl",
                                              "mcpPath",
                                              "protectedPaths",
                                              "resourceName",
                                              "resourceDocumentation",
                                              "routeScopes",
                                              "trustHostHeader",
                                              "trustedProxies",
                                              "allowedHosts",
                                              "hostVerifies",
                                              "allowAnyAudience",
                                              "metadataCacheSeconds",
                                              "proxy",
                                              "introspection",
                                              "userinfo",
                                              NULL};

static int check_keys(json_t *in, const mcp_provider *prov, mcp_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        if (mcp_list_contains(generic_options, key) || mcp_list_contains(prov->options, key))
            continue;
        const mcp_provider *owner = mcp_provider_owning_option(key);
        if (owner)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "unknown option '%.60s' for provider '%s' (it is an option of "
                               "provider '%s')",
                               key, prov->name, owner->name);
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "unknown option '%.80s'", key);
    }
    return MCPAUTH_OK;
}

/* ---- individual options ---------------------------------------------------------------- */

static int parse_algorithms(json_t *in, unsigned *mask, mcp_err *err) {
    json_t *v = mcp_opt_get(in, "algorithms");
    if (!v) return MCPAUTH_OK;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'algorithms' must be a non-empty array of algorithm names");
    unsigned m = 0;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': element %zu must be a string", i);
        const char *name = json_string_value(item);
        if (strcasecmp(name, "none") == 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': \"none\" is never allowed");
        mcp_alg a = mcp_alg_from_name(name);
        if (a == MCP_ALG_UNKNOWN)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': unknown algorithm \"%.32s\" (known: RS256, "
                               "RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, "
                               "HS256, HS384, HS512)",
                               name);
        m |= MCP_ALG_BIT(a);
    }
    *mask = m;
    return MCPAUTH_OK;
}

static int typ_value(const char *s, unsigned *bit) {
    if (strcasecmp(s, "JWT") == 0 || strcasecmp(s, "application/jwt") == 0)
        *bit = MCP_TYP_JWT;
    else if (strcasecmp(s, "at+jwt") == 0 || strcasecmp(s, "application/at+jwt") == 0)
        *bit = MCP_TYP_AT_JWT;
    else if (strcmp(s, "absent") == 0)
        *bit = MCP_TYP_ABSENT;
    else
        return -1;
    return 0;
}

static int parse_typ(json_t *in, unsigned *policy, mcp_err *err) {
    json_t *v = mcp_opt_get(in, "typ");
    if (!v) return MCPAUTH_OK;
    unsigned p = 0, bit = 0;
    if (json_is_string(v)) {
        if (typ_value(json_string_value(v), &bit) != 0) goto bad;
        p = bit;
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item) || typ_value(json_string_value(item), &bit) != 0) goto bad;
            p |= bit;
        }
    } else {
        goto bad;
    }
    *policy = p;
    return MCPAUTH_OK;
bad:
    return mcp_err_set(err, MCPAUTH_E_CONFIG,
                       "option 'typ' must be one of \"JWT\", \"at+jwt\", \"absent\" or a "
                       "non-empty array of them");
}

static int parse_secret(json_t *in, mcp_config *cfg, mcp_err *err) {
    json_t *v = mcp_opt_get(in, "secret");
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'secret' must be a string");
    size_t n = json_string_length(v);
    if (n < 32)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'secret' must be at least 32 bytes (an HMAC key shorter "
                           "than the hash output is refused)");
    cfg->secret = malloc(n);
    if (!cfg->secret) return mcp_err_nomem(err);
    memcpy(cfg->secret, json_string_value(v), n);
    cfg->secret_len = n;
    return MCPAUTH_OK;
}

static int parse_claims_map(json_t *in, mcp_config *cfg, mcp_err *err) {
    json_t *v = mcp_opt_get(in, "claims");
    if (!v) return MCPAUTH_OK;
    if (!json_is_object(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'claims' must be an object mapping user fields to claim "
                           "paths");
    const char *k;
    json_t *p;
    json_object_foreach(v, k, p) {
        if (!*k || !json_is_string(p) || json_string_length(p) == 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'claims': field '%.60s' must map to a non-empty claim "
                               "path string",
                               k);
    }
    cfg->claims_map = json_deep_copy(v);
    return cfg->claims_map ? MCPAUTH_OK : mcp_err_nomem(err);
}

static int parse_route_scopes(json_t *in, mcp_config *cfg, mcp_err *err) {
    json_t *v = mcp_opt_get(in, "routeScopes");
    if (!v) return MCPAUTH_OK;
    if (!json_is_object(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'routeScopes' must be an object of route -> scopes");
    /* stored normalized: every value an array of scope strings */
    json_t *norm = json_object();
    if (!norm) return mcp_err_nomem(err);
    const char *k;
    json_t *s;
    json_object_foreach(v, k, s) {
        mcp_strv tmp = NULL;
        if (!*k) {
            json_decref(norm);
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'routeScopes': empty route");
        }
        int rc = mcp_opt_strv_value(s, "routeScopes", 1, 1, &tmp, err);
        json_t *arr = rc == MCPAUTH_OK ? json_array() : NULL;
        for (size_t i = 0; arr && tmp[i]; i++)
            if (json_array_append_new(arr, json_string(tmp[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        mcp_strv_free(tmp);
        if (rc == MCPAUTH_OK && (!arr || json_object_set_new(norm, k, arr) != 0))
            rc = mcp_err_nomem(err);
        if (rc != MCPAUTH_OK) {
            json_decref(norm);
            return rc;
        }
    }
    cfg->route_scopes = norm;
    return MCPAUTH_OK;
}

static int parse_paths(json_t *in, mcp_config *cfg, mcp_err *err) {
    int rc = mcp_opt_str(in, "mcpPath", &cfg->mcp_path, err);
    if (rc != MCPAUTH_OK) return rc;
    if (mcp_opt_get(in, "mcpPath")) {
        const char *p = cfg->mcp_path;
        if (p[0] != '/' || strpbrk(p, "?# \t\r\n") || strstr(p, "//"))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'mcpPath' must be an absolute path such as \"/mcp\" "
                               "(no query, fragment or empty segment)");
        if (strlen(p) > 1) mcp_pv_strip_slashes(cfg->mcp_path);
    }
    rc = mcp_opt_strv(in, "protectedPaths", 0, 1, &cfg->protected_paths, err);
    if (rc != MCPAUTH_OK) return rc;
    for (size_t i = 0; cfg->protected_paths && cfg->protected_paths[i]; i++)
        if (cfg->protected_paths[i][0] != '/' || strpbrk(cfg->protected_paths[i], "?#"))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'protectedPaths': element %zu must be an absolute path", i);
    return MCPAUTH_OK;
}

/* baseUrl (or MCP_URL): an origin, scheme://host[:port], optionally with a trailing '/'. */
static int parse_base_url(json_t *in, mcp_getenv_fn env, mcp_config *cfg, mcp_err *err) {
    const char *what = "option 'baseUrl'";
    int rc = mcp_opt_str(in, "baseUrl", &cfg->base_url, err);
    if (rc != MCPAUTH_OK) return rc;
    if (!cfg->base_url && env) {
        const char *e = env("MCP_URL");
        if (e && *e) {
            cfg->base_url = mcp_strdup(e);
            if (!cfg->base_url) return mcp_err_nomem(err);
            what = "option 'baseUrl' (from MCP_URL)";
        }
    }
    if (!cfg->base_url) return MCPAUTH_OK;
    mcp_pv_strip_slashes(cfg->base_url);
    if ((rc = mcp_url_check(cfg->base_url, what, err)) != MCPAUTH_OK) return rc;
    const char *hostpart = strstr(cfg->base_url, "://");
    if (!hostpart || strpbrk(hostpart + 3, "/?#"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "%s must be an origin (scheme://host[:port]) without a path; "
                           "put the path in 'mcpPath'",
                           what);
    return MCPAUTH_OK;
}

/* Scans an inline JWKS for symmetric and asymmetric keys (the keys themselves are imported
 * by the engine, with every check). */
static int scan_inline_jwks(json_t *jwks, int *has_oct, int *has_asym, mcp_err *err) {
    json_t *keys = json_object_get(jwks, "keys");
    if (!json_is_array(keys))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'jwks' must be a JWKS object with a \"keys\" array");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *kty = json_string_value(json_object_get(k, "kty"));
        if (!json_is_object(k) || !kty)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'jwks': key %zu has no \"kty\" string", i);
        if (strcmp(kty, "oct") == 0)
            *has_oct = 1;
        else
            *has_asym = 1;
    }
    return MCPAUTH_OK;
}

static int is_production(mcp_getenv_fn env) {
    static const char *const names[] = {"NODE_ENV",   "MCPAUTH_ENV", "ENVIRONMENT",
                                        "PYTHON_ENV", "APP_ENV",     NULL};
    for (const char *const *n = names; *n; n++) {
        const char *a = env ? env(*n) : NULL;
        const char *b = getenv(*n); /* NO_ENV never hides production from this check */
        if ((a && strcasecmp(a, "production") == 0) || (b && strcasecmp(b, "production") == 0))
            return 1;
    }
    return 0;
}

/* ---- the algorithm allow-list ---------------------------------------------------------- */

static int derive_algs(mcp_config *cfg, unsigned explicit_mask, int inline_oct, int inline_asym,
                       mcp_err *err) {
    int asym_src = cfg->jwks_url || cfg->public_key_pem || inline_asym;
    int hmac_src = cfg->secret || inline_oct;
    /* an HMAC key no shorter than the hash: HS384 needs 48 bytes, HS512 64 (RFC 7518 3.2).
     * Inline "oct" keys are limited the same way, key by key, when they are imported. */
    unsigned hmac_ok = MCP_ALG_MASK_HMAC;
    if (cfg->secret)
        hmac_ok = MCP_ALG_BIT(MCP_ALG_HS256) |
                  (cfg->secret_len >= 48 ? MCP_ALG_BIT(MCP_ALG_HS384) : 0u) |
                  (cfg->secret_len >= 64 ? MCP_ALG_BIT(MCP_ALG_HS512) : 0u);
    unsigned def = (asym_src ? MCP_ALG_MASK_ASYMMETRIC : 0u) | (hmac_src ? hmac_ok : 0u);
    if (explicit_mask) cfg->alg_mask = explicit_mask;
    if (!cfg->alg_mask) cfg->alg_mask = def;
    if (!cfg->verify_jwt) return MCPAUTH_OK;
    for (int a = 1; a < MCP_ALG_COUNT; a++) {
        if (!(cfg->alg_mask & MCP_ALG_BIT(a))) continue;
        int is_hmac = (MCP_ALG_BIT(a) & MCP_ALG_MASK_HMAC) != 0;
        if (is_hmac && !hmac_src)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': %s needs an HMAC key ('secret' or an "
                               "inline \"oct\" key in 'jwks'); keys from 'jwksUrl' or "
                               "'publicKey' are never HMAC secrets",
                               mcp_alg_name((mcp_alg)a));
        if (is_hmac && !(hmac_ok & MCP_ALG_BIT(a)))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': %s needs a 'secret' of at least %d bytes "
                               "(it has %zu)",
                               mcp_alg_name((mcp_alg)a), a == MCP_ALG_HS384 ? 48 : 64,
                               cfg->secret_len);
        if (!is_hmac && !asym_src)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'algorithms': %s needs a public key ('jwksUrl', "
                               "'publicKey' or an asymmetric key in 'jwks')",
                               mcp_alg_name((mcp_alg)a));
    }
    return MCPAUTH_OK;
}

/* ---- load -------------------------------------------------------------------------------- */

static void set_defaults(mcp_config *cfg) {
    cfg->leeway = 60;
    cfg->require_exp = 1;
    cfg->typ_policy = MCP_TYP_ABSENT | MCP_TYP_JWT | MCP_TYP_AT_JWT;
    cfg->verify_jwt = 1;
    cfg->max_token_bytes = 16384;
    cfg->token_cache_size = 10000;
    cfg->token_cache_max_seconds = 300;
    cfg->jwks_ttl_default = 600;
    cfg->jwks_ttl_min = 60;
    cfg->jwks_ttl_max = 86400;
    cfg->jwks_cooldown = 30;
    cfg->max_keys = 64;
    cfg->max_fetch_bytes = 1024 * 1024;
    cfg->connect_timeout_ms = 3000;
    cfg->timeout_ms = 5000;
    cfg->metadata_ttl = 3600;
    cfg->trust_host_header = 0;
    cfg->bind_resource = 1;
}

static int parse_generic(json_t *in, mcp_getenv_fn env, mcp_config *cfg, unsigned *alg_explicit,
                         mcp_err *err) {
    int rc;
    int64_t n;
#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((rc = (x)) != MCPAUTH_OK) return rc;                                                   \
    } while (0)
    TRY(mcp_opt_url(in, "issuer", &cfg->issuer, err));
    json_t *aud = mcp_opt_get(in, "audience");
    if (json_is_string(aud)) {
        /* a single audience string is taken whole (it is compared byte for byte) */
        if (json_string_length(aud) == 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'audience' must not be empty");
        const char *one[] = {json_string_value(aud), NULL};
        cfg->audience = mcp_strv_from_list(one);
        if (!cfg->audience) return mcp_err_nomem(err);
    } else if (aud) {
        if (!json_is_array(aud))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'audience' must be a string or an array of strings");
        TRY(mcp_opt_strv(in, "audience", 0, 0, &cfg->audience, err));
        if (!cfg->audience[0])
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'audience' must not be empty");
    }
    TRY(mcp_opt_url(in, "resource", &cfg->resource, err));
    json_t *jwks = mcp_opt_get(in, "jwks");
    if (jwks) {
        if (!json_is_object(jwks))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'jwks' must be a JWKS object ({\"keys\":[...]})");
        cfg->jwks_inline = json_deep_copy(jwks);
        if (!cfg->jwks_inline) return mcp_err_nomem(err);
    }
    TRY(mcp_opt_url(in, "jwksUrl", &cfg->jwks_url, err));
    TRY(mcp_opt_str(in, "publicKey", &cfg->public_key_pem, err));
    TRY(parse_secret(in, cfg, err));
    TRY(parse_algorithms(in, alg_explicit, err));
    n = cfg->leeway;
    TRY(mcp_opt_int(in, "leewaySeconds", 0, 600, &n, err));
    cfg->leeway = n;
    TRY(mcp_opt_strv(in, "requiredScopes", 1, 1, &cfg->required_scopes, err));
    TRY(parse_claims_map(in, cfg, err));
    TRY(parse_typ(in, &cfg->typ_policy, err));
    TRY(mcp_opt_bool(in, "requireExp", &cfg->require_exp, err));
    TRY(mcp_opt_bool(in, "verifyJwt", &cfg->verify_jwt, err));
    n = (int64_t)cfg->max_token_bytes;
    TRY(mcp_opt_int(in, "maxTokenBytes", 1024, 65536, &n, err));
    cfg->max_token_bytes = (size_t)n;
    n = (int64_t)cfg->token_cache_size;
    TRY(mcp_opt_int(in, "tokenCacheSize", 0, 1000000, &n, err));
    cfg->token_cache_size = (size_t)n;
    TRY(mcp_opt_int(in, "tokenCacheMaxSeconds", 0, 86400, &cfg->token_cache_max_seconds, err));
    TRY(mcp_opt_int(in, "jwksCacheSeconds", 1, 604800, &cfg->jwks_ttl_default, err));
    TRY(mcp_opt_int(in, "jwksCacheMinSeconds", 1, 604800, &cfg->jwks_ttl_min, err));
    TRY(mcp_opt_int(in, "jwksCacheMaxSeconds", 1, 604800, &cfg->jwks_ttl_max, err));
    TRY(mcp_opt_int(in, "jwksCooldownSeconds", 1, 3600, &cfg->jwks_cooldown, err));
    if (cfg->jwks_ttl_min > cfg->jwks_ttl_max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'jwksCacheMinSeconds' must not exceed 'jwksCacheMaxSeconds'");
    if (cfg->jwks_ttl_default < cfg->jwks_ttl_min || cfg->jwks_ttl_default > cfg->jwks_ttl_max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'jwksCacheSeconds' must lie between 'jwksCacheMinSeconds' "
                           "and 'jwksCacheMaxSeconds'");
    n = (int64_t)cfg->max_keys;
    TRY(mcp_opt_int(in, "maxKeys", 1, 1024, &n, err));
    cfg->max_keys = (size_t)n;
    n = cfg->timeout_ms;
    TRY(mcp_opt_int(in, "httpTimeoutMs", 100, 120000, &n, err));
    cfg->timeout_ms = (long)n;
    n = cfg->connect_timeout_ms;
    TRY(mcp_opt_int(in, "httpConnectTimeoutMs", 100, 120000, &n, err));
    cfg->connect_timeout_ms = (long)n;
    if (mcp_opt_get(in, "authorizationEndpoint") && mcp_opt_get(in, "authEndpoint"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'authorizationEndpoint' and 'authEndpoint' are aliases; "
                           "give only one");
    TRY(mcp_opt_url(in, "authorizationEndpoint", &cfg->authorization_endpoint, err));
    TRY(mcp_opt_url(in, "authEndpoint", &cfg->authorization_endpoint, err));
    TRY(mcp_opt_url(in, "tokenEndpoint", &cfg->token_endpoint, err));
    TRY(mcp_opt_url(in, "registrationEndpoint", &cfg->registration_endpoint, err));
    TRY(mcp_opt_url(in, "userInfoEndpoint", &cfg->userinfo_endpoint, err));
    TRY(mcp_opt_strv(in, "scopesSupported", 0, 1, &cfg->scopes_supported, err));
    if (mcp_opt_get(in, "grantTypes") && mcp_opt_get(in, "grantTypesSupported"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'grantTypes' and 'grantTypesSupported' are aliases; give "
                           "only one");
    TRY(mcp_opt_strv(in, "grantTypes", 0, 1, &cfg->grant_types_supported, err));
    TRY(mcp_opt_strv(in, "grantTypesSupported", 0, 1, &cfg->grant_types_supported, err));
    TRY(parse_base_url(in, env, cfg, err));
    TRY(parse_paths(in, cfg, err));
    TRY(mcp_opt_str(in, "resourceName", &cfg->resource_name, err));
    TRY(mcp_opt_url(in, "resourceDocumentation", &cfg->resource_documentation, err));
    TRY(parse_route_scopes(in, cfg, err));
    TRY(mcp_opt_bool(in, "trustHostHeader", &cfg->trust_host_header, err));
    TRY(mcp_opt_strv(in, "trustedProxies", 0, 1, &cfg->trusted_proxies, err));
    if (cfg->trusted_proxies) {
        size_t nt = 0;
        while (cfg->trusted_proxies[nt]) nt++;
        if (nt > 256)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'trustedProxies': at most 256 entries");
        cfg->trusted_cidrs = calloc(nt ? nt : 1, sizeof *cfg->trusted_cidrs);
        if (!cfg->trusted_cidrs) return mcp_err_nomem(err);
        for (size_t i = 0; i < nt; i++)
            if (mcp_cidr_parse(cfg->trusted_proxies[i], &cfg->trusted_cidrs[i]) != 0)
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'trustedProxies': '%s' is not an IP address or CIDR "
                                   "range (network address/prefix length)",
                                   cfg->trusted_proxies[i]);
        cfg->n_trusted_cidrs = nt;
    }
    TRY(mcp_opt_strv(in, "allowedHosts", 0, 1, &cfg->allowed_hosts, err));
    for (size_t i = 0; cfg->allowed_hosts && cfg->allowed_hosts[i]; i++)
        for (char *h = cfg->allowed_hosts[i]; *h; h++)
            if (*h >= 'A' && *h <= 'Z') *h = (char)(*h + 32); /* compared lower-case */
    TRY(mcp_opt_bool(in, "hostVerifies", &cfg->host_verifies, err));
    TRY(mcp_opt_bool(in, "allowAnyAudience", &cfg->allow_any_audience, err));
    TRY(mcp_opt_int(in, "metadataCacheSeconds", 0, 86400, &cfg->metadata_ttl, err));
    /* Options of later modules: type-checked here, kept in cfg->extra, read by proxy_config.c and
     * opaque.c. */
    static const char *const module_options[] = {"proxy", "introspection", "userinfo", NULL};
    for (const char *const *m = module_options; *m; m++) {
        json_t *mv = mcp_opt_get(in, *m);
        if (mv && !json_is_object(mv))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be an object", *m);
    }
#undef TRY
    return MCPAUTH_OK;
}
/* The OAuth proxy's preset ("proxy":{"preset":...}) as the source of verification defaults
 * (providers/idp_presets.c): JWT presets (okta, azure) give the issuer and JWKS URL the user left
 * unset; the JWKS URL only while the issuer is the preset's (another issuer needs its own key
 * source) and the engine verifies tokens itself (not with hostVerifies). Opaque-token presets
 * (github, google) verify through the provider's userinfo / tokeninfo endpoint (opaque.c) when
 * neither 'introspection' nor 'userinfo' is set, so they need no issuer or JWT key source:
 * *preset_opaque. */
static int apply_proxy_preset(json_t *in, mcp_config *cfg, int *preset_opaque, mcp_err *err) {
    *preset_opaque = 0;
    json_t *proxy = mcp_opt_get(in, "proxy");
    if (!json_is_object(proxy)) return MCPAUTH_OK;
    char *iss = NULL, *jwks = NULL;
    int rc = mcp_idp_preset_verification(proxy, &iss, &jwks, preset_opaque, err);
    if (rc != MCPAUTH_OK) return rc;
    int preset_issuer = iss && (!cfg->issuer || strcmp(cfg->issuer, iss) == 0);
    if (iss && !cfg->issuer) {
        cfg->issuer = iss;
        iss = NULL;
    }
    if (jwks && preset_issuer && !cfg->host_verifies && !mcp_pv_has_key_source(cfg)) {
        cfg->jwks_url = jwks;
        jwks = NULL;
    }
    free(iss);
    free(jwks);
    return MCPAUTH_OK;
}

/* The user mapping of the proxy's preset, else of the userinfo verifier's preset
 * (providers/idp_presets.c): GitHub's id / login / avatar_url, Entra's oid... (userinfo.c applies
 * it). */
static int preset_user_map(json_t *in, mcp_config *cfg, mcp_err *err) {
    const char *name = json_string_value(json_object_get(mcp_opt_get(in, "proxy"), "preset"));
    const mcp_idp_preset *ps = mcp_idp_preset_find(name);
    if (!ps)
        ps = mcp_idp_preset_find(
            json_string_value(json_object_get(mcp_opt_get(in, "userinfo"), "preset")));
    if (!ps || !ps->user_map) return MCPAUTH_OK;
    json_error_t je;
    cfg->preset_user_map = json_loads(ps->user_map, 0, &je);
    if (json_is_object(cfg->preset_user_map)) return MCPAUTH_OK;
    json_decref(cfg->preset_user_map);
    cfg->preset_user_map = NULL;
    return mcp_err_nomem(err);
}

static int derive_and_validate(json_t *in, mcp_getenv_fn env, mcp_config *cfg,
                               unsigned alg_explicit, int preset_opaque, mcp_err *err) {
    int rc;
    if (!cfg->mcp_path) {
        cfg->mcp_path = mcp_strdup("/mcp");
        if (!cfg->mcp_path) return mcp_err_nomem(err);
    }
    if (!cfg->resource && cfg->base_url) {
        const char *p = strcmp(cfg->mcp_path, "/") == 0 ? "" : cfg->mcp_path;
        if ((rc = mcp_pv_fill(&cfg->resource, cfg->base_url, p, err)) != MCPAUTH_OK) return rc;
    }
    if (!cfg->protected_paths) {
        const char *one[] = {cfg->mcp_path, NULL};
        cfg->protected_paths = mcp_strv_from_list(one);
        if (!cfg->protected_paths) return mcp_err_nomem(err);
    }
    static const char *const grants[] = {"authorization_code", "refresh_token", NULL};
    if ((rc = mcp_pv_fill_strv(&cfg->grant_types_supported, grants, err)) != MCPAUTH_OK) return rc;
    cfg->max_iat_future = cfg->leeway;

    int static_sources =
        (cfg->jwks_inline != NULL) + (cfg->public_key_pem != NULL) + (cfg->secret != NULL);
    if (static_sources > 1)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'jwks', 'publicKey' and 'secret' (or 'jwtSecret') are "
                           "mutually exclusive; use one static key source");
    int inline_oct = 0, inline_asym = 0;
    if (cfg->jwks_inline &&
        (rc = scan_inline_jwks(cfg->jwks_inline, &inline_oct, &inline_asym, err)) != MCPAUTH_OK)
        return rc;
    if ((rc = derive_algs(cfg, alg_explicit, inline_oct, inline_asym, err)) != MCPAUTH_OK)
        return rc;

    if (cfg->host_verifies) {
        /* the host verifies every token (mcpauth_map_claims); the engine verifies none */
        if (strcmp(cfg->provider, "custom") != 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'hostVerifies' is only allowed with provider \"custom\"");
        if (mcp_pv_has_key_source(cfg))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'hostVerifies': the engine verifies no tokens, so a key "
                               "source ('jwksUrl', 'jwks', 'publicKey', 'secret') would never be "
                               "used; remove one of them");
        if (mcp_opt_get(in, "introspection") || mcp_opt_get(in, "userinfo"))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'hostVerifies' excludes 'introspection' and 'userinfo' "
                               "(the engine verifies no tokens)");
    } else if (!cfg->verify_jwt) {
        if (is_production(env))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'verifyJwt': false is refused in production (NODE_ENV, "
                               "MCPAUTH_ENV, ENVIRONMENT, PYTHON_ENV or APP_ENV is "
                               "\"production\")");
    } else if (!mcp_opt_get(in, "introspection") && !mcp_opt_get(in, "userinfo") &&
               !preset_opaque) {
        /* JWT access tokens (opaque tokens are checked by the authorization server instead) */
        if (!cfg->issuer)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: option 'issuer' is required (tokens are bound to their "
                               "issuer)",
                               cfg->provider);
        if (!mcp_pv_has_key_source(cfg))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: a key source is required: one of 'jwksUrl', 'jwks', "
                               "'publicKey' or 'secret'",
                               cfg->provider);
        if (!cfg->alg_mask)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'algorithms': no usable algorithm");
    }
    /* Preset-derived URLs are checked again here, naming the generic option. */
    struct {
        const char *name;
        const char *url;
    } urls[] = {{"issuer", cfg->issuer},
                {"jwksUrl", cfg->jwks_url},
                {"authorizationEndpoint", cfg->authorization_endpoint},
                {"tokenEndpoint", cfg->token_endpoint},
                {"registrationEndpoint", cfg->registration_endpoint},
                {"userInfoEndpoint", cfg->userinfo_endpoint}};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char what[96];
        snprintf(what, sizeof what, "%s: option '%s'", cfg->provider, urls[i].name);
        if (urls[i].url && (rc = mcp_url_check(urls[i].url, what, err)) != MCPAUTH_OK) return rc;
    }
    return MCPAUTH_OK;
}

int mcp_config_load(const char *json, size_t len, mcp_getenv_fn env, mcp_config **out,
                    mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    if (!json) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "configuration JSON is NULL");
    json_t *in =
        mcp_json_parse(json, len, MCP_JSON_MAX_DEPTH, 1, "configuration", MCPAUTH_E_CONFIG, err);
    if (!in) return err ? err->code : MCPAUTH_E_CONFIG;

    mcp_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        json_decref(in);
        return mcp_err_nomem(err);
    }
    set_defaults(cfg);
    int rc = MCPAUTH_OK;
    const mcp_provider *prov = NULL;
    unsigned alg_explicit = 0;

    json_t *pv = mcp_opt_get(in, "provider");
    if (pv && (!json_is_string(pv) || json_string_length(pv) == 0)) {
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'provider' must be a non-empty string");
        goto fail;
    }
    prov = mcp_provider_find(pv ? json_string_value(pv) : "jwks");
    if (!prov) {
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "option 'provider': unknown provider \"%.40s\" (known: jwks, auth0, "
                         "betterauth, clerk, workos, supabase, keycloak, custom)",
                         json_string_value(pv));
        goto fail;
    }
    cfg->provider = mcp_strdup(prov->name);
    if (!cfg->provider) {
        rc = mcp_err_nomem(err);
        goto fail;
    }
    if ((rc = check_keys(in, prov, err)) != MCPAUTH_OK) goto fail;
    if ((rc = parse_generic(in, env, cfg, &alg_explicit, err)) != MCPAUTH_OK) goto fail;
    if ((rc = prov->resolve(cfg, in, env, err)) != MCPAUTH_OK) goto fail;
    int preset_opaque = 0;
    if ((rc = apply_proxy_preset(in, cfg, &preset_opaque, err)) != MCPAUTH_OK) goto fail;
    if ((rc = preset_user_map(in, cfg, err)) != MCPAUTH_OK) goto fail;
    if ((rc = derive_and_validate(in, env, cfg, alg_explicit, preset_opaque, err)) != MCPAUTH_OK)
        goto fail;
    cfg->extra = in;
    *out = cfg;
    return MCPAUTH_OK;
fail:
    json_decref(in);
    mcp_config_free(cfg);
    return rc;
}

void mcp_config_free(mcp_config *cfg) {
    if (!cfg) return;
    free(cfg->provider);
    free(cfg->issuer);
    mcp_strv_free(cfg->audience);
    free(cfg->resource);
    free(cfg->jwks_url);
    json_decref(cfg->jwks_inline);
    free(cfg->public_key_pem);
    if (cfg->secret) {
        OPENSSL_cleanse(cfg->secret, cfg->secret_len);
        free(cfg->secret);
    }
    mcp_strv_free(cfg->required_scopes);
    json_decref(cfg->claims_map);
    free(cfg->authorization_endpoint);
    free(cfg->token_endpoint);
    free(cfg->registration_endpoint);
    free(cfg->userinfo_endpoint);
    mcp_strv_free(cfg->scopes_supported);
    mcp_strv_free(cfg->grant_types_supported);
    mcp_strv_free(cfg->trusted_proxies);
    free(cfg->trusted_cidrs);
    mcp_strv_free(cfg->allowed_hosts);
    free(cfg->base_url);
    free(cfg->mcp_path);
    mcp_strv_free(cfg->protected_paths);
    free(cfg->resource_name);
    free(cfg->resource_documentation);
    json_decref(cfg->route_scopes);
    json_decref(cfg->preset_user_map);
    json_decref(cfg->extra);
    free(cfg);
}

const char *mcp_getenv_none(const char *name) {
    (void)name;
    return NULL;
}

int mcp_env_on(mcp_getenv_fn env) { return env != NULL && env != mcp_getenv_none; }

int mcp_config_require_audience(const mcp_config *cfg, mcp_getenv_fn env, mcp_err *err) {
    /* trustHostHeader: the router binds tokens to the resource named by each request's Host */
    if (cfg->audience || cfg->resource || cfg->trust_host_header) return MCPAUTH_OK;
    if (!cfg->allow_any_audience)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "tokens must be issued for this server: set 'audience' (the value "
                           "of their aud claim) or 'baseUrl'%s (the MCP resource they must be "
                           "bound to); 'allowAnyAudience': true accepts tokens issued for any "
                           "audience",
                           mcp_env_on(env) ? " (or MCP_URL)" : "");
    fputs("libmcpauth WARNING: allowAnyAudience is true: tokens issued for any audience are "
          "accepted (set 'audience' or 'baseUrl' to accept only tokens issued for this server)\n",
          stderr);
    return MCPAUTH_OK;
}
