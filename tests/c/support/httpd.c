/* httpd.c - loopback HTTP test server on libmicrohttpd (see httpd.h). */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TU_MAX_REQ_BODY ((size_t)1 << 20)
#define TU_MAX_URLS 256

typedef struct route {
    char *path;
    char *method; /* NULL = any */
    int status;
    char *content_type; /* NULL = none */
    char *body;
    size_t body_len;
    char *cache_control;
    char *location;
    char *extra_headers;
    unsigned delay_ms;
    int chunked;
    tu_handler handler;
    void *handler_arg;
    unsigned hits;
    unsigned long last_seq; /* request sequence number of the last request served */
    char *last_body;
    char *last_query;
    char *last_method;
    char *last_headers;
    struct route *next;
} route;

struct tu_httpd {
    struct MHD_Daemon *d;
    unsigned port;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on stop, interrupts delays */
    int stopping;
    route *routes;
    unsigned misses;
    unsigned long seq;
    char *urls[TU_MAX_URLS];
    size_t nurls;
};

typedef struct req_state {
    char *body;
    size_t len;
    size_t cap;
} req_state;

/* ---------------------------------------------------------------------------------------- */

static char *xstrdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p) memcpy(p, s, n + 1);
    return p;
}

static char *xmemdup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_adds(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static char *sb_take(sbuf *b) {
    if (b->oom) {
        free(b->p);
        return NULL;
    }
    if (!b->p) return xstrdup("");
    return b->p;
}

static void route_free(route *r) {
    free(r->path);
    free(r->method);
    free(r->content_type);
    free(r->body);
    free(r->cache_control);
    free(r->location);
    free(r->extra_headers);
    free(r->last_body);
    free(r->last_query);
    free(r->last_method);
    free(r->last_headers);
    free(r);
}

/* Route for a request: an exact method match wins over an any-method route. */
static route *route_match(tu_httpd *s, const char *path, const char *method) {
    route *any = NULL;
    for (route *r = s->routes; r; r = r->next) {
        if (strcmp(r->path, path) != 0) continue;
        if (r->method && method && strcmp(r->method, method) == 0) return r;
        if (!r->method && !any) any = r;
    }
    return any;
}

static route *route_exact(tu_httpd *s, const char *path, const char *method) {
    for (route *r = s->routes; r; r = r->next) {
        if (strcmp(r->path, path) != 0) continue;
        if ((!r->method && !method) || (r->method && method && strcmp(r->method, method) == 0))
            return r;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Request handling                                                                         */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    sbuf *b = cls;
    sb_adds(b, key);
    sb_adds(b, ": ");
    if (value) sb_adds(b, value);
    sb_adds(b, "\n");
    return MHD_YES;
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value) {
    sbuf *b = cls;
    if (b->len) sb_adds(b, "&");
    sb_adds(b, key);
    if (value) {
        sb_adds(b, "=");
        sb_adds(b, value);
    }
    return MHD_YES;
}

static void wait_delay(tu_httpd *s, unsigned ms) {
    if (!ms) return;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += ms / 1000;
    dl.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int rc = pthread_cond_timedwait(&s->cv, &s->mu, &dl);
        if (rc == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&s->mu);
}

static void add_extra_headers(struct MHD_Response *resp, const char *hdrs) {
    if (!hdrs) return;
    const char *p = hdrs;
    while (*p) {
        size_t n = strcspn(p, "\r\n");
        if (n > 0) {
            char *line = xmemdup(p, n);
            if (line) {
                char *colon = strchr(line, ':');
                if (colon) {
                    *colon = '\0';
                    char *v = colon + 1;
                    while (*v == ' ' || *v == '\t') v++;
                    MHD_add_response_header(resp, line, v);
                }
                free(line);
            }
        }
        p += n;
        while (*p == '\r' || *p == '\n') p++;
    }
}

typedef struct chunk_src {
    char *data;
    size_t len;
    size_t pos;
} chunk_src;

static ssize_t chunk_read(void *cls, uint64_t pos, char *buf, size_t max) {
    chunk_src *c = cls;
    if (pos >= c->len) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = c->len - (size_t)pos;
    if (n > max) n = max;
    if (n > 1024) n = 1024; /* small chunks */
    memcpy(buf, c->data + pos, n);
    return (ssize_t)n;
}

static void chunk_free(void *cls) {
    chunk_src *c = cls;
    if (!c) return;
    free(c->data);
    free(c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
    tu_httpd *s = cls;
    req_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof *st);
        if (!st) return MHD_NO;
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        if (st->len + n <= TU_MAX_REQ_BODY) {
            if (st->len + n + 1 > st->cap) {
                size_t nc = st->cap ? st->cap : 1024;
                while (nc < st->len + n + 1) nc *= 2;
                char *nb = realloc(st->body, nc);
                if (!nb) return MHD_NO;
                st->body = nb;
                st->cap = nc;
            }
            memcpy(st->body + st->len, upload_data, n);
            st->len += n;
            st->body[st->len] = '\0';
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    sbuf hb = {0}, qb = {0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &hb);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qb);
    char *headers = sb_take(&hb);
    char *query = sb_take(&qb);
    const char *body = st->body ? st->body : "";

    /* Snapshot of the route under the lock. */
    int found = 0, status = 404;
    char *ctype = NULL, *rbody = NULL, *cc = NULL, *loc = NULL, *extra = NULL;
    size_t rbody_len = 0;
    unsigned delay = 0;
    int chunked = 0;
    tu_handler handler = NULL;
    void *harg = NULL;
    pthread_mutex_lock(&s->mu);
    route *r = route_match(s, url, method);
    if (r) {
        found = 1;
        r->hits++;
        r->last_seq = ++s->seq;
        free(r->last_body);
        r->last_body = xmemdup(body, st->len);
        free(r->last_query);
        r->last_query = xstrdup(query ? query : "");
        free(r->last_method);
        r->last_method = xstrdup(method);
        free(r->last_headers);
        r->last_headers = xstrdup(headers ? headers : "");
        status = r->status;
        ctype = xstrdup(r->content_type);
        rbody = xmemdup(r->body ? r->body : "", r->body_len);
        rbody_len = r->body_len;
        cc = xstrdup(r->cache_control);
        loc = xstrdup(r->location);
        extra = xstrdup(r->extra_headers);
        delay = r->delay_ms;
        chunked = r->chunked;
        handler = r->handler;
        harg = r->handler_arg;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->mu);

    wait_delay(s, delay);

    char *hextra = NULL;
    if (found && handler) {
        tu_request req = {method, url, query ? query : "", headers ? headers : "", body, st->len};
        tu_response out = {0};
        out.status = 200;
        handler(harg, &req, &out);
        status = out.status;
        free(rbody);
        rbody = out.body ? out.body : xstrdup("");
        rbody_len = out.body ? out.body_len : 0;
        if (out.body && !out.body_len) rbody_len = strlen(out.body);
        if (out.content_type) {
            free(ctype);
            ctype = out.content_type;
        }
        hextra = out.extra_headers;
    }
    if (!found) {
        rbody = xstrdup("{\"error\":\"not_found\"}");
        rbody_len = rbody ? strlen(rbody) : 0;
        ctype = xstrdup("application/json");
    }

    enum MHD_Result ret = MHD_NO;
    struct MHD_Response *resp = NULL;
    if (chunked) {
        chunk_src *cs = calloc(1, sizeof *cs);
        if (cs) {
            cs->data = rbody ? rbody : xstrdup("");
            cs->len = rbody ? rbody_len : 0;
            rbody = NULL;
            resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, chunk_read, cs,
                                                     chunk_free);
            if (!resp) chunk_free(cs);
        }
    } else {
        resp = MHD_create_response_from_buffer(rbody_len, rbody ? rbody : (char *)"",
                                               MHD_RESPMEM_MUST_COPY);
    }
    if (resp) {
        if (ctype && *ctype) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        if (cc) MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cc);
        if (loc) MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, loc);
        add_extra_headers(resp, extra);
        add_extra_headers(resp, hextra);
        ret = MHD_queue_response(conn, (unsigned)status, resp);
        MHD_destroy_response(resp);
    }
    free(headers);
    free(query);
    free(ctype);
    free(rbody);
    free(cc);
    free(loc);
    free(extra);
    free(hextra);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    req_state *st = *con_cls;
    if (st) {
        free(st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */

tu_httpd *tu_httpd_start(void) {
    tu_httpd *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_ERROR_LOG,
                            0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!s->d) {
        fprintf(stderr, "tu_httpd_start: MHD_start_daemon failed\n");
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : 0;
    if (!s->port) {
        fprintf(stderr, "tu_httpd_start: cannot read the bound port\n");
        MHD_stop_daemon(s->d);
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return NULL;
    }
    return s;
}

void tu_httpd_stop(tu_httpd *s) {
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    route *r = s->routes;
    while (r) {
        route *n = r->next;
        route_free(r);
        r = n;
    }
    for (size_t i = 0; i < s->nurls; i++) free(s->urls[i]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

unsigned tu_httpd_port(const tu_httpd *s) { return s ? s->port : 0; }

const char *tu_httpd_url(tu_httpd *s, const char *path) {
    if (!s || !path) return NULL;
    size_t n = strlen(path) + 40;
    char *u = malloc(n);
    if (!u) return NULL;
    snprintf(u, n, "http://127.0.0.1:%u%s", s->port, path);
    pthread_mutex_lock(&s->mu);
    if (s->nurls >= TU_MAX_URLS) {
        pthread_mutex_unlock(&s->mu);
        free(u);
        fprintf(stderr, "tu_httpd_url: too many URLs\n");
        return NULL;
    }
    s->urls[s->nurls++] = u;
    pthread_mutex_unlock(&s->mu);
    return u;
}

/* ---------------------------------------------------------------------------------------- */
/* Routes                                                                                   */

static int set_str(char **dst, const char *src) {
    char *c = NULL;
    if (src) {
        c = xstrdup(src);
        if (!c) return -1;
    }
    free(*dst);
    *dst = c;
    return 0;
}

int tu_httpd_set(tu_httpd *s, const tu_route *in) {
    if (!s || !in || !in->path) return -1;
    route *n = calloc(1, sizeof *n);
    if (!n) return -1;
    const char *body = in->body ? in->body : "";
    n->body_len = in->body_len ? in->body_len : strlen(body);
    n->body = xmemdup(body, n->body_len);
    n->path = xstrdup(in->path);
    n->method = xstrdup(in->method && *in->method ? in->method : NULL);
    n->content_type = xstrdup(in->content_type ? in->content_type : "application/json");
    n->cache_control = xstrdup(in->cache_control);
    n->location = xstrdup(in->location);
    n->extra_headers = xstrdup(in->extra_headers);
    if (!n->body || !n->path || !n->content_type || (in->method && *in->method && !n->method) ||
        (in->cache_control && !n->cache_control) || (in->location && !n->location) ||
        (in->extra_headers && !n->extra_headers)) {
        route_free(n);
        return -1;
    }
    n->status = in->status ? in->status : 200;
    n->delay_ms = in->delay_ms;
    n->chunked = in->chunked;
    n->handler = in->handler;
    n->handler_arg = in->handler_arg;

    pthread_mutex_lock(&s->mu);
    route *old = route_exact(s, n->path, n->method);
    if (old) { /* replace in place, keep counters and the last request */
        n->hits = old->hits;
        n->last_seq = old->last_seq;
        n->last_body = old->last_body;
        n->last_query = old->last_query;
        n->last_method = old->last_method;
        n->last_headers = old->last_headers;
        old->last_body = old->last_query = old->last_method = old->last_headers = NULL;
        route **pp = &s->routes;
        while (*pp != old) pp = &(*pp)->next;
        n->next = old->next;
        *pp = n;
    } else {
        n->next = s->routes;
        s->routes = n;
    }
    pthread_mutex_unlock(&s->mu);
    if (old) route_free(old);
    return 0;
}

int tu_httpd_route(tu_httpd *s, const char *path, int status, const char *body) {
    tu_route r = {0};
    r.path = path;
    r.status = status;
    r.body = body;
    return tu_httpd_set(s, &r);
}

int tu_httpd_set_body(tu_httpd *s, const char *path, const char *body) {
    if (!s || !path) return -1;
    int found = -1;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next) {
        if (strcmp(r->path, path) != 0) continue;
        char *b = xstrdup(body ? body : "");
        if (!b) {
            found = -1;
            break;
        }
        free(r->body);
        r->body = b;
        r->body_len = strlen(b);
        found = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int tu_httpd_set_status(tu_httpd *s, const char *path, int status) {
    if (!s || !path) return -1;
    int found = -1;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) {
            r->status = status ? status : 200;
            found = 0;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int tu_httpd_set_delay(tu_httpd *s, const char *path, unsigned delay_ms) {
    if (!s || !path) return -1;
    int found = -1;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) {
            r->delay_ms = delay_ms;
            found = 0;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

int tu_httpd_set_cache_control(tu_httpd *s, const char *path, const char *cache_control) {
    if (!s || !path) return -1;
    int found = -1;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) {
            if (set_str(&r->cache_control, cache_control) != 0) {
                found = -1;
                break;
            }
            found = 0;
        }
    pthread_mutex_unlock(&s->mu);
    return found;
}

void tu_httpd_remove(tu_httpd *s, const char *path) {
    if (!s || !path) return;
    route *dead = NULL;
    pthread_mutex_lock(&s->mu);
    route **pp = &s->routes;
    while (*pp) {
        route *r = *pp;
        if (strcmp(r->path, path) == 0) {
            *pp = r->next;
            r->next = dead;
            dead = r;
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&s->mu);
    while (dead) {
        route *n = dead->next;
        route_free(dead);
        dead = n;
    }
}

unsigned tu_httpd_hits(tu_httpd *s, const char *path) {
    if (!s || !path) return 0;
    unsigned n = 0;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) n += r->hits;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void tu_httpd_reset_hits(tu_httpd *s, const char *path) {
    if (!s || !path) return;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next)
        if (strcmp(r->path, path) == 0) r->hits = 0;
    pthread_mutex_unlock(&s->mu);
}

unsigned tu_httpd_misses(tu_httpd *s) {
    if (!s) return 0;
    pthread_mutex_lock(&s->mu);
    unsigned n = s->misses;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* A field of the most recent request served by any route with this path. */
static char *last_field(tu_httpd *s, const char *path, int which) {
    if (!s || !path) return NULL;
    char *out = NULL;
    route *best = NULL;
    pthread_mutex_lock(&s->mu);
    for (route *r = s->routes; r; r = r->next) {
        if (strcmp(r->path, path) != 0 || !r->last_seq) continue;
        if (!best || r->last_seq > best->last_seq) best = r;
    }
    if (best) {
        const char *v = which == 0   ? best->last_body
                        : which == 1 ? best->last_query
                        : which == 2 ? best->last_method
                                     : best->last_headers;
        out = xstrdup(v);
    }
    pthread_mutex_unlock(&s->mu);
    return out;
}

char *tu_httpd_last_body(tu_httpd *s, const char *path) { return last_field(s, path, 0); }
char *tu_httpd_last_query(tu_httpd *s, const char *path) { return last_field(s, path, 1); }
char *tu_httpd_last_method(tu_httpd *s, const char *path) { return last_field(s, path, 2); }

char *tu_httpd_last_header(tu_httpd *s, const char *path, const char *name) {
    if (!name) return NULL;
    char *all = last_field(s, path, 3);
    if (!all) return NULL;
    size_t nl = strlen(name);
    char *out = NULL;
    for (char *line = all; *line;) {
        char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);
        if (ll > nl + 1 && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ') v++;
            out = xmemdup(v, ll - (size_t)(v - line));
            break;
        }
        if (!end) break;
        line = end + 1;
    }
    free(all);
    return out;
}
