/* router.c - the HTTP surface: one request (JSON) in, one decision (JSON) out.
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
 * Path matching: a protected path P covers P and everything under it by whole segments
 * ("/mcp" covers "/mcp", "/mcp/x", "/mcp;p" but not "/mcpx"), case-insensitively. It is
 * applied to the raw path and to a normalized copy (percent-decoded, '\' as '/', dot segments
 * resolved, repeated '/' collapsed); a match on either protects the request, so an upstream
 * that normalizes differently cannot be reached around the check.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/challenge.h"
#include "verify/claims.h"
#include "verify/engine.h"
#include "util/cidr.h"
#include "util/json_strict.h"
#include "util/common.h"
#include "http/metadata.h"
#include "verify/opaque.h"
#include "proxy/proxy.h"
#include "verify/userinfo.h"

#define MCP_REQ_MAX_JSON ((size_t)1 << 20) /* request JSON */
#define MCP_REQ_MAX_PATH 8192
#define MCP_REQ_MAX_QUERY 16384
#define MCP_REQ_MAX_HEADER_VALUE 65536
#define MCP_REQ_MAX_HEADERS 256
#define MCP_REQ_MAX_METHOD 32
#define MCP_REQ_MAX_MCP_METHODS 256
#define MCP_REQ_MAX_PEER 256
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

static void http_state_free(void *p) {
    mcp_http_state *st = p;
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

/* "/a/b/" -> "/a/b"; "/" -> "". NULL on no memory. */
static char *norm_prefix(const char *p) {
    size_t l = strlen(p);
    while (l > 0 && p[l - 1] == '/') l--;
    return mcp_strndup(p, l);
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
    char *mcp_norm = norm_prefix(mcp_path);
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
            char *n = norm_prefix(p);
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
        char *base = norm_prefix(cfg->base_url);
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
            r->key = r->is_path ? norm_prefix(key) : mcp_strdup(key);
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
        http_state_free(st);
        return rc;
    }
    e->http_state = st;
    e->http_state_free = http_state_free;
    return MCPAUTH_OK;
}

/* ---- request parsing -------------------------------------------------------------------- */

/* Which entry point parsed the request: mcpauth_handle_request (MCPAUTH_1), mcpauth_route or
 * mcpauth_route_complete (MCPAUTH_1.1). */
typedef enum { REQ_LEGACY, REQ_ROUTE, REQ_COMPLETE } req_mode;

/* What the host said about the body. */
typedef enum { BODY_ABSENT, BODY_PRESENT, BODY_TRUNCATED } body_state;

typedef struct req {
    json_t *root;
    req_mode mode;
    const char *method;
    char *path;            /* raw path, without query (owned) */
    char *query;           /* raw query or NULL (owned) */
    json_t *headers;       /* borrowed object or NULL */
    const char *body_text; /* borrowed; with BODY_PRESENT */
    size_t body_len;
    body_state body;
    mcp_strv mcp_methods;
    int methods_explicit; /* handle_request: mcpMethod named the method(s) */
    int methods_null;     /* handle_request: mcpMethod null (a body the host did not read) */
    int methods_resolved; /* req_methods() ran */
    int methods_unknown;  /* fail closed: every method-keyed scope applies */
} req;

static void req_clear(req *r) {
    json_decref(r->root);
    free(r->path);
    free(r->query);
    mcp_strv_free(r->mcp_methods);
}

static int is_tchar(int c) { return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL); }

/* Looks a header up case-insensitively. Returns 0 absent, 1 found (*value), -1 ambiguous
 * (several entries or several values). */
static int header_get(const req *r, const char *name, const char **value) {
    *value = NULL;
    if (!r->headers) return 0;
    int found = 0;
    const char *key;
    json_t *v;
    json_object_foreach(r->headers, key, v) {
        if (strcasecmp(key, name) != 0) continue;
        if (found) return -1;
        found = 1;
        if (json_is_string(v)) {
            *value = json_string_value(v);
        } else if (json_array_size(v) == 1) {
            *value = json_string_value(json_array_get(v, 0));
        } else if (json_array_size(v) == 0) {
            found = 0;
        } else {
            return -1;
        }
    }
    return found;
}

/* Collects JSON-RPC method names from a body: object or batch array. -1 when the body is not
 * a JSON-RPC message (method unknown), -2 on no memory. */
static int methods_from_body(const char *body, size_t len, mcp_strv *out) {
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) return -1;
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

/* 0: ok; > 0: an HTTP status to answer (414, 431); < 0: an mcpauth error code negated. */
static int req_parse(const char *json, size_t len, req_mode mode, req *r) {
    mcp_err err = {0};
    memset(r, 0, sizeof *r);
    r->mode = mode;
    r->root = mcp_json_parse(json, len, 8, 1, "request", MCPAUTH_E_INVALID_ARGUMENT, &err);
    if (!r->root) return -(err.code ? err.code : MCPAUTH_E_INVALID_ARGUMENT);
    json_t *m = json_object_get(r->root, "method");
    json_t *p = json_object_get(r->root, "path");
    json_t *q = json_object_get(r->root, "query");
    json_t *h = json_object_get(r->root, "headers");
    json_t *mm = json_object_get(r->root, "mcpMethod");
    json_t *b = json_object_get(r->root, "body");
    if (!json_is_string(m) || !json_is_string(p) || (q && !json_is_string(q) && !json_is_null(q)) ||
        (h && !json_is_object(h) && !json_is_null(h)) ||
        (b && !json_is_string(b) && !json_is_null(b)))
        return -MCPAUTH_E_INVALID_ARGUMENT;
    r->method = json_string_value(m);
    size_t ml = json_string_length(m);
    if (ml == 0 || ml > MCP_REQ_MAX_METHOD) return -MCPAUTH_E_INVALID_ARGUMENT;
    for (size_t i = 0; i < ml; i++)
        if (!is_tchar((unsigned char)r->method[i])) return -MCPAUTH_E_INVALID_ARGUMENT;

    const char *path = json_string_value(p);
    size_t pl = json_string_length(p);
    if (pl == 0 || strlen(path) != pl) return -MCPAUTH_E_INVALID_ARGUMENT;
    if (pl > MCP_REQ_MAX_PATH) return 414;
    const char *qm = memchr(path, '?', pl);
    if (qm && json_is_string(q)) return -MCPAUTH_E_INVALID_ARGUMENT;
    size_t raw_len = qm ? (size_t)(qm - path) : pl;
    const char *hash = memchr(path, '#', raw_len);
    if (hash) raw_len = (size_t)(hash - path);
    r->path = mcp_strndup(path, raw_len);
    if (!r->path) return -MCPAUTH_E_NOMEM;
    if (qm) {
        r->query = mcp_strdup(qm + 1);
        if (!r->query) return -MCPAUTH_E_NOMEM;
    } else if (json_is_string(q)) {
        if (json_string_length(q) > MCP_REQ_MAX_QUERY) return 414;
        r->query = mcp_strndup(json_string_value(q), json_string_length(q));
        if (!r->query) return -MCPAUTH_E_NOMEM;
    }
    if (r->query && strlen(r->query) > MCP_REQ_MAX_QUERY) return 414;

    if (json_is_object(h)) {
        if (json_object_size(h) > MCP_REQ_MAX_HEADERS) return 431;
        const char *key;
        json_t *v;
        json_object_foreach(h, key, v) {
            if (json_is_string(v)) {
                if (json_string_length(v) > MCP_REQ_MAX_HEADER_VALUE) return 431;
            } else if (json_is_array(v)) {
                if (json_array_size(v) > MCP_REQ_MAX_HEADERS) return 431;
                size_t i;
                json_t *x;
                json_array_foreach(v, i, x) {
                    if (!json_is_string(x)) return -MCPAUTH_E_INVALID_ARGUMENT;
                    if (json_string_length(x) > MCP_REQ_MAX_HEADER_VALUE) return 431;
                }
            } else {
                return -MCPAUTH_E_INVALID_ARGUMENT;
            }
        }
        r->headers = h;
    }

    if (json_is_string(b)) {
        r->body_text = json_string_value(b);
        r->body_len = json_string_length(b);
        r->body = BODY_PRESENT;
    }
    if (mode != REQ_LEGACY) {
        /* mcpauth_route: the body decides (mcpMethod is not read: the core reads the method) */
        json_t *t = json_object_get(r->root, "bodyTruncated");
        json_t *peer = json_object_get(r->root, "peer");
        if ((t && !json_is_boolean(t) && !json_is_null(t)) ||
            (peer && !json_is_null(peer) &&
             (!json_is_string(peer) || json_string_length(peer) > MCP_REQ_MAX_PEER)))
            return -MCPAUTH_E_INVALID_ARGUMENT;
        if (json_is_true(t)) r->body = BODY_TRUNCATED;
        return 0;
    }
    /* MCP method(s): explicit (string | array | null = unknown), else from the body. */
    if (mm) {
        if (json_is_null(mm)) {
            r->methods_null = 1;
        } else if (json_is_string(mm)) {
            r->methods_explicit = 1;
            if (mcp_strv_add_unique(&r->mcp_methods, json_string_value(mm)))
                return -MCPAUTH_E_NOMEM;
        } else if (json_is_array(mm) && json_array_size(mm) <= MCP_REQ_MAX_MCP_METHODS) {
            r->methods_explicit = 1;
            size_t i;
            json_t *x;
            json_array_foreach(mm, i, x) {
                if (!json_is_string(x)) return -MCPAUTH_E_INVALID_ARGUMENT;
                if (mcp_strv_add_unique(&r->mcp_methods, json_string_value(x)))
                    return -MCPAUTH_E_NOMEM;
            }
        } else {
            return -MCPAUTH_E_INVALID_ARGUMENT;
        }
    }
    return 0;
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
    if (r->methods_explicit || no_message(r->method)) return 0;
    if (r->methods_null || r->body == BODY_TRUNCATED) {
        r->methods_unknown = 1;
        return 0;
    }
    if (r->body != BODY_PRESENT || r->body_len == 0) return 0;
    int rc = methods_from_body(r->body_text, r->body_len, &r->mcp_methods);
    if (rc == -2) return -1;
    if (rc == -1) r->methods_unknown = 1;
    return 0;
}

/* ---- paths ------------------------------------------------------------------------------ */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes once, maps '\' to '/', resolves "." and ".." segments and collapses
 * repeated '/'. Malloc'd. */
static char *normalize_path(const char *raw) {
    size_t n = strlen(raw);
    char *dec = malloc(n + 2);
    if (!dec) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)raw[i];
        if (c == '%' && i + 2 < n && hexval((unsigned char)raw[i + 1]) >= 0 &&
            hexval((unsigned char)raw[i + 2]) >= 0) {
            c = hexval((unsigned char)raw[i + 1]) * 16 + hexval((unsigned char)raw[i + 2]);
            i += 2;
        }
        if (c == '\\') c = '/';
        if (c == '\0') c = '?'; /* never a path character; keeps the string intact */
        dec[o++] = (char)c;
    }
    dec[o] = '\0';
    /* segment stack over dec */
    char *out = malloc(o + 2);
    if (!out) {
        free(dec);
        return NULL;
    }
    size_t ol = 0;
    size_t i = 0;
    while (i < o) {
        while (i < o && dec[i] == '/') i++;
        size_t s = i;
        while (i < o && dec[i] != '/') i++;
        size_t sl = i - s;
        if (sl == 0) break;
        if (sl == 1 && dec[s] == '.') continue;
        if (sl == 2 && dec[s] == '.' && dec[s + 1] == '.') {
            while (ol > 0 && out[ol - 1] != '/') ol--;
            if (ol > 0) ol--; /* drop the '/' too */
            continue;
        }
        out[ol++] = '/';
        memcpy(out + ol, dec + s, sl);
        ol += sl;
    }
    if (ol == 0) out[ol++] = '/';
    out[ol] = '\0';
    free(dec);
    return out;
}

/* Whole-segment, case-insensitive prefix match; prefix "" (from "/") matches everything. */
static int path_under(const char *path, const char *prefix) {
    size_t l = strlen(prefix);
    if (l == 0) return 1;
    if (strncasecmp(path, prefix, l) != 0) return 0;
    char c = path[l];
    return c == '\0' || c == '/' || c == ';';
}

static int path_under2(const char *raw, const char *norm, const char *prefix) {
    return path_under(raw, prefix) || (norm && path_under(norm, prefix));
}

static int is_protected(const mcp_http_state *st, const char *raw, const char *norm) {
    for (size_t i = 0; st->protected_paths && st->protected_paths[i]; i++)
        if (path_under2(raw, norm, st->protected_paths[i])) return 1;
    return 0;
}

/* 1 when the query has an access_token parameter (name percent-decoded, '+' as space). */
static int query_has_token(const char *q) {
    static const char want[] = "access_token";
    while (q && *q) {
        size_t plen = strcspn(q, "&;");
        size_t klen = strcspn(q, "=&;");
        if (klen > plen) klen = plen;
        /* decode the name into a small buffer; longer names cannot match */
        char name[sizeof want + 1];
        size_t o = 0;
        int toolong = 0;
        for (size_t i = 0; i < klen; i++) {
            int c = (unsigned char)q[i];
            if (c == '%' && i + 2 < klen && hexval((unsigned char)q[i + 1]) >= 0 &&
                hexval((unsigned char)q[i + 2]) >= 0) {
                c = hexval((unsigned char)q[i + 1]) * 16 + hexval((unsigned char)q[i + 2]);
                i += 2;
            } else if (c == '+') {
                c = ' ';
            }
            if (o >= sizeof want) {
                toolong = 1;
                break;
            }
            name[o++] = (char)c;
        }
        if (!toolong && o == sizeof want - 1 && memcmp(name, want, o) == 0) return 1;
        q += plen;
        if (*q) q++;
    }
    return 0;
}

/* ---- responses -------------------------------------------------------------------------- */

static int emit(json_t *resp, char **out) {
    if (!resp) return MCPAUTH_E_NOMEM;
    *out = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    return *out ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}

static int emit_pass(json_t *auth, char **out) {
    json_t *r = json_object();
    if (!r || json_object_set_new(r, "action", json_string("pass")) != 0 ||
        (auth && json_object_set(r, "auth", auth) != 0)) {
        json_decref(r);
        return MCPAUTH_E_NOMEM;
    }
    return emit(r, out);
}

/* headers: array of [name, value], stolen. code: the mcpauth code of an auth failure, added as
 * "code" (mcpauth_route only), or 0. */
static int emit_respond_code(int status, json_t *headers, const char *body, int code, char **out) {
    json_t *r = json_object();
    if (!r || !headers) {
        json_decref(r);
        json_decref(headers);
        return MCPAUTH_E_NOMEM;
    }
    int bad = json_object_set_new(r, "action", json_string("respond")) != 0;
    bad |= json_object_set_new(r, "status", json_integer(status)) != 0;
    bad |= json_object_set_new(r, "headers", headers) != 0;
    bad |= json_object_set_new(r, "body", json_string(body ? body : "")) != 0;
    if (code) bad |= json_object_set_new(r, "code", json_integer(code)) != 0;
    if (bad) {
        json_decref(r);
        return MCPAUTH_E_NOMEM;
    }
    return emit(r, out);
}

static int emit_respond(int status, json_t *headers, const char *body, char **out) {
    return emit_respond_code(status, headers, body, 0, out);
}

static void hdr(json_t *list, const char *name, const char *value) {
    if (!list) return;
    json_t *pair = json_array();
    if (!pair || json_array_append_new(pair, json_string(name)) != 0 ||
        json_array_append_new(pair, json_string(value)) != 0 ||
        json_array_append_new(list, pair) != 0) {
        json_decref(pair);
        json_array_clear(list);
        json_array_append_new(list, json_null()); /* poisons the list: detected below */
    }
}

static int headers_ok(json_t *list) {
    size_t i;
    json_t *x;
    json_array_foreach(list, i, x) if (!json_is_array(x)) return 0;
    return 1;
}

/* {"error","error_description"}; without "error" when error is NULL (RFC 6750 3.1: a request
 * without credentials gets no error code). */
static char *error_body(const char *error, const char *description) {
    json_t *b = json_object();
    if (!b) return NULL;
    if ((error && json_object_set_new(b, "error", json_string(error)) != 0) ||
        json_object_set_new(b, "error_description", json_string(description)) != 0) {
        json_decref(b);
        return NULL;
    }
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

/* A JSON error answer without a challenge (404/405/413/414/431/500/503); code as in
 * emit_respond_code. */
static int emit_error_code(int status, const char *error, const char *description, json_t *headers,
                           int code, char **out) {
    if (!headers) headers = json_array();
    char *body = error_body(error, description);
    if (!body || !headers) {
        free(body);
        json_decref(headers);
        return MCPAUTH_E_NOMEM;
    }
    json_t *h = json_array();
    hdr(h, "Content-Type", "application/json");
    hdr(h, "Cache-Control", "no-store");
    if (h) json_array_extend(h, headers);
    json_decref(headers);
    if (!h || !headers_ok(h)) {
        json_decref(h);
        free(body);
        return MCPAUTH_E_NOMEM;
    }
    int rc = emit_respond_code(status, h, body, code, out);
    free(body);
    return rc;
}

static int emit_error(int status, const char *error, const char *description, json_t *headers,
                      char **out) {
    return emit_error_code(status, error, description, headers, 0, out);
}

/* A challenge answer: status, WWW-Authenticate, JSON body. code selects the form; with_code
 * adds it to the decision (mcpauth_route). The scope text is built here, for challenges
 * only. */
static int emit_challenge(int status, int code, const mcp_strv needed, const char *prm_url,
                          int with_code, char **out) {
    const char *error = code == MCPAUTH_E_TOKEN_MISSING ? NULL : mcpauth_oauth_error(code);
    const char *desc = mcpauth_strerror(code);
    char *www = NULL;
    char *scope = mcp_scopes_join(needed);
    if (!scope) return MCPAUTH_E_NOMEM;
    int rc = mcp_challenge_render(error, error ? desc : NULL, scope, prm_url, &www);
    free(scope);
    if (rc != MCPAUTH_OK) return rc;
    char *body = error_body(mcpauth_oauth_error(code), desc);
    json_t *h = json_array();
    hdr(h, "Content-Type", "application/json");
    hdr(h, "Cache-Control", "no-store");
    hdr(h, "WWW-Authenticate", www);
    hdr(h, "Access-Control-Expose-Headers", "WWW-Authenticate");
    free(www);
    if (!body || !h || !headers_ok(h)) {
        free(body);
        json_decref(h);
        return MCPAUTH_E_NOMEM;
    }
    rc = emit_respond_code(status, h, body, with_code ? code : 0, out);
    free(body);
    return rc;
}

/* ---- resource resolution ---------------------------------------------------------------- */

static int host_valid(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > 255) return 0;
    size_t i = 0;
    if (h[0] == '[') {
        const char *end = strchr(h, ']');
        if (!end) return 0;
        for (const char *p = h + 1; p < end; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') return 0;
        i = (size_t)(end - h) + 1;
    } else {
        while (i < n && (isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '-')) i++;
        if (i == 0) return 0;
    }
    if (i == n) return 1;
    if (h[i] != ':' || i + 1 == n || n - i - 1 > 5) return 0;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)h[i])) return 0;
    return 1;
}

/* A loopback host (port ignored): a dotted-quad IPv4 address in 127.0.0.0/8, "localhost"
 * (any case) or "[::1]". Names that merely start with "127." are not. */
static int host_is_loopback(const char *h) {
    if (h[0] == '[') return strncmp(h, "[::1]", 5) == 0 && (h[5] == '\0' || h[5] == ':');
    size_t l = strcspn(h, ":");
    if (l == 9 && strncasecmp(h, "localhost", 9) == 0) return 1;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= l || h[i] != '.') return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < l && i - start < 3 && isdigit((unsigned char)h[i]))
            v = v * 10 + (unsigned)(h[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && h[start] == '0')) return 0;
        if (part == 0 && v != 127) return 0;
    }
    return i == l;
}

/* 1 when the request's "peer" (the socket's peer address, as the host declares it) is one of
 * the configured trustedProxies: only then are X-Forwarded-Host and X-Forwarded-Proto read. */
static int peer_trusted(const mcpauth_engine *e, const req *r) {
    const mcp_config *c = e->cfg;
    if (c->n_trusted_cidrs == 0 || !r->root) return 0;
    const char *peer = json_string_value(json_object_get(r->root, "peer"));
    if (!peer) return 0;
    for (size_t i = 0; i < c->n_trusted_cidrs; i++)
        if (mcp_cidr_contains(&c->trusted_cidrs[i], peer)) return 1;
    return 0;
}

/* allowedHosts (lower-case at configuration): the host, with its port, must be listed. */
static int host_allowed(const mcp_config *c, const char *host) {
    if (!c->allowed_hosts) return 1;
    for (size_t i = 0; c->allowed_hosts[i]; i++)
        if (strcasecmp(c->allowed_hosts[i], host) == 0) return 1;
    return 0;
}

/* The resource and PRM URL for this request. Returns MCPAUTH_OK (*resource, *prm_url
 * malloc'd), MCPAUTH_E_CONFIG (no base URL), or 400 when the Host header is needed but bad.
 * With trustHostHeader the client's Host chooses the resource: X-Forwarded-Host and
 * X-Forwarded-Proto count only from trustedProxies, and allowedHosts limits the choice. */
static int resolve_resource(const mcpauth_engine *e, const req *r, char **resource,
                            char **prm_url) {
    const mcp_http_state *st = e->http_state;
    *resource = *prm_url = NULL;
    if (st->resource) {
        *resource = mcp_strdup(st->resource);
        *prm_url = mcp_strdup(st->prm_url);
        if (!*resource || !*prm_url) goto nomem;
        return MCPAUTH_OK;
    }
    if (!e->cfg->trust_host_header) return MCPAUTH_E_CONFIG;
    const char *host = NULL, *proto = NULL;
    int trusted = peer_trusted(e, r);
    int hr = trusted ? header_get(r, "x-forwarded-host", &host) : 0;
    if (hr == 0) hr = header_get(r, "host", &host);
    if (hr != 1 || !host || !host_valid(host)) return 400;
    if (!host_allowed(e->cfg, host)) return 400;
    if (trusted && header_get(r, "x-forwarded-proto", &proto) < 0) return 400;
    const char *scheme = host_is_loopback(host) ? "http" : "https";
    if (proto) {
        if (strcasecmp(proto, "https") == 0)
            scheme = "https";
        else if (strcasecmp(proto, "http") == 0)
            scheme = "http";
        else
            return 400;
    }
    const char *mp = e->cfg->mcp_path && e->cfg->mcp_path[0] ? e->cfg->mcp_path : "/mcp";
    char *mpn = norm_prefix(mp);
    if (!mpn) goto nomem;
    size_t n = strlen(scheme) + 3 + strlen(host) + strlen(mpn) + 1;
    *resource = malloc(n);
    if (*resource) {
        snprintf(*resource, n, "%s://%s%s", scheme, host, mpn);
        for (char *p = *resource + strlen(scheme) + 3; *p && *p != '/'; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    free(mpn);
    if (!*resource) goto nomem;
    mcp_err err = {0};
    *prm_url = mcp_prm_url_for(*resource, &err);
    if (!*prm_url) {
        free(*resource);
        *resource = NULL;
        return err.code == MCPAUTH_E_NOMEM ? MCPAUTH_E_NOMEM : 400;
    }
    return MCPAUTH_OK;
nomem:
    free(*resource);
    free(*prm_url);
    *resource = *prm_url = NULL;
    return MCPAUTH_E_NOMEM;
}

/* ---- metadata routes -------------------------------------------------------------------- */

static int strv_has(const mcp_strv v, const char *s) {
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

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
    if (strcmp(r->method, "OPTIONS") == 0) {
        json_t *h = json_array();
        const char *reqh = NULL;
        hdr(h, "Access-Control-Allow-Origin", "*");
        hdr(h, "Access-Control-Allow-Methods", MCP_CORS_METHODS);
        if (header_get(r, "access-control-request-headers", &reqh) == 1 && reqh &&
            cors_headers_ok(reqh))
            hdr(h, "Access-Control-Allow-Headers", reqh);
        hdr(h, "Access-Control-Max-Age", MCP_CORS_MAX_AGE);
        hdr(h, "Allow", MCP_CORS_METHODS);
        hdr(h, "Vary", "Access-Control-Request-Headers");
        if (!h || !headers_ok(h)) {
            json_decref(h);
            return MCPAUTH_E_NOMEM;
        }
        return emit_respond(204, h, "", out);
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
        json_t *h = json_array();
        hdr(h, "Allow", MCP_CORS_METHODS);
        hdr(h, "Access-Control-Allow-Origin", "*");
        return emit_error(405, "invalid_request", "method not allowed", h, out);
    }
    *handled = 0;
    return MCPAUTH_OK;
}

static int emit_document(const req *r, json_t *doc, char **out) {
    char *body = json_dumps(doc, JSON_COMPACT);
    if (!body) return MCPAUTH_E_NOMEM;
    json_t *h = json_array();
    hdr(h, "Content-Type", "application/json");
    hdr(h, "Access-Control-Allow-Origin", "*");
    if (!h || !headers_ok(h)) {
        json_decref(h);
        free(body);
        return MCPAUTH_E_NOMEM;
    }
    int rc = emit_respond(200, h, strcmp(r->method, "HEAD") == 0 ? "" : body, out);
    free(body);
    return rc;
}

static int handle_prm(const mcpauth_engine *e, const req *r, char **out) {
    int handled;
    int rc = metadata_preamble(r, out, &handled);
    if (handled) return rc;
    char *resource, *prm_url;
    rc = resolve_resource(e, r, &resource, &prm_url);
    if (rc == 400) return emit_error(400, "invalid_request", "invalid Host header", NULL, out);
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
        json_t *h = json_array();
        hdr(h, "Retry-After", MCP_RETRY_AFTER);
        hdr(h, "Access-Control-Allow-Origin", "*");
        return emit_error(503, "temporarily_unavailable", mcpauth_strerror(MCPAUTH_E_UPSTREAM), h,
                          out);
    }
    rc = emit_document(r, doc, out);
    json_decref(doc);
    return rc;
}

/* ---- protected routes ------------------------------------------------------------------- */

/* Every scope this request needs: requiredScopes, then path routes, then method routes. */
static int needed_scopes(const mcpauth_engine *e, req *r, const char *norm, mcp_strv *out) {
    const mcp_http_state *st = e->http_state;
    const mcp_strv req_scopes = e->cfg->required_scopes;
    for (size_t i = 0; req_scopes && req_scopes[i]; i++)
        if (mcp_strv_add_unique(out, req_scopes[i])) return MCPAUTH_E_NOMEM;
    for (size_t k = 0; k < st->n_routes; k++) {
        const mcp_route_scope *rs = &st->routes[k];
        if (!rs->is_path || !path_under2(r->path, norm, rs->key)) continue;
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
            if (rs->is_path || !strv_has(r->mcp_methods, rs->key)) continue;
            for (size_t i = 0; rs->scopes && rs->scopes[i]; i++)
                if (mcp_strv_add_unique(out, rs->scopes[i])) return MCPAUTH_E_NOMEM;
        }
    }
    return MCPAUTH_OK;
}

static int is_b64token_char(int c) {
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* "Bearer <b64token>" with exactly one space, scheme case-insensitive; leading and trailing
 * OWS (SP / HTAB) around the whole value is ignored. 1 ok (*tok, *tok_len), 0 malformed. */
static int parse_bearer(const char *v, const char **tok, size_t *tok_len) {
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
    while (n > 0 && (*v == ' ' || *v == '\t')) v++, n--;
    if (n < 8 || strncasecmp(v, "Bearer ", 7) != 0) return 0;
    const char *t = v + 7;
    size_t tl = n - 7, i = 0;
    while (i < tl && is_b64token_char((unsigned char)t[i])) i++;
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

static int emit_need_body(size_t max, char **out) {
    json_t *r = json_pack("{s:s,s:I}", "action", "need_body", "maxBytes", (json_int_t)max);
    return emit(r, out);
}

static int emit_host_verify(const char *tok, size_t tok_len, char **out) {
    json_t *t = json_stringn(tok, tok_len);
    json_t *r = t ? json_pack("{s:s,s:o}", "action", "host_verify", "token", t) : NULL;
    return emit(r, out);
}

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
    if (strcmp(r->method, "OPTIONS") == 0 &&
        header_get(r, "access-control-request-method", &acrm) == 1)
        return emit_pass(NULL, out);

    const mcp_http_state *st = e->http_state;
    /* mcpauth_route: a method-keyed scope needs the JSON-RPC message the host has not read */
    if (r->mode != REQ_LEGACY && st->all_method_scopes && !no_message(r->method) &&
        r->body == BODY_ABSENT)
        return emit_need_body(MCP_ROUTE_MAX_MCP_BODY, out);

    mcp_strv needed = NULL;
    char *resource = NULL, *prm_url = NULL;
    json_t *auth = NULL;
    mcp_err *err = &cx->err;
    int rc = needed_scopes(e, r, norm, &needed);
    if (rc != MCPAUTH_OK) goto done;
    rc = resolve_resource(e, r, &resource, &prm_url);
    if (rc == 400) {
        rc = emit_error(400, "invalid_request", "invalid Host header", NULL, out);
        goto done;
    }
    if (rc != MCPAUTH_OK) goto done;

    if (r->query && query_has_token(r->query)) {
        rc = fail_challenge(cx, r, 400, MCPAUTH_E_TOKEN_IN_QUERY, needed, prm_url, out);
        goto done;
    }
    const char *authz = NULL;
    int hr = header_get(r, "authorization", &authz);
    if (hr == 0 || (hr == 1 && authz && strspn(authz, " \t") == strlen(authz))) {
        rc = fail_challenge(cx, r, 401, MCPAUTH_E_TOKEN_MISSING, needed, prm_url, out);
        goto done;
    }
    const char *tok = NULL;
    size_t tok_len = 0;
    if (hr < 0 || !authz || !parse_bearer(authz, &tok, &tok_len)) {
        rc = fail_challenge(cx, r, 401, MCPAUTH_E_MALFORMED_HEADER, needed, prm_url, out);
        goto done;
    }
    int with_token = r->mode == REQ_LEGACY || (cx->flags & MCPAUTH_ROUTE_WITH_TOKEN);
    int vrc;
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
        unsigned vflags = (cx->flags & MCPAUTH_REQUEST_NONBLOCK) ? MCPAUTH_VERIFY_NONBLOCK : 0;
        vrc = mcp_engine_verify_json(e, tok, tok_len, vflags, &auth, err);
        if (vrc == MCPAUTH_OK && !with_token) json_object_del(auth, "accessToken");
    }
    if (vrc == MCPAUTH_E_WOULD_BLOCK || vrc == MCPAUTH_E_NOMEM) {
        rc = vrc;
    } else if (vrc == MCPAUTH_OK && !st->resource &&
               (vrc = host_resource_bound(e, auth, resource, err)) != MCPAUTH_OK) {
        rc = vrc == MCPAUTH_E_NOMEM ? vrc : fail_challenge(cx, r, 401, vrc, needed, prm_url, out);
    } else if (vrc == MCPAUTH_OK) {
        /* the engine's rule (userinfo.c): scopes and permissions form one set */
        if (mcp_scopes_check(auth, needed, err) == MCPAUTH_OK)
            rc = emit_pass(auth, out);
        else
            rc = fail_challenge(cx, r, 403, MCPAUTH_E_INSUFFICIENT_SCOPE, needed, prm_url, out);
    } else if (vrc == MCPAUTH_E_INSUFFICIENT_SCOPE) {
        rc = fail_challenge(cx, r, 403, MCPAUTH_E_INSUFFICIENT_SCOPE, needed, prm_url, out);
    } else if (vrc >= 10 && vrc <= 29) {
        /* MALFORMED_HEADER from the engine too: same 401 invalid_request form as above. */
        rc = fail_challenge(cx, r, 401, vrc, needed, prm_url, out);
    } else if (vrc == MCPAUTH_E_KEYS_UNAVAILABLE || vrc == MCPAUTH_E_UPSTREAM) {
        json_t *h = json_array();
        hdr(h, "Retry-After", MCP_RETRY_AFTER);
        cx->failed = 1;
        rc = emit_error_code(503, "temporarily_unavailable", mcpauth_strerror(vrc), h,
                             r->mode != REQ_LEGACY ? vrc : 0, out);
    } else {
        cx->failed = 1;
        rc = emit_error_code(500, "server_error", mcpauth_strerror(MCPAUTH_E_INTERNAL), NULL,
                             r->mode != REQ_LEGACY ? MCPAUTH_E_INTERNAL : 0, out);
    }
done:
    json_decref(auth);
    mcp_strv_free(needed);
    free(resource);
    free(prm_url);
    return rc;
}

/* ---- OAuth proxy ------------------------------------------------------------------------ */

/* 0: not a proxy route; 1: answered (*out set); else an error code. The proxy sees the parsed
 * request with path and query split as the router split them. */
static int offer_to_proxy(const mcpauth_engine *e, req *r, unsigned flags, char **out) {
    if (json_object_set_new(r->root, "path", json_string(r->path)) != 0 ||
        json_object_set_new(r->root, "query", r->query ? json_string(r->query) : json_null()) != 0)
        return MCPAUTH_E_NOMEM;
    json_t *resp = NULL;
    mcp_err err = {0};
    int rc = mcp_proxy_handle(e, r->root, (flags & MCPAUTH_REQUEST_NONBLOCK) != 0, &resp, &err);
    if (rc != 1) {
        json_decref(resp);
        return rc;
    }
    rc = emit(resp, out);
    return rc == MCPAUTH_OK ? 1 : rc;
}

/* ---- public API ------------------------------------------------------------------------- */

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
        rc = emit_error(414, "invalid_request", "request URI too long", NULL, out);
    } else if (pr == 431) {
        rc = emit_error(431, "invalid_request", "request header fields too large", NULL, out);
    } else if (r.path[0] != '/') {
        /* "OPTIONS *" is no resource; absolute-form and other targets are refused so that no
         * upstream can map them onto a protected path behind our back. */
        if (strcmp(r.path, "*") == 0 && strcmp(r.method, "OPTIONS") == 0)
            rc = emit_pass(NULL, out);
        else
            rc = emit_error(400, "invalid_request", "invalid request target", NULL, out);
    } else if (strv_has(st->prm_routes, r.path)) {
        rc = handle_prm(engine, &r, out);
    } else if (strv_has(st->as_routes, r.path) ||
               (engine->proxy_state && proxy_as_route(engine, r.path))) {
        rc = handle_as(engine, &r, flags, out);
    } else if (mode != REQ_LEGACY && r.body != BODY_PRESENT &&
               mcp_proxy_wants_body(engine, r.path, r.method)) {
        /* an OAuth proxy form: the proxy reads the body */
        if (r.body == BODY_ABSENT)
            rc = emit_need_body(MCP_ROUTE_MAX_FORM_BODY, out);
        else
            rc = emit_error(413, "invalid_request", "request body too large", NULL, out);
    } else if (engine->proxy_state && (rc = offer_to_proxy(engine, &r, flags, out)) != 0) {
        if (rc == 1) rc = MCPAUTH_OK;
    } else if (!(norm = normalize_path(r.path))) {
        rc = MCPAUTH_E_NOMEM;
    } else if (!is_protected(st, r.path, norm)) {
        rc = emit_pass(NULL, out);
    } else {
        rc = handle_protected(engine, &r, norm, cx, out);
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
    route_ctx cx;
    memset(&cx, 0, sizeof cx);
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
    route_ctx cx;
    memset(&cx, 0, sizeof cx);
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
    route_ctx cx;
    memset(&cx, 0, sizeof cx);
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
