/* router.c - the HTTP surface: one request (JSON) in, one decision (JSON) out. The request
 * model is request.c, paths and protection paths.c, the resource of a request resource.c, the
 * answers response.c; this file holds the router's state and its decisions.
 *
 * Decisions, in order:
 *  1. Metadata routes (exact path match, before any protection):
 *     - RFC 9728 protected resource metadata at /.well-known/oauth-protected-resource, at the
 *       path-inserted form for the resource path and for mcpPath;
 *     - RFC 8414 / OIDC metadata at /.well-known/oauth-authorization-server and
 *       /.well-known/openid-configuration (plus "/<issuer path>" when the issuer has one).
 *     OPTIONS -> 204 CORS preflight; GET/HEAD -> 200 with Access-Control-Allow-Origin: *;
 *     other methods -> 405 with Allow.
 *     With the OAuth proxy configured (e->proxy_state), the authorization server is the proxy:
 *     PRM names its issuer and the AS routes (also the path-suffixed ones of the proxy issuer)
 *     answer the proxy's own metadata, without any upstream fetch.
 *  1b. OAuth proxy routes (/register, /authorize, /oauth/callback, /token) -> the proxy.
 *  2. Paths outside protectedPaths -> pass.
 *  3. CORS preflights (OPTIONS with Access-Control-Request-Method) -> pass without auth: they
 *     never carry credentials.
 *  4. access_token in the query -> 400 invalid_request.
 *  5. No Authorization header -> 401 with the no-error challenge.
 *  6. Malformed Authorization header -> 401 invalid_request. RFC 6750 3.1 suggests 400 for
 *     invalid_request; we answer 401 so MCP clients still discover the metadata from the
 *     challenge, which 2025-11-25 clients only do on 401.
 *  7. Verification failures -> 401 invalid_token (with a resource derived from the Host
 *     header, also a token not bound to that resource: host_resource_bound); keys/upstream
 *     unavailable -> 503 temporarily_unavailable with Retry-After (no invalid_token: the token
 *     may be fine); other failures -> 500 server_error.
 *  8. Scopes (requiredScopes + routeScopes by path prefix + routeScopes by MCP method) not all
 *     held by the token -> 403 insufficient_scope naming every scope this request needs. A
 *     scope is held when it is in the result's scopes or permissions (mcp_scopes_check, the
 *     rule mcpauth_verify applies to requiredScopes).
 *  9. Otherwise pass with the auth result.
 * An engine configured with hostVerifies verifies no tokens: for a protected request that carries
 * one (a well-formed Bearer header), mcpauth_route answers "host_verify" and
 * mcpauth_route_complete applies to the host's claims the checks of steps 7 and 8;
 * mcpauth_handle_request returns MCPAUTH_E_CONFIG.
 *
 * mcpauth_route (MCPAUTH_1.1) also answers "need_body" when a method-keyed routeScopes entry
 * applies to a protected request that may carry a JSON-RPC message and the host has not read
 * it, and for the OAuth proxy's POST forms. GET/HEAD/DELETE/OPTIONS carry no message: only the
 * base scopes apply (the same rule for mcpauth_handle_request's mcpMethod null).
 *
 * Path matching: see paths.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/challenge.h"
#include "http/metadata.h"
#include "http/paths.h"
#include "http/request.h"
#include "http/resource.h"
#include "http/response.h"
#include "proxy/proxy.h"
#include "util/common.h"
#include "util/json_strict.h"
#include "verify/claims.h"
#include "engine/engine.h"
#include "verify/opaque.h"
#include "verify/userinfo.h"

#define MCP_REQ_MAX_JSON ((size_t)1 << 20) /* request JSON of mcpauth_handle_request */
/* mcpauth_route: a request JSON may carry a body of up to MCP_ROUTE_MAX_MCP_BODY bytes, which
 * JSON escaping may grow up to six times. */
#define MCP_ROUTE_MAX_JSON ((size_t)8 << 20)
#define MCP_ROUTE_MAX_MCP_BODY ((size_t)1 << 20) /* a JSON-RPC message read for method scopes */
#define MCP_ROUTE_MAX_FORM_BODY ((size_t)65536)  /* an OAuth proxy form (the proxy's cap) */
#define MCP_ROUTE_MAX_RESULT ((size_t)1 << 20)   /* a host verifier's answer */
#define MCP_RETRY_AFTER "30"
#define MCP_CORS_METHODS "GET, HEAD, OPTIONS"
#define MCP_CORS_MAX_AGE "86400"

/* ---- state ------------------------------------------------------------------------------ */

void mcp_http_surface_free(mcp_http_state *st) {
    if (!st) return;
    free(st->resource);
    free(st->prm_url);
    mcp_strv_free(st->prm_routes);
    mcp_strv_free(st->as_routes);
    mcp_strv_free(st->protected_paths);
    for (size_t i = 0; i < st->n_routes; i++) {
        free(st->routes[i].key);
        mcp_strv_free(st->routes[i].scopes);
    }
    free(st->routes);
    mcp_strv_free(st->all_method_scopes);
    mcp_as_cache_free(st->as);
    free(st);
}

static int add_route_path(mcp_strv *v, const char *prefix, const char *suffix, mcp_err *err) {
    size_t a = strlen(prefix), b = strlen(suffix);
    char *s = malloc(a + b + 1);
    if (!s) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    memcpy(s, prefix, a);
    memcpy(s + a, suffix, b);
    s[a + b] = '\0';
    int rc = mcp_strv_add_unique(v, s);
    free(s);
    return rc ? mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory") : MCPAUTH_OK;
}

static int scopes_from_json(const json_t *v, const char *key, mcp_strv *out, mcp_err *err) {
    json_t *list = mcp_json_string_list(v);
    if (!list) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    int rc = MCPAUTH_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) if (!json_is_string(x)) rc = MCPAUTH_E_CONFIG;
    } else if (!json_is_string(v)) {
        rc = MCPAUTH_E_CONFIG;
    }
    if (rc != MCPAUTH_OK) {
        json_decref(list);
        return mcp_err_set(err, rc,
                           "routeScopes[\"%.64s\"] must be a string or an array of strings", key);
    }
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) {
        const char *s = json_string_value(x);
        if (!mcp_scope_token_valid(s)) {
            json_decref(list);
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "routeScopes[\"%.64s\"] has an invalid scope",
                               key);
        }
        if (mcp_strv_add_unique(out, s)) {
            json_decref(list);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    json_decref(list);
    return MCPAUTH_OK;
}

static int init_state(const mcp_config *cfg, mcp_http_state *st, mcp_err *err) {
    int rc;
    const char *mcp_path = cfg->mcp_path && cfg->mcp_path[0] ? cfg->mcp_path : "/mcp";
    if (mcp_path[0] != '/')
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "mcpPath must start with '/'");
    char *mcp_norm = mcp_path_trim(mcp_path);
    if (!mcp_norm) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");

    /* protected paths */
    if (cfg->protected_paths) {
        for (size_t i = 0; cfg->protected_paths[i]; i++) {
            const char *p = cfg->protected_paths[i];
            if (p[0] != '/') {
                free(mcp_norm);
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "protectedPaths entries must start with '/'");
            }
            char *n = mcp_path_trim(p);
            if (!n || mcp_strv_add_unique(&st->protected_paths, n)) {
                free(n);
                free(mcp_norm);
                return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
            }
            free(n);
        }
    } else if (mcp_strv_add_unique(&st->protected_paths, mcp_norm)) {
        free(mcp_norm);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }

    /* the canonical resource and its metadata URL */
    if (cfg->resource && cfg->resource[0]) {
        st->resource = mcp_strdup(cfg->resource);
    } else if (cfg->base_url && cfg->base_url[0]) {
        char *base = mcp_path_trim(cfg->base_url);
        if (base) {
            size_t a = strlen(base), b = strlen(mcp_norm);
            st->resource = malloc(a + b + 1);
            if (st->resource) {
                memcpy(st->resource, base, a);
                memcpy(st->resource + a, mcp_norm, b + 1);
            }
        }
        free(base);
        if (!st->resource) {
            free(mcp_norm);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    char *res_path = NULL;
    if (st->resource) {
        char *origin;
        rc = mcp_url_split(st->resource, cfg->resource ? "resource" : "baseUrl (MCP_URL)", &origin,
                           &res_path, err);
        if (rc != MCPAUTH_OK) {
            free(mcp_norm);
            return rc;
        }
        free(origin);
        st->prm_url = mcp_prm_url_for(st->resource, err);
        if (!st->prm_url) {
            free(res_path);
            free(mcp_norm);
            return err ? err->code : MCPAUTH_E_NOMEM;
        }
    }
    rc = add_route_path(&st->prm_routes, MCP_PRM_WELL_KNOWN, "", err);
    if (rc == MCPAUTH_OK && res_path)
        rc = add_route_path(&st->prm_routes, MCP_PRM_WELL_KNOWN, res_path, err);
    if (rc == MCPAUTH_OK) rc = add_route_path(&st->prm_routes, MCP_PRM_WELL_KNOWN, mcp_norm, err);
    free(res_path);
    free(mcp_norm);
    if (rc != MCPAUTH_OK) return rc;

    /* authorization server metadata routes: only with a usable issuer URL */
    if (cfg->issuer && cfg->issuer[0]) {
        char *origin, *ipath;
        mcp_err ignore = {0};
        if (mcp_url_split(cfg->issuer, "issuer", &origin, &ipath, &ignore) == MCPAUTH_OK) {
            free(origin);
            rc = add_route_path(&st->as_routes, MCP_ASM_WELL_KNOWN, "", err);
            if (rc == MCPAUTH_OK && ipath[0])
                rc = add_route_path(&st->as_routes, MCP_ASM_WELL_KNOWN, ipath, err);
            if (rc == MCPAUTH_OK) rc = add_route_path(&st->as_routes, MCP_OIDC_WELL_KNOWN, "", err);
            if (rc == MCPAUTH_OK && ipath[0])
                rc = add_route_path(&st->as_routes, MCP_OIDC_WELL_KNOWN, ipath, err);
            free(ipath);
            if (rc != MCPAUTH_OK) return rc;
            st->as = mcp_as_cache_new();
            if (!st->as) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }

    /* scopes */
    const mcp_strv lists[2] = {cfg->required_scopes, cfg->scopes_supported};
    const char *names[2] = {"requiredScopes", "scopesSupported"};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; lists[l] && lists[l][i]; i++)
            if (!mcp_scope_token_valid(lists[l][i]))
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s has an invalid scope", names[l]);
    if (cfg->route_scopes) {
        if (!json_is_object(cfg->route_scopes))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "routeScopes must be an object");
        size_t n = json_object_size(cfg->route_scopes);
        st->routes = calloc(n ? n : 1, sizeof *st->routes);
        if (!st->routes) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        const char *key;
        json_t *val;
        json_object_foreach(cfg->route_scopes, key, val) {
            mcp_route_scope *r = &st->routes[st->n_routes];
            if (!key[0] || strlen(key) > 1024)
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "routeScopes has an invalid key");
            r->is_path = key[0] == '/';
            r->key = r->is_path ? mcp_path_trim(key) : mcp_strdup(key);
            if (!r->key) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
            st->n_routes++;
            rc = scopes_from_json(val, key, &r->scopes, err);
            if (rc != MCPAUTH_OK) return rc;
            if (!r->is_path)
                for (size_t i = 0; r->scopes && r->scopes[i]; i++)
                    if (mcp_strv_add_unique(&st->all_method_scopes, r->scopes[i]))
                        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    return MCPAUTH_OK;
}

int mcp_http_surface_init(struct mcpauth_engine *e, mcp_err *err) {
    if (!e || !e->cfg) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no configuration");
    mcp_http_state *st = calloc(1, sizeof *st);
    if (!st) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    int rc = init_state(e->cfg, st, err);
    if (rc != MCPAUTH_OK) {
        mcp_http_surface_free(st);
        return rc;
    }
    e->http_state = st;
    return MCPAUTH_OK;
}

/* ---- the request ------------------------------------------------------------------------ */

/* Which entry point parsed the request: mcpauth_handle_request (MCPAUTH_1), mcpauth_route or
 * mcpauth_route_complete (MCPAUTH_1.1). */
typedef enum { REQ_LEGACY, REQ_ROUTE, REQ_COMPLETE } req_mode;

/* What the host said about the body. */
typedef enum { BODY_ABSENT, BODY_PRESENT, BODY_TRUNCATED } body_state;

/* The request model (request.h) and what the router derives from it. */
typedef struct req {
    mcp_http_req h;
    req_mode mode;
    body_state body;
    mcp_strv mcp_methods;
    int methods_resolved; /* req_methods() ran */
    int methods_unknown;  /* fail closed: every method-keyed scope applies */
} req;

/* 0: ok; > 0: an HTTP status to answer (414, 431); < 0: an mcpauth error code negated. */
static int req_parse(const char *json, size_t len, req_mode mode, req *r) {
    memset(r, 0, sizeof *r);
    r->mode = mode;
    int rc = mcp_http_req_parse(json, len, &r->h);
    if (rc != 0) return rc;
    if (mode == REQ_LEGACY) {
        if (r->h.mm == MCP_MM_GIVEN)
            for (size_t i = 0; i < r->h.n_mcp_methods; i++)
                if (mcp_strv_add_unique(&r->mcp_methods, r->h.mcp_methods[i]))
                    return -MCPAUTH_E_NOMEM;
        r->body = r->h.body ? BODY_PRESENT : BODY_ABSENT;
    } else {
        /* mcpauth_route: the body decides (mcpMethod is not read: the core reads the method) */
        r->body = r->h.body_truncated ? BODY_TRUNCATED : r->h.body ? BODY_PRESENT : BODY_ABSENT;
    }
    return 0;
}

static void req_clear(req *r) {
    mcp_http_req_clear(&r->h);
    mcp_strv_free(r->mcp_methods);
}

static int header_get(const req *r, const char *name, const char **value) {
    return mcp_http_req_header_get(&r->h, name, value);
}

/* Collects JSON-RPC method names from a body: object or batch array. -1 when the body is not
 * a JSON-RPC message (method unknown), -2 on no memory. */
static int methods_from_body(const char *body, size_t len, mcp_strv *out) {
    mcp_err err = {0, {0}};
    json_t *doc =
        mcp_json_parse(body, len, MCP_JSON_MAX_DEPTH, 0, "body", MCPAUTH_E_INVALID_ARGUMENT, &err);
    if (!doc) return err.code == MCPAUTH_E_NOMEM ? -2 : -1;
    int rc = 0;
    if (json_is_object(doc)) {
        json_t *m = json_object_get(doc, "method");
        if (m && !json_is_string(m))
            rc = -1;
        else if (m && mcp_strv_add_unique(out, json_string_value(m)))
            rc = -2;
    } else if (json_is_array(doc) && json_array_size(doc) > 0 &&
               json_array_size(doc) <= MCP_REQ_MAX_MCP_METHODS) {
        size_t i;
        json_t *x;
        json_array_foreach(doc, i, x) {
            json_t *m = json_object_get(x, "method");
            if (!json_is_object(x) || (m && !json_is_string(m))) {
                rc = -1;
                break;
            }
            if (m && mcp_strv_add_unique(out, json_string_value(m))) {
                rc = -2;
                break;
            }
        }
    } else {
        rc = -1;
    }
    json_decref(doc);
    return rc;
}

/* GET (the SSE stream), HEAD, DELETE (closing a session) and OPTIONS carry no JSON-RPC
 * message: only the route's base scopes apply to them. */
static int no_message(const char *method) {
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
           strcmp(method, "DELETE") == 0 || strcmp(method, "OPTIONS") == 0;
}

/* Resolves the JSON-RPC method(s) of the request, once, when a method-keyed scope needs them:
 * named by mcpMethod (handle_request), else read from the body. Every method scope applies
 * (methods_unknown) only when a body exists that could not be read: truncated, unparsable, or
 * announced unread (mcpMethod null). 0, or -1 on no memory. */
static int req_methods(req *r) {
    if (r->methods_resolved) return 0;
    r->methods_resolved = 1;
    if (r->h.mm == MCP_MM_GIVEN && r->mode == REQ_LEGACY) return 0;
    if (no_message(r->h.method)) return 0;
    if ((r->h.mm == MCP_MM_NULL && r->mode == REQ_LEGACY) || r->body == BODY_TRUNCATED) {
        r->methods_unknown = 1;
        return 0;
    }
    if (r->body != BODY_PRESENT || r->h.body_len == 0) return 0;
    int rc = methods_from_body(r->h.body, r->h.body_len, &r->mcp_methods);
    if (rc == -2) return -1;
    if (rc == -1) r->methods_unknown = 1;
    return 0;
}

/* ---- decisions ---------------------------------------------------------------------------- */

static int is_tchar(int c) { return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL); }

static int emit_error(int status, const char *error, const char *description, char **out) {
    return mcp_resp_emit(mcp_resp_error(status, error, description), out);
}

/* {"action":"pass"} */
static int emit_pass_bare(char **out) {
    *out = mcp_strdup("{\"action\":\"pass\"}");
    return *out ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}

/* {"action":"pass","auth": ... } around an auth result text the verifier wrote at
 * buf + PASS_HEAD, text_len bytes, PASS_TAIL bytes of room after it (taken). */
static const char pass_open[] = "{\"action\":\"pass\",\"auth\":";
#define PASS_HEAD (sizeof pass_open - 1)
#define PASS_TAIL 1

static int emit_pass_text(char *buf, size_t text_len, char **out) {
    memcpy(buf, pass_open, PASS_HEAD);
    buf[PASS_HEAD + text_len] = '}';
    buf[PASS_HEAD + text_len + 1] = '\0';
    *out = buf;
    return MCPAUTH_OK;
}

/* {"action":"pass","auth":{...}} from a tree (route_complete). */
static int emit_pass_json(json_t *auth, char **out) {
    json_t *r = json_pack("{s:s,s:O}", "action", "pass", "auth", auth);
    if (!r) return MCPAUTH_E_NOMEM;
    *out = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return *out ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}

static int emit_need_body(size_t max, char **out) {
    *out = malloc(64);
    if (!*out) return MCPAUTH_E_NOMEM;
    snprintf(*out, 64, "{\"action\":\"need_body\",\"maxBytes\":%zu}", max);
    return MCPAUTH_OK;
}

static int emit_host_verify(const char *tok, size_t tok_len, char **out) {
    json_t *t = json_stringn(tok, tok_len);
    json_t *r = t ? json_pack("{s:s,s:o}", "action", "host_verify", "token", t) : NULL;
    if (!r) return MCPAUTH_E_NOMEM;
    *out = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return *out ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}

/* A challenge answer: status, WWW-Authenticate, JSON body. code selects the form; with_code
 * adds it to the decision (mcpauth_route). The scope text is built here, for challenges
 * only. */
static int emit_challenge(int status, int code, const mcp_strv needed, const char *prm_url,
                          int with_code, char **out) {
    char *scope = mcp_strv_join(needed);
    if (!scope) return MCPAUTH_E_NOMEM;
    json_t *resp = NULL;
    int rc = mcp_resp_challenge(status, code, scope, prm_url, &resp);
    free(scope);
    if (rc != MCPAUTH_OK) return rc;
    if (with_code) mcp_resp_code(resp, code);
    return mcp_resp_emit(resp, out);
}

/* ---- metadata routes -------------------------------------------------------------------- */

/* Reflects Access-Control-Request-Headers when it is a plain list of tokens. */
static int cors_headers_ok(const char *v) {
    size_t n = strlen(v);
    if (n == 0 || n > 1024) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)v[i]) && v[i] != ',' && v[i] != ' ') return 0;
    return 1;
}

static int metadata_preamble(const req *r, char **out, int *handled) {
    *handled = 1;
    if (strcmp(r->h.method, "OPTIONS") == 0) {
        json_t *resp = mcp_resp_new(204, NULL, "");
        const char *reqh = NULL;
        mcp_resp_header(resp, "Access-Control-Allow-Origin", "*");
        mcp_resp_header(resp, "Access-Control-Allow-Methods", MCP_CORS_METHODS);
        if (header_get(r, "access-control-request-headers", &reqh) == 1 && reqh &&
            cors_headers_ok(reqh))
            mcp_resp_header(resp, "Access-Control-Allow-Headers", reqh);
        mcp_resp_header(resp, "Access-Control-Max-Age", MCP_CORS_MAX_AGE);
        mcp_resp_header(resp, "Allow", MCP_CORS_METHODS);
        mcp_resp_header(resp, "Vary", "Access-Control-Request-Headers");
        return mcp_resp_emit(resp, out);
    }
    if (strcmp(r->h.method, "GET") != 0 && strcmp(r->h.method, "HEAD") != 0) {
        json_t *resp = mcp_resp_error(405, "invalid_request", "method not allowed");
        mcp_resp_header(resp, "Allow", MCP_CORS_METHODS);
        mcp_resp_header(resp, "Access-Control-Allow-Origin", "*");
        return mcp_resp_emit(resp, out);
    }
    *handled = 0;
    return MCPAUTH_OK;
}

static int emit_document(const req *r, json_t *doc, char **out) {
    char *body = json_dumps(doc, JSON_COMPACT);
    if (!body) return MCPAUTH_E_NOMEM;
    json_t *resp =
        mcp_resp_new(200, "application/json", strcmp(r->h.method, "HEAD") == 0 ? "" : body);
    free(body);
    mcp_resp_header(resp, "Access-Control-Allow-Origin", "*");
    return mcp_resp_emit(resp, out);
}

static int handle_prm(const mcpauth_engine *e, const req *r, char **out) {
    int handled;
    int rc = metadata_preamble(r, out, &handled);
    if (handled) return rc;
    char *resource, *prm_url;
    rc = mcp_http_resolve_resource(e, &r->h, &resource, &prm_url);
    if (rc == 400) return emit_error(400, "invalid_request", "invalid Host header", out);
    if (rc != MCPAUTH_OK) return rc;
    free(prm_url);
    json_t *pdoc = e->proxy_state ? mcp_proxy_as_metadata(e) : NULL;
    if (e->proxy_state && !pdoc) {
        free(resource);
        return MCPAUTH_E_NOMEM;
    }
    json_t *doc = mcp_prm_document(e->cfg, e->http_state, resource,
                                   json_string_value(json_object_get(pdoc, "issuer")));
    json_decref(pdoc);
    free(resource);
    if (!doc) return MCPAUTH_E_NOMEM;
    rc = emit_document(r, doc, out);
    json_decref(doc);
    return rc;
}

/* With the OAuth proxy: 1 when `path` is an AS metadata route of the proxy's issuer (root
 * forms, and the path-suffixed forms when the issuer has a path). */
static int proxy_as_route(const mcpauth_engine *e, const char *path) {
    if (strncmp(path, "/.well-known/", 13) != 0) return 0;
    if (strcmp(path, MCP_ASM_WELL_KNOWN) == 0 || strcmp(path, MCP_OIDC_WELL_KNOWN) == 0) return 1;
    json_t *doc = mcp_proxy_as_metadata(e);
    const char *iss = json_string_value(json_object_get(doc, "issuer"));
    char *origin = NULL, *ipath = NULL;
    mcp_err err = {0};
    int hit = 0;
    if (iss && mcp_url_split(iss, "proxy issuer", &origin, &ipath, &err) == MCPAUTH_OK &&
        ipath[0]) {
        size_t la = strlen(MCP_ASM_WELL_KNOWN), lo = strlen(MCP_OIDC_WELL_KNOWN);
        hit = (strncmp(path, MCP_ASM_WELL_KNOWN, la) == 0 && strcmp(path + la, ipath) == 0) ||
              (strncmp(path, MCP_OIDC_WELL_KNOWN, lo) == 0 && strcmp(path + lo, ipath) == 0);
    }
    free(origin);
    free(ipath);
    json_decref(doc);
    return hit;
}

static int handle_as(const mcpauth_engine *e, const req *r, unsigned flags, char **out) {
    int handled;
    int rc = metadata_preamble(r, out, &handled);
    if (handled) return rc;
    const mcp_http_state *st = e->http_state;
    json_t *doc = NULL;
    mcp_err err = {0};
    if (e->proxy_state) {
        doc = mcp_proxy_as_metadata(e);
        if (!doc) return MCPAUTH_E_NOMEM;
        rc = emit_document(r, doc, out);
        json_decref(doc);
        return rc;
    }
    rc = mcp_as_metadata_get(e, st->as, (flags & MCPAUTH_REQUEST_NONBLOCK) != 0, &doc, &err);
    if (rc == MCPAUTH_E_WOULD_BLOCK || rc == MCPAUTH_E_NOMEM) return rc;
    if (rc != MCPAUTH_OK) {
        json_t *resp =
            mcp_resp_error(503, "temporarily_unavailable", mcpauth_strerror(MCPAUTH_E_UPSTREAM));
        mcp_resp_header(resp, "Retry-After", MCP_RETRY_AFTER);
        mcp_resp_header(resp, "Access-Control-Allow-Origin", "*");
        return mcp_resp_emit(resp, out);
    }
    rc = emit_document(r, doc, out);
    json_decref(doc);
    return rc;
}

/* ---- protected routes ------------------------------------------------------------------- */

/* Every scope this request needs: requiredScopes, then path routes, then method routes.
 * *n_required: how many of them are requiredScopes (the verifier checks those itself). */
static int needed_scopes(const mcpauth_engine *e, req *r, const char *norm, mcp_strv *out,
                         size_t *n_required) {
    const mcp_http_state *st = e->http_state;
    const mcp_strv req_scopes = e->cfg->required_scopes;
    for (size_t i = 0; req_scopes && req_scopes[i]; i++)
        if (mcp_strv_add_unique(out, req_scopes[i])) return MCPAUTH_E_NOMEM;
    *n_required = 0;
    while (*out && (*out)[*n_required]) (*n_required)++;
    for (size_t k = 0; k < st->n_routes; k++) {
        const mcp_route_scope *rs = &st->routes[k];
        if (!rs->is_path || !mcp_path_under2(r->h.path, norm, rs->key)) continue;
        for (size_t i = 0; rs->scopes && rs->scopes[i]; i++)
            if (mcp_strv_add_unique(out, rs->scopes[i])) return MCPAUTH_E_NOMEM;
    }
    if (!st->all_method_scopes) return MCPAUTH_OK;
    if (req_methods(r) != 0) return MCPAUTH_E_NOMEM;
    if (r->methods_unknown) {
        for (size_t i = 0; st->all_method_scopes && st->all_method_scopes[i]; i++)
            if (mcp_strv_add_unique(out, st->all_method_scopes[i])) return MCPAUTH_E_NOMEM;
    } else {
        for (size_t k = 0; k < st->n_routes; k++) {
            const mcp_route_scope *rs = &st->routes[k];
            if (rs->is_path || !mcp_strv_has(r->mcp_methods, rs->key)) continue;
            for (size_t i = 0; rs->scopes && rs->scopes[i]; i++)
                if (mcp_strv_add_unique(out, rs->scopes[i])) return MCPAUTH_E_NOMEM;
        }
    }
    return MCPAUTH_OK;
}

/* RFC 6750 b64token characters (without the trailing '='). A table: the loop runs over every
 * byte of every token. */
static const unsigned char b64token_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};

/* "Bearer <b64token>" with exactly one space, scheme case-insensitive; leading and trailing
 * OWS (SP / HTAB) around the whole value is ignored. 1 ok (*tok, *tok_len), 0 malformed. */
static int parse_bearer(const char *v, const char **tok, size_t *tok_len) {
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) v++, n--;
    if (n < 8 || strncasecmp(v, "Bearer ", 7) != 0) return 0;
    const char *t = v + 7;
    size_t tl = n - 7, i = 0;
    while (i < tl && b64token_chars[(unsigned char)t[i]]) i++;
    if (i == 0) return 0;
    while (i < tl && t[i] == '=') i++;
    if (i != tl) return 0;
    *tok = t;
    *tok_len = tl;
    return 1;
}

/* With a resource derived from the Host header (trustHostHeader, no resource / baseUrl), the
 * engine bound the token to nothing: check its binding to this request's resource here, by
 * the rule the engine applies to a configured resource. JWTs: claims.c. Opaque tokens: the
 * introspection rule of opaque.c (aud, when the answer has one, must name the resource). */
static int host_resource_bound(const mcpauth_engine *e, json_t *auth, const char *resource,
                               mcp_err *err) {
    json_t *payload = json_object_get(auth, "payload");
    if (mcp_opaque_enabled(e)) return mcp_opaque_check_resource(e, payload, resource, err);
    if (!e->cfg->verify_jwt && !e->cfg->host_verifies)
        return MCPAUTH_OK; /* development mode checks no claims */
    return mcp_claims_check_resource(e->cfg, payload, resource, err);
}

/* The state of one call: flags, the host verifier's answer (route_complete), and the reason of
 * an auth failure for the caller's detail. */
typedef struct route_ctx {
    unsigned flags;
    json_t *result; /* mcpauth_route_complete: the host verifier's answer (borrowed) */
    mcp_err err;    /* set with every auth failure decision (failed = 1) */
    int failed;
} route_ctx;

/* A host verifier's answer (validated by mcpauth_route_complete) -> the auth result, with the
 * checks the engine applies to its own tokens: registered claims (exp/nbf/iat with leeway, iss,
 * audience, the configured resource binding), then the mapping. The host vouches for the
 * signature only. */
static int host_result(const mcpauth_engine *e, json_t *result, const char *tok, size_t tok_len,
                       int with_token, json_t **auth, mcp_err *err) {
    *auth = NULL;
    json_t *claims = json_object_get(result, "claims");
    if (!claims) {
        json_t *c = json_object_get(result, "code");
        int code = c ? (int)json_integer_value(c) : MCPAUTH_E_TOKEN_INACTIVE;
        const char *why = json_string_value(json_object_get(result, "detail"));
        if (!why) why = json_string_value(json_object_get(result, "error"));
        return mcp_err_set(err, code, "the host's verifier refused the token: %.300s",
                           why ? why : "");
    }
    int rc = mcp_claims_check(e->cfg, claims, mcp_now(), NULL, NULL, err);
    if (rc != MCPAUTH_OK) return rc;
    json_t *res = mcp_auth_result(e->cfg, e->provider, claims, with_token ? tok : NULL,
                                  with_token ? tok_len : 0, err);
    if (!res) return err && err->code ? err->code : MCPAUTH_E_NOMEM;
    json_t *user = json_object_get(result, "user");
    if (user && json_object_set(res, "user", user) != 0) {
        json_decref(res);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    *auth = res;
    return MCPAUTH_OK;
}

/* A failure decision: remembers why (for the caller's detail) and renders the challenge. */
static int fail_challenge(route_ctx *cx, const req *r, int status, int code, const mcp_strv needed,
                          const char *prm_url, char **out) {
    cx->failed = 1;
    if (cx->err.code != code || !cx->err.msg[0])
        mcp_err_set(&cx->err, code, "%s", mcpauth_strerror(code));
    return emit_challenge(status, code, needed, prm_url, r->mode != REQ_LEGACY, out);
}

static int handle_protected(const mcpauth_engine *e, req *r, const char *norm, route_ctx *cx,
                            char **out) {
    /* CORS preflight: never carries credentials; the host's CORS layer answers it. */
    const char *acrm = NULL;
    if (strcmp(r->h.method, "OPTIONS") == 0 &&
        header_get(r, "access-control-request-method", &acrm) == 1)
        return emit_pass_bare(out);

    const mcp_http_state *st = e->http_state;
    /* mcpauth_route: a method-keyed scope needs the JSON-RPC message the host has not read */
    if (r->mode != REQ_LEGACY && st->all_method_scopes && !no_message(r->h.method) &&
        r->body == BODY_ABSENT)
        return emit_need_body(MCP_ROUTE_MAX_MCP_BODY, out);

    mcp_strv needed = NULL; /* owned unless the engine has no routeScopes (then requiredScopes) */
    char *resource = NULL, *prm_url = NULL; /* owned (a resource derived from Host) */
    const char *res_borrowed = NULL, *prm_borrowed = NULL;
    json_t *auth = NULL;
    mcp_err *err = &cx->err;
    size_t n_required = 0;
    int rc = MCPAUTH_OK;
    if (st->n_routes == 0) { /* requiredScopes only: nothing to collect */
        needed = e->cfg->required_scopes;
        while (needed && needed[n_required]) n_required++;
    } else if ((rc = needed_scopes(e, r, norm, &needed, &n_required)) != MCPAUTH_OK) {
        goto done;
    }
    if (st->resource) { /* the configured resource: borrowed */
        res_borrowed = st->resource;
        prm_borrowed = st->prm_url;
    } else {
        rc = mcp_http_resolve_resource(e, &r->h, &resource, &prm_url);
        if (rc == 400) {
            rc = emit_error(400, "invalid_request", "invalid Host header", out);
            goto done;
        }
        if (rc != MCPAUTH_OK) goto done;
        res_borrowed = resource;
        prm_borrowed = prm_url;
    }

    if (r->h.query && mcp_query_has_token(r->h.query)) {
        rc = fail_challenge(cx, r, 400, MCPAUTH_E_TOKEN_IN_QUERY, needed, prm_borrowed, out);
        goto done;
    }
    const char *authz = NULL;
    int hr = header_get(r, "authorization", &authz);
    if (hr == 0 || (hr == 1 && authz && strspn(authz, " \t") == strlen(authz))) {
        rc = fail_challenge(cx, r, 401, MCPAUTH_E_TOKEN_MISSING, needed, prm_borrowed, out);
        goto done;
    }
    const char *tok = NULL;
    size_t tok_len = 0;
    if (hr < 0 || !authz || !parse_bearer(authz, &tok, &tok_len)) {
        rc = fail_challenge(cx, r, 401, MCPAUTH_E_MALFORMED_HEADER, needed, prm_borrowed, out);
        goto done;
    }
    int with_token = r->mode == REQ_LEGACY || (cx->flags & MCPAUTH_ROUTE_WITH_TOKEN);
    int vrc;
    char *text = NULL;
    size_t text_len = 0;
    if (e->cfg->host_verifies) {
        /* hostVerifies: the host verifies tokens. mcpauth_route asks it to; route_complete
         * checks what it answered; mcpauth_handle_request can verify nothing (it still answers
         * the challenge for requests without credentials, and the metadata routes). */
        if (r->mode == REQ_LEGACY) {
            rc = MCPAUTH_E_CONFIG;
            goto done;
        }
        if (r->mode == REQ_ROUTE) {
            rc = emit_host_verify(tok, tok_len, out);
            goto done;
        }
        vrc = host_result(e, cx->result, tok, tok_len, with_token, &auth, err);
    } else {
        /* the verifier checks requiredScopes and, in the same pass, the route's scopes; a
         * repeated token is answered from the cache as text, spliced into the decision */
        mcp_route_verify in = {
            PASS_HEAD, PASS_TAIL, with_token,
            (const char *const *)(needed && st->resource ? needed + n_required : NULL)};
        unsigned vflags = (cx->flags & MCPAUTH_REQUEST_NONBLOCK) ? MCPAUTH_VERIFY_NONBLOCK : 0;
        /* a resource derived from the Host header is checked against the claims: a tree */
        vrc = mcp_engine_verify_route(e, tok, tok_len, vflags, &in, st->resource ? &text : NULL,
                                      &text_len, st->resource ? NULL : &auth, err);
    }
    /* a resource derived from the Host header: the binding, then the scopes (the verifier
     * checked them with a configured resource, in the same pass) */
    if (vrc == MCPAUTH_OK && !st->resource) vrc = host_resource_bound(e, auth, res_borrowed, err);
    if (vrc == MCPAUTH_OK && (e->cfg->host_verifies || !st->resource))
        vrc = mcp_scopes_check(auth, needed, err);
    if (vrc == MCPAUTH_E_WOULD_BLOCK || vrc == MCPAUTH_E_NOMEM) {
        rc = vrc;
    } else if (vrc == MCPAUTH_OK) {
        rc = text ? emit_pass_text(text, text_len, out) : emit_pass_json(auth, out);
        text = NULL;
    } else if (vrc == MCPAUTH_E_INSUFFICIENT_SCOPE) {
        rc = fail_challenge(cx, r, 403, MCPAUTH_E_INSUFFICIENT_SCOPE, needed, prm_borrowed, out);
    } else if (vrc >= 10 && vrc <= 29) {
        /* MALFORMED_HEADER from the engine too: same 401 invalid_request form as above. */
        rc = fail_challenge(cx, r, 401, vrc, needed, prm_borrowed, out);
    } else if (vrc == MCPAUTH_E_KEYS_UNAVAILABLE || vrc == MCPAUTH_E_UPSTREAM) {
        json_t *resp = mcp_resp_error(503, "temporarily_unavailable", mcpauth_strerror(vrc));
        mcp_resp_header(resp, "Retry-After", MCP_RETRY_AFTER);
        if (r->mode != REQ_LEGACY) mcp_resp_code(resp, vrc);
        cx->failed = 1;
        rc = mcp_resp_emit(resp, out);
    } else {
        json_t *resp = mcp_resp_error(500, "server_error", mcpauth_strerror(MCPAUTH_E_INTERNAL));
        if (r->mode != REQ_LEGACY) mcp_resp_code(resp, MCPAUTH_E_INTERNAL);
        cx->failed = 1;
        rc = mcp_resp_emit(resp, out);
    }
    free(text);
done:
    json_decref(auth);
    if (st->n_routes) mcp_strv_free(needed);
    free(resource);
    free(prm_url);
    return rc;
}

/* ---- OAuth proxy ------------------------------------------------------------------------ */

/* 0: not a proxy route; 1: answered (*out set); else an error code. The proxy reads the same
 * request model. */
static int offer_to_proxy(const mcpauth_engine *e, req *r, unsigned flags, char **out) {
    json_t *resp = NULL;
    mcp_err err = {0};
    int rc = mcp_proxy_handle(e, &r->h, (flags & MCPAUTH_REQUEST_NONBLOCK) != 0, &resp, &err);
    if (rc != 1) {
        json_decref(resp);
        return rc;
    }
    rc = mcp_resp_emit(resp, out);
    return rc == MCPAUTH_OK ? 1 : rc;
}

/* ---- public API ------------------------------------------------------------------------- */

/* 1 when normalizing would not change what path matching sees: no percent escape, backslash,
 * empty, "." or ".." segment (a trailing '/' only: matching treats it alike). */
static int path_is_normal(const char *p) {
    if (p[0] != '/') return 0;
    for (const char *s = p; *s; s++) {
        if (*s == '%' || *s == '\\') return 0;
        if (*s != '/') continue;
        const char *n = s + 1;
        if (*n == '/') return 0;
        if (n[0] == '.' &&
            (n[1] == '\0' || n[1] == '/' || (n[1] == '.' && (n[2] == '\0' || n[2] == '/'))))
            return 0;
    }
    return 1;
}

/* One request through the router, for the three entry points. */
static int route_impl(const mcpauth_engine *engine, const char *request_json, size_t request_len,
                      req_mode mode, route_ctx *cx, char **out) {
    size_t cap = mode == REQ_LEGACY ? MCP_REQ_MAX_JSON : MCP_ROUTE_MAX_JSON;
    if (request_len > cap) return MCPAUTH_E_INVALID_ARGUMENT;
    const mcp_http_state *st = engine->http_state;
    if (!st || !engine->cfg) return MCPAUTH_E_INTERNAL;

    req r;
    int pr = req_parse(request_json, request_len, mode, &r);
    int rc;
    char *norm = NULL;
    unsigned flags = cx->flags;
    if (pr < 0) {
        rc = -pr;
    } else if (pr == 414) {
        rc = emit_error(414, "invalid_request", "request URI too long", out);
    } else if (pr == 431) {
        rc = emit_error(431, "invalid_request", "request header fields too large", out);
    } else if (r.h.path[0] != '/') {
        /* "OPTIONS *" is no resource; absolute-form and other targets are refused so that no
         * upstream can map them onto a protected path behind our back. */
        if (strcmp(r.h.path, "*") == 0 && strcmp(r.h.method, "OPTIONS") == 0)
            rc = emit_pass_bare(out);
        else
            rc = emit_error(400, "invalid_request", "invalid request target", out);
    } else if (mcp_strv_has(st->prm_routes, r.h.path)) {
        rc = handle_prm(engine, &r, out);
    } else if (mcp_strv_has(st->as_routes, r.h.path) ||
               (engine->proxy_state && proxy_as_route(engine, r.h.path))) {
        rc = handle_as(engine, &r, flags, out);
    } else if (mode != REQ_LEGACY && r.body != BODY_PRESENT &&
               mcp_proxy_wants_body(engine, r.h.path, r.h.method)) {
        /* an OAuth proxy form: the proxy reads the body */
        if (r.body == BODY_ABSENT)
            rc = emit_need_body(MCP_ROUTE_MAX_FORM_BODY, out);
        else
            rc = emit_error(413, "invalid_request", "request body too large", out);
    } else if (engine->proxy_state && (rc = offer_to_proxy(engine, &r, flags, out)) != 0) {
        if (rc == 1) rc = MCPAUTH_OK;
    } else if (!path_is_normal(r.h.path) && !(norm = mcp_path_normalize(r.h.path))) {
        rc = MCPAUTH_E_NOMEM;
    } else if (!mcp_path_protected(st->protected_paths, r.h.path, norm ? norm : r.h.path)) {
        rc = emit_pass_bare(out);
    } else {
        rc = handle_protected(engine, &r, norm ? norm : r.h.path, cx, out);
    }
    free(norm);
    req_clear(&r);
    if (rc != MCPAUTH_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

int mcpauth_handle_request(const mcpauth_engine *engine, const char *request_json,
                           size_t request_len, unsigned flags, char **response_json) {
    if (!response_json) return MCPAUTH_E_INVALID_ARGUMENT;
    *response_json = NULL;
    if (!engine || !request_json) return MCPAUTH_E_INVALID_ARGUMENT;
    route_ctx cx = {.flags = 0, .result = NULL, .failed = 0}; /* err: set before read */
    cx.err.code = 0;
    cx.err.msg[0] = '\0';
    cx.flags = flags & MCPAUTH_REQUEST_NONBLOCK;
    return route_impl(engine, request_json, request_len, REQ_LEGACY, &cx, response_json);
}

/* The detail of a call: why the decision is an auth failure, or why the call failed. */
static void export_detail(const route_ctx *cx, int rc, char **detail) {
    if (!detail) return;
    *detail = NULL;
    if (rc == MCPAUTH_OK && !cx->failed) return;
    mcp_err e = cx->err;
    if (rc != MCPAUTH_OK && (e.code != rc || !e.msg[0]))
        mcp_err_set(&e, rc, "%s", mcpauth_strerror(rc));
    if (!e.msg[0]) mcp_err_set(&e, e.code, "%s", mcpauth_strerror(e.code));
    mcp_err_export(&e, detail);
}

int mcpauth_route(const mcpauth_engine *engine, const char *request_json, size_t request_len,
                  unsigned flags, char **decision_json, char **detail) {
    if (detail) *detail = NULL;
    if (decision_json) *decision_json = NULL;
    route_ctx cx = {.flags = 0, .result = NULL, .failed = 0}; /* err: set before read */
    cx.err.code = 0;
    cx.err.msg[0] = '\0';
    cx.flags = flags;
    int rc;
    if (!engine || !request_json || !decision_json ||
        (flags & ~(MCPAUTH_ROUTE_NONBLOCK | MCPAUTH_ROUTE_WITH_TOKEN)))
        rc = MCPAUTH_E_INVALID_ARGUMENT;
    else
        rc = route_impl(engine, request_json, request_len, REQ_ROUTE, &cx, decision_json);
    export_detail(&cx, rc, detail);
    return rc;
}

/* {"claims":{...}[,"user":{...}]} or {"error":"..."[,"detail":"..."][,"code":N]}: nothing
 * else. N: an auth failure code (10-22, 30, 41, 42). */
static int result_valid(json_t *res, mcp_err *err) {
    json_t *claims = json_object_get(res, "claims"), *user = json_object_get(res, "user");
    json_t *error = json_object_get(res, "error"), *detail = json_object_get(res, "detail");
    json_t *code = json_object_get(res, "code");
    size_t known = !!claims + !!user + !!error + !!detail + !!code;
    if (known != json_object_size(res))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "result: only claims, user, error, detail and code are allowed");
    if (claims) {
        if (!json_is_object(claims) || error || detail || code)
            return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                               "result: claims must be an object, without error");
        if (user && !json_is_object(user))
            return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "result: user must be an object");
        return MCPAUTH_OK;
    }
    if (!json_is_string(error) || user || (detail && !json_is_string(detail)))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "result: either claims (an object) or error (a string)");
    if (code) {
        json_int_t c = json_is_integer(code) ? json_integer_value(code) : -1;
        int ok = (c >= MCPAUTH_E_TOKEN_TOO_LARGE && c <= MCPAUTH_E_TOKEN_INACTIVE) ||
                 c == MCPAUTH_E_INSUFFICIENT_SCOPE || c == MCPAUTH_E_KEYS_UNAVAILABLE ||
                 c == MCPAUTH_E_UPSTREAM;
        if (!ok)
            return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                               "result: code must be a token failure code (11-22, 30, 41, 42)");
    }
    return MCPAUTH_OK;
}

int mcpauth_route_complete(const mcpauth_engine *engine, const char *request_json,
                           size_t request_len, const char *result_json, size_t result_len,
                           unsigned flags, char **decision_json, char **detail) {
    if (detail) *detail = NULL;
    if (decision_json) *decision_json = NULL;
    route_ctx cx = {.flags = 0, .result = NULL, .failed = 0}; /* err: set before read */
    cx.err.code = 0;
    cx.err.msg[0] = '\0';
    cx.flags = flags;
    int rc = MCPAUTH_OK;
    json_t *res = NULL;
    if (!engine || !request_json || !result_json || !decision_json ||
        (flags & ~(MCPAUTH_ROUTE_NONBLOCK | MCPAUTH_ROUTE_WITH_TOKEN)) ||
        result_len > MCP_ROUTE_MAX_RESULT) {
        rc = mcp_err_set(&cx.err, MCPAUTH_E_INVALID_ARGUMENT, "invalid argument");
    } else {
        res = mcp_json_parse(result_json, result_len, MCP_JSON_MAX_DEPTH, 1, "result",
                             MCPAUTH_E_INVALID_ARGUMENT, &cx.err);
        if (!res)
            rc = cx.err.code ? cx.err.code : MCPAUTH_E_INVALID_ARGUMENT;
        else
            rc = result_valid(res, &cx.err);
    }
    if (rc == MCPAUTH_OK) {
        cx.result = res;
        rc = route_impl(engine, request_json, request_len, REQ_COMPLETE, &cx, decision_json);
    }
    json_decref(res);
    export_detail(&cx, rc, detail);
    return rc;
}

int mcpauth_protected_resource_metadata(const mcpauth_engine *engine, char **json) {
    if (!json) return MCPAUTH_E_INVALID_ARGUMENT;
    *json = NULL;
    if (!engine) return MCPAUTH_E_INVALID_ARGUMENT;
    const mcp_http_state *st = engine->http_state;
    if (!st) return MCPAUTH_E_INTERNAL;
    if (!st->resource) return MCPAUTH_E_CONFIG;
    json_t *pdoc = engine->proxy_state ? mcp_proxy_as_metadata(engine) : NULL;
    if (engine->proxy_state && !pdoc) return MCPAUTH_E_NOMEM;
    json_t *doc = mcp_prm_document(engine->cfg, st, st->resource,
                                   json_string_value(json_object_get(pdoc, "issuer")));
    json_decref(pdoc);
    if (!doc) return MCPAUTH_E_NOMEM;
    *json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *json ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}

int mcpauth_authorization_server_metadata(const mcpauth_engine *engine, unsigned flags,
                                          char **json) {
    if (!json) return MCPAUTH_E_INVALID_ARGUMENT;
    *json = NULL;
    if (!engine) return MCPAUTH_E_INVALID_ARGUMENT;
    const mcp_http_state *st = engine->http_state;
    if (!st) return MCPAUTH_E_INTERNAL;
    json_t *doc = NULL;
    mcp_err err = {0};
    if (engine->proxy_state) {
        doc = mcp_proxy_as_metadata(engine);
        if (!doc) return MCPAUTH_E_NOMEM;
        *json = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        return *json ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
    }
    if (!st->as) return MCPAUTH_E_CONFIG;
    int rc =
        mcp_as_metadata_get(engine, st->as, (flags & MCPAUTH_REQUEST_NONBLOCK) != 0, &doc, &err);
    if (rc != MCPAUTH_OK) return rc;
    *json = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return *json ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}
