/* cimd.c - OAuth Client ID Metadata Documents: a client_id that is an https URL names a JSON
 * document describing the client. The URL is checked (https, a path, no dot segments, no
 * userinfo or fragment), its host must resolve to public addresses only (loopback is allowed
 * only with allowLoopbackClientMetadata, for tests), the fetch is bounded in size and time,
 * the document's client_id must equal the URL exactly, and its redirect URIs obey the same
 * rules as dynamic registration. Valid documents are cached in memory (Cache-Control max-age
 * within [60 s, 1 h], else clientMetadataCacheSeconds; no-store is honoured).
 *
 * Limitation: the address check resolves the name before the HTTP client does; a resolver
 * that answers differently the second time (DNS rebinding) is not excluded by this check. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/json_strict.h"
#include "proxy/proxy_impl.h"

#define CIMD_MIN_TTL 60
#define CIMD_MAX_TTL 3600
#define CIMD_CONNECT_MS 3000L
#define CIMD_TOTAL_MS 5000L
#define CIMD_MAX_ADDRS 32

typedef struct cimd_entry {
    char *url;
    char *name;
    mcp_strv redirect_uris;
    mcp_strv grant_types;
    int64_t expires;
    uint64_t used;
} cimd_entry;

struct mcp_cimd_cache {
    pthread_mutex_t mu;
    cimd_entry *e;
    size_t n, cap;
    uint64_t tick;
};

static void entry_clear(cimd_entry *x) {
    free(x->url);
    free(x->name);
    mcp_strv_free(x->redirect_uris);
    mcp_strv_free(x->grant_types);
    memset(x, 0, sizeof *x);
}

mcp_cimd_cache *mcp_cimd_cache_new(size_t capacity) {
    if (capacity == 0) capacity = 1;
    mcp_cimd_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->e = calloc(capacity, sizeof *c->e);
    if (!c->e || pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c->e);
        free(c);
        return NULL;
    }
    c->cap = capacity;
    return c;
}

void mcp_cimd_cache_free(mcp_cimd_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) entry_clear(&c->e[i]);
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static mcp_strv strv_dup(const mcp_strv v) {
    size_t n = mcp_strv_len(v);
    mcp_strv out = calloc(n + 1, sizeof *out);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = mcp_strdup(v[i]);
        if (!out[i]) {
            mcp_strv_free(out);
            return NULL;
        }
    }
    return out;
}

static int fill_client(mcp_proxy_client *out, const char *url, const char *name, const mcp_strv ru,
                       const mcp_strv gt) {
    memset(out, 0, sizeof *out);
    out->client_id = mcp_strdup(url);
    out->name = mcp_strdup(name);
    out->redirect_uris = strv_dup(ru);
    out->grant_types = strv_dup(gt);
    out->is_cimd = 1;
    if (!out->client_id || !out->name || !out->redirect_uris || !out->grant_types) {
        mcp_proxy_client_clear(out);
        return -1;
    }
    return 0;
}

/* 1 hit (out filled), 0 miss, -1 no memory. */
static int cache_get(mcp_cimd_cache *c, const char *url, int64_t now, mcp_proxy_client *out) {
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        cimd_entry *x = &c->e[i];
        if (strcmp(x->url, url) != 0) continue;
        if (x->expires <= now) break;
        x->used = ++c->tick;
        rc = fill_client(out, x->url, x->name, x->redirect_uris, x->grant_types) ? -1 : 1;
        break;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static void cache_put(mcp_cimd_cache *c, const mcp_proxy_client *cl, int64_t expires, int64_t now) {
    cimd_entry nx = {0};
    nx.url = mcp_strdup(cl->client_id);
    nx.name = mcp_strdup(cl->name);
    nx.redirect_uris = strv_dup(cl->redirect_uris);
    nx.grant_types = strv_dup(cl->grant_types);
    nx.expires = expires;
    if (!nx.url || !nx.name || !nx.redirect_uris || !nx.grant_types) {
        entry_clear(&nx);
        return;
    }
    pthread_mutex_lock(&c->mu);
    nx.used = ++c->tick;
    size_t slot = c->n;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->e[i].url, nx.url) == 0 || c->e[i].expires <= now) {
            slot = i;
            break;
        }
    }
    if (slot == c->cap) { /* full: evict the least recently used */
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->e[i].used < c->e[slot].used) slot = i;
    }
    if (slot < c->n)
        entry_clear(&c->e[slot]);
    else
        c->n++;
    c->e[slot] = nx;
    pthread_mutex_unlock(&c->mu);
}

/* ---- URL and address checks -------------------------------------------------------------- */

int mcp_cimd_is_url(const char *client_id, int allow_loopback) {
    if (!client_id) return 0;
    if (strncmp(client_id, "https://", 8) == 0) return 1;
    if (allow_loopback && strncmp(client_id, "http://", 7) == 0) {
        int https;
        char *host = NULL;
        unsigned port;
        const char *rest;
        if (mcp_http_uri_split(client_id, &https, &host, &port, &rest) != 0) return 0;
        int lb = strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
                 strncmp(host, "127.", 4) == 0;
        free(host);
        return lb;
    }
    return 0;
}

static int v4_public(const unsigned char *a, int *loopback) {
    *loopback = a[0] == 127;
    if (a[0] == 0 || a[0] == 10 || a[0] == 127) return 0;
    if (a[0] == 100 && (a[1] & 0xC0) == 64) return 0;    /* 100.64/10 CGNAT */
    if (a[0] == 169 && a[1] == 254) return 0;            /* link-local */
    if (a[0] == 172 && (a[1] & 0xF0) == 16) return 0;    /* 172.16/12 */
    if (a[0] == 192 && a[1] == 168) return 0;            /* 192.168/16 */
    if (a[0] == 192 && a[1] == 0 && a[2] == 0) return 0; /* 192.0.0/24 */
    if (a[0] == 192 && a[1] == 0 && a[2] == 2) return 0; /* TEST-NET-1 */
    if (a[0] == 198 && (a[1] & 0xFE) == 18) return 0;    /* 198.18/15 benchmarking */
    if (a[0] == 198 && a[1] == 51 && a[2] == 100) return 0;
    if (a[0] == 203 && a[1] == 0 && a[2] == 113) return 0;
    if (a[0] >= 224) return 0; /* multicast, reserved, broadcast */
    return 1;
}

static int v6_public(const unsigned char *a, int *loopback) {
    static const unsigned char zero[16] = {0};
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    *loopback = memcmp(a, zero, 15) == 0 && a[15] == 1;
    if (*loopback) return 0;
    if (memcmp(a, zero, 16) == 0) return 0;
    if (memcmp(a, v4mapped, 12) == 0 || memcmp(a, nat64, 12) == 0 || memcmp(a, zero, 12) == 0)
        return v4_public(a + 12, loopback);
    if ((a[0] & 0xFE) == 0xFC) return 0;                 /* fc00::/7 unique local */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0x80) return 0; /* fe80::/10 link-local */
    if (a[0] == 0xFE && (a[1] & 0xC0) == 0xC0) return 0; /* fec0::/10 site-local */
    if (a[0] == 0xFF) return 0;                          /* multicast */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return 0; /* doc */
    if (a[0] == 0x20 && a[1] == 0x02) return 0; /* 6to4 may embed anything */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) return 0; /* Teredo */
    return 1;
}

/* MCPAUTH_OK when every address of host is public (or loopback when allowed). */
static int check_addresses(const char *host, int allow_loopback, mcp_err *err) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int g = getaddrinfo(host, NULL, &hints, &res);
    if (g != 0 || !res) {
        if (res) freeaddrinfo(res);
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "client metadata host does not resolve");
    }
    int rc = MCPAUTH_OK, n = 0;
    for (struct addrinfo *ai = res; ai && rc == MCPAUTH_OK; ai = ai->ai_next) {
        if (++n > CIMD_MAX_ADDRS) break;
        int pub = 0, lb = 0;
        if (ai->ai_family == AF_INET) {
            const struct sockaddr_in *sa = (const struct sockaddr_in *)(const void *)ai->ai_addr;
            pub = v4_public((const unsigned char *)&sa->sin_addr, &lb);
        } else if (ai->ai_family == AF_INET6) {
            const struct sockaddr_in6 *sa = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
            pub = v6_public((const unsigned char *)&sa->sin6_addr, &lb);
        }
        if (!pub && !(lb && allow_loopback))
            rc = mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                             "client metadata URL resolves to a non-public address");
    }
    freeaddrinfo(res);
    return rc;
}

/* The fetch's own check (mcp_http_opts.addr_ok): the address actually connected to must be
 * public too (a name that resolved to a public address for check_addresses may resolve to
 * another one for the connection). ctx: allow loopback (non-NULL). */
static int connect_addr_ok(const struct sockaddr *sa, void *ctx) {
    int lb = 0, pub = 0;
    if (sa->sa_family == AF_INET)
        pub = v4_public(
            (const unsigned char *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr, &lb);
    else if (sa->sa_family == AF_INET6)
        pub = v6_public(
            (const unsigned char *)&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
            &lb);
    return pub || (lb && ctx != NULL);
}

static int has_dot_segment(const char *path, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (path[i] == '/') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < n && path[i] != '/') i++;
        size_t l = i - s;
        if ((l == 1 && path[s] == '.') || (l == 2 && path[s] == '.' && path[s + 1] == '.'))
            return 1;
        if (l >= 3 && (strncmp(path + s, "%2e", 3) == 0 || strncmp(path + s, "%2E", 3) == 0))
            return 1;
        if (l >= 2 && path[s] == '.' &&
            (strncmp(path + s + 1, "%2e", 3) == 0 || strncmp(path + s + 1, "%2E", 3) == 0))
            return 1;
    }
    return 0;
}

static int check_url(const char *url, int allow_loopback, char **host, mcp_err *err) {
    size_t n = strnlen(url, MCP_PX_MAX_URI + 1);
    if (n > MCP_PX_MAX_URI)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client_id URL is too long");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '#' || c == '\\')
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                               "client_id URL has a fragment or invalid characters");
    }
    int https = 0;
    unsigned port = 0;
    const char *rest = NULL;
    int s = mcp_http_uri_split(url, &https, host, &port, &rest);
    if (s == -2) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (s != 0)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client_id URL is not a valid https URL (no userinfo allowed)");
    if (!https && !(allow_loopback && mcp_cimd_is_url(url, 1))) {
        free(*host);
        *host = NULL;
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client_id URL must use https");
    }
    size_t pl = strcspn(rest, "?");
    if (pl < 2 || rest[0] != '/' || has_dot_segment(rest, pl)) {
        free(*host);
        *host = NULL;
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client_id URL must have a path without dot segments");
    }
    return MCPAUTH_OK;
}

/* ---- the document ------------------------------------------------------------------------ */

static int doc_strv(json_t *arr, size_t max, mcp_strv *out) {
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > max) return -1;
    mcp_strv v = calloc(n + 1, sizeof *v);
    if (!v) return -2;
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(arr, i);
        if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
            mcp_strv_free(v);
            return -1;
        }
        v[i] = mcp_strdup(json_string_value(x));
        if (!v[i]) {
            mcp_strv_free(v);
            return -2;
        }
    }
    *out = v;
    return 0;
}

static int validate_doc(const mcp_proxy *p, const char *url, json_t *doc, mcp_proxy_client *out,
                        mcp_err *err) {
    memset(out, 0, sizeof *out);
    json_t *cid = json_object_get(doc, "client_id");
    if (!json_is_string(cid) || strcmp(json_string_value(cid), url) != 0 ||
        json_string_length(cid) != strlen(url))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document: client_id is not the document's URL");
    json_t *name = json_object_get(doc, "client_name");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > MCP_PX_MAX_CLIENT_NAME ||
        strlen(json_string_value(name)) != json_string_length(name))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document: client_name is missing or invalid");
    for (const unsigned char *c = (const unsigned char *)json_string_value(name); *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                               "client metadata document: client_name has control characters");
    json_t *am = json_object_get(doc, "token_endpoint_auth_method");
    if (am && (!json_is_string(am) || strcmp(json_string_value(am), "none") != 0))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document: only token_endpoint_auth_method \"none\" "
                           "is supported");
    json_t *rt = json_object_get(doc, "response_types");
    if (rt) {
        size_t i;
        json_t *x;
        int has_code = 0;
        if (!json_is_array(rt))
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                               "client metadata document: response_types is not an array");
        json_array_foreach(rt, i, x) if (json_is_string(x) &&
                                         strcmp(json_string_value(x), "code") == 0) has_code = 1;
        if (!has_code)
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                               "client metadata document: response_types lacks \"code\"");
    }
    mcp_strv ru = NULL, gt = NULL;
    int r = doc_strv(json_object_get(doc, "redirect_uris"), MCP_PX_MAX_REDIRECTS, &ru);
    if (r == -2) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (r != 0)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document: redirect_uris must be 1-%d strings",
                           MCP_PX_MAX_REDIRECTS);
    for (size_t i = 0; ru[i]; i++) {
        const char *why = mcp_redirect_uri_problem(ru[i]);
        int allowed = !p->allowed_redirects;
        for (size_t k = 0; !allowed && p->allowed_redirects[k]; k++)
            allowed = mcp_redirect_pattern_match(p->allowed_redirects[k], ru[i]);
        if (why || !allowed) {
            mcp_strv_free(ru);
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client metadata document: %s",
                               why ? why : "redirect URI is not allowed by allowedRedirectUris");
        }
    }
    json_t *g = json_object_get(doc, "grant_types");
    if (g) {
        r = doc_strv(g, 8, &gt);
        if (r == -2) {
            mcp_strv_free(ru);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
        if (r != 0) {
            mcp_strv_free(ru);
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                               "client metadata document: grant_types is invalid");
        }
    } else {
        gt = strv_dup(p->grant_types);
        if (!gt) {
            mcp_strv_free(ru);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    out->client_id = mcp_strdup(url);
    out->name = mcp_strdup(json_string_value(name));
    out->redirect_uris = ru;
    out->grant_types = gt;
    out->is_cimd = 1;
    if (!out->client_id || !out->name) {
        mcp_proxy_client_clear(out);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    return MCPAUTH_OK;
}

int mcp_cimd_resolve(const mcp_proxy *p, const char *client_id, int nonblock, mcp_proxy_client *out,
                     mcp_err *err) {
    memset(out, 0, sizeof *out);
    if (!p->cimd || !mcp_cimd_is_url(client_id, p->allow_loopback_cimd))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client_id is not a metadata URL");
    int64_t now = mcp_now();
    int hit = cache_get(p->cimd, client_id, now, out);
    if (hit < 0) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (hit == 1) return MCPAUTH_OK;

    char *host = NULL;
    int rc = check_url(client_id, p->allow_loopback_cimd, &host, err);
    if (rc != MCPAUTH_OK) return rc;
    if (nonblock) {
        free(host);
        return mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "client metadata must be fetched");
    }
    rc = check_addresses(host, p->allow_loopback_cimd, err);
    free(host);
    if (rc != MCPAUTH_OK) return rc;

    mcp_http_opts o;
    memset(&o, 0, sizeof o);
    /* checked again on the socket that opens, and never through a proxy from the environment
     * (the proxy would connect where it likes: the check would be about another connection).
     * Through the configured clientMetadataProxy, the socket that opens is the proxy's: only
     * the check above, of what this host resolves, applies; the proxy's own egress policy
     * does the rest (docs/proxy.md). */
    if (p->cimd_proxy) {
        o.proxy = p->cimd_proxy;
    } else {
        o.addr_ok = connect_addr_ok;
        o.addr_ctx = p->allow_loopback_cimd ? (void *)p : NULL;
        o.direct = 1;
    }
    o.connect_timeout_ms =
        p->http.connect_timeout_ms > 0 && p->http.connect_timeout_ms < CIMD_CONNECT_MS
            ? p->http.connect_timeout_ms
            : CIMD_CONNECT_MS;
    o.total_timeout_ms = p->http.total_timeout_ms > 0 && p->http.total_timeout_ms < CIMD_TOTAL_MS
                             ? p->http.total_timeout_ms
                             : CIMD_TOTAL_MS;
    o.max_body = MCP_PX_MAX_CIMD_BODY;
    const char *headers[] = {"Accept: application/json", NULL};
    mcp_http_response resp;
    memset(&resp, 0, sizeof resp);
    rc = mcp_http_get(client_id, &o, headers, &resp, err);
    if (rc != MCPAUTH_OK) {
        mcp_http_response_clear(&resp);
        if (rc == MCPAUTH_E_NOMEM) return rc;
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "client metadata document unreachable");
    }
    if (resp.status != 200) {
        long st = resp.status;
        mcp_http_response_clear(&resp);
        if (st >= 500 || st == 429)
            return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "client metadata server answered %ld", st);
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document not found (HTTP %ld)", st);
    }
    mcp_err perr = {0, {0}};
    json_t *doc = mcp_json_parse(resp.body, resp.body_len, 8, 1, "client metadata document",
                                 MCPAUTH_E_CLAIM_INVALID, &perr);
    int64_t max_age = resp.max_age;
    int no_store = resp.no_store;
    mcp_http_response_clear(&resp);
    if (!doc)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "client metadata document is not a JSON object");
    rc = validate_doc(p, client_id, doc, out, err);
    json_decref(doc);
    if (rc != MCPAUTH_OK) return rc;
    if (!no_store) {
        int64_t ttl = max_age >= 0 ? max_age : p->cimd_ttl;
        if (ttl < CIMD_MIN_TTL) ttl = CIMD_MIN_TTL;
        if (ttl > CIMD_MAX_TTL) ttl = CIMD_MAX_TTL;
        cache_put(p->cimd, out, now + ttl, now);
    }
    return MCPAUTH_OK;
}
