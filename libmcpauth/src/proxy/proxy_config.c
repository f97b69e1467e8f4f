/* proxy.c - the OAuth proxy: an OAuth 2.1 authorization server in front of an upstream
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
 * Statelessness: everything that must survive between requests is sealed (seal.h) under a
 * key derived from sealingSecret, so any replica configured with the same secret continues
 * any flow. A pending authorization is single-use as far as statelessness allows: short TTL,
 * bound to the browser by a cookie that is cleared at the callback, and the upstream code
 * inside the proxy code can be redeemed upstream only once. */
#include "proxy/proxy.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verify/engine.h"
#include "util/json_strict.h"
#include "proxy/proxy_impl.h"

#define BIND_COOKIE_PREFIX "__Host-mcpauth-bind-"
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
                                            "consent",
                                            "tokenEndpointAuthMethod",
                                            "allowLoopbackClientMetadata",
                                            "codeTtlSeconds",
                                            "stateTtlSeconds",
                                            "clientTtlSeconds",
                                            "consentTtlSeconds",
                                            "clientMetadataCacheSeconds",
                                            "baseUrl",
                                            "serverName",
                                            "forwardResource",
                                            NULL};

/* Parameters the proxy sets itself: extraAuthorizeParams may not override them. */
static const char *const reserved_params[] = {
    "response_type",         "client_id", "redirect_uri", "state", "code_challenge",
    "code_challenge_method", NULL};

/* ---- small helpers ------------------------------------------------------------------------ */

static int nomem(mcp_err *err) { return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory"); }

static int in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (strcmp(*l, s) == 0) return 1;
    return 0;
}

static char *strv_join(const mcp_strv v) {
    mcp_buf b = {0};
    for (size_t i = 0; v && v[i]; i++) {
        if (i) mcp_buf_add(&b, " ", 1);
        mcp_buf_adds(&b, v[i]);
    }
    return mcp_buf_take(&b);
}

static json_t *strv_json(const mcp_strv v) {
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static char *concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static int ct_equal(const char *a, const char *b) {
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && la > 0 && CRYPTO_memcmp(a, b, la) == 0;
}

static int starts_ci(const char *s, const char *prefix) {
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static int printable(const char *s, size_t max) {
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}

/* ---- configuration ------------------------------------------------------------------------ */

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
    if (!nv) return nomem(err);
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        while (*s) {
            size_t l = strcspn(s, " ");
            if (l && mcp_strv_push(&nv, s, l)) {
                mcp_strv_free(nv);
                return nomem(err);
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
                return nomem(err);
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
    return *field ? MCPAUTH_OK : nomem(err);
}

static int apply_preset(mcp_proxy *p, json_t *pc, mcp_err *err) {
    const mcp_proxy_preset *ps = NULL;
    char *param = NULL;
    int rc = mcp_proxy_preset_of(pc, &ps, &param, err);
    if (rc != MCPAUTH_OK || !ps) return rc;
    p->preset = ps;
    p->auth_endpoint = mcp_proxy_preset_expand(ps->auth_endpoint, param);
    p->token_endpoint = mcp_proxy_preset_expand(ps->token_endpoint, param);
    if (ps->issuer) p->upstream_issuer = mcp_proxy_preset_expand(ps->issuer, param);
    free(param);
    if (!p->auth_endpoint || !p->token_endpoint || (ps->issuer && !p->upstream_issuer))
        return nomem(err);
    for (size_t i = 0; ps->scopes && ps->scopes[i]; i++)
        if (mcp_strv_add(&p->scopes, ps->scopes[i])) return nomem(err);
    if (ps->extra_params) {
        json_error_t je;
        p->extra_params = json_loads(ps->extra_params, 0, &je);
        if (!p->extra_params) return nomem(err);
    }
    p->basic_auth = strcmp(ps->auth_method, "client_secret_basic") == 0;
    p->forward_resource = ps->forward_resource;
    return MCPAUTH_OK;
}

static int parse_base(mcp_proxy *p, const mcp_config *cfg, json_t *pc, mcp_err *err) {
    char *base = NULL;
    int rc = opt_string(pc, "baseUrl", &base, err);
    if (rc != MCPAUTH_OK) return rc;
    if (!base && cfg->base_url) {
        base = mcp_strdup(cfg->base_url);
        if (!base) return nomem(err);
    }
    if (!base)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "the OAuth proxy needs its public base URL: set 'baseUrl' (or "
                           "MCP_URL) or 'proxy.baseUrl'");
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
    if (!p->origin) return nomem(err);
    const char *path = rest; /* "" or "/prefix" */
    struct {
        char **route, **url;
        const char *suffix;
    } r[] = {{&p->route_register, &p->url_register, "/register"},
             {&p->route_authorize, &p->url_authorize, "/authorize"},
             {&p->route_callback, &p->url_callback, "/oauth/callback"},
             {&p->route_token, &p->url_token, "/token"}};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        *r[i].route = concat(path, r[i].suffix);
        *r[i].url = concat(p->issuer, r[i].suffix);
        if (!*r[i].route || !*r[i].url) return nomem(err);
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
        if (!in_list(proxy_options, key))
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
    if (!printable(p->client_id, 512))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.clientId' must be printable ASCII (at most 512)");
    if ((rc = opt_string(pc, "clientSecret", &p->client_secret, err)) != MCPAUTH_OK) return rc;
    if (p->client_secret && !printable(p->client_secret, 1024))
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
            if (mcp_strv_add(&p->scopes, def[i])) return nomem(err);
    }
    for (size_t i = 0; p->scopes[i]; i++)
        if (!mcp_scope_valid(p->scopes[i]) || strchr(p->scopes[i], ' '))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.scopes' has an invalid scope");

    if ((rc = opt_strv(pc, "grantTypes", &p->grant_types, err)) != MCPAUTH_OK) return rc;
    if (!p->grant_types && (mcp_strv_add(&p->grant_types, "authorization_code") ||
                            mcp_strv_add(&p->grant_types, "refresh_token")))
        return nomem(err);
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
        if (!p->extra_params && !(p->extra_params = json_object())) return nomem(err);
        json_object_foreach(ex, key, v) {
            if (!json_is_string(v))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.extraAuthorizeParams.%.40s' must be a string",
                                   key);
            if (json_object_set(p->extra_params, key, v) != 0) return nomem(err);
        }
    }
    if (p->extra_params) {
        json_object_foreach(p->extra_params, key, v) {
            if (in_list(reserved_params, key))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.extraAuthorizeParams' must not set '%.40s' "
                                   "(the proxy sets it)",
                                   key);
        }
    }

    if ((rc = parse_secrets(p, pc, env, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_strv(pc, "allowedRedirectUris", &p->allowed_redirects, err)) != MCPAUTH_OK)
        return rc;
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
    if ((rc = parse_base(p, cfg, pc, err)) != MCPAUTH_OK) return rc;
    if ((rc = opt_string(pc, "serverName", &p->server_name, err)) != MCPAUTH_OK) return rc;
    if (!p->server_name)
        p->server_name =
            cfg->resource_name ? mcp_strdup(cfg->resource_name) : mcp_uri_display_host(p->issuer);
    if (!p->server_name) return nomem(err);
    if (cfg->resource && !(p->resource = mcp_strdup(cfg->resource))) return nomem(err);
    p->http.connect_timeout_ms = cfg->connect_timeout_ms;
    p->http.total_timeout_ms = cfg->timeout_ms;
    p->http.max_body = PROXY_MAX_UPSTREAM_BODY;
    p->cimd = mcp_cimd_cache_new(CIMD_CACHE_ENTRIES);
    if (!p->cimd) return nomem(err);
    return MCPAUTH_OK;
}

void mcp_proxy_free(void *proxy_state) {
    mcp_proxy *p = proxy_state;
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
    mcp_strv_free(p->grant_types);
    json_decref(p->extra_params);
    mcp_strv_free(p->allowed_redirects);
    free(p->resource);
    free(p->server_name);
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
    if (!p) return nomem(err);
    int rc = parse_proxy(p, e->cfg, pc, e->env, err);
    if (rc != MCPAUTH_OK) {
        mcp_proxy_free(p);
        return rc;
    }
    e->proxy_state = p;
    return MCPAUTH_OK;
}

/* ---- metadata ----------------------------------------------------------------------------- */

json_t *mcp_proxy_as_metadata(const struct mcpauth_engine *e) {
    if (!e || !e->proxy_state) return NULL;
    const mcp_proxy *p = e->proxy_state;
    json_t *doc = json_object();
    json_t *scopes = strv_json(p->scopes), *grants = strv_json(p->grant_types);
    if (!doc || !scopes || !grants) goto fail;
    int bad = 0;
    bad |= json_object_set_new(doc, "issuer", json_string(p->issuer));
    bad |= json_object_set_new(doc, "authorization_endpoint", json_string(p->url_authorize));
    bad |= json_object_set_new(doc, "token_endpoint", json_string(p->url_token));
    bad |= json_object_set_new(doc, "registration_endpoint", json_string(p->url_register));
    bad |= json_object_set_new(doc, "scopes_supported", scopes);
    scopes = NULL;
    bad |= json_object_set_new(doc, "response_types_supported", json_pack("[s]", "code"));
    bad |= json_object_set_new(doc, "response_modes_supported", json_pack("[s]", "query"));
    bad |= json_object_set_new(doc, "grant_types_supported", grants);
    grants = NULL;
    bad |= json_object_set_new(doc, "code_challenge_methods_supported", json_pack("[s]", "S256"));
    bad |=
        json_object_set_new(doc, "token_endpoint_auth_methods_supported", json_pack("[s]", "none"));
    bad |= json_object_set_new(doc, "client_id_metadata_document_supported", json_true());
    bad |= json_object_set_new(doc, "authorization_response_iss_parameter_supported", json_true());
    if (bad) goto fail;
    return doc;
fail:
    json_decref(doc);
    json_decref(scopes);
    json_decref(grants);
    return NULL;
}

/* ---- clients ------------------------------------------------------------------------------ */

static int strv_from_json(json_t *a, mcp_strv *out) {
    *out = calloc(json_array_size(a) + 1, sizeof **out);
    if (!*out) return -1;
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        if (!json_is_string(x)) continue;
        size_t n = mcp_strv_len(*out);
        (*out)[n] = mcp_strdup(json_string_value(x));
        if (!(*out)[n]) return -1;
    }
    return 0;
}

/* OK, WOULD_BLOCK, UPSTREAM, NOMEM, or CLAIM_INVALID (unknown client; err says why). */
static int resolve_client(const mcp_proxy *p, const char *client_id, int nonblock,
                          mcp_proxy_client *out, mcp_err *err) {
    memset(out, 0, sizeof *out);
    if (!client_id || !*client_id)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client_id is missing");
    if (mcp_cimd_is_url(client_id, p->allow_loopback_cimd))
        return mcp_cimd_resolve(p, client_id, nonblock, out, err);
    json_t *d = NULL;
    int rc =
        mcp_unseal(p->sealer, MCP_SEAL_CLIENT, client_id, strlen(client_id), mcp_now(), &d, NULL);
    if (rc == MCPAUTH_E_NOMEM) return nomem(err);
    if (rc != MCPAUTH_OK)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           rc == MCPAUTH_E_EXPIRED ? "the client registration has expired; "
                                                     "register again"
                                                   : "unknown client_id");
    json_t *ru = json_object_get(d, "ru"), *n = json_object_get(d, "n"),
           *g = json_object_get(d, "g");
    if (!json_is_array(ru) || !json_is_string(n) || !json_is_array(g)) {
        json_decref(d);
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "unknown client_id");
    }
    out->client_id = mcp_strdup(client_id);
    out->name = mcp_strdup(json_string_value(n));
    int bad = !out->client_id || !out->name || strv_from_json(ru, &out->redirect_uris) ||
              strv_from_json(g, &out->grant_types);
    json_decref(d);
    if (bad) {
        mcp_proxy_client_clear(out);
        return nomem(err);
    }
    return MCPAUTH_OK;
}

/* ---- POST /register ----------------------------------------------------------------------- */

static json_t *reg_error(const char *error, const char *desc) {
    return mcp_resp_oauth_error(400, error, desc);
}

static int redirect_allowed(const mcp_proxy *p, const char *uri) {
    if (!p->allowed_redirects) return 1;
    for (size_t i = 0; p->allowed_redirects[i]; i++)
        if (mcp_glob_match(p->allowed_redirects[i], uri)) return 1;
    return 0;
}

static int handle_register(const mcp_proxy *p, const mcp_preq *r, json_t **resp, mcp_err *err) {
    const char *ct = mcp_preq_header(r, "content-type");
    if (ct && !starts_ci(ct, "application/json")) {
        *resp = reg_error("invalid_client_metadata", "Content-Type must be application/json");
        return MCPAUTH_OK;
    }
    if (r->body_len > MCP_PX_MAX_REGISTER_BODY) {
        *resp = reg_error("invalid_client_metadata", "registration request is too large");
        return MCPAUTH_OK;
    }
    json_t *doc = mcp_json_parse(r->body ? r->body : "", r->body ? r->body_len : 0, 8, 1,
                                 "registration request", MCPAUTH_E_CLAIM_INVALID, NULL);
    if (!doc) {
        *resp = reg_error("invalid_client_metadata", "the body must be a JSON object");
        return MCPAUTH_OK;
    }
    json_t *out = NULL, *grants = NULL, *ru_out = NULL;
    char *client_id = NULL;
    int rc = MCPAUTH_OK;
    json_t *ru = json_object_get(doc, "redirect_uris");
    if (!json_is_array(ru) || json_array_size(ru) == 0 ||
        json_array_size(ru) > MCP_PX_MAX_REDIRECTS) {
        *resp = reg_error("invalid_redirect_uri", "redirect_uris must be an array of 1 to 10 "
                                                  "redirect URIs");
        goto done;
    }
    size_t i;
    json_t *x;
    json_array_foreach(ru, i, x) {
        if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
            *resp = reg_error("invalid_redirect_uri", "redirect_uris must hold strings");
            goto done;
        }
        const char *why = mcp_redirect_uri_problem(json_string_value(x));
        if (!why && !redirect_allowed(p, json_string_value(x)))
            why = "redirect URI is not allowed by this server's allowedRedirectUris";
        if (why) {
            *resp = reg_error("invalid_redirect_uri", why);
            goto done;
        }
    }
    const char *name = "MCP Client";
    json_t *nv = json_object_get(doc, "client_name");
    if (nv && !json_is_null(nv)) {
        int ok = json_is_string(nv) && json_string_length(nv) > 0 &&
                 json_string_length(nv) <= MCP_PX_MAX_CLIENT_NAME &&
                 strlen(json_string_value(nv)) == json_string_length(nv);
        for (const unsigned char *c = ok ? (const unsigned char *)json_string_value(nv) : NULL;
             c && *c; c++)
            if (*c < 0x20 || *c == 0x7f) ok = 0;
        if (!ok) {
            *resp = reg_error("invalid_client_metadata",
                              "client_name must be a string of 1 to 200 bytes without control "
                              "characters");
            goto done;
        }
        name = json_string_value(nv);
    }
    json_t *gv = json_object_get(doc, "grant_types");
    if (gv && !json_is_null(gv)) {
        if (!json_is_array(gv) || json_array_size(gv) == 0 || json_array_size(gv) > 8) {
            *resp = reg_error("invalid_client_metadata", "grant_types must be an array");
            goto done;
        }
        grants = json_array();
        if (!grants) {
            rc = nomem(err);
            goto done;
        }
        int has_code = 0;
        json_array_foreach(gv, i, x) {
            if (!json_is_string(x) || !mcp_strv_contains(p->grant_types, json_string_value(x))) {
                *resp = reg_error("invalid_client_metadata",
                                  "grant_types may hold only \"authorization_code\" and "
                                  "\"refresh_token\" (as enabled on this server)");
                goto done;
            }
            if (strcmp(json_string_value(x), "authorization_code") == 0) has_code = 1;
            int dup = 0;
            size_t k;
            json_t *y;
            json_array_foreach(grants, k, y) if (json_equal(x, y)) dup = 1;
            if (!dup && json_array_append(grants, x) != 0) {
                rc = nomem(err);
                goto done;
            }
        }
        if (!has_code) {
            *resp = reg_error("invalid_client_metadata",
                              "grant_types must include \"authorization_code\"");
            goto done;
        }
    } else {
        grants = strv_json(p->grant_types);
        if (!grants) {
            rc = nomem(err);
            goto done;
        }
    }
    json_t *rt = json_object_get(doc, "response_types");
    if (rt && !json_is_null(rt)) {
        int ok = json_is_array(rt) && json_array_size(rt) > 0;
        json_array_foreach(rt, i, x) if (!json_is_string(x) ||
                                         strcmp(json_string_value(x), "code") != 0) ok = 0;
        if (!ok) {
            *resp = reg_error("invalid_client_metadata", "response_types must be [\"code\"]");
            goto done;
        }
    }
    ru_out = json_deep_copy(ru);
    json_t *sealed = json_pack("{s:O,s:s,s:O}", "ru", ru, "n", name, "g", grants);
    if (!ru_out || !sealed) {
        json_decref(sealed);
        rc = nomem(err);
        goto done;
    }
    int64_t now = mcp_now();
    rc = mcp_seal(p->sealer, MCP_SEAL_CLIENT, sealed, now + p->client_ttl, &client_id, err);
    json_decref(sealed);
    if (rc != MCPAUTH_OK) goto done;
    out =
        json_pack("{s:s,s:I,s:s,s:O,s:O,s:[s],s:s}", "client_id", client_id, "client_id_issued_at",
                  (json_int_t)now, "client_name", name, "redirect_uris", ru_out, "grant_types",
                  grants, "response_types", "code", "token_endpoint_auth_method", "none");
    if (!out) {
        rc = nomem(err);
        goto done;
    }
    *resp = mcp_resp_json(201, out);
done:
    json_decref(out);
    json_decref(ru_out);
    json_decref(grants);
    json_decref(doc);
    free(client_id);
    if (rc == MCPAUTH_OK && !*resp) rc = nomem(err);
    return rc;
}

/* ---- redirects to the client -------------------------------------------------------------- */

/* 302 to the client's redirect URI with error, error_description, state and iss. */
static json_t *client_error_redirect(const mcp_proxy *p, const char *ru, const char *cs,
                                     const char *error, const char *desc, const char *uri) {
    mcp_buf b = {0};
    mcp_buf_param(&b, "error", error);
    if (desc) mcp_buf_param(&b, "error_description", desc);
    if (uri) mcp_buf_param(&b, "error_uri", uri);
    if (cs) mcp_buf_param(&b, "state", cs);
    mcp_buf_param(&b, "iss", p->issuer);
    char *params = mcp_buf_take(&b);
    char *loc = params ? mcp_url_with_params(ru, params) : NULL;
    json_t *r = loc ? mcp_resp_redirect(302, loc) : NULL;
    free(params);
    free(loc);
    return r;
}

/* The 302 to the upstream authorization endpoint for a validated (and consented) request. */
static int go_upstream(const mcp_proxy *p, json_t *req, const char *extra_cookie, json_t **resp,
                       mcp_err *err) {
    const char *cid = json_string_value(json_object_get(req, "cid"));
    const char *sc = json_string_value(json_object_get(req, "sc"));
    const char *rs = json_string_value(json_object_get(req, "rs"));
    const char *au = json_string_value(json_object_get(req, "au"));
    if (!cid || !json_is_string(json_object_get(req, "ru")) ||
        !json_is_string(json_object_get(req, "cc")))
        return mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete authorization request");
    int64_t now = mcp_now();
    char *pv = mcp_random_b64url(32), *bn = mcp_random_b64url(16);
    char *pc = pv ? mcp_sha256_b64url(pv, strlen(pv)) : NULL;
    char *ch = mcp_sha256_b64url(cid, strlen(cid));
    char *state = NULL, *bind = NULL, *bname = NULL, *bcookie = NULL, *params = NULL, *loc = NULL;
    json_t *st = NULL, *bd = NULL;
    int rc = MCPAUTH_E_NOMEM;
    if (!pv || !bn || !pc || !ch) goto done;
    st = json_pack("{s:s,s:O,s:O,s:s,s:s}", "ch", ch, "ru", json_object_get(req, "ru"), "cc",
                   json_object_get(req, "cc"), "pv", pv, "bn", bn);
    if (!st) goto done;
    if (json_object_get(req, "cs") && json_object_set(st, "cs", json_object_get(req, "cs")))
        goto done;
    if (rs && json_object_set_new(st, "rs", json_string(rs))) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_STATE, st, now + p->state_ttl, &state, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    bd = json_pack("{s:s}", "bn", bn);
    if (!bd) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_BINDING, bd, now + p->state_ttl, &bind, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    bname = mcp_cookie_name_hashed(BIND_COOKIE_PREFIX, bn);
    bcookie = bname ? mcp_cookie_header(bname, bind, p->state_ttl) : NULL;
    if (!bcookie) goto done;

    mcp_buf b = {0};
    mcp_buf_param(&b, "response_type", "code");
    mcp_buf_param(&b, "client_id", p->client_id);
    mcp_buf_param(&b, "redirect_uri", p->url_callback);
    if (sc && *sc) mcp_buf_param(&b, "scope", sc);
    mcp_buf_param(&b, "state", state);
    mcp_buf_param(&b, "code_challenge", pc);
    mcp_buf_param(&b, "code_challenge_method", "S256");
    if (rs && p->forward_resource) mcp_buf_param(&b, "resource", rs);
    if (au) mcp_buf_param(&b, "audience", au);
    if (p->extra_params) {
        const char *k;
        json_t *v;
        json_object_foreach(p->extra_params, k, v) {
            if (strcmp(k, "scope") == 0 || (au && strcmp(k, "audience") == 0) ||
                (rs && p->forward_resource && strcmp(k, "resource") == 0))
                continue; /* the request's own value wins over a configured default */
            mcp_buf_param(&b, k, json_string_value(v));
        }
    }
    params = mcp_buf_take(&b);
    loc = params ? mcp_url_with_params(p->auth_endpoint, params) : NULL;
    if (!loc) goto done;
    *resp = mcp_resp_redirect(302, loc);
    mcp_resp_header(*resp, "Set-Cookie", bcookie);
    if (extra_cookie) mcp_resp_header(*resp, "Set-Cookie", extra_cookie);
    if (mcp_resp_broken(*resp)) {
        json_decref(*resp);
        *resp = NULL;
        goto done;
    }
    rc = MCPAUTH_OK;
done:
    if (rc == MCPAUTH_E_NOMEM) nomem(err);
    if (pv) OPENSSL_cleanse(pv, strlen(pv));
    free(pv);
    free(bn);
    free(pc);
    free(ch);
    free(state);
    free(bind);
    free(bname);
    free(bcookie);
    free(params);
    free(loc);
    json_decref(st);
    json_decref(bd);
    return rc;
}

/* ---- GET /authorize ----------------------------------------------------------------------- */

static int b64url_len(const char *s, size_t want) {
    if (!s || strlen(s) != want) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static json_t *page_for_parse_error(int pr) {
    return mcp_error_page(400, "Invalid request",
                          pr == -3 ? "A request parameter was given more than once."
                                   : "The request parameters are malformed.");
}

static const char *param(json_t *params, const char *k) {
    return json_string_value(json_object_get(params, k));
}

static int resource_ok(const mcp_proxy *p, const char *rs) {
    if (mcp_url_check(rs, "resource", NULL) != MCPAUTH_OK) return 0;
    if (!p->resource) return 1;
    if (strcmp(rs, p->resource) == 0) return 1;
    /* the same URL with a trailing slash */
    size_t a = strlen(rs), b = strlen(p->resource);
    return a == b + 1 && rs[a - 1] == '/' && strncmp(rs, p->resource, b) == 0;
}

static int handle_authorize(const mcp_proxy *p, const mcp_preq *r, int nonblock, json_t **resp,
                            mcp_err *err) {
    json_t *params = NULL;
    const char *q = r->query ? r->query : "";
    int pr = mcp_form_parse(q, strlen(q), &params);
    if (pr == -2) return nomem(err);
    if (pr != 0) {
        *resp = page_for_parse_error(pr);
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    mcp_proxy_client c;
    memset(&c, 0, sizeof c);
    json_t *req = NULL;
    int rc = MCPAUTH_OK;
    const char *cid = param(params, "client_id");
    if (!cid) {
        *resp = mcp_error_page(400, "Invalid request", "The request has no client_id.");
        goto done;
    }
    mcp_err cerr = {0, {0}};
    rc = resolve_client(p, cid, nonblock, &c, &cerr);
    if (rc == MCPAUTH_E_WOULD_BLOCK || rc == MCPAUTH_E_NOMEM) {
        if (err) *err = cerr;
        goto done;
    }
    if (rc == MCPAUTH_E_UPSTREAM) {
        rc = MCPAUTH_OK;
        *resp = mcp_error_page(503, "Application details unavailable",
                               "The application's metadata document could not be fetched. "
                               "Try again later.");
        goto done;
    }
    if (rc != MCPAUTH_OK) {
        rc = MCPAUTH_OK;
        *resp = mcp_error_page(400, "Unknown application", cerr.msg);
        goto done;
    }
    const char *ru = param(params, "redirect_uri");
    if (!ru) {
        *resp = mcp_error_page(400, "Invalid request", "The request has no redirect_uri.");
        goto done;
    }
    if (!mcp_redirect_uri_match(c.redirect_uris, ru)) {
        *resp = mcp_error_page(400, "Invalid redirect URI",
                               "The redirect URI does not match the application's "
                               "registration.");
        goto done;
    }
    /* From here on, errors go back to the client. */
    const char *cs = param(params, "state");
    if (cs && !printable(cs, MCP_PX_MAX_STATE)) {
        *resp = client_error_redirect(p, ru, NULL, "invalid_request", "state is invalid", NULL);
        goto done;
    }
    const char *rt = param(params, "response_type");
    if (!rt || strcmp(rt, "code") != 0) {
        *resp = client_error_redirect(p, ru, cs, "unsupported_response_type",
                                      "only response_type=code is supported", NULL);
        goto done;
    }
    if (!mcp_strv_contains(c.grant_types, "authorization_code")) {
        *resp = client_error_redirect(p, ru, cs, "unauthorized_client",
                                      "the client may not use the authorization code grant", NULL);
        goto done;
    }
    const char *ccm = param(params, "code_challenge_method");
    const char *cc = param(params, "code_challenge");
    if (!cc || !ccm || strcmp(ccm, "S256") != 0) {
        *resp = client_error_redirect(p, ru, cs, "invalid_request",
                                      "PKCE with code_challenge_method=S256 is required (plain "
                                      "is not supported)",
                                      NULL);
        goto done;
    }
    if (!b64url_len(cc, 43)) {
        *resp = client_error_redirect(p, ru, cs, "invalid_request",
                                      "code_challenge is not a S256 challenge", NULL);
        goto done;
    }
    const char *sc = param(params, "scope");
    char *def_scope = NULL;
    if (sc && !mcp_scope_valid(sc)) {
        *resp = client_error_redirect(p, ru, cs, "invalid_scope", "scope is malformed", NULL);
        goto done;
    }
    if (!sc) {
        def_scope = strv_join(p->scopes);
        if (!def_scope) {
            rc = nomem(err);
            goto done;
        }
    }
    const char *rs = param(params, "resource");
    if (rs && !resource_ok(p, rs)) {
        free(def_scope);
        *resp = client_error_redirect(p, ru, cs, "invalid_target",
                                      "resource is not this server's MCP resource", NULL);
        goto done;
    }
    const char *au = param(params, "audience");
    if (au && !printable(au, 512)) {
        free(def_scope);
        *resp = client_error_redirect(p, ru, cs, "invalid_request", "audience is invalid", NULL);
        goto done;
    }
    req = json_pack("{s:s,s:s,s:s,s:s}", "cid", cid, "ru", ru, "cc", cc, "sc", sc ? sc : def_scope);
    free(def_scope);
    if (!req || (cs && json_object_set_new(req, "cs", json_string(cs))) ||
        (rs && json_object_set_new(req, "rs", json_string(rs))) ||
        (au && json_object_set_new(req, "au", json_string(au)))) {
        rc = nomem(err);
        goto done;
    }
    if (p->consent &&
        !mcp_consent_remembered(p, r, cid, json_string_value(json_object_get(req, "sc"))))
        rc = mcp_consent_page(p, r, &c, req, resp, err);
    else
        rc = go_upstream(p, req, NULL, resp, err);
done:
    json_decref(req);
    json_decref(params);
    mcp_proxy_client_clear(&c);
    if (rc == MCPAUTH_OK && !*resp) rc = nomem(err);
    return rc;
}

/* ---- POST /authorize (the consent form) ---------------------------------------------------- */

static int handle_consent(const mcp_proxy *p, const mcp_preq *r, json_t **resp, mcp_err *err) {
    const char *ct = mcp_preq_header(r, "content-type");
    if (!starts_ci(ct, "application/x-www-form-urlencoded") ||
        r->body_len > MCP_PX_MAX_REGISTER_BODY) {
        *resp = mcp_error_page(400, "Invalid request", "The consent form could not be read.");
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    json_t *form = NULL;
    int pr = mcp_form_parse(r->body ? r->body : "", r->body ? r->body_len : 0, &form);
    if (pr == -2) return nomem(err);
    if (pr != 0) {
        *resp = page_for_parse_error(pr);
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    json_t *req = NULL;
    const char *why = NULL;
    int rc = MCPAUTH_OK;
    int status = mcp_consent_check_form(p, r, form, &req, &why);
    if (status) {
        *resp = mcp_error_page(status, status == 403 ? "Request refused" : "Request expired", why);
        goto done;
    }
    const char *decision = param(form, "decision");
    const char *ru = json_string_value(json_object_get(req, "ru"));
    const char *cs = json_string_value(json_object_get(req, "cs"));
    const char *cid = json_string_value(json_object_get(req, "cid"));
    if (!ru || !cid) {
        rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete consent request");
        goto done;
    }
    if (decision && strcmp(decision, "deny") == 0) {
        *resp = client_error_redirect(p, ru, cs, "access_denied",
                                      "the user denied the authorization request", NULL);
    } else if (decision && strcmp(decision, "approve") == 0) {
        char *cookie = NULL;
        if (p->consent) {
            cookie = mcp_consent_cookie(p, r, cid, json_string_value(json_object_get(req, "sc")));
            if (!cookie) {
                rc = nomem(err);
                goto done;
            }
        }
        rc = go_upstream(p, req, cookie, resp, err);
        free(cookie);
    } else {
        *resp = mcp_error_page(400, "Invalid request", "Choose Allow or Deny.");
    }
done:
    json_decref(req);
    json_decref(form);
    if (rc == MCPAUTH_OK && !*resp) rc = nomem(err);
    return rc;
}

/* ---- GET /oauth/callback ------------------------------------------------------------------ */

static int handle_callback(const mcp_proxy *p, const mcp_preq *r, json_t **resp, mcp_err *err) {
    json_t *params = NULL;
    const char *q = r->query ? r->query : "";
    int pr = mcp_form_parse(q, strlen(q), &params);
    if (pr == -2) return nomem(err);
    if (pr != 0) {
        *resp = page_for_parse_error(pr);
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    int rc = MCPAUTH_OK;
    json_t *st = NULL, *bd = NULL, *cd = NULL;
    char *bname = NULL, *bval = NULL, *clear = NULL, *code = NULL, *params_s = NULL, *loc = NULL;
    int64_t now = mcp_now();
    const char *state = param(params, "state");
    if (!state) {
        *resp = mcp_error_page(400, "Invalid sign-in response", "The response has no state.");
        goto done;
    }
    int sr = mcp_unseal(p->sealer, MCP_SEAL_STATE, state, strlen(state), now, &st, NULL);
    if (sr == MCPAUTH_E_NOMEM) {
        rc = nomem(err);
        goto done;
    }
    if (sr != MCPAUTH_OK) {
        *resp = mcp_error_page(400, "Sign-in expired",
                               sr == MCPAUTH_E_EXPIRED
                                   ? "This sign-in took too long and has expired."
                                   : "The sign-in response is not valid for this server.");
        goto done;
    }
    const char *bn = json_string_value(json_object_get(st, "bn"));
    const char *ru = json_string_value(json_object_get(st, "ru"));
    const char *cs = json_string_value(json_object_get(st, "cs"));
    if (!bn || !ru) {
        *resp = mcp_error_page(400, "Invalid sign-in response", "The state is incomplete.");
        goto done;
    }
    bname = mcp_cookie_name_hashed(BIND_COOKIE_PREFIX, bn);
    if (!bname) {
        rc = nomem(err);
        goto done;
    }
    bval = mcp_preq_cookie(r, bname);
    int bound = 0;
    if (bval &&
        mcp_unseal(p->sealer, MCP_SEAL_BINDING, bval, strlen(bval), now, &bd, NULL) == MCPAUTH_OK)
        bound = ct_equal(json_string_value(json_object_get(bd, "bn")), bn);
    if (!bound) {
        *resp = mcp_error_page(403, "Sign-in refused",
                               "This sign-in was not started in this browser (the binding "
                               "cookie is missing or does not match).");
        goto done;
    }
    clear = mcp_cookie_header(bname, "", 0);
    if (!clear) {
        rc = nomem(err);
        goto done;
    }
    const char *iss = param(params, "iss");
    if (iss && p->upstream_issuer && strcmp(iss, p->upstream_issuer) != 0) {
        *resp = mcp_error_page(400, "Invalid sign-in response",
                               "The response comes from an unexpected issuer.");
        goto done;
    }
    const char *error = param(params, "error");
    if (error) {
        const char *desc = param(params, "error_description");
        const char *euri = param(params, "error_uri");
        if (!mcp_oauth_text_valid(error, strlen(error)) || strlen(error) > 128 || !*error)
            error = "server_error";
        if (desc && (!mcp_oauth_text_valid(desc, strlen(desc)) || strlen(desc) > 512)) desc = NULL;
        if (euri && (mcp_url_check(euri, "error_uri", NULL) != MCPAUTH_OK || strlen(euri) > 512))
            euri = NULL;
        *resp = client_error_redirect(p, ru, cs, error, desc, euri);
        mcp_resp_header(*resp, "Set-Cookie", clear);
        goto done;
    }
    const char *uc = param(params, "code");
    if (!uc || !printable(uc, 4096)) {
        *resp = mcp_error_page(400, "Invalid sign-in response",
                               "The identity provider returned neither a code nor an error.");
        goto done;
    }
    cd = json_pack("{s:s,s:O,s:O,s:O,s:O}", "uc", uc, "ch", json_object_get(st, "ch"), "ru",
                   json_object_get(st, "ru"), "cc", json_object_get(st, "cc"), "pv",
                   json_object_get(st, "pv"));
    if (!cd ||
        (json_object_get(st, "rs") && json_object_set(cd, "rs", json_object_get(st, "rs")) != 0)) {
        rc = nomem(err);
        goto done;
    }
    rc = mcp_seal(p->sealer, MCP_SEAL_CODE, cd, now + p->code_ttl, &code, err);
    if (rc != MCPAUTH_OK) goto done;
    mcp_buf b = {0};
    mcp_buf_param(&b, "code", code);
    if (cs) mcp_buf_param(&b, "state", cs);
    mcp_buf_param(&b, "iss", p->issuer);
    params_s = mcp_buf_take(&b);
    loc = params_s ? mcp_url_with_params(ru, params_s) : NULL;
    if (!loc) {
        rc = nomem(err);
        goto done;
    }
    *resp = mcp_resp_redirect(302, loc);
    mcp_resp_header(*resp, "Set-Cookie", clear);
done:
    if (*resp && mcp_resp_broken(*resp)) {
        json_decref(*resp);
        *resp = NULL;
    }
    json_decref(params);
    json_decref(st);
    json_decref(bd);
    json_decref(cd);
    free(bname);
    free(bval);
    free(clear);
    free(code);
    free(params_s);
    free(loc);
    if (rc == MCPAUTH_OK && !*resp) rc = nomem(err);
    return rc;
}

/* ---- POST /token -------------------------------------------------------------------------- */

static int verifier_valid(const char *v) {
    size_t n = strlen(v);
    if (n < 43 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return 0;
    }
    return 1;
}

/* Basic credentials "id:secret" with both parts form-urlencoded (RFC 6749 2.3.1). */
static char *basic_header(const char *id, const char *secret) {
    char *ei = mcp_url_encode(id), *es = mcp_url_encode(secret);
    char *out = NULL;
    if (ei && es) {
        size_t n = strlen(ei) + 1 + strlen(es);
        unsigned char *raw = malloc(n + 1);
        char *b64 = malloc(4 * ((n + 2) / 3) + 1);
        if (raw && b64) {
            memcpy(raw, ei, strlen(ei));
            raw[strlen(ei)] = ':';
            memcpy(raw + strlen(ei) + 1, es, strlen(es));
            int bl = EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
            if (bl >= 0) {
                out = concat("Authorization: Basic ", b64);
            }
            OPENSSL_cleanse(raw, n);
            OPENSSL_cleanse(b64, (size_t)(bl > 0 ? bl : 0));
        }
        free(raw);
        free(b64);
    }
    if (es) OPENSSL_cleanse(es, strlen(es));
    free(ei);
    free(es);
    return out;
}

/* Turns the upstream body into a JSON object (JSON, or form-encoded as GitHub answers). */
static json_t *upstream_doc(const mcp_http_response *h) {
    const char *ct = h->content_type ? h->content_type : "";
    if (h->body_len == 0) return NULL;
    if (strstr(ct, "json") || h->body[0] == '{')
        return mcp_json_parse(h->body, h->body_len, 16, 1, "token response", MCPAUTH_E_UPSTREAM,
                              NULL);
    if (starts_ci(ct, "application/x-www-form-urlencoded") || starts_ci(ct, "text/plain")) {
        json_t *o = NULL;
        if (mcp_form_parse(h->body, h->body_len, &o) != 0) return NULL;
        const char *nums[] = {"expires_in", "refresh_token_expires_in"};
        for (size_t i = 0; i < 2; i++) {
            const char *v = json_string_value(json_object_get(o, nums[i]));
            if (!v || !*v || strlen(v) > 12 || strspn(v, "0123456789") != strlen(v)) continue;
            json_object_set_new(o, nums[i], json_integer(strtoll(v, NULL, 10)));
        }
        return o;
    }
    return NULL;
}

static json_t *forward_error(int status, json_t *doc) {
    const char *e = json_string_value(json_object_get(doc, "error"));
    const char *d = json_string_value(json_object_get(doc, "error_description"));
    const char *u = json_string_value(json_object_get(doc, "error_uri"));
    if (!e || !*e || strlen(e) > 128 || !mcp_oauth_text_valid(e, strlen(e))) e = "invalid_grant";
    if (d && (strlen(d) > 512 || !mcp_oauth_text_valid(d, strlen(d)))) d = NULL;
    if (u && (strlen(u) > 512 || mcp_url_check(u, "error_uri", NULL) != MCPAUTH_OK)) u = NULL;
    json_t *o = json_pack("{s:s}", "error", e);
    if (!o) return NULL;
    if (d) json_object_set_new(o, "error_description", json_string(d));
    if (u) json_object_set_new(o, "error_uri", json_string(u));
    json_t *r = mcp_resp_json(status, o);
    json_decref(o);
    return r;
}

static json_t *unavailable(const char *desc) {
    json_t *r = mcp_resp_oauth_error(503, "temporarily_unavailable", desc);
    mcp_resp_header(r, "Retry-After", "30");
    return r;
}

static int exchange(const mcp_proxy *p, const char *body, json_t **resp, mcp_err *err) {
    const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL, NULL};
    char *auth = NULL;
    if (p->basic_auth && p->client_secret) {
        auth = basic_header(p->client_id, p->client_secret);
        if (!auth) return nomem(err);
        headers[2] = auth;
    }
    mcp_http_response h;
    memset(&h, 0, sizeof h);
    mcp_err herr = {0, {0}};
    int rc = mcp_http_post(p->token_endpoint, &p->http, headers, body, strlen(body), &h, &herr);
    if (auth) OPENSSL_cleanse(auth, strlen(auth));
    free(auth);
    if (rc == MCPAUTH_E_NOMEM) {
        mcp_http_response_clear(&h);
        return nomem(err);
    }
    if (rc != MCPAUTH_OK) {
        mcp_http_response_clear(&h);
        *resp = unavailable("the upstream token endpoint is unavailable");
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    json_t *doc = upstream_doc(&h);
    long status = h.status;
    mcp_http_response_clear(&h);
    if (status >= 200 && status < 300) {
        if (doc && json_is_string(json_object_get(doc, "error")) &&
            !json_object_get(doc, "access_token"))
            *resp = forward_error(400, doc); /* GitHub: 200 with an error */
        else if (doc && json_is_string(json_object_get(doc, "access_token")))
            *resp = mcp_resp_json(200, doc);
        else
            *resp = mcp_resp_oauth_error(502, "server_error",
                                         "the upstream token endpoint answered garbage");
    } else if (status >= 400 && status < 600 && doc &&
               json_is_string(json_object_get(doc, "error"))) {
        *resp = forward_error((int)status, doc);
    } else if (status >= 500 || status == 429) {
        *resp = unavailable("the upstream token endpoint is unavailable");
    } else {
        *resp = mcp_resp_oauth_error(502, "server_error",
                                     "the upstream token endpoint answered unexpectedly");
    }
    json_decref(doc);
    return *resp ? MCPAUTH_OK : nomem(err);
}

static void add_client_credentials(const mcp_proxy *p, mcp_buf *b) {
    mcp_buf_param(b, "client_id", p->client_id);
    if (p->client_secret && !p->basic_auth) mcp_buf_param(b, "client_secret", p->client_secret);
}

static int handle_token(const mcp_proxy *p, const mcp_preq *r, int nonblock, json_t **resp,
                        mcp_err *err) {
    const char *ct = mcp_preq_header(r, "content-type");
    if (!starts_ci(ct, "application/x-www-form-urlencoded")) {
        *resp = mcp_resp_oauth_error(400, "invalid_request",
                                     "the body must be application/x-www-form-urlencoded");
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    if (r->body_len > MCP_PX_MAX_BODY) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "the request is too large");
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    json_t *f = NULL;
    int pr = mcp_form_parse(r->body ? r->body : "", r->body ? r->body_len : 0, &f);
    if (pr == -2) return nomem(err);
    if (pr != 0) {
        *resp = mcp_resp_oauth_error(400, "invalid_request",
                                     pr == -3 ? "a parameter was given more than once"
                                              : "the form is malformed");
        return *resp ? MCPAUTH_OK : nomem(err);
    }
    int rc = MCPAUTH_OK;
    mcp_proxy_client c;
    memset(&c, 0, sizeof c);
    json_t *cd = NULL;
    char *body = NULL, *ch = NULL, *vh = NULL;
    mcp_buf b = {0};
    const char *gt = param(f, "grant_type");
    const char *cid = param(f, "client_id");
    if (!gt) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "grant_type is required");
        goto done;
    }
    if (!mcp_strv_contains(p->grant_types, gt)) {
        *resp = mcp_resp_oauth_error(400, "unsupported_grant_type", NULL);
        goto done;
    }
    if (!cid) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "client_id is required");
        goto done;
    }
    if (mcp_cimd_is_url(cid, p->allow_loopback_cimd)) {
        /* bound into the code; not fetched again here */
    } else {
        mcp_err cerr = {0, {0}};
        rc = resolve_client(p, cid, 1, &c, &cerr);
        if (rc == MCPAUTH_E_NOMEM) {
            nomem(err);
            goto done;
        }
        rc = MCPAUTH_OK;
        if (!c.client_id) {
            *resp = mcp_resp_oauth_error(401, "invalid_client", cerr.msg);
            goto done;
        }
        if (!mcp_strv_contains(c.grant_types, gt)) {
            *resp = mcp_resp_oauth_error(400, "unauthorized_client",
                                         "the client may not use this grant type");
            goto done;
        }
    }
    const char *rs = param(f, "resource");
    if (strcmp(gt, "authorization_code") == 0) {
        const char *code = param(f, "code");
        const char *ru = param(f, "redirect_uri");
        const char *cv = param(f, "code_verifier");
        if (!code || !ru || !cv) {
            *resp = mcp_resp_oauth_error(400, "invalid_request",
                                         "code, redirect_uri and code_verifier are required");
            goto done;
        }
        int ur = mcp_unseal(p->sealer, MCP_SEAL_CODE, code, strlen(code), mcp_now(), &cd, NULL);
        if (ur == MCPAUTH_E_NOMEM) {
            rc = nomem(err);
            goto done;
        }
        if (ur != MCPAUTH_OK) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "the authorization code is invalid or expired");
            goto done;
        }
        ch = mcp_sha256_b64url(cid, strlen(cid));
        vh = verifier_valid(cv) ? mcp_sha256_b64url(cv, strlen(cv)) : NULL;
        if (!ch) {
            rc = nomem(err);
            goto done;
        }
        const char *c_ch = json_string_value(json_object_get(cd, "ch"));
        const char *c_ru = json_string_value(json_object_get(cd, "ru"));
        const char *c_cc = json_string_value(json_object_get(cd, "cc"));
        const char *c_uc = json_string_value(json_object_get(cd, "uc"));
        const char *c_pv = json_string_value(json_object_get(cd, "pv"));
        const char *c_rs = json_string_value(json_object_get(cd, "rs"));
        if (!ct_equal(c_ch, ch)) {
            *resp =
                mcp_resp_oauth_error(400, "invalid_grant", "the code was issued to another client");
            goto done;
        }
        if (!c_ru || strcmp(c_ru, ru) != 0) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "redirect_uri does not match the authorization request");
            goto done;
        }
        if (!vh || !ct_equal(c_cc, vh)) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant", "PKCE verification failed");
            goto done;
        }
        if (rs && ((c_rs && strcmp(rs, c_rs) != 0) || !resource_ok(p, rs))) {
            *resp = mcp_resp_oauth_error(400, "invalid_target",
                                         "resource does not match the authorization request");
            goto done;
        }
        if (!c_uc || !c_pv) {
            rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete code");
            goto done;
        }
        if (nonblock) {
            rc = mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "token exchange needs network I/O");
            goto done;
        }
        mcp_buf_param(&b, "grant_type", "authorization_code");
        mcp_buf_param(&b, "code", c_uc);
        mcp_buf_param(&b, "redirect_uri", p->url_callback);
        mcp_buf_param(&b, "code_verifier", c_pv);
        add_client_credentials(p, &b);
        if (p->forward_resource && (rs || c_rs)) mcp_buf_param(&b, "resource", rs ? rs : c_rs);
    } else { /* refresh_token */
        const char *rt = param(f, "refresh_token");
        const char *sc = param(f, "scope");
        if (!rt || !printable(rt, 8192)) {
            *resp = mcp_resp_oauth_error(400, "invalid_request", "refresh_token is required");
            goto done;
        }
        if (sc && !mcp_scope_valid(sc)) {
            *resp = mcp_resp_oauth_error(400, "invalid_scope", "scope is malformed");
            goto done;
        }
        if (rs && !resource_ok(p, rs)) {
            *resp = mcp_resp_oauth_error(400, "invalid_target",
                                         "resource is not this server's MCP resource");
            goto done;
        }
        if (nonblock) {
            rc = mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "token refresh needs network I/O");
            goto done;
        }
        mcp_buf_param(&b, "grant_type", "refresh_token");
        mcp_buf_param(&b, "refresh_token", rt);
        if (sc) mcp_buf_param(&b, "scope", sc);
        add_client_credentials(p, &b);
        if (rs && p->forward_resource) mcp_buf_param(&b, "resource", rs);
    }
    body = mcp_buf_take(&b);
    if (!body) {
        rc = nomem(err);
        goto done;
    }
    rc = exchange(p, body, resp, err);
done:
    if (body) OPENSSL_cleanse(body, strlen(body));
    free(body);
    mcp_buf_free(&b);
    free(ch);
    free(vh);
    json_decref(cd);
    json_decref(f);
    mcp_proxy_client_clear(&c);
    if (rc == MCPAUTH_OK && !*resp) rc = nomem(err);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

static json_t *method_not_allowed(const char *allow) {
    json_t *r = mcp_resp_oauth_error(405, "invalid_request", "method not allowed");
    mcp_resp_header(r, "Allow", allow);
    return r;
}

static json_t *preflight(const char *allow) {
    json_t *r = mcp_resp_new(204, NULL, "");
    mcp_resp_header(r, "Access-Control-Allow-Origin", "*");
    mcp_resp_header(r, "Access-Control-Allow-Methods", allow);
    mcp_resp_header(r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
    mcp_resp_header(r, "Access-Control-Max-Age", "86400");
    return r;
}

int mcp_proxy_handle(const struct mcpauth_engine *e, json_t *request, int nonblock,
                     json_t **response, mcp_err *err) {
    if (response) *response = NULL;
    if (!e || !e->proxy_state || !response) return 0;
    const mcp_proxy *p = e->proxy_state;
    mcp_preq r;
    int pr = mcp_preq_parse(request, &r);
    if (pr != 0) {
        mcp_preq_clear(&r);
        return pr == -2 ? nomem(err) : 0;
    }
    const char *m = r.method;
    json_t *resp = NULL;
    int rc = MCPAUTH_OK;
    if (strcmp(r.path, p->route_register) == 0) {
        if (strcmp(m, "POST") == 0)
            rc = handle_register(p, &r, &resp, err);
        else if (strcmp(m, "OPTIONS") == 0)
            resp = preflight("POST, OPTIONS");
        else
            resp = method_not_allowed("POST, OPTIONS");
    } else if (strcmp(r.path, p->route_authorize) == 0) {
        if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
            rc = handle_authorize(p, &r, nonblock, &resp, err);
        else if (strcmp(m, "POST") == 0)
            rc = handle_consent(p, &r, &resp, err);
        else
            resp = method_not_allowed("GET, POST");
    } else if (strcmp(r.path, p->route_callback) == 0) {
        if (strcmp(m, "GET") == 0)
            rc = handle_callback(p, &r, &resp, err);
        else
            resp = method_not_allowed("GET");
    } else if (strcmp(r.path, p->route_token) == 0) {
        if (strcmp(m, "POST") == 0)
            rc = handle_token(p, &r, nonblock, &resp, err);
        else if (strcmp(m, "OPTIONS") == 0)
            resp = preflight("POST, OPTIONS");
        else
            resp = method_not_allowed("POST, OPTIONS");
    } else {
        mcp_preq_clear(&r);
        return 0;
    }
    mcp_preq_clear(&r);
    if (rc != MCPAUTH_OK) {
        json_decref(resp);
        return rc;
    }
    if (!resp || mcp_resp_broken(resp)) {
        json_decref(resp);
        return nomem(err);
    }
    *response = resp;
    return 1;
}
