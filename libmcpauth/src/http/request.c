/* request.c - the HTTP request model (request.h): one strict pass over the request JSON, no
 * tree. Strings are decoded once into one buffer; the members the router and the proxy read are
 * checked here, in the order the router answers them (malformed first, then 414, then 431). */
#include "http/request.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/json_strict.h"

#define MAX_COOKIES 64
#define MAX_DEPTH 8 /* of unknown members' values */

static int is_tchar(int c) { return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL); }

/* A growable array of n elements of size `size`: room for one more. 0 or -1. */
static int grow(void *arrp, size_t *cap, size_t n, size_t size) {
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 8;
    void *p = realloc(*(void **)arrp, nc * size);
    if (!p) return -1;
    *(void **)arrp = p;
    *cap = nc;
    return 0;
}

typedef struct parse_state {
    mcp_jreader rd;
    size_t hcap, vcap, mcap;
    int bad;       /* a member of the wrong type: INVALID_ARGUMENT once the document is read */
    int too_large; /* 431 once the document is valid */
} parse_state;

static int add_value(parse_state *ps, mcp_http_req *r, const char *s, size_t n) {
    if (grow(&r->values, &ps->vcap, r->n_values, sizeof *r->values) != 0) return -1;
    r->values[r->n_values].s = s;
    r->values[r->n_values].n = n;
    r->n_values++;
    if (n > MCP_REQ_MAX_HEADER_VALUE) ps->too_large = 1;
    return 0;
}

/* "headers": an object of strings or arrays of strings (or null). */
static int read_headers(parse_state *ps, mcp_http_req *r) {
    mcp_jreader *rd = &ps->rd;
    int lit = mcp_jreader_literal(rd);
    if (lit == 0) return 0;
    if (lit > 0 || !mcp_jreader_eat(rd, '{')) {
        ps->bad = 1;
        return mcp_jreader_skip(rd, 1);
    }
    if (mcp_jreader_eat(rd, '}')) return 0;
    for (;;) {
        const char *name, *v;
        size_t nl, vl;
        if (mcp_jreader_string(rd, &name, &nl) != 0) return -1;
        if (!mcp_jreader_eat(rd, ':')) return mcp_jreader_fail(rd, "':' expected");
        if (r->n_headers > MCP_REQ_MAX_HEADERS) ps->too_large = 1; /* and no more O(n^2) */
        for (size_t i = 0; !ps->too_large && i < r->n_headers; i++)
            if (strcmp(r->headers[i].name, name) == 0)
                return mcp_jreader_fail(rd, "duplicate object key");
        if (grow(&r->headers, &ps->hcap, r->n_headers, sizeof *r->headers) != 0) {
            rd->nomem = 1;
            return -1;
        }
        mcp_req_header *h = &r->headers[r->n_headers++];
        h->name = name;
        h->first = r->n_values;
        h->count = 0;
        int c = mcp_jreader_peek(rd);
        if (c == '"') {
            if (mcp_jreader_string(rd, &v, &vl) != 0) return -1;
            if (add_value(ps, r, v, vl) != 0) return rd->nomem = 1, -1;
            h->count = 1;
        } else if (c == '[') {
            mcp_jreader_eat(rd, '[');
            if (!mcp_jreader_eat(rd, ']')) {
                for (;;) {
                    if (mcp_jreader_peek(rd) == '"') {
                        if (mcp_jreader_string(rd, &v, &vl) != 0) return -1;
                        if (add_value(ps, r, v, vl) != 0) return rd->nomem = 1, -1;
                        h->count++;
                    } else {
                        ps->bad = 1;
                        if (mcp_jreader_skip(rd, 3) != 0) return -1;
                    }
                    if (mcp_jreader_eat(rd, ',')) continue;
                    if (mcp_jreader_eat(rd, ']')) break;
                    return mcp_jreader_fail(rd, "',' or ']' expected");
                }
            }
            if (h->count > MCP_REQ_MAX_HEADERS) ps->too_large = 1;
        } else {
            ps->bad = 1;
            if (mcp_jreader_skip(rd, 2) != 0) return -1;
        }
        if (mcp_jreader_eat(rd, ',')) continue;
        if (mcp_jreader_eat(rd, '}')) break;
        return mcp_jreader_fail(rd, "',' or '}' expected");
    }
    if (r->n_headers > MCP_REQ_MAX_HEADERS) ps->too_large = 1;
    return 0;
}

/* "mcpMethod": a string, an array of strings, or null. */
static int read_mcp_method(parse_state *ps, mcp_http_req *r) {
    mcp_jreader *rd = &ps->rd;
    const char *s;
    size_t n;
    int c = mcp_jreader_peek(rd);
    if (c == '"' || c == '[') {
        r->mm = MCP_MM_GIVEN;
        int arr = c == '[';
        if (arr) {
            mcp_jreader_eat(rd, '[');
            if (mcp_jreader_eat(rd, ']')) return 0;
        }
        for (;;) {
            if (mcp_jreader_peek(rd) == '"') {
                if (mcp_jreader_string(rd, &s, &n) != 0) return -1;
                if (grow(&r->mcp_methods, &ps->mcap, r->n_mcp_methods, sizeof *r->mcp_methods))
                    return rd->nomem = 1, -1;
                r->mcp_methods[r->n_mcp_methods++] = s;
            } else {
                ps->bad = 1;
                if (mcp_jreader_skip(rd, 2) != 0) return -1;
            }
            if (!arr) return 0;
            if (mcp_jreader_eat(rd, ',')) continue;
            if (mcp_jreader_eat(rd, ']')) break;
            return mcp_jreader_fail(rd, "',' or ']' expected");
        }
        if (r->n_mcp_methods > MCP_REQ_MAX_MCP_METHODS) ps->bad = 1;
        return 0;
    }
    int lit = mcp_jreader_literal(rd);
    if (lit == 0) {
        r->mm = MCP_MM_NULL;
        return 0;
    }
    ps->bad = 1;
    return lit > 0 ? 0 : mcp_jreader_skip(rd, 1);
}

/* A string member (or null): *s and *n; a value of another type marks the request bad. */
static int read_string(parse_state *ps, const char **s, size_t *n) {
    if (mcp_jreader_peek(&ps->rd) == '"') return mcp_jreader_string(&ps->rd, s, n);
    int lit = mcp_jreader_literal(&ps->rd);
    if (lit == 0) return 0;
    ps->bad = 1;
    return lit > 0 ? 0 : mcp_jreader_skip(&ps->rd, 1);
}

enum {
    M_METHOD = 1,
    M_PATH = 2,
    M_QUERY = 4,
    M_HEADERS = 8,
    M_BODY = 16,
    M_MCP = 32,
    M_TRUNC = 64,
    M_PEER = 128
};

static int member_bit(const char *k, size_t n) {
    static const struct {
        const char *name;
        size_t len;
        int bit;
    } known[] = {{"method", 6, M_METHOD},   {"path", 4, M_PATH},           {"query", 5, M_QUERY},
                 {"headers", 7, M_HEADERS}, {"body", 4, M_BODY},           {"mcpMethod", 9, M_MCP},
                 {"peer", 4, M_PEER},       {"bodyTruncated", 13, M_TRUNC}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].len == n && memcmp(known[i].name, k, n) == 0) return known[i].bit;
    return 0;
}

int mcp_http_req_parse(const char *json, size_t len, mcp_http_req *r) {
    memset(r, 0, sizeof *r);
    parse_state ps;
    memset(&ps, 0, sizeof ps);
    mcp_jreader *rd = &ps.rd;
    const char *method = NULL, *path = NULL, *query = NULL, *body = NULL, *peer = NULL;
    size_t method_len = 0, path_len = 0, query_len = 0, body_len = 0, peer_len = 0;
    int seen = 0, rc = 0;
    if (!json || len == 0 || mcp_jreader_init(rd, json, len, MCP_JSON_MAX_DEPTH) != 0) goto fail;
    if (!mcp_jreader_eat(rd, '{')) goto fail;
    if (!mcp_jreader_eat(rd, '}')) {
        for (;;) {
            const char *k;
            size_t kl;
            if (mcp_jreader_string(rd, &k, &kl) != 0) goto fail;
            if (!mcp_jreader_eat(rd, ':')) goto fail;
            int bit = member_bit(k, kl);
            if (bit & seen) goto fail; /* a member twice */
            seen |= bit;
            int lit;
            switch (bit) {
            case M_METHOD:
                rc = read_string(&ps, &method, &method_len);
                break;
            case M_PATH:
                rc = read_string(&ps, &path, &path_len);
                break;
            case M_QUERY:
                rc = read_string(&ps, &query, &query_len);
                break;
            case M_BODY:
                rc = read_string(&ps, &body, &body_len);
                break;
            case M_PEER:
                rc = read_string(&ps, &peer, &peer_len);
                break;
            case M_HEADERS:
                rc = read_headers(&ps, r);
                break;
            case M_MCP:
                rc = read_mcp_method(&ps, r);
                break;
            case M_TRUNC:
                lit = mcp_jreader_literal(rd);
                if (lit == 1) r->body_truncated = 1;
                if (lit < 0) {
                    ps.bad = 1;
                    rc = mcp_jreader_skip(rd, 1);
                }
                break;
            default:
                rc = mcp_jreader_skip(rd, 1);
                break;
            }
            if (rc != 0) goto fail;
            if (mcp_jreader_eat(rd, ',')) continue;
            if (mcp_jreader_eat(rd, '}')) break;
            goto fail;
        }
    }
    if (mcp_jreader_end(rd) != 0) goto fail;
    r->strings = mcp_jreader_take(rd);

    /* the members, in the router's order of answers */
    if (ps.bad || !method || !path) return -MCPAUTH_E_INVALID_ARGUMENT;
    if (method_len == 0 || method_len > MCP_REQ_MAX_METHOD) return -MCPAUTH_E_INVALID_ARGUMENT;
    for (size_t i = 0; i < method_len; i++)
        if (!is_tchar((unsigned char)method[i])) return -MCPAUTH_E_INVALID_ARGUMENT;
    r->method = method;
    if (path_len == 0) return -MCPAUTH_E_INVALID_ARGUMENT;
    if (path_len > MCP_REQ_MAX_PATH) return 414;
    const char *qm = memchr(path, '?', path_len);
    if (qm && query) return -MCPAUTH_E_INVALID_ARGUMENT;
    size_t raw_len = qm ? (size_t)(qm - path) : path_len;
    const char *hash = memchr(path, '#', raw_len);
    if (hash) raw_len = (size_t)(hash - path);
    /* path and query are cut from the decoded strings: terminate copies of their own */
    r->path = mcp_strndup(path, raw_len);
    if (!r->path) return -MCPAUTH_E_NOMEM;
    if (qm) {
        r->query = mcp_strdup(qm + 1);
        if (!r->query) return -MCPAUTH_E_NOMEM;
    } else if (query) {
        if (query_len > MCP_REQ_MAX_QUERY) return 414;
        r->query = mcp_strndup(query, query_len);
        if (!r->query) return -MCPAUTH_E_NOMEM;
    }
    if (r->query && strlen(r->query) > MCP_REQ_MAX_QUERY) return 414;
    if (ps.too_large) return 431;
    if (peer && peer_len > MCP_REQ_MAX_PEER) return -MCPAUTH_E_INVALID_ARGUMENT;
    r->body = body;
    r->body_len = body_len;
    r->peer = peer;
    return 0;
fail:
    if (!r->strings) r->strings = mcp_jreader_take(rd);
    return rd->nomem ? -MCPAUTH_E_NOMEM : -MCPAUTH_E_INVALID_ARGUMENT;
}

void mcp_http_req_clear(mcp_http_req *r) {
    if (!r) return;
    free(r->strings);
    free(r->path);
    free(r->query);
    free(r->headers);
    free(r->values);
    free(r->mcp_methods);
    memset(r, 0, sizeof *r);
}

int mcp_http_req_header_get(const mcp_http_req *r, const char *name, const char **value) {
    *value = NULL;
    int found = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const mcp_req_header *h = &r->headers[i];
        if (strcasecmp(h->name, name) != 0) continue;
        if (found) return -1;
        if (h->count == 0) continue;
        if (h->count > 1) return -1;
        found = 1;
        *value = r->values[h->first].s;
    }
    return found;
}

const char *mcp_http_req_header(const mcp_http_req *r, const char *name) {
    if (!r) return NULL;
    for (size_t i = 0; i < r->n_headers; i++) {
        const mcp_req_header *h = &r->headers[i];
        if (strcasecmp(h->name, name) == 0) return h->count ? r->values[h->first].s : NULL;
    }
    return NULL;
}

/* Finds cookie `name` in one Cookie header value. */
static char *cookie_in(const char *h, const char *name, int *count) {
    size_t nl = strlen(name);
    const char *s = h;
    while (*s && *count < MAX_COOKIES) {
        while (*s == ' ' || *s == '\t' || *s == ';') s++;
        if (!*s) break;
        const char *end = strchr(s, ';');
        size_t seg = end ? (size_t)(end - s) : strlen(s);
        (*count)++;
        const char *eq = memchr(s, '=', seg);
        if (eq) {
            size_t kl = (size_t)(eq - s);
            while (kl > 0 && (s[kl - 1] == ' ' || s[kl - 1] == '\t')) kl--;
            if (kl == nl && memcmp(s, name, nl) == 0) {
                const char *v = eq + 1;
                size_t vl = seg - (size_t)(v - s);
                while (vl > 0 && (*v == ' ' || *v == '\t')) {
                    v++;
                    vl--;
                }
                while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
                if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
                    v++;
                    vl -= 2;
                }
                return mcp_strndup(v, vl);
            }
        }
        if (!end) break;
        s = end + 1;
    }
    return NULL;
}

char *mcp_http_req_cookie(const mcp_http_req *r, const char *name) {
    if (!r) return NULL;
    int count = 0;
    for (size_t i = 0; i < r->n_headers; i++) {
        const mcp_req_header *h = &r->headers[i];
        if (strcasecmp(h->name, "cookie") != 0) continue;
        for (size_t j = 0; j < h->count; j++) {
            char *c = cookie_in(r->values[h->first + j].s, name, &count);
            if (c) return c;
        }
    }
    return NULL;
}
