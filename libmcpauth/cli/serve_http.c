/* serve_http.c - `mcpauth serve`'s client side (libmicrohttpd, event threads).
 *
 * A request goes: headers checked (framing, names, target) -> body read (bounded) -> the
 * router (non-blocking here; on the worker pool when it needs network I/O) -> "respond"
 * answered here, "pass" handed to the upstream thread. While a connection waits for the pool
 * or the upstream it is suspended: it holds no thread.
 *
 * Every client connection has a deadline for its request line and headers (--header-timeout,
 * counted from the connection's start and again from the end of each response) and one for
 * a request's body (--body-timeout, counted from the end of its headers): a client that
 * trickles either is disconnected. libmicrohttpd's own limits do the rest: connections in
 * all and per address, idle time, header memory.
 */
#ifndef MCPAUTH_HAVE_MHD
typedef int mcpauth_serve_http_unused; /* no translation unit is empty */
#else

#include "serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_HEADER_NAME 255 /* longer header names are refused (431) */
#define MAX_HEADERS 256     /* more header fields are refused (431) */
#define LOG_TARGET 512

/* ---- connections and their header deadline -------------------------------------------- */

typedef struct sconn {
    int fd;
    atomic_llong deadline; /* ms (monotonic); 0: none (a request is being handled) */
    atomic_int in_body;    /* the deadline is the body's (for the log) */
    int counted;           /* within the limits (refused ones are closed at once) */
    int family;
    unsigned char addr[16]; /* the peer's address (IPv4: 4 bytes) */
    struct sconn *prev, *next;
} sconn;

/* Every connection of every event loop: the limits in all and per address hold across the
 * loops (each daemon's own limits count only its connections). */
static pthread_mutex_t S_mu = PTHREAD_MUTEX_INITIALIZER;
static sconn *S_head;
static unsigned S_count;

static void peer_addr(struct MHD_Connection *c, sconn *s) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    s->family = ci->client_addr->sa_family;
    if (s->family == AF_INET)
        memcpy(s->addr, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, 4);
    else if (s->family == AF_INET6)
        memcpy(s->addr, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, 16);
}

/* Under S_mu: 1 when one more connection from s's address stays within the limits. */
static int within_limits(const sconn *s) {
    if (S_count >= G.max_connections) return 0;
    if (s->family != AF_INET && s->family != AF_INET6) return 1;
    size_t n = s->family == AF_INET ? 4 : 16;
    unsigned same = 0;
    for (const sconn *o = S_head; o; o = o->next)
        if (o->counted && o->family == s->family && memcmp(o->addr, s->addr, n) == 0 &&
            ++same >= G.max_per_ip)
            return 0;
    return 1;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe) {
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fdi =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        sconn *s = calloc(1, sizeof *s);
        if (!s) {
            /* no deadline can be kept for it: not served */
            if (fdi) shutdown(fdi->connect_fd, SHUT_RDWR);
            *socket_context = NULL;
            return;
        }
        s->fd = fdi ? fdi->connect_fd : -1;
        atomic_init(&s->deadline, serve_now_ms() + (int64_t)G.header_timeout_s * 1000);
        peer_addr(c, s);
        pthread_mutex_lock(&S_mu);
        s->counted = within_limits(s);
        if (s->counted) S_count++;
        s->next = S_head;
        if (S_head) S_head->prev = s;
        S_head = s;
        pthread_mutex_unlock(&S_mu);
        *socket_context = s;
        if (!s->counted && s->fd >= 0) {
            /* over the limits: closed before anything is read */
            shutdown(s->fd, SHUT_RDWR);
            atomic_store(&s->deadline, 0);
        }
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        sconn *s = *socket_context;
        if (!s) return;
        pthread_mutex_lock(&S_mu);
        if (s->prev)
            s->prev->next = s->next;
        else
            S_head = s->next;
        if (s->next) s->next->prev = s->prev;
        if (s->counted) S_count--;
        pthread_mutex_unlock(&S_mu);
        free(s);
        *socket_context = NULL;
    }
}

static void set_deadline(struct MHD_Connection *c, int64_t when, int in_body) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    sconn *s = ci ? ci->socket_context : NULL;
    if (!s) return;
    atomic_store(&s->in_body, in_body);
    atomic_store(&s->deadline, when);
}

void serve_http_reaper_tick(void) {
    int64_t now = serve_now_ms();
    pthread_mutex_lock(&S_mu);
    for (sconn *s = S_head; s; s = s->next) {
        long long d = atomic_load(&s->deadline);
        if (d != 0 && now >= d && s->fd >= 0) {
            /* libmicrohttpd sees the socket fail and closes the connection itself (the
             * descriptor stays open until then: closing is its business) */
            shutdown(s->fd, SHUT_RDWR);
            atomic_store(&s->deadline, 0);
            if (G.verbose)
                fprintf(stderr, "mcpauth serve: request %s too slow, closed\n",
                        atomic_load(&s->in_body) ? "body" : "headers");
        }
    }
    pthread_mutex_unlock(&S_mu);
}

/* ---- per-request state ------------------------------------------------------------------ */

typedef struct conn_ctx {
    char *uri; /* the raw request target */
    int started;
    int body_done; /* the whole body is in (its deadline lifted) */
    char *body;
    size_t body_len, body_cap;
    int too_large;
    route_job job;       /* a router call on the worker pool */
    fwd *fwd;            /* the upstream request, once handed on */
    int passed;          /* a "pass" decision taken (on the headers alone: body still to read) */
    serve_pass pass;     /* what it says; pass.auth points into one of these: */
    char *pass_decision; /* the decision text (mcpauth_free) */
    char *pass_dump;     /* the auth result as jansson wrote it (free) */
    size_t want_body;    /* "need_body": the router reads up to this many bytes (0: not asked) */
    int body_given;      /* the router had the body */
} conn_ctx;

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    conn_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) {
        ctx->uri = strdup(uri ? uri : "");
        atomic_init(&ctx->job.state, 0);
    }
    return ctx;
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)toe;
    set_deadline(c, serve_now_ms() + (int64_t)G.header_timeout_s * 1000, 0);
    conn_ctx *ctx = *con_cls;
    if (!ctx) return;
    fwd_release(ctx->fwd);
    mcpauth_free(ctx->pass_decision);
    free(ctx->pass_dump);
    free(ctx->pass.user_id);
    free(ctx->job.request);
    mcpauth_free(ctx->job.decision);
    free(ctx->uri);
    free(ctx->body);
    free(ctx);
    *con_cls = NULL;
}

/* ---- simple answers --------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
                              const char *ctype, int close) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (close) MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *c, unsigned status, const char *error,
                                    const char *desc, int close) {
    char buf[512];
    snprintf(buf, sizeof buf, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, desc);
    return answer(c, status, buf, "application/json", close);
}

/* ---- the request's headers, checked once they are all in ------------------------------ */

typedef struct hdr_check {
    unsigned n_cl;
    int cl_differ;
    const char *cl;
    int te;
    int te_not_chunked;
    int long_name;
    size_t count;
} hdr_check;

static enum MHD_Result check_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value) {
    (void)kind;
    hdr_check *h = cls;
    if (!key) return MHD_YES;
    h->count++;
    if (strlen(key) > MAX_HEADER_NAME) h->long_name = 1;
    const char *v = value ? value : "";
    if (strcasecmp(key, "content-length") == 0) {
        if (h->n_cl > 0 && strcmp(h->cl, v) != 0) h->cl_differ = 1;
        /* "5, 5" in one field is a list: ambiguous as well */
        if (strchr(v, ',')) h->cl_differ = 1;
        h->cl = v;
        h->n_cl++;
    } else if (strcasecmp(key, "transfer-encoding") == 0) {
        h->te = 1;
        if (strcasecmp(v, "chunked") != 0) h->te_not_chunked = 1;
    }
    return MHD_YES;
}

/* 0 when the request may go on; otherwise an answer was queued (or failed) into *ret. */
static int refuse_bad_request(struct MHD_Connection *c, const char *method, const char *uri,
                              enum MHD_Result *ret) {
    hdr_check h = {0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, check_header, &h);
    /* RFC 9112 6.1, 6.3: both framings, or disagreeing lengths: which body is meant is
     * ambiguous (request smuggling); refused and the connection closed */
    if ((h.te && h.n_cl > 0) || h.cl_differ) {
        *ret = answer_error(c, 400, "invalid_request", "ambiguous message framing", 1);
        return 1;
    }
    if (h.te_not_chunked) {
        *ret = answer_error(c, 501, "invalid_request", "unsupported transfer coding", 1);
        return 1;
    }
    if (h.long_name) {
        *ret = answer_error(c, 431, "invalid_request", "request header name too long", 1);
        return 1;
    }
    if (h.count > MAX_HEADERS) {
        *ret = answer_error(c, 431, "invalid_request", "too many request header fields", 1);
        return 1;
    }
    if (strcmp(uri, "*") == 0 && strcmp(method, "OPTIONS") == 0) return 0;
    if (uri[0] != '/') {
        *ret = answer_error(c, 400, "invalid_request", "invalid request target", 1);
        return 1;
    }
    if (h.cl) {
        unsigned long long n;
        if (serve_parse_number(h.cl, 0, G.max_body, &n) != 0) {
            *ret = answer_error(c, 413, "invalid_request", "request body too large", 1);
            return 1;
        }
    }
    return 0;
}

/* ---- request JSON for the router -------------------------------------------------------- */

/* The request JSON is written here directly (no intermediate tree): it is built for every
 * request. Strings that are not UTF-8 are left out, as a JSON library would refuse them. */
typedef struct jbuf {
    char *p;
    size_t len, cap;
    int oom;
} jbuf;

static void jb_raw(jbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static void jb_str(jbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    jb_raw(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\') continue;
        jb_raw(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[ch >> 4], hex[ch & 15]};
        if (ch == '"' || ch == '\\') {
            esc[1] = (char)ch;
            jb_raw(b, esc, 2);
        } else {
            jb_raw(b, esc, 6);
        }
    }
    jb_raw(b, s + run, n - run);
    jb_raw(b, "\"", 1);
}

typedef struct hdr_pair {
    const char *name, *value;
    size_t name_len, value_len;
    int ok; /* name and value are UTF-8 */
} hdr_pair;

typedef struct hdr_list {
    hdr_pair *v;
    size_t n;
} hdr_list;

static enum MHD_Result list_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    hdr_list *l = cls;
    if (!key || l->n >= MAX_HEADERS) return MHD_YES;
    size_t n = strlen(key);
    if (n == 0 || n > MAX_HEADER_NAME) return MHD_YES; /* refused before this */
    hdr_pair *h = &l->v[l->n++];
    h->name = key;
    h->name_len = n;
    h->value = value ? value : "";
    h->value_len = strlen(h->value);
    h->ok = utf8_valid((const unsigned char *)h->name, n) &&
            utf8_valid((const unsigned char *)h->value, h->value_len);
    return MHD_YES;
}

static void peer_ip(struct MHD_Connection *c, char *ip, size_t cap);

/* Both usable and the same name (case-insensitive). */
static int same_name(const hdr_pair *a, const hdr_pair *b) {
    return a->ok && b->ok && a->name_len == b->name_len &&
           strncasecmp(a->name, b->name, a->name_len) == 0;
}

enum { BODY_NONE, BODY_GIVEN, BODY_TRUNCATED };

/* The request as mcpauth_route reads it; the body only when the router asked for it.
 * Repeated header fields are combined with ", " (RFC 9110 5.3). */
static char *request_json(struct MHD_Connection *c, const char *method, const conn_ctx *ctx,
                          int body_mode) {
    hdr_pair pairs[MAX_HEADERS];
    hdr_list l = {pairs, 0};
    MHD_get_connection_values(c, MHD_HEADER_KIND, list_header, &l);
    jbuf b = {0};
    jb_raw(&b, "{\"method\":", 10);
    jb_str(&b, method, strlen(method));
    const char *uri = ctx->uri;
    size_t pl = strcspn(uri, "?");
    if (utf8_valid((const unsigned char *)uri, strlen(uri))) {
        jb_raw(&b, ",\"path\":", 8);
        jb_str(&b, uri, pl);
        if (uri[pl] == '?') {
            jb_raw(&b, ",\"query\":", 9);
            jb_str(&b, uri + pl + 1, strlen(uri + pl + 1));
        }
    }
    jb_raw(&b, ",\"headers\":{", 12);
    int first = 1;
    for (size_t i = 0; i < l.n; i++) {
        if (!l.v[i].ok) continue;
        int seen = 0;
        for (size_t k = 0; k < i && !seen; k++) seen = same_name(&l.v[k], &l.v[i]);
        if (seen) continue; /* written with its first occurrence */
        if (!first) jb_raw(&b, ",", 1);
        first = 0;
        char lower[MAX_HEADER_NAME + 1];
        for (size_t k = 0; k < l.v[i].name_len; k++) {
            char ch = l.v[i].name[k];
            lower[k] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
        }
        jb_str(&b, lower, l.v[i].name_len);
        jb_raw(&b, ":", 1);
        /* the values of every occurrence, joined */
        size_t more = 0;
        for (size_t k = i + 1; k < l.n; k++) more += same_name(&l.v[k], &l.v[i]);
        if (more == 0) { /* the usual case: one field */
            jb_str(&b, l.v[i].value, l.v[i].value_len);
            continue;
        }
        size_t total = 0;
        for (size_t k = i; k < l.n; k++)
            if (same_name(&l.v[k], &l.v[i])) total += l.v[k].value_len + 2;
        char *joined = malloc(total + 1);
        if (!joined) {
            b.oom = 1;
            break;
        }
        size_t jl = 0;
        for (size_t k = i; k < l.n; k++) {
            if (!same_name(&l.v[k], &l.v[i])) continue;
            if (jl > 0) {
                memcpy(joined + jl, ", ", 2);
                jl += 2;
            }
            memcpy(joined + jl, l.v[k].value, l.v[k].value_len);
            jl += l.v[k].value_len;
        }
        jb_str(&b, joined, jl);
        free(joined);
    }
    jb_raw(&b, "}", 1);
    char ip[INET6_ADDRSTRLEN];
    peer_ip(c, ip, sizeof ip);
    if (ip[0]) {
        jb_raw(&b, ",\"peer\":", 8);
        jb_str(&b, ip, strlen(ip));
    }
    if (body_mode == BODY_GIVEN) {
        /* a body that is not UTF-8 cannot be a JSON string (nor a JSON-RPC message, nor a
         * form): the router hears that it could not be read */
        const char *body = ctx->body ? ctx->body : "";
        if (utf8_valid((const unsigned char *)body, ctx->body_len)) {
            jb_raw(&b, ",\"body\":", 8);
            jb_str(&b, body, ctx->body_len);
        } else {
            jb_raw(&b, ",\"bodyTruncated\":true", 21);
        }
    } else if (body_mode == BODY_TRUNCATED) {
        jb_raw(&b, ",\"bodyTruncated\":true", 21);
    }
    jb_raw(&b, "}", 1);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---- forwarding ------------------------------------------------------------------------- */

typedef struct hdr_build {
    struct curl_slist *list;
    const char *connection;
    int authenticated;
    int has_ctype;
    int bad;
} hdr_build;

static int add_header(struct curl_slist **list, const char *name, const char *value) {
    /* curl copies the line: it is written on the stack when it fits */
    char stack[2048];
    size_t nl = strlen(name), vl = strlen(value), n = nl + vl + 3;
    char *line = n <= sizeof stack ? stack : malloc(n);
    if (!line) return -1;
    memcpy(line, name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl + 1);
    struct curl_slist *s = curl_slist_append(*list, line);
    if (line != stack) free(line);
    if (!s) return -1;
    *list = s;
    return 0;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    (void)kind;
    hdr_build *b = cls;
    if (!key) return MHD_YES;
    if (serve_drop_request_header(key, b->connection, b->authenticated, G.forward_authorization))
        return MHD_YES;
    if (strcasecmp(key, "content-type") == 0) b->has_ctype = 1;
    if (!value || !*value) {
        /* curl reads "Name:" as "remove"; "Name;" sends it empty */
        size_t n = strlen(key) + 2;
        char *line = malloc(n);
        if (!line) {
            b->bad = 1;
            return MHD_YES;
        }
        snprintf(line, n, "%s;", key);
        struct curl_slist *s = curl_slist_append(b->list, line);
        free(line);
        if (!s)
            b->bad = 1;
        else
            b->list = s;
        return MHD_YES;
    }
    if (add_header(&b->list, key, value) != 0) b->bad = 1;
    return MHD_YES;
}

static void peer_ip(struct MHD_Connection *c, char *ip, size_t cap) {
    ip[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    if (ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip,
                  (socklen_t)cap);
    else if (ci->client_addr->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip,
                  (socklen_t)cap);
}

static enum MHD_Result forward(struct MHD_Connection *c, const char *method, conn_ctx *ctx) {
    const serve_pass *auth = ctx->pass.has_auth ? &ctx->pass : NULL;
    hdr_build b = {0};
    b.connection = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Connection");
    b.authenticated = auth != NULL;
    MHD_get_connection_values(c, MHD_HEADER_KIND, copy_header, &b);
    int bad = b.bad;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (host) bad |= add_header(&b.list, "X-Forwarded-Host", host);
    bad |= add_header(&b.list, "X-Forwarded-Proto", "http");
    char ip[INET6_ADDRSTRLEN];
    peer_ip(c, ip, sizeof ip);
    if (ip[0]) bad |= add_header(&b.list, "X-Forwarded-For", ip);
    if (auth) {
        if (auth->user_id) {
            char *safe = serve_header_safe(auth->user_id);
            bad |= !safe || add_header(&b.list, "X-MCPAuth-User", safe);
            free(safe);
        }
        /* the auth result carries the access token only when --forward-authorization asked
         * the router for it (and neither reader hands on one otherwise) */
        char *enc = serve_b64url((const unsigned char *)auth->auth, auth->auth_len);
        bad |= !enc || add_header(&b.list, "X-MCPAuth-Auth", enc);
        free(enc);
    }
    /* a preflight or another unauthenticated OPTIONS carries no body on */
    int drop_body = !auth && strcmp(method, "OPTIONS") == 0;
    if (!b.has_ctype && !drop_body) {
        struct curl_slist *s = curl_slist_append(b.list, "Content-Type:");
        if (s)
            b.list = s;
        else
            bad = 1;
    }
    struct curl_slist *s = curl_slist_append(b.list, "Expect:");
    if (s)
        b.list = s;
    else
        bad = 1;
    if (bad) {
        curl_slist_free_all(b.list);
        return answer_error(c, 500, "server_error", "out of memory", 0);
    }
    char *body = drop_body ? NULL : ctx->body;
    size_t body_len = drop_body ? 0 : ctx->body_len;
    if (!drop_body) {
        ctx->body = NULL;
        ctx->body_len = 0;
    }
    fwd *f = fwd_new(c, method, ctx->uri, body, body_len, b.list);
    if (!f) {
        free(body);
        curl_slist_free_all(b.list);
        return answer_error(c, 500, "server_error", "out of memory", 0);
    }
    ctx->fwd = f;
    if (fwd_submit(f) != 0) {
        fwd_release(f);
        ctx->fwd = NULL;
        return answer_error(c, 503, "temporarily_unavailable", "server stopping", 1);
    }
    return MHD_YES;
}

static enum MHD_Result upstream_answer(struct MHD_Connection *c, const char *method,
                                       conn_ctx *ctx) {
    int st = fwd_state(ctx->fwd);
    if (st == 0) return MHD_YES; /* suspended again */
    char target[LOG_TARGET];
    serve_log_target(target, sizeof target, ctx->uri);
    if (st < 0) {
        fwd_release(ctx->fwd);
        ctx->fwd = NULL;
        if (G.verbose)
            fprintf(stderr, "%s %s -> %d (upstream %s)\n", method, target, st == -2 ? 504 : 502,
                    st == -2 ? "timed out" : "failed");
        if (st == -2)
            return answer_error(c, 504, "gateway_timeout", "upstream server did not answer in time",
                                0);
        return answer_error(c, 502, "bad_gateway", "upstream server unavailable", 0);
    }
    fwd *f = ctx->fwd;
    ctx->fwd = NULL; /* the response owns it now */
    return fwd_respond(f, c, method, target);
}

/* ---- the access handler ----------------------------------------------------------------- */

static enum MHD_Result respond_decision(struct MHD_Connection *c, const char *method,
                                        const conn_ctx *ctx, json_t *d) {
    int status = (int)json_integer_value(json_object_get(d, "status"));
    const char *body = json_string_value(json_object_get(d, "body"));
    if (status < 100 || status > 599 || !body)
        return answer_error(c, 500, "server_error", "bad decision", 0);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    size_t i;
    json_t *pair;
    json_array_foreach(json_object_get(d, "headers"), i, pair) {
        const char *n = json_string_value(json_array_get(pair, 0));
        const char *v = json_string_value(json_array_get(pair, 1));
        if (n && v) MHD_add_response_header(r, n, v);
    }
    if (G.verbose) {
        char target[LOG_TARGET];
        serve_log_target(target, sizeof target, ctx->uri);
        fprintf(stderr, "%s %s -> %d\n", method, target, status);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route_now(struct MHD_Connection *c, const char *method, conn_ctx *ctx);

static enum MHD_Result router_failed(struct MHD_Connection *c, const char *method,
                                     const conn_ctx *ctx, int rc) {
    if (G.verbose) {
        char target[LOG_TARGET];
        serve_log_target(target, sizeof target, ctx->uri);
        fprintf(stderr, "%s %s -> router error %s\n", method, target, mcpauth_code_name(rc));
    }
    if (rc == MCPAUTH_E_INVALID_ARGUMENT)
        return answer_error(c, 400, "invalid_request", "request rejected", 1);
    return answer_error(c, 500, "server_error", mcpauth_strerror(rc), 0);
}

static enum MHD_Result answer_options_star(struct MHD_Connection *c) {
    /* "OPTIONS *": about the server, answered here (no upstream URL has this form) */
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
    enum MHD_Result ret = MHD_queue_response(c, 204, r);
    MHD_destroy_response(r);
    return ret;
}

/* ctx takes a pass decision (and what its text lives in). */
static void keep_pass(conn_ctx *ctx, serve_pass *sp, char *decision, char *dump) {
    mcpauth_free(ctx->pass_decision);
    free(ctx->pass_dump);
    free(ctx->pass.user_id);
    ctx->pass = *sp;
    ctx->pass_decision = decision;
    ctx->pass_dump = dump;
    ctx->passed = 1;
}

/* What a router decision means for this request. `final`: the body has been read.
 * Returns 1 when the request goes on (body to read, or a pass kept for later). */
static int apply(struct MHD_Connection *c, const char *method, conn_ctx *ctx, int rc,
                 char *decision, int final, enum MHD_Result *ret) {
    if (rc != MCPAUTH_OK) {
        mcpauth_free(decision);
        *ret = router_failed(c, method, ctx, rc);
        return 0;
    }
    /* the usual decision, a pass, is read without a JSON tree */
    serve_pass sp;
    int fast = serve_pass_decision(decision, strlen(decision), &sp);
    if (fast < 0) {
        mcpauth_free(decision);
        *ret = answer_error(c, 500, "server_error", "out of memory", 0);
        return 0;
    }
    if (fast == 1) {
        if (strcmp(ctx->uri, "*") == 0) {
            free(sp.user_id);
            mcpauth_free(decision);
            *ret = answer_options_star(c);
            return 0;
        }
        keep_pass(ctx, &sp, decision, NULL);
        if (!final) return 1; /* forwarded once the body is in */
        *ret = forward(c, method, ctx);
        return 0;
    }
    json_error_t jerr;
    json_t *d = json_loads(decision, 0, &jerr);
    mcpauth_free(decision);
    const char *action = json_string_value(json_object_get(d, "action"));
    if (action && strcmp(action, "respond") == 0) {
        *ret = respond_decision(c, method, ctx, d);
    } else if (action && strcmp(action, "pass") == 0) {
        if (strcmp(ctx->uri, "*") == 0) {
            *ret = answer_options_star(c);
        } else {
            memset(&sp, 0, sizeof sp);
            char *dump = NULL;
            json_t *auth = json_object_get(d, "auth");
            int oom = 0;
            if (json_is_object(auth)) {
                const char *uid =
                    json_string_value(json_object_get(json_object_get(auth, "user"), "userId"));
                /* the access token reaches the upstream only when asked for */
                if (!G.forward_authorization) json_object_del(auth, "accessToken");
                dump = json_dumps(auth, JSON_COMPACT);
                sp.user_id = uid ? strdup(uid) : NULL;
                oom = !dump || (uid && !sp.user_id);
                sp.has_auth = 1;
                sp.auth = dump;
                sp.auth_len = dump ? strlen(dump) : 0;
            }
            if (oom) {
                free(dump);
                free(sp.user_id);
                *ret = answer_error(c, 500, "server_error", "out of memory", 0);
            } else {
                keep_pass(ctx, &sp, NULL, dump);
                json_decref(d);
                if (!final) return 1; /* forwarded once the body is in */
                *ret = forward(c, method, ctx);
                return 0;
            }
        }
    } else if (action && strcmp(action, "need_body") == 0 && !ctx->body_given) {
        json_int_t max = json_integer_value(json_object_get(d, "maxBytes"));
        ctx->want_body = max > 0 ? (size_t)max : 1;
        json_decref(d);
        if (!final) return 1;
        *ret = route_now(c, method, ctx);
        return 0;
    } else if (action && strcmp(action, "host_verify") == 0) {
        /* configurations that verify tokens in the host (hostVerifies) need a binding */
        *ret = answer_error(c, 500, "server_error", "this configuration needs a host verifier", 0);
    } else {
        *ret = answer_error(c, 500, "server_error", "bad decision", 0);
    }
    json_decref(d);
    return 0;
}

static unsigned route_flags(void) { return G.forward_authorization ? MCPAUTH_ROUTE_WITH_TOKEN : 0; }

/* Routes the complete request (body read): non-blocking here, on the pool when the router
 * needs the network. */
static enum MHD_Result route_now(struct MHD_Connection *c, const char *method, conn_ctx *ctx) {
    int mode = BODY_NONE;
    if (ctx->want_body) {
        mode = ctx->body_len <= ctx->want_body ? BODY_GIVEN : BODY_TRUNCATED;
        ctx->body_given = 1;
    }
    char *rj = request_json(c, method, ctx, mode);
    if (!rj) return answer_error(c, 500, "server_error", "out of memory", 0);
    char *decision = NULL;
    int rc = mcpauth_route(G.engine, rj, strlen(rj), route_flags() | MCPAUTH_ROUTE_NONBLOCK,
                           &decision, NULL);
    if (rc == MCPAUTH_E_WOULD_BLOCK) {
        mcpauth_free(decision);
        ctx->job.conn = c;
        ctx->job.loop = serve_loop_self();
        ctx->job.request = rj;
        ctx->job.flags = route_flags();
        if (serve_pool_submit(&ctx->job) != 0)
            return answer_error(c, 503, "temporarily_unavailable", "server stopping", 1);
        return MHD_YES;
    }
    free(rj);
    enum MHD_Result ret = MHD_YES;
    if (apply(c, method, ctx, rc, decision, 1, &ret)) ret = MHD_YES;
    return ret;
}

/* The request announces a body (a positive Content-Length, or chunked). Called after
 * refuse_bad_request() let it through. */
static int has_body(struct MHD_Connection *c) {
    const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
    if (te) return 1;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    return cl && strspn(cl, "0") != strlen(cl);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
    (void)cls;
    (void)url;
    (void)version;
    conn_ctx *ctx = *con_cls;
    if (!ctx || !ctx->uri) return MHD_NO;
    if (!ctx->started) {
        ctx->started = 1;
        /* the headers are in: a body has its own deadline */
        if (has_body(c))
            set_deadline(c, serve_now_ms() + (int64_t)G.body_timeout_s * 1000, 1);
        else
            set_deadline(c, 0, 0);
        enum MHD_Result ret;
        if (refuse_bad_request(c, method, ctx->uri, &ret)) return ret;
        /* most requests are decided on their headers: a challenge is answered before any
         * body is read */
        char *rj = request_json(c, method, ctx, BODY_NONE);
        if (!rj) return answer_error(c, 500, "server_error", "out of memory", 1);
        char *decision = NULL;
        int rc = mcpauth_route(G.engine, rj, strlen(rj), route_flags() | MCPAUTH_ROUTE_NONBLOCK,
                               &decision, NULL);
        free(rj);
        if (rc == MCPAUTH_E_WOULD_BLOCK) { /* decided once the body is in, on the pool */
            mcpauth_free(decision);
            return MHD_YES;
        }
        if (apply(c, method, ctx, rc, decision, 0, &ret)) return MHD_YES;
        return ret;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (ctx->too_large || ctx->body_len + n > G.max_body) {
            ctx->too_large = 1;
            return MHD_YES;
        }
        if (ctx->body_len + n + 1 > ctx->body_cap) {
            size_t cap = ctx->body_cap ? ctx->body_cap : 4096;
            while (cap < ctx->body_len + n + 1) cap *= 2;
            char *nb = realloc(ctx->body, cap);
            if (!nb) return MHD_NO;
            ctx->body = nb;
            ctx->body_cap = cap;
        }
        memcpy(ctx->body + ctx->body_len, upload_data, n);
        ctx->body_len += n;
        return MHD_YES;
    }
    if (!ctx->body_done) {
        ctx->body_done = 1;
        set_deadline(c, 0, 0); /* the body is in */
    }
    if (ctx->fwd) return upstream_answer(c, method, ctx);
    int js = atomic_load(&ctx->job.state);
    if (js == 1) { /* resumed before the worker finished: cannot happen, wait again */
        MHD_suspend_connection(c);
        return MHD_YES;
    }
    if (js == 2) {
        char *decision = ctx->job.decision;
        ctx->job.decision = NULL;
        free(ctx->job.request);
        ctx->job.request = NULL;
        atomic_store(&ctx->job.state, 0);
        if (ctx->job.rc == MCPAUTH_E_WOULD_BLOCK) { /* the pool was stopping */
            mcpauth_free(decision);
            return answer_error(c, 503, "temporarily_unavailable", "server stopping", 1);
        }
        enum MHD_Result ret = MHD_YES;
        if (apply(c, method, ctx, ctx->job.rc, decision, 1, &ret)) ret = MHD_YES;
        return ret;
    }
    if (ctx->too_large) return answer_error(c, 413, "invalid_request", "request body too large", 1);
    if (ctx->passed) return forward(c, method, ctx);
    return route_now(c, method, ctx);
}

/* ---- the daemon ------------------------------------------------------------------------- */

int serve_http_listen(const struct sockaddr *addr, socklen_t len) {
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, addr, len) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

struct MHD_Daemon *serve_http_daemon(int listen_fd) {
    /* run by an event loop (serve_upstream.c): no thread of its own */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO;
    if (G.verbose) flags |= MHD_USE_ERROR_LOG;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)G.max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)G.max_per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(48 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)G.idle_timeout_s, MHD_OPTION_END);
}

#endif /* MCPAUTH_HAVE_MHD */
