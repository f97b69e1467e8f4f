/* config.c - the engine configuration: strict JSON -> generic options -> provider preset
 * (with MCP_USE_OAUTH_* env fallback) -> defaults -> derived values -> validation. */
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
#include "proxy/proxy_impl.h"

/* ---- string lists ---------------------------------------------------------------------- */

void mcp_strv_free(mcp_strv v) {
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

size_t mcp_strv_len(const mcp_strv v) {
    size_t n = 0;
    if (v)
        while (v[n]) n++;
    return n;
}

int mcp_strv_contains(const mcp_strv v, const char *s) {
    if (!v || !s) return 0;
    for (char *const *p = v; *p; p++)
        if (strcmp(*p, s) == 0) return 1;
    return 0;
}

int mcp_strv_push(mcp_strv *v, const char *s, size_t n) {
    size_t len = mcp_strv_len(*v);
    char *copy = mcp_strndup(s, n);
    if (!copy) return -1;
    char **nv = realloc(*v, (len + 2) * sizeof *nv);
    if (!nv) {
        free(copy);
        return -1;
    }
    nv[len] = copy;
    nv[len + 1] = NULL;
    *v = nv;
    return 0;
}

int mcp_strv_add(mcp_strv *v, const char *s) { return s ? mcp_strv_push(v, s, strlen(s)) : -1; }

char *mcp_strv_join(const mcp_strv v) {
    size_t n = 1;
    for (size_t i = 0; v && v[i]; i++) n += strlen(v[i]) + 1;
    char *s = malloc(n), *w = s;
    if (!s) return NULL;
    for (size_t i = 0; v && v[i]; i++) {
        if (i) *w++ = ' ';
        size_t l = strlen(v[i]);
        memcpy(w, v[i], l);
        w += l;
    }
    *w = '\0';
    return s;
}

json_t *mcp_strv_to_json(const mcp_strv v) {
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

mcp_strv mcp_strv_from_list(const char *const *list) {
    mcp_strv v = calloc(1, sizeof *v);
    if (!v) return NULL;
    for (; list && *list; list++) {
        if (mcp_strv_push(&v, *list, strlen(*list)) != 0) {
            mcp_strv_free(v);
            return NULL;
        }
    }
    return v;
}

/* ---- typed option readers (absent or null = not set) ------------------------------------ */

static json_t *opt_get(json_t *in, const char *key) {
    json_t *v = json_object_get(in, key);
    return (v && !json_is_null(v)) ? v : NULL;
}

static int nomem(mcp_err *err) { return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory"); }

static int opt_str(json_t *in, const char *key, char **out, mcp_err *err) {
    json_t *v = opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be a string", key);
    if (json_string_length(v) == 0)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must not be empty", key);
    free(*out);
    *out = mcp_strndup(json_string_value(v), json_string_length(v));
    return *out ? MCPAUTH_OK : nomem(err);
}

static int opt_url(json_t *in, const char *key, char **out, mcp_err *err) {
    int rc = opt_str(in, key, out, err);
    if (rc != MCPAUTH_OK || !opt_get(in, key)) return rc;
    char what[80];
    snprintf(what, sizeof what, "option '%s'", key);
    return mcp_url_check(*out, what, err);
}

static int opt_bool(json_t *in, const char *key, int *out, mcp_err *err) {
    json_t *v = opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_boolean(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be true or false", key);
    *out = json_is_true(v);
    return MCPAUTH_OK;
}

static int opt_int(json_t *in, const char *key, int64_t min, int64_t max, int64_t *out,
                   mcp_err *err) {
    json_t *v = opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option '%s' must be an integer between %lld and %lld", key,
                           (long long)min, (long long)max);
    *out = (int64_t)json_integer_value(v);
    return MCPAUTH_OK;
}

/* ---- section option readers (shared by the proxy and the opaque-token sections) ---------- */

int mcp_opt_section_str(json_t *obj, const char *sect, const char *key, char **out, mcp_err *err) {
    json_t *v = opt_get(obj, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s.%s' must be a non-empty string", sect,
                           key);
    free(*out);
    *out = mcp_strdup(json_string_value(v));
    return *out ? MCPAUTH_OK : nomem(err);
}

int mcp_opt_section_int(json_t *obj, const char *sect, const char *key, int64_t min, int64_t max,
                        int64_t *out, mcp_err *err) {
    json_t *v = opt_get(obj, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option '%s.%s' must be an integer from %lld to %lld", sect, key,
                           (long long)min, (long long)max);
    *out = (int64_t)json_integer_value(v);
    return MCPAUTH_OK;
}

static int has_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') return 1;
    return 0;
}

/* An array of non-empty strings, or (allow_string) one string split on whitespace.
 * no_space: elements may not contain whitespace (scopes). */
static int strv_from_json(json_t *v, const char *key, int allow_string, int no_space, mcp_strv *out,
                          mcp_err *err) {
    mcp_strv r = calloc(1, sizeof *r);
    if (!r) return nomem(err);
    if (json_is_string(v) && allow_string) {
        json_t *list = mcp_json_string_list(v);
        if (!list) {
            mcp_strv_free(r);
            return nomem(err);
        }
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            if (mcp_strv_push(&r, json_string_value(item), json_string_length(item)) != 0) {
                json_decref(list);
                mcp_strv_free(r);
                return nomem(err);
            }
        }
        json_decref(list);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item) || json_string_length(item) == 0 ||
                (no_space && has_space(json_string_value(item), json_string_length(item)))) {
                mcp_strv_free(r);
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option '%s': element %zu must be a non-empty string%s", key, i,
                                   no_space ? " without whitespace" : "");
            }
            if (mcp_strv_push(&r, json_string_value(item), json_string_length(item)) != 0) {
                mcp_strv_free(r);
                return nomem(err);
            }
        }
    } else {
        mcp_strv_free(r);
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           allow_string ? "option '%s' must be a string or an array of strings"
                                        : "option '%s' must be an array of strings",
                           key);
    }
    mcp_strv_free(*out);
    *out = r;
    return MCPAUTH_OK;
}

static int opt_strv(json_t *in, const char *key, int allow_string, int no_space, mcp_strv *out,
                    mcp_err *err) {
    json_t *v = opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    return strv_from_json(v, key, allow_string, no_space, out, err);
}

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
                                              "metadataCacheSeconds",
                                              "proxy",
                                              "introspection",
                                              "userinfo",
                                              NULL};

static int in_list(const char *const *list, const char *s) {
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

static int check_keys(json_t *in, const mcp_provider *prov, mcp_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        if (in_list(generic_options, key) || in_list(prov->options, key)) continue;
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
    json_t *v = opt_get(in, "algorithms");
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
    json_t *v = opt_get(in, "typ");
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
    json_t *v = opt_get(in, "secret");
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'secret' must be a string");
    size_t n = json_string_length(v);
    if (n < 32)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'secret' must be at least 32 bytes (an HMAC key shorter "
                           "than the hash output is refused)");
    cfg->secret = malloc(n);
    if (!cfg->secret) return nomem(err);
    memcpy(cfg->secret, json_string_value(v), n);
    cfg->secret_len = n;
    return MCPAUTH_OK;
}

static int parse_claims_map(json_t *in, mcp_config *cfg, mcp_err *err) {
    json_t *v = opt_get(in, "claims");
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
    return cfg->claims_map ? MCPAUTH_OK : nomem(err);
}

static int parse_route_scopes(json_t *in, mcp_config *cfg, mcp_err *err) {
    json_t *v = opt_get(in, "routeScopes");
    if (!v) return MCPAUTH_OK;
    if (!json_is_object(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'routeScopes' must be an object of route -> scopes");
    /* stored normalized: every value an array of scope strings */
    json_t *norm = json_object();
    if (!norm) return nomem(err);
    const char *k;
    json_t *s;
    json_object_foreach(v, k, s) {
        mcp_strv tmp = NULL;
        if (!*k) {
            json_decref(norm);
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'routeScopes': empty route");
        }
        int rc = strv_from_json(s, "routeScopes", 1, 1, &tmp, err);
        json_t *arr = rc == MCPAUTH_OK ? json_array() : NULL;
        for (size_t i = 0; arr && tmp[i]; i++)
            if (json_array_append_new(arr, json_string(tmp[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        mcp_strv_free(tmp);
        if (rc == MCPAUTH_OK && (!arr || json_object_set_new(norm, k, arr) != 0)) rc = nomem(err);
        if (rc != MCPAUTH_OK) {
            json_decref(norm);
            return rc;
        }
    }
    cfg->route_scopes = norm;
    return MCPAUTH_OK;
}

static int parse_paths(json_t *in, mcp_config *cfg, mcp_err *err) {
    int rc = opt_str(in, "mcpPath", &cfg->mcp_path, err);
    if (rc != MCPAUTH_OK) return rc;
    if (opt_get(in, "mcpPath")) {
        const char *p = cfg->mcp_path;
        if (p[0] != '/' || strpbrk(p, "?# \t\r\n") || strstr(p, "//"))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'mcpPath' must be an absolute path such as \"/mcp\" "
                               "(no query, fragment or empty segment)");
        if (strlen(p) > 1) mcp_pv_strip_slashes(cfg->mcp_path);
    }
    rc = opt_strv(in, "protectedPaths", 0, 1, &cfg->protected_paths, err);
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
    int rc = opt_str(in, "baseUrl", &cfg->base_url, err);
    if (rc != MCPAUTH_OK) return rc;
    if (!cfg->base_url && env) {
        const char *e = env("MCP_URL");
        if (e && *e) {
            cfg->base_url = mcp_strdup(e);
            if (!cfg->base_url) return nomem(err);
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
    unsigned def = (asym_src ? MCP_ALG_MASK_ASYMMETRIC : 0u) | (hmac_src ? MCP_ALG_MASK_HMAC : 0u);
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
    TRY(opt_url(in, "issuer", &cfg->issuer, err));
    json_t *aud = opt_get(in, "audience");
    if (json_is_string(aud)) {
        /* a single audience string is taken whole (it is compared byte for byte) */
        if (json_string_length(aud) == 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'audience' must not be empty");
        const char *one[] = {json_string_value(aud), NULL};
        cfg->audience = mcp_strv_from_list(one);
        if (!cfg->audience) return nomem(err);
    } else if (aud) {
        if (!json_is_array(aud))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'audience' must be a string or an array of strings");
        TRY(opt_strv(in, "audience", 0, 0, &cfg->audience, err));
        if (!cfg->audience[0])
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'audience' must not be empty");
    }
    TRY(opt_url(in, "resource", &cfg->resource, err));
    json_t *jwks = opt_get(in, "jwks");
    if (jwks) {
        if (!json_is_object(jwks))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'jwks' must be a JWKS object ({\"keys\":[...]})");
        cfg->jwks_inline = json_deep_copy(jwks);
        if (!cfg->jwks_inline) return nomem(err);
    }
    TRY(opt_url(in, "jwksUrl", &cfg->jwks_url, err));
    TRY(opt_str(in, "publicKey", &cfg->public_key_pem, err));
    TRY(parse_secret(in, cfg, err));
    TRY(parse_algorithms(in, alg_explicit, err));
    n = cfg->leeway;
    TRY(opt_int(in, "leewaySeconds", 0, 600, &n, err));
    cfg->leeway = n;
    TRY(opt_strv(in, "requiredScopes", 1, 1, &cfg->required_scopes, err));
    TRY(parse_claims_map(in, cfg, err));
    TRY(parse_typ(in, &cfg->typ_policy, err));
    TRY(opt_bool(in, "requireExp", &cfg->require_exp, err));
    TRY(opt_bool(in, "verifyJwt", &cfg->verify_jwt, err));
    n = (int64_t)cfg->max_token_bytes;
    TRY(opt_int(in, "maxTokenBytes", 1024, 65536, &n, err));
    cfg->max_token_bytes = (size_t)n;
    n = (int64_t)cfg->token_cache_size;
    TRY(opt_int(in, "tokenCacheSize", 0, 1000000, &n, err));
    cfg->token_cache_size = (size_t)n;
    TRY(opt_int(in, "tokenCacheMaxSeconds", 0, 86400, &cfg->token_cache_max_seconds, err));
    TRY(opt_int(in, "jwksCacheSeconds", 1, 604800, &cfg->jwks_ttl_default, err));
    TRY(opt_int(in, "jwksCacheMinSeconds", 1, 604800, &cfg->jwks_ttl_min, err));
    TRY(opt_int(in, "jwksCacheMaxSeconds", 1, 604800, &cfg->jwks_ttl_max, err));
    TRY(opt_int(in, "jwksCooldownSeconds", 1, 3600, &cfg->jwks_cooldown, err));
    if (cfg->jwks_ttl_min > cfg->jwks_ttl_max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'jwksCacheMinSeconds' must not exceed 'jwksCacheMaxSeconds'");
    if (cfg->jwks_ttl_default < cfg->jwks_ttl_min || cfg->jwks_ttl_default > cfg->jwks_ttl_max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'jwksCacheSeconds' must lie between 'jwksCacheMinSeconds' "
                           "and 'jwksCacheMaxSeconds'");
    n = (int64_t)cfg->max_keys;
    TRY(opt_int(in, "maxKeys", 1, 1024, &n, err));
    cfg->max_keys = (size_t)n;
    n = cfg->timeout_ms;
    TRY(opt_int(in, "httpTimeoutMs", 100, 120000, &n, err));
    cfg->timeout_ms = (long)n;
    n = cfg->connect_timeout_ms;
    TRY(opt_int(in, "httpConnectTimeoutMs", 100, 120000, &n, err));
    cfg->connect_timeout_ms = (long)n;
    if (opt_get(in, "authorizationEndpoint") && opt_get(in, "authEndpoint"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'authorizationEndpoint' and 'authEndpoint' are aliases; "
                           "give only one");
    TRY(opt_url(in, "authorizationEndpoint", &cfg->authorization_endpoint, err));
    TRY(opt_url(in, "authEndpoint", &cfg->authorization_endpoint, err));
    TRY(opt_url(in, "tokenEndpoint", &cfg->token_endpoint, err));
    TRY(opt_url(in, "registrationEndpoint", &cfg->registration_endpoint, err));
    TRY(opt_url(in, "userInfoEndpoint", &cfg->userinfo_endpoint, err));
    TRY(opt_strv(in, "scopesSupported", 0, 1, &cfg->scopes_supported, err));
    if (opt_get(in, "grantTypes") && opt_get(in, "grantTypesSupported"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'grantTypes' and 'grantTypesSupported' are aliases; give "
                           "only one");
    TRY(opt_strv(in, "grantTypes", 0, 1, &cfg->grant_types_supported, err));
    TRY(opt_strv(in, "grantTypesSupported", 0, 1, &cfg->grant_types_supported, err));
    TRY(parse_base_url(in, env, cfg, err));
    TRY(parse_paths(in, cfg, err));
    TRY(opt_str(in, "resourceName", &cfg->resource_name, err));
    TRY(opt_url(in, "resourceDocumentation", &cfg->resource_documentation, err));
    TRY(parse_route_scopes(in, cfg, err));
    TRY(opt_bool(in, "trustHostHeader", &cfg->trust_host_header, err));
    TRY(opt_strv(in, "trustedProxies", 0, 1, &cfg->trusted_proxies, err));
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
    TRY(opt_strv(in, "allowedHosts", 0, 1, &cfg->allowed_hosts, err));
    for (size_t i = 0; cfg->allowed_hosts && cfg->allowed_hosts[i]; i++)
        for (char *h = cfg->allowed_hosts[i]; *h; h++)
            if (*h >= 'A' && *h <= 'Z') *h = (char)(*h + 32); /* compared lower-case */
    TRY(opt_bool(in, "hostVerifies", &cfg->host_verifies, err));
    TRY(opt_int(in, "metadataCacheSeconds", 0, 86400, &cfg->metadata_ttl, err));
    /* Options of later modules: type-checked here, kept in cfg->extra, read by proxy_config.c and
     * opaque.c. */
    static const char *const module_options[] = {"proxy", "introspection", "userinfo", NULL};
    for (const char *const *m = module_options; *m; m++) {
        json_t *mv = opt_get(in, *m);
        if (mv && !json_is_object(mv))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be an object", *m);
    }
#undef TRY
    return MCPAUTH_OK;
}
/* The OAuth proxy's preset ("proxy":{"preset":...}) as the source of verification defaults
 * (proxy_presets.c): JWT presets (okta, azure) give the issuer and JWKS URL the user left
 * unset; the JWKS URL only while the issuer is the preset's (another issuer needs its own key
 * source) and the engine verifies tokens itself (not with hostVerifies). Opaque-token presets
 * (github, google) verify through the provider's userinfo / tokeninfo endpoint (opaque.c) when
 * neither 'introspection' nor 'userinfo' is set, so they need no issuer or JWT key source:
 * *preset_opaque. */
static int apply_proxy_preset(json_t *in, mcp_config *cfg, int *preset_opaque, mcp_err *err) {
    *preset_opaque = 0;
    json_t *proxy = opt_get(in, "proxy");
    if (!json_is_object(proxy)) return MCPAUTH_OK;
    char *iss = NULL, *jwks = NULL;
    int rc = mcp_proxy_preset_verification(proxy, &iss, &jwks, preset_opaque, err);
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
 * (proxy_presets.c): GitHub's id / login / avatar_url, Entra's oid... (userinfo.c applies it). */
static int preset_user_map(json_t *in, mcp_config *cfg, mcp_err *err) {
    const char *name = json_string_value(json_object_get(opt_get(in, "proxy"), "preset"));
    const mcp_proxy_preset *ps = mcp_proxy_preset_find(name);
    if (!ps)
        ps = mcp_proxy_preset_find(
            json_string_value(json_object_get(opt_get(in, "userinfo"), "preset")));
    if (!ps || !ps->user_map) return MCPAUTH_OK;
    json_error_t je;
    cfg->preset_user_map = json_loads(ps->user_map, 0, &je);
    if (json_is_object(cfg->preset_user_map)) return MCPAUTH_OK;
    json_decref(cfg->preset_user_map);
    cfg->preset_user_map = NULL;
    return nomem(err);
}

static int derive_and_validate(json_t *in, mcp_getenv_fn env, mcp_config *cfg,
                               unsigned alg_explicit, int preset_opaque, mcp_err *err) {
    int rc;
    if (!cfg->mcp_path) {
        cfg->mcp_path = mcp_strdup("/mcp");
        if (!cfg->mcp_path) return nomem(err);
    }
    if (!cfg->resource && cfg->base_url) {
        const char *p = strcmp(cfg->mcp_path, "/") == 0 ? "" : cfg->mcp_path;
        if ((rc = mcp_pv_fill(&cfg->resource, cfg->base_url, p, err)) != MCPAUTH_OK) return rc;
    }
    if (!cfg->protected_paths) {
        const char *one[] = {cfg->mcp_path, NULL};
        cfg->protected_paths = mcp_strv_from_list(one);
        if (!cfg->protected_paths) return nomem(err);
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
        if (opt_get(in, "introspection") || opt_get(in, "userinfo"))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'hostVerifies' excludes 'introspection' and 'userinfo' "
                               "(the engine verifies no tokens)");
    } else if (!cfg->verify_jwt) {
        if (is_production(env))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'verifyJwt': false is refused in production (NODE_ENV, "
                               "MCPAUTH_ENV, ENVIRONMENT, PYTHON_ENV or APP_ENV is "
                               "\"production\")");
    } else if (!opt_get(in, "introspection") && !opt_get(in, "userinfo") && !preset_opaque) {
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
        return nomem(err);
    }
    set_defaults(cfg);
    int rc = MCPAUTH_OK;
    const mcp_provider *prov = NULL;
    unsigned alg_explicit = 0;

    json_t *pv = opt_get(in, "provider");
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
        rc = nomem(err);
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

/* ---- the resolved view ----------------------------------------------------------------- */

static json_t *strv_json(const mcp_strv v) {
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* Names that hold secrets: anything mentioning a secret, password, private key, cookie or
 * credential, and names that end in "token" (accessToken, refresh_token) - but not
 * tokenEndpoint and friends, which are URLs. */
static int sensitive_key(const char *k) {
    static const char *const words[] = {"secret", "password",   "privatekey", "private_key",
                                        "cookie", "credential", NULL};
    for (const char *const *w = words; *w; w++) {
        size_t wl = strlen(*w);
        for (const char *p = k; *p; p++)
            if (strncasecmp(p, *w, wl) == 0) return 1;
    }
    size_t n = strlen(k);
    return n >= 5 && strcasecmp(k + n - 5, "token") == 0;
}

/* A copy of v where every member whose name looks secret is replaced by "<set>". */
static json_t *masked_copy(json_t *v, int depth) {
    if (depth > MCP_JSON_MAX_DEPTH) return json_string("<omitted>");
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *m;
        json_object_foreach(v, k, m) {
            if (!o) break;
            json_t *c = (sensitive_key(k) && !json_is_boolean(m) && !json_is_null(m))
                            ? json_string("<set>")
                            : masked_copy(m, depth + 1);
            if (!c || json_object_set_new(o, k, c) != 0) {
                json_decref(o);
                return NULL;
            }
        }
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(v, i, m) {
            if (!a) break;
            if (json_array_append_new(a, masked_copy(m, depth + 1)) != 0) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    return json_deep_copy(v);
}

static void put_str(json_t *o, const char *k, const char *v) {
    json_object_set_new(o, k, v ? json_string(v) : json_null());
}

static void put_strv(json_t *o, const char *k, const mcp_strv v) {
    json_object_set_new(o, k, v ? strv_json(v) : json_null());
}

json_t *mcp_config_to_json(const mcp_config *cfg) {
    if (!cfg) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    put_str(o, "provider", cfg->provider);
    put_str(o, "issuer", cfg->issuer);
    put_strv(o, "audience", cfg->audience);
    put_str(o, "resource", cfg->resource);
    json_object_set_new(o, "resourceBinding", json_boolean(cfg->bind_resource && cfg->resource));
    put_str(o, "jwksUrl", cfg->jwks_url);
    if (cfg->jwks_inline) {
        json_t *keys = json_object_get(cfg->jwks_inline, "keys");
        json_object_set_new(
            o, "jwks",
            json_pack("{s:s,s:I}", "keys", "<set>", "count", (json_int_t)json_array_size(keys)));
    }
    if (cfg->public_key_pem) put_str(o, "publicKey", "<set>");
    if (cfg->secret) put_str(o, "secret", "<set>");
    json_t *algs = json_array();
    for (int a = 1; algs && a < MCP_ALG_COUNT; a++)
        if (cfg->alg_mask & MCP_ALG_BIT(a))
            json_array_append_new(algs, json_string(mcp_alg_name((mcp_alg)a)));
    json_object_set_new(o, "algorithms", algs);
    json_object_set_new(o, "leewaySeconds", json_integer(cfg->leeway));
    json_object_set_new(o, "requireExp", json_boolean(cfg->require_exp));
    json_t *typ = json_array();
    if (typ && (cfg->typ_policy & MCP_TYP_ABSENT))
        json_array_append_new(typ, json_string("absent"));
    if (typ && (cfg->typ_policy & MCP_TYP_JWT)) json_array_append_new(typ, json_string("JWT"));
    if (typ && (cfg->typ_policy & MCP_TYP_AT_JWT))
        json_array_append_new(typ, json_string("at+jwt"));
    json_object_set_new(o, "typ", typ);
    put_strv(o, "requiredScopes", cfg->required_scopes);
    json_object_set_new(o, "claims",
                        cfg->claims_map ? json_deep_copy(cfg->claims_map) : json_object());
    json_object_set_new(o, "verifyJwt", json_boolean(cfg->verify_jwt));
    json_object_set_new(o, "maxTokenBytes", json_integer((json_int_t)cfg->max_token_bytes));
    json_object_set_new(o, "tokenCacheSize", json_integer((json_int_t)cfg->token_cache_size));
    json_object_set_new(o, "tokenCacheMaxSeconds", json_integer(cfg->token_cache_max_seconds));
    json_object_set_new(o, "jwksCacheSeconds", json_integer(cfg->jwks_ttl_default));
    json_object_set_new(o, "jwksCacheMinSeconds", json_integer(cfg->jwks_ttl_min));
    json_object_set_new(o, "jwksCacheMaxSeconds", json_integer(cfg->jwks_ttl_max));
    json_object_set_new(o, "jwksCooldownSeconds", json_integer(cfg->jwks_cooldown));
    json_object_set_new(o, "maxKeys", json_integer((json_int_t)cfg->max_keys));
    json_object_set_new(o, "httpTimeoutMs", json_integer(cfg->timeout_ms));
    json_object_set_new(o, "httpConnectTimeoutMs", json_integer(cfg->connect_timeout_ms));
    put_str(o, "authorizationEndpoint", cfg->authorization_endpoint);
    put_str(o, "tokenEndpoint", cfg->token_endpoint);
    put_str(o, "registrationEndpoint", cfg->registration_endpoint);
    put_str(o, "userInfoEndpoint", cfg->userinfo_endpoint);
    put_strv(o, "scopesSupported", cfg->scopes_supported);
    put_strv(o, "grantTypes", cfg->grant_types_supported);
    put_str(o, "baseUrl", cfg->base_url);
    put_str(o, "mcpPath", cfg->mcp_path);
    put_strv(o, "protectedPaths", cfg->protected_paths);
    put_str(o, "resourceName", cfg->resource_name);
    put_str(o, "resourceDocumentation", cfg->resource_documentation);
    json_object_set_new(o, "routeScopes",
                        cfg->route_scopes ? json_deep_copy(cfg->route_scopes) : json_object());
    json_object_set_new(o, "trustHostHeader", json_boolean(cfg->trust_host_header));
    put_strv(o, "trustedProxies", cfg->trusted_proxies);
    put_strv(o, "allowedHosts", cfg->allowed_hosts);
    json_object_set_new(o, "hostVerifies", json_boolean(cfg->host_verifies));
    json_object_set_new(o, "metadataCacheSeconds", json_integer(cfg->metadata_ttl));
    static const char *const module_options[] = {"proxy", "introspection", "userinfo", NULL};
    for (const char *const *m = module_options; *m; m++) {
        json_t *mv = cfg->extra ? json_object_get(cfg->extra, *m) : NULL;
        if (json_is_object(mv)) json_object_set_new(o, *m, masked_copy(mv, 0));
    }
    return o;
}
