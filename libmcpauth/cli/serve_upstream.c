/* serve_upstream.c - `mcpauth serve`'s event loops and its upstream side.
 *
 * --threads event loops, one thread each. A loop owns a libmicrohttpd daemon run in external
 * epoll mode (all daemons accept on the same listening socket) and a libcurl multi handle
 * driven through the socket API, both waited on with one epoll descriptor. A request is read,
 * routed, forwarded upstream and answered on the thread that accepted its connection: no
 * hand-off between threads on the way (only router calls that need network I/O go to the
 * worker pool). The multi handle's connection cache keeps keep-alive connections to the
 * upstream for reuse (--upstream-connections of them when idle, per loop); easy handles are
 * reused too.
 *
 * A forwarded request (struct fwd) has two owners, both on the loop's thread: the
 * libmicrohttpd side (until its response is gone) and the loop (while the transfer runs).
 * The client connection is suspended while it waits for the response headers and whenever
 * the body it streams has no bytes buffered; the loop resumes it when that changes. The loop
 * enforces the wait for response headers (--upstream-timeout -> 504) and aborts the transfer
 * of a client that went away while suspended (libmicrohttpd does not watch suspended
 * sockets).
 */
#ifndef MCPAUTH_HAVE_MHD
typedef int mcpauth_serve_upstream_unused; /* no translation unit is empty */
#else

#include "serve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STREAM_BUF ((size_t)1 << 20) /* upstream bytes held before pausing the transfer */
#define TICK_MS 100                  /* timeouts and departed clients are checked this often */
#define SPARE_EASY 64                /* idle easy handles kept per loop */
#define MAX_LOOPS 64
#define MAX_EVENTS 64

struct fwd {
    int refs; /* the libmicrohttpd side's and the loop's (only the loop's thread touches it) */
    serve_loop *loop;
    struct MHD_Connection *conn;
    int client_fd;
    int method_kind;
    char *method; /* only for methods other than GET, HEAD and POST */
    char *url;
    struct curl_slist *req_headers;
    char *req_body;
    size_t req_body_len;
    int64_t started_ms;

    CURL *easy;
    int active;   /* the transfer runs */
    int loop_ref; /* the loop holds a reference (from start until the end is flushed) */
    int dirty, attention;
    fwd *next, *prev; /* active list */
    fwd *next_dirty, *next_attention;

    long status;
    char **hdrs; /* "Name: value" of the final response */
    size_t nhdrs, hdrs_cap;
    long long content_length; /* -1: unknown */
    int headers_done;
    int chunked; /* a Transfer-Encoding was seen: its Content-Length means nothing */
    char *buf;
    size_t len, off, cap;
    int paused; /* the transfer is paused: buf is full */
    int done;   /* the transfer ended (result) */
    CURLcode result;
    int timed_out;    /* no response headers in time */
    int suspended;    /* the connection waits for a change */
    int want_unpause; /* the reader made room */
};

enum { M_GET, M_HEAD, M_POST, M_OTHER };

struct serve_loop {
    unsigned index;
    pthread_t thread;
    int started;
    struct MHD_Daemon *daemon;
    int mhd_fd;  /* the daemon's epoll descriptor */
    int ep;      /* this loop's epoll descriptor */
    int wake_fd; /* eventfd: stop */
    CURLM *multi;
    int64_t curl_deadline; /* ms; -1: no timer */
    fwd *active, *dirty, *attention;
    int resumed; /* connections were resumed: the daemon must run */
    CURL *spare[SPARE_EASY];
    size_t nspare;
    /* upstream sockets in ep, by descriptor: REG | WATCHED | the events registered. A socket
     * curl stops watching (an idle keep-alive connection) stays registered until it shows an
     * event (then it is removed) or curl watches it again: no epoll_ctl per request. */
    uint32_t *reg;
    size_t nreg;
};

#define REG 0x80000000u
#define WATCHED 0x40000000u

static serve_loop *Loops[MAX_LOOPS];
static unsigned NLoops;
static atomic_int Stop;
static _Thread_local serve_loop *Self;

int64_t serve_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- lifetime ------------------------------------------------------------------------ */

static void clear_headers(fwd *f) {
    for (size_t i = 0; i < f->nhdrs; i++) free(f->hdrs[i]);
    f->nhdrs = 0;
}

static void fwd_unref(fwd *f) {
    if (--f->refs > 0) return;
    curl_slist_free_all(f->req_headers);
    clear_headers(f);
    free(f->hdrs);
    free(f->method);
    free(f->url);
    free(f->req_body);
    free(f->buf);
    free(f);
}

fwd *fwd_new(struct MHD_Connection *c, const char *method, const char *uri, char *body,
             size_t body_len, struct curl_slist *headers) {
    if (!Self) return NULL;
    fwd *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->refs = 1;
    f->loop = Self;
    f->conn = c;
    f->req_headers = headers;
    f->req_body = body;
    f->req_body_len = body_len;
    f->content_length = -1;
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    f->client_fd = fdi ? fdi->connect_fd : -1;
    if (strcmp(method, "GET") == 0)
        f->method_kind = M_GET;
    else if (strcmp(method, "HEAD") == 0)
        f->method_kind = M_HEAD;
    else if (strcmp(method, "POST") == 0)
        f->method_kind = M_POST;
    else
        f->method_kind = M_OTHER;
    size_t ml = strlen(G.upstream), rl = strlen(uri);
    f->url = malloc(ml + rl + 1);
    if (f->method_kind == M_OTHER) f->method = strdup(method);
    if (!f->url || (f->method_kind == M_OTHER && !f->method)) {
        fwd_unref(f);
        return NULL;
    }
    memcpy(f->url, G.upstream, ml);
    memcpy(f->url + ml, uri, rl + 1);
    return f;
}

/* ---- curl callbacks (the loop's thread, inside curl_multi_socket_action) ------------------ */

static void mark_dirty(fwd *f) {
    if (f->dirty) return;
    f->dirty = 1;
    f->next_dirty = f->loop->dirty;
    f->loop->dirty = f;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userp) {
    fwd *f = userp;
    size_t n = size * nitems;
    if (f->headers_done) return n; /* trailers: not relayed (headers_done never reverts) */
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_headers(f);
        f->status = 0;
        f->content_length = -1;
        f->chunked = 0;
        const char *sp = memchr(data, ' ', n);
        if (sp && (size_t)(sp - data) + 4 <= n) f->status = strtol(sp + 1, NULL, 10);
        return n;
    }
    size_t l = n;
    while (l > 0 && (data[l - 1] == '\r' || data[l - 1] == '\n')) l--;
    if (l == 0) {
        if (f->status >= 200 && f->status <= 599) {
            if (f->chunked) f->content_length = -1;
            f->headers_done = 1;
            mark_dirty(f);
        }
        return n;
    }
    if (l > 18 && strncasecmp(data, "transfer-encoding:", 18) == 0) f->chunked = 1;
    if (l > 15 && strncasecmp(data, "content-length:", 15) == 0) {
        char tmp[32];
        size_t vl = l - 15;
        const char *v = data + 15;
        while (vl > 0 && (*v == ' ' || *v == '\t')) v++, vl--;
        unsigned long long cl;
        if (vl > 0 && vl < sizeof tmp) {
            memcpy(tmp, v, vl);
            tmp[vl] = '\0';
            if (serve_parse_number(tmp, 0, (unsigned long long)1 << 62, &cl) == 0)
                f->content_length = (long long)cl;
        }
    }
    if (f->nhdrs == f->hdrs_cap) {
        size_t cap = f->hdrs_cap ? f->hdrs_cap * 2 : 16;
        char **nh = realloc(f->hdrs, cap * sizeof *nh);
        if (!nh) return 0;
        f->hdrs = nh;
        f->hdrs_cap = cap;
    }
    f->hdrs[f->nhdrs] = strndup(data, l);
    if (!f->hdrs[f->nhdrs]) return 0;
    f->nhdrs++;
    return n;
}

static size_t on_body(char *data, size_t size, size_t nitems, void *userp) {
    fwd *f = userp;
    size_t n = size * nitems;
    if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    if (f->len > 0 && f->len + n > STREAM_BUF) {
        f->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    if (f->len + n + 1 > f->cap) {
        size_t cap = f->cap ? f->cap : 4096;
        while (cap < f->len + n + 1) cap *= 2;
        char *nb = realloc(f->buf, cap);
        if (!nb) return 0;
        f->buf = nb;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    mark_dirty(f);
    return n;
}

static void ep_ctl(serve_loop *L, int fd, int op, uint32_t events) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.fd = fd;
    if (epoll_ctl(L->ep, op, fd, &ev) == 0) return;
    /* the descriptor was closed (which left the set) and is a new socket now, or the other
     * way round */
    if (op == EPOLL_CTL_MOD && errno == ENOENT) epoll_ctl(L->ep, EPOLL_CTL_ADD, fd, &ev);
    if (op == EPOLL_CTL_ADD && errno == EEXIST) epoll_ctl(L->ep, EPOLL_CTL_MOD, fd, &ev);
}

/* 1 when fd has a slot in L->reg (grown on demand); 0: handled without the cache. */
static int reg_slot(serve_loop *L, int fd) {
    if (fd < 0) return 0;
    if ((size_t)fd < L->nreg) return 1;
    if (fd >= 1 << 20) return 0;
    size_t n = L->nreg ? L->nreg : 256;
    while (n <= (size_t)fd) n *= 2;
    uint32_t *r = realloc(L->reg, n * sizeof *r);
    if (!r) return 0;
    memset(r + L->nreg, 0, (n - L->nreg) * sizeof *r);
    L->reg = r;
    L->nreg = n;
    return 1;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)e;
    (void)socketp;
    serve_loop *L = userp;
    int cached = reg_slot(L, s);
    if (what == CURL_POLL_REMOVE) {
        if (cached)
            L->reg[s] &= ~WATCHED; /* stays in the set until it shows an event */
        else
            epoll_ctl(L->ep, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    uint32_t events =
        ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (!cached) {
        ep_ctl(L, s, EPOLL_CTL_ADD, events);
        return 0;
    }
    uint32_t cur = L->reg[s];
    if (!(cur & REG))
        ep_ctl(L, s, EPOLL_CTL_ADD, events);
    else if ((cur & ~(REG | WATCHED)) != events)
        ep_ctl(L, s, EPOLL_CTL_MOD, events);
    L->reg[s] = REG | WATCHED | events;
    return 0;
}

/* An event on an upstream socket: curl's, or an idle one curl does not watch (removed). */
static void socket_event(serve_loop *L, int fd, uint32_t events) {
    if ((size_t)fd < L->nreg && (L->reg[fd] & REG) && !(L->reg[fd] & WATCHED)) {
        epoll_ctl(L->ep, EPOLL_CTL_DEL, fd, NULL);
        L->reg[fd] = 0;
        return;
    }
    int flags = 0, running;
    if (events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(L->multi, fd, flags, &running);
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    serve_loop *L = userp;
    L->curl_deadline = timeout_ms < 0 ? -1 : serve_now_ms() + timeout_ms;
    return 0;
}

/* ---- transfers ------------------------------------------------------------------------- */

static CURL *easy_get(serve_loop *L) {
    if (L->nspare > 0) return L->spare[--L->nspare];
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    /* what every transfer has in common is set once per handle */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)G.connect_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* the upstream is reached directly */
    return e;
}

/* Puts a handle back with the per-transfer options undone (the common ones stay).
 * `plain`: the transfer was a GET without a body (nothing else was set). */
static void easy_put(serve_loop *L, CURL *e, int plain) {
    if (L->nspare >= SPARE_EASY) {
        curl_easy_cleanup(e);
        return;
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    if (!plain) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* the method back to GET, NOBODY off */
    }
    L->spare[L->nspare++] = e;
}

static int plain_get(const fwd *f) { return f->method_kind == M_GET && f->req_body_len == 0; }

static void finish(fwd *f, CURLcode result, int timed_out) {
    serve_loop *L = f->loop;
    if (f->easy) {
        curl_multi_remove_handle(L->multi, f->easy);
        easy_put(L, f->easy, plain_get(f));
        f->easy = NULL;
    }
    if (!f->done) {
        f->done = 1;
        f->result = result;
        f->timed_out = timed_out;
    }
    if (f->active) {
        if (f->prev)
            f->prev->next = f->next;
        else
            L->active = f->next;
        if (f->next) f->next->prev = f->prev;
        f->active = 0;
    }
    mark_dirty(f); /* the loop's reference is dropped after the resume pass */
}

static int start(fwd *f) {
    serve_loop *L = f->loop;
    CURL *e = easy_get(L);
    if (!e) return -1;
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->req_headers);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    if (f->method_kind == M_HEAD) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (f->method_kind == M_GET && f->req_body_len == 0) {
        /* the handle's default */
    } else {
        if (f->req_body_len > 0 || f->method_kind == M_POST ||
            (f->method && (strcmp(f->method, "PUT") == 0 || strcmp(f->method, "PATCH") == 0))) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->req_body ? f->req_body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->req_body_len);
        }
        if (f->method_kind != M_POST)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, f->method ? f->method : "GET");
    }
    f->easy = e;
    f->started_ms = serve_now_ms();
    if (curl_multi_add_handle(L->multi, e) != CURLM_OK) {
        f->easy = NULL;
        easy_put(L, e, plain_get(f));
        return -1;
    }
    f->active = 1;
    f->prev = NULL;
    f->next = L->active;
    if (L->active) L->active->prev = f;
    L->active = f;
    f->loop_ref = 1;
    f->refs++;
    return 0;
}

/* 1 when the client closed its connection. */
static int client_gone(int fd) {
    if (fd < 0) return 0;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Every TICK_MS: response headers overdue, clients gone. */
static void scan(serve_loop *L, int64_t now) {
    fwd *next;
    for (fwd *f = L->active; f; f = next) {
        next = f->next;
        if (!f->headers_done && now - f->started_ms >= (int64_t)G.upstream_timeout_s * 1000) {
            if (G.verbose)
                fprintf(stderr, "mcpauth serve: upstream sent no response headers in %u s\n",
                        G.upstream_timeout_s);
            finish(f, CURLE_OPERATION_TIMEDOUT, 1);
        } else if (f->suspended && client_gone(f->client_fd)) {
            finish(f, CURLE_ABORTED_BY_CALLBACK, 0);
        }
    }
}

static void read_done(serve_loop *L) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(L->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        fwd *f = NULL;
        CURLcode r = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        if (f) {
            if (r != CURLE_OK && G.verbose)
                fprintf(stderr, "mcpauth serve: upstream failed: %s\n", curl_easy_strerror(r));
            finish(f, r, 0);
        }
    }
}

/* Transfers whose reader made room are unpaused (outside any callback). */
static void unpause(serve_loop *L) {
    while (L->attention) {
        fwd *f = L->attention;
        L->attention = f->next_attention;
        f->attention = 0;
        if (f->want_unpause && f->paused && f->easy) {
            f->want_unpause = 0;
            f->paused = 0;
            curl_easy_pause(f->easy, CURLPAUSE_CONT);
        }
        f->want_unpause = 0;
    }
}

/* Resumes every connection waiting on a transfer that changed; drops the loop's reference
 * of transfers that ended. */
static void flush_dirty(serve_loop *L) {
    while (L->dirty) {
        fwd *f = L->dirty;
        L->dirty = f->next_dirty;
        f->dirty = 0;
        if (f->suspended) {
            f->suspended = 0;
            MHD_resume_connection(f->conn);
            L->resumed = 1;
        }
        if (f->done && f->loop_ref) {
            f->loop_ref = 0;
            fwd_unref(f);
        }
    }
}

static void curl_due(serve_loop *L, int64_t now) {
    if (L->curl_deadline >= 0 && now >= L->curl_deadline) {
        int running;
        L->curl_deadline = -1;
        curl_multi_socket_action(L->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}

static void *loop_main(void *arg) {
    serve_loop *L = arg;
    Self = L;
    int64_t next_tick = 0, mhd_deadline = 0;
    int run_mhd = 1;
    struct epoll_event evs[MAX_EVENTS];
    while (!atomic_load(&Stop)) {
        int64_t now = serve_now_ms();
        if (run_mhd || now >= mhd_deadline) {
            run_mhd = 0;
            MHD_run(L->daemon);
            now = serve_now_ms();
        }
        curl_due(L, now);
        read_done(L);
        unpause(L);
        if (now >= next_tick) {
            next_tick = now + TICK_MS;
            scan(L, now);
            if (L->index == 0) serve_http_reaper_tick();
        }
        flush_dirty(L);
        if (L->resumed) { /* the resumed connections are handled right away */
            L->resumed = 0;
            run_mhd = 1;
            continue;
        }
        MHD_UNSIGNED_LONG_LONG mt;
        int64_t wait = next_tick - now;
        if (MHD_get_timeout(L->daemon, &mt) == MHD_YES) {
            if ((int64_t)mt < wait) wait = (int64_t)mt;
            mhd_deadline = now + (int64_t)mt;
        } else {
            mhd_deadline = INT64_MAX;
        }
        if (L->curl_deadline >= 0 && L->curl_deadline - now < wait) wait = L->curl_deadline - now;
        if (wait < 0) wait = 0;
        int n = epoll_wait(L->ep, evs, MAX_EVENTS, (int)wait);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == L->mhd_fd) {
                run_mhd = 1;
            } else if (fd == L->wake_fd) {
                uint64_t v;
                if (read(L->wake_fd, &v, sizeof v) < 0) { /* nothing to do */
                }
                run_mhd = 1; /* a worker resumed a connection */
            } else {
                socket_event(L, fd, evs[i].events);
            }
        }
        if (n > 0) {
            read_done(L);
            flush_dirty(L);
            if (L->resumed) {
                L->resumed = 0;
                run_mhd = 1;
            }
        }
    }
    /* stopping: every transfer ends, every waiting connection is resumed and answered, then
     * the daemon closes them all */
    while (L->active) finish(L->active, CURLE_ABORTED_BY_CALLBACK, 0);
    flush_dirty(L);
    MHD_run(L->daemon);
    MHD_stop_daemon(L->daemon);
    L->daemon = NULL;
    flush_dirty(L);
    return NULL;
}

serve_loop *serve_loop_self(void) { return Self; }

void serve_loop_wake(serve_loop *l) {
    uint64_t one = 1;
    if (l && write(l->wake_fd, &one, sizeof one) < 0) { /* the counter is saturated: awake */
    }
}

static void loop_free(serve_loop *L) {
    if (L->daemon) MHD_stop_daemon(L->daemon);
    for (size_t i = 0; i < L->nspare; i++) curl_easy_cleanup(L->spare[i]);
    if (L->multi) curl_multi_cleanup(L->multi);
    if (L->ep >= 0) close(L->ep);
    if (L->wake_fd >= 0) close(L->wake_fd);
    free(L->reg);
    free(L);
}

static int ep_add(int ep, int fd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

int serve_loops_start(int listen_fd) {
    atomic_store(&Stop, 0);
    unsigned n = G.threads < 1 ? 1 : G.threads > MAX_LOOPS ? MAX_LOOPS : G.threads, ready = 0;
    for (unsigned i = 0; i < n; i++) {
        serve_loop *L = calloc(1, sizeof *L);
        if (!L) break;
        L->index = i;
        L->ep = L->wake_fd = -1;
        L->curl_deadline = -1;
        Loops[NLoops++] = L;
        int fd = dup(listen_fd);
        if (fd < 0) break;
        L->daemon = serve_http_daemon(fd);
        if (!L->daemon) {
            close(fd);
            break;
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(L->daemon, MHD_DAEMON_INFO_EPOLL_FD);
        L->multi = curl_multi_init();
        L->ep = epoll_create1(EPOLL_CLOEXEC);
        L->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!di || !L->multi || L->ep < 0 || L->wake_fd < 0) break;
        L->mhd_fd = di->epoll_fd;
        if (ep_add(L->ep, L->mhd_fd) != 0 || ep_add(L->ep, L->wake_fd) != 0) break;
        curl_multi_setopt(L->multi, CURLMOPT_MAXCONNECTS, (long)G.upstream_conns);
        curl_multi_setopt(L->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(L->multi, CURLMOPT_SOCKETDATA, L);
        curl_multi_setopt(L->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(L->multi, CURLMOPT_TIMERDATA, L);
        ready++;
    }
    close(listen_fd); /* every daemon has its own descriptor of the socket */
    if (ready < n) return -1;
    for (unsigned i = 0; i < NLoops; i++) {
        if (pthread_create(&Loops[i]->thread, NULL, loop_main, Loops[i]) != 0) return -1;
        Loops[i]->started = 1;
    }
    return 0;
}

void serve_loops_stop(void) {
    atomic_store(&Stop, 1);
    for (unsigned i = 0; i < NLoops; i++) {
        serve_loop *L = Loops[i];
        if (!L->started) continue;
        uint64_t one = 1;
        if (write(L->wake_fd, &one, sizeof one) < 0) { /* the loop wakes on its tick anyway */
        }
        pthread_join(L->thread, NULL);
        L->started = 0;
    }
    for (unsigned i = 0; i < NLoops; i++) loop_free(Loops[i]);
    NLoops = 0;
}

/* ---- the libmicrohttpd side (the loop's thread) ------------------------------------------- */

int fwd_submit(fwd *f) {
    if (atomic_load(&Stop) || start(f) != 0) return -1;
    f->suspended = 1;
    MHD_suspend_connection(f->conn);
    return 0;
}

int fwd_state(fwd *f) {
    if (f->headers_done) return 1;
    if (f->done) return f->timed_out ? -2 : -1;
    f->suspended = 1;
    MHD_suspend_connection(f->conn);
    return 0;
}

void fwd_release(fwd *f) {
    if (!f) return;
    f->suspended = 0;
    if (f->active) finish(f, CURLE_ABORTED_BY_CALLBACK, 0); /* the client let go */
    fwd_unref(f);
}

static void release_cb(void *cls) { fwd_release(cls); }

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max) {
    (void)pos;
    fwd *f = cls;
    ssize_t ret;
    if (f->len > f->off) {
        size_t n = f->len - f->off;
        if (n > max) n = max;
        memcpy(out, f->buf + f->off, n);
        f->off += n;
        if (f->off == f->len) f->off = f->len = 0;
        ret = (ssize_t)n;
    } else if (f->done) {
        ret = f->result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM
                                    : MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (atomic_load(&g_stopping)) {
        ret = MHD_CONTENT_READER_END_WITH_ERROR;
    } else {
        f->suspended = 1;
        ret = 0;
    }
    if (f->paused && !f->want_unpause && ret >= 0) {
        f->want_unpause = 1;
        if (!f->attention) {
            f->attention = 1;
            f->next_attention = f->loop->attention;
            f->loop->attention = f;
        }
    }
    if (ret == 0) MHD_suspend_connection(f->conn);
    return ret;
}

enum MHD_Result fwd_respond(fwd *f, struct MHD_Connection *c, const char *method,
                            const char *log_target) {
    unsigned status = (unsigned)f->status;
    int bodiless = status == 204 || status == 304 || (status >= 100 && status < 200);
    struct MHD_Response *r;
    if (bodiless) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (f->done && f->result == CURLE_OK && !f->paused && f->method_kind != M_HEAD &&
               (f->content_length < 0 || (uint64_t)f->content_length == f->len - f->off)) {
        /* the whole body is already here (the usual small answer): one copy, no reader */
        r = MHD_create_response_from_buffer(f->len - f->off, f->buf ? f->buf + f->off : (void *)"",
                                            MHD_RESPMEM_MUST_COPY);
        bodiless = 1; /* the response does not refer to f */
    } else {
        uint64_t size = f->content_length >= 0 ? (uint64_t)f->content_length : MHD_SIZE_UNKNOWN;
        r = MHD_create_response_from_callback(size, 16 * 1024, reader, f, release_cb);
    }
    if (!r) {
        fwd_release(f);
        return MHD_NO;
    }
    const char *resp_connection = NULL;
    for (size_t i = 0; i < f->nhdrs; i++)
        if (strncasecmp(f->hdrs[i], "connection:", 11) == 0) resp_connection = f->hdrs[i] + 11;
    for (size_t i = 0; i < f->nhdrs; i++) {
        char *line = f->hdrs[i];
        char *colon = strchr(line, ':');
        if (!colon || colon == line) continue;
        *colon = '\0';
        const char *val = colon + 1;
        while (*val == ' ' || *val == '\t') val++;
        if (!serve_drop_response_header(line, resp_connection))
            MHD_add_response_header(r, line, val);
        *colon = ':';
    }
    if (G.verbose) fprintf(stderr, "%s %s -> %u (upstream)\n", method, log_target, status);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    if (bodiless) fwd_release(f);
    MHD_destroy_response(r);
    return ret;
}

#endif /* MCPAUTH_HAVE_MHD */
