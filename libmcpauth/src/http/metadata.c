/* metadata.c - RFC 9728 protected resource metadata and RFC 8414 authorization server
 * metadata: mirrored from the upstream issuer (TTL cache, single flight, last good copy on
 * outage) or synthesized from the configured endpoints. */
#include "http/metadata.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/http_client.h"
#include "util/json_strict.h"

/* ---- helpers ---------------------------------------------------------------------------- */

int mcp_strv_add_unique(mcp_strv *v, const char *s) {
    size_t n = 0;
    if (*v) {
        for (; (*v)[n]; n++)
            if (strcmp((*v)[n], s) == 0) return 0;
    }
    char *c = mcp_strdup(s);
    if (!c) return -1;
    char **nv = realloc(*v, (n + 2) * sizeof *nv);
    if (!nv) {
        free(c);
        return -1;
    }
    nv[n] = c;
    nv[n + 1] = NULL;
    *v = nv;
    return 0;
}

static char *concat3(const char *a, const char *b, const char *c) {
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc);
    s[la + lb + lc] = '\0';
    return s;
}

int mcp_url_split(const char *url, const char *what, char **origin, char **path, mcp_err *err) {
    *origin = *path = NULL;
    if (!url) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s is not set", what);
    size_t skip;
    if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s must be an absolute http(s) URL", what);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\')
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s contains an invalid character", what);
    size_t hend = skip + strcspn(url + skip, "/?#");
    if (hend == skip) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s has no host", what);
    if (memchr(url + skip, '@', hend - skip))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s must not contain userinfo", what);
    size_t pend = hend + strcspn(url + hend, "?#");
    while (pend > hend && url[pend - 1] == '/') pend--;
    *origin = mcp_strndup(url, hend);
    *path = mcp_strndup(url + hend, pend - hend);
    if (!*origin || !*path) {
        free(*origin);
        free(*path);
        *origin = *path = NULL;
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    return MCPAUTH_OK;
}

char *mcp_prm_url_for(const char *resource, mcp_err *err) {
    char *origin, *path;
    if (mcp_url_split(resource, "resource", &origin, &path, err) != MCPAUTH_OK) return NULL;
    char *u = concat3(origin, MCP_PRM_WELL_KNOWN, path);
    free(origin);
    free(path);
    if (!u) mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    return u;
}

/* ---- protected resource metadata -------------------------------------------------------- */

json_t *mcp_prm_document(const mcp_config *cfg, const mcp_http_state *st, const char *resource,
                         const char *as_issuer) {
    json_t *doc = json_object();
    if (!doc) return NULL;
    int bad = json_object_set_new(doc, "resource", json_string(resource)) != 0;
    if (!as_issuer) as_issuer = cfg->issuer;
    if (as_issuer && as_issuer[0]) {
        json_t *as = json_array();
        bad |= !as || json_array_append_new(as, json_string(as_issuer)) != 0;
        bad |= json_object_set_new(doc, "authorization_servers", as) != 0;
    }
    /* scopes_supported: the configured list (a preset's included), then every scope the server
     * may ask for (requiredScopes, routeScopes): a client reading the document must be able to
     * learn the scopes it has to request. */
    mcp_strv scopes = NULL;
    const mcp_strv src = cfg->scopes_supported;
    for (size_t i = 0; src && src[i]; i++) bad |= mcp_strv_add_unique(&scopes, src[i]) != 0;
    for (size_t i = 0; cfg->required_scopes && cfg->required_scopes[i]; i++)
        bad |= mcp_strv_add_unique(&scopes, cfg->required_scopes[i]) != 0;
    for (size_t r = 0; st && r < st->n_routes; r++)
        for (size_t i = 0; st->routes[r].scopes && st->routes[r].scopes[i]; i++)
            bad |= mcp_strv_add_unique(&scopes, st->routes[r].scopes[i]) != 0;
    if (scopes && scopes[0])
        bad |= json_object_set_new(doc, "scopes_supported", mcp_strv_to_json(scopes)) != 0;
    mcp_strv_free(scopes);
    json_t *bm = json_array();
    bad |= !bm || json_array_append_new(bm, json_string("header")) != 0;
    bad |= json_object_set_new(doc, "bearer_methods_supported", bm) != 0;
    if (cfg->resource_name && cfg->resource_name[0])
        bad |= json_object_set_new(doc, "resource_name", json_string(cfg->resource_name)) != 0;
    if (cfg->resource_documentation && cfg->resource_documentation[0])
        bad |= json_object_set_new(doc, "resource_documentation",
                                   json_string(cfg->resource_documentation)) != 0;
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- authorization server metadata ------------------------------------------------------ */

static int ensure_pkce(json_t *doc) {
    if (json_object_get(doc, "code_challenge_methods_supported")) return 0;
    json_t *m = json_array();
    if (!m || json_array_append_new(m, json_string("S256")) != 0) {
        json_decref(m);
        return -1;
    }
    return json_object_set_new(doc, "code_challenge_methods_supported", m);
}

int mcp_as_synthesize(const mcp_config *cfg, json_t **out, mcp_err *err) {
    *out = NULL;
    if (!cfg->issuer || !cfg->authorization_endpoint || !cfg->token_endpoint)
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM,
                           "authorization server metadata unavailable and issuer, "
                           "authorizationEndpoint, tokenEndpoint not all configured");
    json_t *doc = json_object();
    if (!doc) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    int bad = json_object_set_new(doc, "issuer", json_string(cfg->issuer)) != 0;
    bad |= json_object_set_new(doc, "authorization_endpoint",
                               json_string(cfg->authorization_endpoint)) != 0;
    bad |= json_object_set_new(doc, "token_endpoint", json_string(cfg->token_endpoint)) != 0;
    if (cfg->registration_endpoint)
        bad |= json_object_set_new(doc, "registration_endpoint",
                                   json_string(cfg->registration_endpoint)) != 0;
    if (cfg->userinfo_endpoint)
        bad |=
            json_object_set_new(doc, "userinfo_endpoint", json_string(cfg->userinfo_endpoint)) != 0;
    if (cfg->jwks_url) bad |= json_object_set_new(doc, "jwks_uri", json_string(cfg->jwks_url)) != 0;
    if (cfg->scopes_supported && cfg->scopes_supported[0])
        bad |= json_object_set_new(doc, "scopes_supported",
                                   mcp_strv_to_json(cfg->scopes_supported)) != 0;
    json_t *rt = json_array();
    bad |= !rt || json_array_append_new(rt, json_string("code")) != 0;
    bad |= json_object_set_new(doc, "response_types_supported", rt) != 0;
    json_t *gt;
    if (cfg->grant_types_supported && cfg->grant_types_supported[0]) {
        gt = mcp_strv_to_json(cfg->grant_types_supported);
    } else {
        gt = json_array();
        bad |= !gt || json_array_append_new(gt, json_string("authorization_code")) != 0 ||
               json_array_append_new(gt, json_string("refresh_token")) != 0;
    }
    bad |= json_object_set_new(doc, "grant_types_supported", gt) != 0;
    bad |= ensure_pkce(doc) != 0;
    if (bad) {
        json_decref(doc);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    *out = doc;
    return MCPAUTH_OK;
}

struct mcp_as_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    json_t *doc;         /* last good upstream document (PKCE ensured) */
    int64_t fresh_until; /* doc is served without I/O until then */
    int64_t retry_at;    /* after a failure: no new fetch before then */
    int fetching;
    uint64_t fetches;
    json_t *synth; /* synthesized fallback, built on first need */
};

mcp_as_cache *mcp_as_cache_new(void) {
    mcp_as_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    if (pthread_cond_init(&c->cv, NULL) != 0) {
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    return c;
}

void mcp_as_cache_free(mcp_as_cache *c) {
    if (!c) return;
    json_decref(c->doc);
    json_decref(c->synth);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t mcp_as_cache_fetch_count(mcp_as_cache *c) {
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->fetches;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* One GET: a JSON object with the configured issuer, or NULL. Counts the request. */
static json_t *fetch_one(const mcp_config *cfg, mcp_as_cache *c, const char *url) {
    mcp_err err = {0};
    if (mcp_url_check(url, "issuer", &err) != MCPAUTH_OK) return NULL;
    mcp_http_opts opts = {.connect_timeout_ms = cfg->connect_timeout_ms,
                          .total_timeout_ms = cfg->timeout_ms,
                          .max_body = cfg->max_fetch_bytes};
    const char *const headers[] = {"Accept: application/json", NULL};
    mcp_http_response resp = {0};
    pthread_mutex_lock(&c->mu);
    c->fetches++;
    pthread_mutex_unlock(&c->mu);
    int rc = mcp_http_get(url, &opts, headers, &resp, &err);
    json_t *doc = NULL;
    if (rc == MCPAUTH_OK && resp.status == 200 && resp.body) {
        doc = mcp_json_parse(resp.body, resp.body_len, MCP_JSON_MAX_DEPTH, 1,
                             "authorization server metadata", MCPAUTH_E_UPSTREAM, &err);
        if (doc) {
            const char *iss = json_string_value(json_object_get(doc, "issuer"));
            if (!iss || strcmp(iss, cfg->issuer) != 0 || ensure_pkce(doc) != 0) {
                json_decref(doc);
                doc = NULL;
            }
        }
    }
    mcp_http_response_clear(&resp);
    return doc;
}

static json_t *fetch_upstream(const mcp_config *cfg, mcp_as_cache *c) {
    char *origin, *path;
    mcp_err err = {0};
    if (mcp_url_split(cfg->issuer, "issuer", &origin, &path, &err) != MCPAUTH_OK) return NULL;
    json_t *doc = NULL;
    char *u = concat3(origin, MCP_ASM_WELL_KNOWN, path);
    if (u) doc = fetch_one(cfg, c, u);
    free(u);
    if (!doc) {
        /* OIDC Discovery: the issuer with any trailing '/' removed, then the suffix. */
        size_t l = strlen(cfg->issuer);
        while (l > 0 && cfg->issuer[l - 1] == '/') l--;
        char *iss = mcp_strndup(cfg->issuer, l);
        u = iss ? concat3(iss, MCP_OIDC_WELL_KNOWN, "") : NULL;
        if (u) doc = fetch_one(cfg, c, u);
        free(u);
        free(iss);
    }
    free(origin);
    free(path);
    return doc;
}

/* Under c->mu: the fallback after a failure. */
static int serve_fallback(const mcp_config *cfg, mcp_as_cache *c, json_t **out, mcp_err *err) {
    if (c->doc) {
        *out = json_incref(c->doc);
        return MCPAUTH_OK;
    }
    if (!c->synth) {
        int rc = mcp_as_synthesize(cfg, &c->synth, err);
        if (rc != MCPAUTH_OK) return rc;
    }
    *out = json_incref(c->synth);
    return MCPAUTH_OK;
}

int mcp_as_metadata_get(const struct mcpauth_engine *e, mcp_as_cache *c, int nonblock, json_t **out,
                        mcp_err *err) {
    *out = NULL;
    const mcp_config *cfg = e->cfg;
    if (!c || !cfg->issuer) return mcp_err_set(err, MCPAUTH_E_CONFIG, "issuer is not configured");
    int64_t ttl = cfg->metadata_ttl > 0 ? cfg->metadata_ttl : 0;
    int64_t backoff = ttl < 30 ? (ttl > 0 ? ttl : 1) : 30;
    int rc;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        int64_t now = mcp_now();
        if (c->doc && now < c->fresh_until) {
            *out = json_incref(c->doc);
            rc = MCPAUTH_OK;
            break;
        }
        if (now < c->retry_at) {
            rc = serve_fallback(cfg, c, out, err);
            break;
        }
        if (nonblock) {
            rc = mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK,
                             "authorization server metadata must be fetched");
            break;
        }
        if (c->fetching) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        c->fetching = 1;
        pthread_mutex_unlock(&c->mu);
        json_t *doc = fetch_upstream(cfg, c);
        pthread_mutex_lock(&c->mu);
        c->fetching = 0;
        pthread_cond_broadcast(&c->cv);
        now = mcp_now();
        if (doc) {
            json_decref(c->doc);
            c->doc = doc;
            c->fresh_until = now + ttl;
            c->retry_at = 0;
            *out = json_incref(doc);
            rc = MCPAUTH_OK;
        } else {
            c->retry_at = now + backoff;
            rc = serve_fallback(cfg, c, out, err);
        }
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}
