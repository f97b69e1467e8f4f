/* http_client.c - the bounded libcurl client every outbound fetch goes through.
 *
 * One easy handle per request (never shared between threads), redirects off, protocols limited
 * to http/https, TLS verification always on, connect and total timeouts, a hard cap on the body
 * enforced while receiving, and a small bounded Cache-Control / Content-Type parser. */
#include "util/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define MCP_HTTP_DEFAULT_CONNECT_MS 3000L
#define MCP_HTTP_DEFAULT_TOTAL_MS 5000L
#define MCP_HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define MCP_CT_MAX 256  /* longest Content-Type kept */
#define MCP_CC_MAX 1024 /* longest Cache-Control value parsed */
#define MCP_CC_MAX_DIRECTIVES 32
#define MCP_MAX_AGE_CAP 2147483648LL /* RFC 9111 1.2.2: overflow is treated as 2^31 */
#define MCP_MAX_REQ_HEADERS 32
#define MCP_MAX_REQ_HEADER_LEN 8192

/* ---------------------------------------------------------------------------------------- */
/* Global init                                                                              */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;

static void http_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void mcp_http_global_init(void) { pthread_once(&http_once, http_init_once); }

/* ---------------------------------------------------------------------------------------- */
/* Response parsing                                                                         */

typedef struct req_ctx {
    char *buf;
    size_t len;
    size_t cap;
    size_t max;
    int too_large;
    int64_t max_age;
    int no_store;
    char *content_type;
    int nomem; /* an allocation failed while receiving */
} req_ctx;

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
    req_ctx *c = userdata;
    size_t n = size * nmemb;
    if (n == 0) return 0;
    if (n > c->max - c->len) { /* c->len <= c->max always */
        c->too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (c->len + n + 1 > c->cap) {
        size_t ncap = c->cap ? c->cap : 4096;
        while (ncap < c->len + n + 1) {
            if (ncap > (SIZE_MAX / 2)) return 0;
            ncap *= 2;
        }
        if (ncap > c->max + 1) ncap = c->max + 1;
        char *nb = realloc(c->buf, ncap);
        if (!nb) {
            c->nomem = 1;
            return 0;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    memcpy(c->buf + c->len, data, n);
    c->len += n;
    return n;
}

static int is_ows(int c) { return c == ' ' || c == '\t'; }

/* Parses a delta-seconds value (optionally quoted). Returns -1 when it is not one. */
static int64_t parse_delta(const char *v, size_t n) {
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n == 0) return -1;
    int64_t r = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return -1;
        if (r < MCP_MAX_AGE_CAP) r = r * 10 + (v[i] - '0');
    }
    return r > MCP_MAX_AGE_CAP ? MCP_MAX_AGE_CAP : r;
}

/* One Cache-Control field value: comma-separated directives, bounded. The smaller of
 * max-age / s-maxage wins (several headers combine the same way). Unknown directives and
 * garbage are ignored. */
static void parse_cache_control(req_ctx *c, const char *v, size_t n) {
    if (n > MCP_CC_MAX) return;
    size_t i = 0;
    int count = 0;
    while (i < n && count < MCP_CC_MAX_DIRECTIVES) {
        while (i < n && (is_ows((unsigned char)v[i]) || v[i] == ',')) i++;
        if (i >= n) break;
        size_t start = i;
        int in_quote = 0;
        while (i < n && (in_quote || v[i] != ',')) {
            if (v[i] == '"') in_quote = !in_quote;
            i++;
        }
        size_t end = i;
        while (end > start && is_ows((unsigned char)v[end - 1])) end--;
        count++;
        const char *d = v + start;
        size_t dl = end - start;
        const char *eq = memchr(d, '=', dl);
        size_t nl = eq ? (size_t)(eq - d) : dl;
        while (nl > 0 && is_ows((unsigned char)d[nl - 1])) nl--;
        const char *arg = NULL;
        size_t al = 0;
        if (eq) {
            arg = eq + 1;
            al = dl - (size_t)(arg - d);
            while (al > 0 && is_ows((unsigned char)*arg)) {
                arg++;
                al--;
            }
        }
        if (mcp_eq_ci_n(d, nl, "max-age") || mcp_eq_ci_n(d, nl, "s-maxage")) {
            int64_t a = arg ? parse_delta(arg, al) : -1;
            if (a >= 0 && (c->max_age < 0 || a < c->max_age)) c->max_age = a;
        } else if (mcp_eq_ci_n(d, nl, "no-store") || mcp_eq_ci_n(d, nl, "no-cache")) {
            c->no_store = 1;
        }
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata) {
    req_ctx *c = userdata;
    size_t n = size * nmemb;
    const char *h = data;
    size_t hl = n;
    while (hl > 0 && (h[hl - 1] == '\r' || h[hl - 1] == '\n')) hl--;
    if (hl >= 5 && memcmp(h, "HTTP/", 5) == 0) {
        /* A new response (e.g. after 100 Continue): forget the previous one's headers. */
        c->max_age = -1;
        c->no_store = 0;
        free(c->content_type);
        c->content_type = NULL;
        return n;
    }
    const char *colon = memchr(h, ':', hl);
    if (!colon) return n;
    size_t nl = (size_t)(colon - h);
    const char *v = colon + 1;
    size_t vl = hl - nl - 1;
    while (vl > 0 && is_ows((unsigned char)*v)) {
        v++;
        vl--;
    }
    while (vl > 0 && is_ows((unsigned char)v[vl - 1])) vl--;
    if (mcp_eq_ci_n(h, nl, "cache-control")) {
        parse_cache_control(c, v, vl);
    } else if (mcp_eq_ci_n(h, nl, "content-type")) {
        free(c->content_type);
        c->content_type = NULL;
        if (vl <= MCP_CT_MAX) {
            for (size_t i = 0; i < vl; i++)
                if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) return n;
            c->content_type = mcp_strndup(v, vl);
            if (!c->content_type) c->nomem = 1;
        }
    }
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* Requests                                                                                 */

void mcp_http_response_clear(mcp_http_response *r) {
    if (!r) return;
    free(r->body);
    free(r->content_type);
    memset(r, 0, sizeof *r);
    r->max_age = -1;
}

static int header_ok(const char *h) {
    size_t n = strnlen(h, MCP_MAX_REQ_HEADER_LEN + 1);
    if (n == 0 || n > MCP_MAX_REQ_HEADER_LEN) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c == '\r' || c == '\n' || c == 0x7f || (c < 0x20 && c != '\t')) return 0;
    }
    return memchr(h, ':', n) != NULL;
}

/* CURLOPT_OPENSOCKETFUNCTION: the address about to be connected, checked by opts->addr_ok. */
static curl_socket_t open_checked(void *clientp, curlsocktype purpose,
                                  struct curl_sockaddr *address) {
    const mcp_http_opts *o = clientp;
    if (purpose != CURLSOCKTYPE_IPCXN || !o->addr_ok(&address->addr, o->addr_ctx))
        return CURL_SOCKET_BAD;
    return socket(address->family, address->socktype, address->protocol);
}

static int do_request(const char *url, const mcp_http_opts *opts, const char *const *headers,
                      int post, const char *body, size_t body_len, mcp_http_response *out,
                      mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no response buffer");
    memset(out, 0, sizeof *out);
    out->max_age = -1;
    if (post && !body && body_len)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "POST body missing");

    int rc = mcp_url_check(url, "url", err);
    if (rc != MCPAUTH_OK) return rc;

    long connect_ms = MCP_HTTP_DEFAULT_CONNECT_MS, total_ms = MCP_HTTP_DEFAULT_TOTAL_MS;
    size_t max_body = MCP_HTTP_DEFAULT_MAX_BODY;
    if (opts) {
        if (opts->connect_timeout_ms > 0) connect_ms = opts->connect_timeout_ms;
        if (opts->total_timeout_ms > 0) total_ms = opts->total_timeout_ms;
        if (opts->max_body > 0) max_body = opts->max_body;
    }
    if (connect_ms > total_ms) connect_ms = total_ms;
    if (max_body > SIZE_MAX / 4) max_body = SIZE_MAX / 4;

    mcp_http_global_init();

    struct curl_slist *hl = NULL;
    size_t nh = 0;
    if (headers) {
        for (; headers[nh]; nh++) {
            if (nh >= MCP_MAX_REQ_HEADERS || !header_ok(headers[nh])) {
                curl_slist_free_all(hl);
                return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "invalid request header");
            }
            struct curl_slist *t = curl_slist_append(hl, headers[nh]);
            if (!t) {
                curl_slist_free_all(hl);
                return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
            }
            hl = t;
        }
    }
    if (post) { /* no 100-continue round trip */
        struct curl_slist *t = curl_slist_append(hl, "Expect:");
        if (!t) {
            curl_slist_free_all(hl);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
        hl = t;
    }

    CURL *h = curl_easy_init();
    if (!h) {
        curl_slist_free_all(hl);
        return mcp_err_set(err, MCPAUTH_E_NOMEM, "cannot create an HTTP handle");
    }
    req_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.max = max_body;
    ctx.max_age = -1;

    int loopback = mcp_url_is_loopback(url);
    CURLcode sc = CURLE_OK;
#define SETOPT(o, v)                                                                               \
    do {                                                                                           \
        if (sc == CURLE_OK) sc = curl_easy_setopt(h, o, v);                                        \
    } while (0)
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_MAXREDIRS, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, total_ms);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &ctx);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &ctx);
    SETOPT(CURLOPT_USERAGENT, "libmcpauth/" MCPAUTH_VERSION_STR);
    SETOPT(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    if (opts && opts->proxy) {
        SETOPT(CURLOPT_PROXY, opts->proxy);
        SETOPT(CURLOPT_NOPROXY, ""); /* the configured proxy, not the environment's exceptions */
    } else if (loopback || (opts && opts->direct)) {
        SETOPT(CURLOPT_NOPROXY, "*"); /* never send loopback traffic to a proxy */
    }
    if (opts && opts->addr_ok) {
        SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_checked);
        SETOPT(CURLOPT_OPENSOCKETDATA, (void *)opts);
    }
    if (hl) SETOPT(CURLOPT_HTTPHEADER, hl);
    if (post) {
        SETOPT(CURLOPT_POST, 1L);
        SETOPT(CURLOPT_POSTFIELDS, body ? body : "");
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else {
        SETOPT(CURLOPT_HTTPGET, 1L);
    }
#undef SETOPT
    if (sc != CURLE_OK) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hl);
        free(ctx.buf);
        free(ctx.content_type);
        return mcp_err_set(err, MCPAUTH_E_INTERNAL, "HTTP client setup failed: %s",
                           curl_easy_strerror(sc));
    }

    CURLcode pc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hl);

    if (ctx.too_large || pc == CURLE_FILESIZE_EXCEEDED) {
        rc = mcp_err_set(err, MCPAUTH_E_UPSTREAM, "response too large (limit %zu bytes)", max_body);
    } else if (ctx.nomem) {
        rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory while receiving a response");
    } else if (pc == CURLE_OPERATION_TIMEDOUT) {
        rc = mcp_err_set(err, MCPAUTH_E_UPSTREAM, "HTTP request timed out");
    } else if (pc != CURLE_OK) {
        rc =
            mcp_err_set(err, MCPAUTH_E_UPSTREAM, "HTTP request failed: %s", curl_easy_strerror(pc));
    } else {
        if (!ctx.buf) {
            ctx.buf = malloc(1);
            if (!ctx.buf) {
                free(ctx.content_type);
                return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
            }
        }
        ctx.buf[ctx.len] = '\0';
        out->status = status;
        out->body = ctx.buf;
        out->body_len = ctx.len;
        out->max_age = ctx.max_age;
        out->no_store = ctx.no_store;
        out->content_type = ctx.content_type;
        return MCPAUTH_OK;
    }
    free(ctx.buf);
    free(ctx.content_type);
    return rc;
}

int mcp_http_get(const char *url, const mcp_http_opts *opts, const char *const *headers,
                 mcp_http_response *out, mcp_err *err) {
    return do_request(url, opts, headers, 0, NULL, 0, out, err);
}

int mcp_http_post(const char *url, const mcp_http_opts *opts, const char *const *headers,
                  const char *body, size_t body_len, mcp_http_response *out, mcp_err *err) {
    return do_request(url, opts, headers, 1, body, body_len, out, err);
}
