/* resolved.c - the resolved configuration as JSON (mcpauth_config_resolved, `mcpauth
 * config`): every effective value after presets, environment and defaults, with secrets
 * masked. */
#include "config/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json_strict.h"

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
    json_object_set_new(o, k, v ? mcp_strv_to_json(v) : json_null());
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
    json_object_set_new(o, "allowAnyAudience", json_boolean(cfg->allow_any_audience));
    json_object_set_new(o, "metadataCacheSeconds", json_integer(cfg->metadata_ttl));
    static const char *const module_options[] = {"proxy", "introspection", "userinfo", NULL};
    for (const char *const *m = module_options; *m; m++) {
        json_t *mv = cfg->extra ? json_object_get(cfg->extra, *m) : NULL;
        if (json_is_object(mv)) json_object_set_new(o, *m, masked_copy(mv, 0));
    }
    return o;
}
