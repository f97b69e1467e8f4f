/* proxy_config.c - the OAuth proxy: an OAuth 2.1 authorization server in front of an upstream
 * identity provider that only knows one static client (the configured clientId).
 *
 * Routes (at the root of the proxy's base URL, i.e. "<base path>/register" ...):
 *   POST /register         RFC 7591 registration; the client_id is a sealed value binding the
 *                          redirect URIs, name and grant types (nothing is stored)
 *   GET  /authorize        validation, then the consent page (or a remembered approval), then
 *                          a 302 to the upstream with the proxy's own callback, client id,
 *                          PKCE pair and a sealed state; a browser binding cookie is set
 *   POST /authorize        the consent form (approve / deny)
 *   GET  /oauth/callback   checks the sealed state and the binding cookie, wraps the upstream
 *                          code into the proxy's own sealed code and redirects to the client
 *                          with code, state and iss (RFC 9207)
 *   POST /token            authorization_code (the client's PKCE verifier checked here, the
 *                          upstream exchange done with the proxy's verifier and credentials)
 *                          and refresh_token (passed through with credentials injected)
 * plus the RFC 8414 metadata document (mcp_proxy_as_metadata) that the router serves.
 *
 * This file reads the "proxy" configuration into an mcp_proxy (mcp_proxy_init/free); the
 * routes are register.c, authorize.c (with the consent form), callback.c and token.c,
 * dispatched by routes.c; as_metadata.c is the metadata document.
 *
 * Statelessness: everything that must survive between requests is sealed (seal.h) under a
 * key derived from sealingSecret, so any replica configured with the same secret continues
 * any flow. A pending authorization is single-use as far as statelessness allows: short TTL,
 * bound to the browser by a cookie that is cleared at the callback, and the upstream code
 * inside the proxy code can be redeemed upstream only once. */
#include "proxy/proxy.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "proxy/proxy_impl.h"

#define PROXY_MAX_UPSTREAM_BODY ((size_t)262144)
#define DEFAULT_CODE_TTL 300
#define DEFAULT_STATE_TTL 600
#define DEFAULT_CLIENT_TTL (365LL * 86400)
#define DEFAULT_CONSENT_TTL (30LL * 86400)
#define DEFAULT_CIMD_TTL 300
#define CIMD_CACHE_ENTRIES 256

static const char *const proxy_options[] = {"preset",
                                            "domain",
                                            "tenant",
                                            "authEndpoint",
                                            "authorizationEndpoint",
                                            "tokenEndpoint",
                                            "issuer",
                                            "clientId",
                                            "clientSecret",
                                            "scopes",
                                            "grantTypes",
                                            "extraAuthorizeParams",
                                            "sealingSecret",
                                            "previousSecrets",
                                            "allowedRedirectUris",
                                            "allowedScopes",
                                            "allowedAudiences",
                                            "consent",
                                            "tokenEndpointAuthMethod",
                                            "allowLoopbackClientMetadata",
                                            "codeTtlSeconds",
                                            "stateTtlSeconds",
                                            "clientTtlSeconds",
                                            "consentTtlSeconds",
                                            "clientMetadataCacheSeconds",
                                            "clientMetadataProxy",
                                            "baseUrl",
                                            "serverName",
                                            "forwardResource",
                                            NULL};

/* Parameters the proxy sets itself: extraAuthorizeParams may not override them. */
static const char *const reserved_params[] = {
    "response_type",         "client_id", "redirect_uri", "state", "code_challenge",
    "code_challenge_method", NULL};

static int opt_string(json_t *pc, const char *key, char **out, mcp_err *err) {
    return mcp_opt_section_str(pc, "proxy", key, out, err);
}

static int opt_bool(json_t *pc, const char *key, int *out, mcp_err *err) {
    json_t *v = json_object_get(pc, key);
    if (!v || json_is_null(v)) return MCPAUTH_OK;
    if (!json_is_boolean(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.%s' must be a boolean", key);
    *out = json_is_true(v);
    return MCPAUTH_OK;
}

static int opt_int(json_t *pc, const char *key, int64_t min, int64_t max, int64_t *out,
                   mcp_err *err) {
    return mcp_opt_section_int(pc, "proxy", key, min, max, out, err);
}

/* An array of strings, or a space-separated string. */
static int opt_strv(json_t *pc, const char *key, mcp_strv *out, mcp_err *err) {
    json_t *v = json_object_get(pc, key);
    if (!v || json_is_null(v)) return MCPAUTH_OK;
    mcp_strv nv = calloc(1, sizeof *nv);
    if (!nv) return mcp_err_nomem(err);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s) {
            size_t l = strcspn(s, " ");
            if (l && mcp_strv_push(&nv, s, l)) {
                mcp_strv_free(nv);
                return mcp_err_nomem(err);
            }
            s += l;
            while (*s == ' ') s++;
        }
    } else if (json_is_array(v) && json_array_size(v) <= 64) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x) || json_string_length(x) == 0) {
                mcp_strv_free(nv);
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.%s' must hold non-empty strings", key);
            }
            if (mcp_strv_add(&nv, json_string_value(x))) {
                mcp_strv_free(nv);
                return mcp_err_nomem(err);
            }
        }
    } else {
        mcp_strv_free(nv);
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.%s' must be an array of strings (at most 64)", key);
    }
    mcp_strv_free(*out);
    *out = nv;
    return MCPAUTH_OK;
}

static int set_url(char **field, const char *value, const char *what, mcp_err *err) {
    int rc = mcp_url_check(value, what, err);
    if (rc != MCPAUTH_OK) return rc;
    free(*field);
    *field = mcp_strdup(value);
    return *field ? MCPAUTH_OK : mcp_err_nomem(err);
}

static int apply_preset(mcp_proxy *p, json_t *pc, mcp_err *err) {
    const mcp_idp_preset *ps = NULL;
    char *param = NULL;
    int rc = mcp_idp_preset_of(pc, &ps, &param, err);
    if (rc != MCPAUTH_OK || !ps) return rc;
    p->preset = ps;
    p->auth_endpoint = mcp_idp_preset_expand(ps->auth_endpoint, param);
    p->token_endpoint = mcp_idp_preset_expand(ps->token_endpoint, param);
    if (ps->issuer) p->upstream_issuer = mcp_idp_preset_expand(ps->issuer, param);
    free(param);
    if (!p->auth_endpoint || !p->token_endpoint || (ps->issuer && !p->upstream_issuer))
        return mcp_err_nomem(err);
    for (size_t i = 0; ps->scopes && ps->scopes[i]; i++)
        if (mcp_strv_add(&p->scopes, ps->scopes[i])) return mcp_err_nomem(err);
    if (ps->extra_params) {
        json_error_t je;
        p->extra_params = json_loads(ps->extra_params, 0, &je);
        if (!p->extra_params) return mcp_err_nomem(err);
    }
    p->basic_auth = strcmp(ps->auth_method, "client_secret_basic") == 0;
    p->forward_resource = ps->forward_resource;
    return MCPAUTH_OK;
}

/* clientMetadataProxy: an http(s) proxy URL with a host, no credentials, no path. */
static int parse_cimd_proxy(mcp_proxy *p, json_t *pc, mcp_err *err) {
    int rc = opt_string(pc, "clientMetadataProxy", &p->cimd_proxy, err);
    if (rc != MCPAUTH_OK || !p->cimd_proxy) return rc;
    int https;
    char *host = NULL;
    unsigned port;
    const char *rest;
    int r = mcp_http_uri_split(p->cimd_proxy, &https, &host, &port, &rest);
    int ok = r == 0 && host[0] && (!rest[0] || strcmp(rest, "/") == 0);
    free(host);
    if (r == -2) return mcp_err_nomem(err);
    if (!ok)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.clientMetadataProxy' must be an http:// or https:// "
                           "proxy URL with a host and no credentials, path or query");
    return MCPAUTH_OK;
}

static int parse_base(mcp_proxy *p, const mcp_config *cfg, json_t *pc, mcp_getenv_fn env,
                      mcp_err *err) {
    char *base = NULL;
    int rc = opt_string(pc, "baseUrl", &base, err);
    if (rc != MCPAUTH_OK) return rc;
    if (!base && cfg->base_url) {
        base = mcp_strdup(cfg->base_url);
        if (!base) return mcp_err_nomem(err);
    }
    if (!base)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "the OAuth proxy needs its public base URL: set 'baseUrl'%s or "
                           "'proxy.baseUrl'",
                           mcp_env_on(env) ? " (or MCP_URL)" : "");
    rc = mcp_url_check(base, "option 'proxy.baseUrl'", err);
    if (rc == MCPAUTH_OK && strchr(base, '?'))
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.baseUrl' must not have a query");
    if (rc != MCPAUTH_OK) {
        free(base);
        return rc;
    }
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/') base[--n] = '\0';
    int https;
    char *host = NULL;
    unsigned port;
    const char *rest = NULL;
    if (mcp_http_uri_split(base, &https, &host, &port, &rest) != 0) {
        free(base);
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.baseUrl' is not a valid URL");
    }
    free(host);
    p->issuer = base;
    /* the origin as a browser sends it (Origin header): default ports omitted */
    size_t ol = (size_t)(rest - base);
    if (https && ol > 4 && strncmp(base + ol - 4, ":443", 4) == 0) ol -= 4;
    if (!https && ol > 3 && strncmp(base + ol - 3, ":80", 3) == 0) ol -= 3;
    p->origin = mcp_strndup(base, ol);
    if (!p->origin) return mcp_err_nomem(err);
    const char *path = rest; /* "" or "/prefix" */
    struct {
        char **route, **url;
        const char *suffix;
    } r[] = {{&p->route_register, &p->url_register, "/register"},
             {&p->route_authorize, &p->url_authorize, "/authorize"},
             {&p->route_callback, &p->url_callback, "/oauth/callback"},
             {&p->route_token, &p->url_token, "/token"}};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        *r[i].route = mcp_concat(path, r[i].suffix);
        *r[i].url = mcp_concat(p->issuer, r[i].suffix);
        if (!*r[i].route || !*r[i].url) return mcp_err_nomem(err);
    }
    return MCPAUTH_OK;
}

static int parse_secrets(mcp_proxy *p, json_t *pc, mcp_getenv_fn env, mcp_err *err) {
    json_t *sv = json_object_get(pc, "sealingSecret");
    const char *secret = NULL;
    if (sv && !json_is_null(sv)) {
        if (!json_is_string(sv))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.sealingSecret' must be a string");
        secret = json_string_value(sv);
    } else {
        secret = env ? env("MCPAUTH_SEALING_SECRET") : NULL; /* none under NO_ENV */
    }
    if (!secret || !*secret)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.sealingSecret' (or MCPAUTH_SEALING_SECRET) is required "
                           "(at least %d bytes, the same on every replica)",
                           MCP_SEAL_MIN_SECRET);
    if (strlen(secret) < MCP_SEAL_MIN_SECRET)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.sealingSecret' (or MCPAUTH_SEALING_SECRET) must be at "
                           "least %d bytes",
                           MCP_SEAL_MIN_SECRET);
    int rc = mcp_sealer_new((const unsigned char *)secret, strlen(secret), &p->sealer, err);
    if (rc != MCPAUTH_OK) return rc;
    json_t *prev = json_object_get(pc, "previousSecrets");
    if (!prev || json_is_null(prev)) return MCPAUTH_OK;
    if (!json_is_array(prev) || json_array_size(prev) > MCP_SEAL_MAX_SECRETS - 1)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.previousSecrets' must be an array of at most %d "
                           "strings",
                           MCP_SEAL_MAX_SECRETS - 1);
    size_t i;
    json_t *x;
    json_array_foreach(prev, i, x) {
        if (!json_is_string(x) || json_string_length(x) < MCP_SEAL_MIN_SECRET)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.previousSecrets' entries must be strings of at "
                               "least %d bytes",
                               MCP_SEAL_MIN_SECRET);
        rc = mcp_sealer_add_previous(p->sealer, (const unsigned char *)json_string_value(x),
                                     json_string_length(x), err);
        if (rc != MCPAUTH_OK) return rc;
    }
    return MCPAUTH_OK;
}

static int parse_proxy(mcp_proxy *p, const mcp_config *cfg, json_t *pc, mcp_getenv_fn env,
                       mcp_err *err) {
    int rc;
    const char *key;
    json_t *v;
    json_object_foreach(pc, key, v) {
        if (!mcp_list_contains(proxy_options, key))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "unknown option 'proxy.%.60s'", key);
    }
    p->consent = 1;
    p->forward_resource = 1;
    p->code_ttl = DEFAULT_CODE_TTL;
    p->state_ttl = DEFAULT_STATE_TTL;
    p->client_ttl = DEFAULT_CLIENT_TTL;
    p->consent_ttl = DEFAULT_CONSENT_TTL;
    p->cimd_ttl = DEFAULT_CIMD_TTL;
    if ((rc = apply_preset(p, pc, err)) != MCPAUTH_OK) return rc;

    char *s = NULL;
    if (json_object_get(pc, "authEndpoint") && json_object_get(pc, "authorizationEndpoint"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'proxy.authEndpoint' and 'proxy.authorizationEndpoint' are "
                           "aliases; give only one");
    const char *url_opts[] = {"authEndpoint", "authorizationEndpoint", "tokenEndpoint", "issuer"};
    char **url_fields[] = {&p->auth_endpoint, &p->auth_endpoint, &p->token_endpoint,
                           &p->upstream_issuer};
    for (size_t i = 0; i < 4; i++) {
        s = NULL;
        if ((rc = opt_string(pc, url_opts[i], &s, err)) != MCPAUTH_OK) return rc;
        if (s) {
            char what[64];
            snprintf(what, sizeof what, "option 'proxy.%s'", url_opts[i]);
            rc = set_url(url_fields[i], s, what, err);
            free(s);
            if (rc != MCPAUTH_OK) return rc;
        }
    }
    if (!p->auth_endpoint)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.authEndpoint' is required (or a 'proxy.preset')");
    if (!p->token_endpoint)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.tokenEndpoint' is required (or a 'proxy.preset')");
    if (strchr(p->auth_endpoint, '#') || strchr(p->token_endpoint, '#'))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "proxy endpoints must not have a fragment");

    if ((rc = opt_string(pc, "clientId", &p->client_id, err)) != MCPAUTH_OK) return rc;
    if (!p->client_id)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.clientId' is required");
    if (!mcp_printable(p->client_id, 512))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.clientId' must be printable ASCII (at most 512)");
    if ((rc = opt_string(pc, "clientSecret", &p->client_secret, err)) != MCPAUTH_OK) return rc;
    if (p->client_secret && !mcp_printable(p->client_secret, 1024))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.clientSecret' must be printable ASCII");

    s = NULL;
    if ((rc = opt_string(pc, "tokenEndpointAuthMethod", &s, err)) != MCPAUTH_OK) return rc;
    if (s) {
        if (strcmp(s, "client_secret_post") == 0)
            p->basic_auth = 0;
        else if (strcmp(s, "client_secret_basic") == 0)
            p->basic_auth = 1;
        else
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                             "option 'proxy.tokenEndpointAuthMethod' must be "
                             "\"client_secret_post\" or \"client_secret_basic\"");
        free(s);
        if (rc != MCPAUTH_OK) return rc;
    }

    if ((rc = opt_strv(pc, "scopes", &p->scopes, err)) != MCPAUTH_OK) return rc;
    if (!p->scopes) {
        const char *def[] = {"openid", "email", "profile"};
        for (size_t i = 0; i < 3; i++)
            if (mcp_strv_add(&p->scopes, def[i])) return mcp_err_nomem(err);
    }
    for (size_t i = 0; p->scopes[i]; i++)
        if (!mcp_scope_valid(p->scopes[i]) || strchr(p->scopes[i], ' '))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.scopes' has an invalid scope");

    /* what a client may ask the upstream for: allowedScopes, by default the proxy's scopes and
     * the resource's (required and supported); audiences: allowedAudiences, by default the
     * configured audiences and the resource */
    if ((rc = opt_strv(pc, "allowedScopes", &p->allowed_scopes, err)) != MCPAUTH_OK) return rc;
    if (!p->allowed_scopes) {
        const mcp_strv lists[3] = {p->scopes, cfg->scopes_supported, cfg->required_scopes};
        if (!(p->allowed_scopes = calloc(1, sizeof *p->allowed_scopes))) return mcp_err_nomem(err);
        for (size_t l = 0; l < 3; l++)
            for (size_t i = 0; lists[l] && lists[l][i]; i++)
                if (!mcp_strv_contains(p->allowed_scopes, lists[l][i]) &&
                    mcp_strv_add(&p->allowed_scopes, lists[l][i]))
                    return mcp_err_nomem(err);
    }
    for (size_t i = 0; p->allowed_scopes[i]; i++)
        if (!mcp_scope_valid(p->allowed_scopes[i]) || strchr(p->allowed_scopes[i], ' '))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.allowedScopes' has an invalid scope");
    if ((rc = opt_strv(pc, "allowedAudiences", &p->allowed_audiences, err)) != MCPAUTH_OK)
        return rc;
    if (!p->allowed_audiences) {
        if (!(p->allowed_audiences = calloc(1, sizeof *p->allowed_audiences)))
            return mcp_err_nomem(err);
        for (size_t i = 0; cfg->audience && cfg->audience[i]; i++)
            if (mcp_strv_add(&p->allowed_audiences, cfg->audience[i])) return mcp_err_nomem(err);
        if (cfg->resource && !mcp_strv_contains(p->allowed_audiences, cfg->resource) &&
            mcp_strv_add(&p->allowed_audiences, cfg->resource))
            return mcp_err_nomem(err);
    }

    if ((rc = opt_strv(pc, "grantTypes", &p->grant_types, err)) != MCPAUTH_OK) return rc;
    if (!p->grant_types && (mcp_strv_add(&p->grant_types, "authorization_code") ||
                            mcp_strv_add(&p->grant_types, "refresh_token")))
        return mcp_err_nomem(err);
    if (!mcp_strv_contains(p->grant_types, "authorization_code"))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.grantTypes' must include \"authorization_code\"");
    for (size_t i = 0; p->grant_types[i]; i++)
        if (strcmp(p->grant_types[i], "authorization_code") != 0 &&
            strcmp(p->grant_types[i], "refresh_token") != 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.grantTypes': only \"authorization_code\" and "
                               "\"refresh_token\" are supported");

    json_t *ex = json_object_get(pc, "extraAuthorizeParams");
    if (ex && !json_is_null(ex)) {
        if (!json_is_object(ex) || json_object_size(ex) > 32)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.extraAuthorizeParams' must be an object of "
                               "strings");
        if (!p->extra_params && !(p->extra_params = json_object())) return mcp_err_nomem(err);
        json_object_foreach(ex, key, v) {
            if (!json_is_string(v))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.extraAuthorizeParams.%.40s' must be a string",
                                   key);
            if (json_object_set(p->extra_params, key, v) != 0) return mcp_err_nomem(err);
        }
    }
    if (p->extra_params) {
        json_object_foreach(p->extra_params, key, v) {
            if (mcp_list_contains(reserved_params, key))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.extraAuthorizeParams' must not set '%.40s' "
                                   "(the proxy sets it)",
                                   key);
        }
    }

    if ((rc = parse_secrets(p, pc, env, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_strv(pc, "allowedRedirectUris", &p->allowed_redirects, err)) != MCPAUTH_OK)
        return rc;
    for (size_t i = 0; p->allowed_redirects && p->allowed_redirects[i]; i++)
        if (!mcp_redirect_pattern_valid(p->allowed_redirects[i]))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.allowedRedirectUris': '%s' is not a URI pattern "
                               "('*' stands only for a whole host label, the port or a whole "
                               "path segment)",
                               p->allowed_redirects[i]);
    if ((rc = opt_bool(pc, "consent", &p->consent, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_bool(pc, "allowLoopbackClientMetadata", &p->allow_loopback_cimd, err)) !=
        MCPAUTH_OK)
        return rc;
    if ((rc = opt_bool(pc, "forwardResource", &p->forward_resource, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_int(pc, "codeTtlSeconds", 10, 600, &p->code_ttl, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_int(pc, "stateTtlSeconds", 60, 3600, &p->state_ttl, err)) != MCPAUTH_OK)
        return rc;
    if ((rc = opt_int(pc, "clientTtlSeconds", 3600, 10LL * 365 * 86400, &p->client_ttl, err)) !=
        MCPAUTH_OK)
        return rc;
    if ((rc = opt_int(pc, "consentTtlSeconds", 60, 400LL * 86400, &p->consent_ttl, err)) !=
        MCPAUTH_OK)
        return rc;
    if ((rc = opt_int(pc, "clientMetadataCacheSeconds", 60, 3600, &p->cimd_ttl, err)) != MCPAUTH_OK)
        return rc;
    if ((rc = parse_cimd_proxy(p, pc, err)) != MCPAUTH_OK) return rc;
    if ((rc = parse_base(p, cfg, pc, env, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_string(pc, "serverName", &p->server_name, err)) != MCPAUTH_OK) return rc;
    if (!p->server_name)
        p->server_name =
            cfg->resource_name ? mcp_strdup(cfg->resource_name) : mcp_uri_display_host(p->issuer);
    if (!p->server_name) return mcp_err_nomem(err);
    if (cfg->resource && !(p->resource = mcp_strdup(cfg->resource))) return mcp_err_nomem(err);
    p->http.connect_timeout_ms = cfg->connect_timeout_ms;
    p->http.total_timeout_ms = cfg->timeout_ms;
    p->http.max_body = PROXY_MAX_UPSTREAM_BODY;
    p->cimd = mcp_cimd_cache_new(CIMD_CACHE_ENTRIES);
    if (!p->cimd) return mcp_err_nomem(err);
    return MCPAUTH_OK;
}

void mcp_proxy_free(struct mcp_proxy *p) {
    if (!p) return;
    free(p->issuer);
    free(p->origin);
    free(p->route_register);
    free(p->route_authorize);
    free(p->route_callback);
    free(p->route_token);
    free(p->url_register);
    free(p->url_authorize);
    free(p->url_callback);
    free(p->url_token);
    free(p->auth_endpoint);
    free(p->token_endpoint);
    free(p->upstream_issuer);
    free(p->client_id);
    if (p->client_secret) {
        OPENSSL_cleanse(p->client_secret, strlen(p->client_secret));
        free(p->client_secret);
    }
    mcp_strv_free(p->scopes);
    mcp_strv_free(p->allowed_scopes);
    mcp_strv_free(p->allowed_audiences);
    mcp_strv_free(p->grant_types);
    json_decref(p->extra_params);
    mcp_strv_free(p->allowed_redirects);
    free(p->resource);
    free(p->server_name);
    free(p->cimd_proxy);
    mcp_sealer_free(p->sealer);
    mcp_cimd_cache_free(p->cimd);
    free(p);
}

int mcp_proxy_init(struct mcpauth_engine *e, mcp_err *err) {
    if (!e || !e->cfg) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no engine");
    json_t *pc = e->cfg->extra ? json_object_get(e->cfg->extra, "proxy") : NULL;
    if (!pc || json_is_null(pc)) return MCPAUTH_OK;
    if (!json_is_object(pc))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy' must be an object");
    mcp_proxy *p = calloc(1, sizeof *p);
    if (!p) return mcp_err_nomem(err);
    int rc = parse_proxy(p, e->cfg, pc, e->env, err);
    if (rc != MCPAUTH_OK) {
        mcp_proxy_free(p);
        return rc;
    }
    e->proxy_state = p;
    return MCPAUTH_OK;
}
