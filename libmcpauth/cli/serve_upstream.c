/* serve_upstream.c - `mcpauth serve`'s upstream side.
 *
 * One thread drives a libcurl multi handle: every upstream request of the process runs there,
 * and the multi handle's connection cache keeps keep-alive connections to the upstream for
 * reuse (--upstream-connections of them when idle). Easy handles are reused too.
 *
 * A forwarded request (struct fwd) has two owners: the libmicrohttpd side (until its response
 * is gone) and the upstream thread (while the transfer runs). The client connection is
 * suspended while it waits for the response headers and whenever the body it streams has no
 * bytes buffered; the upstream thread resumes it when that changes. The same thread enforces
 * the wait for response headers (--upstream-timeout -> 504) and aborts the transfer of a
 * client that went away while suspended (libmicrohttpd does not watch suspended sockets).
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
#include <sys/socket.h>
#include <time.h>

#define STREAM_BUF ((size_t)1 << 20) /* upstream bytes held before pausing the transfer */
#define TICK_MS 100                  /* timeouts and departed clients are checked this often */
#define SPARE_EASY 64                /* idle easy handles kept */

struct fwd {
    pthread_mutex_t mu;
    atomic_int refs;
    struct MHD_Connection *conn;
    int client_fd;
    char *method;
    char *url;
    struct curl_slist *req_headers;
    char *req_body;
    size_t req_body_len;
    int64_t started_ms;

    /* the upstream thread's own */
    CURL *easy;
    int active, dirty;
    fwd *next, *prev; /* active list */
    fwd *next_dirty, *next_pending;

    /* guarded by mu */
    long status;
    char **hdrs; /* "Name: value" of the final response */
    size_t nhdrs;
    long long content_length; /* -1: unknown */
    int headers_done;
    int chunked; /* a Transfer-Encoding was seen: its Content-Length means nothing */
    char *buf;
    size_t len, off;
    int paused; /* the transfer is paused: buf is full */
    int done;   /* the transfer ended (result) */
    CURLcode result;
    int timed_out;    /* no response headers in time */
    int suspended;    /* the connection waits for a change */
    int want_unpause; /* the reader made room */
    int cancel;       /* the libmicrohttpd side let go */
};

static struct {
    pthread_t thread;
    int running;
    CURLM *multi;
    pthread_mutex_t qmu;
    fwd *pending; /* LIFO; order among concurrent requests is irrelevant */
    int stop;
    atomic_int attention; /* a cancel or unpause is waiting */
    fwd *active;
    fwd *dirty;
    CURL *spare[SPARE_EASY];
    size_t nspare;
} U = {.qmu = PTHREAD_MUTEX_INITIALIZER};

int64_t serve_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- lifetime ------------------------------------------------------------------------ */

static void clear_headers(fwd *f) {
    for (size_t i = 0; i < f->nhdrs; i++) free(f->hdrs[i]);
    free(f->hdrs);
    f->hdrs = NULL;
    f->nhdrs = 0;
}

static void fwd_unref(fwd *f) {
    if (atomic_fetch_sub(&f->refs, 1) != 1) return;
    if (f->easy) curl_easy_cleanup(f->easy); /* only when it never reached the thread */
    curl_slist_free_all(f->req_headers);
    clear_headers(f);
    free(f->method);
    free(f->url);
    free(f->req_body);
    free(f->buf);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

fwd *fwd_new(struct MHD_Connection *c, const char *method, const char *uri, char *body,
             size_t body_len, struct curl_slist *headers) {
    fwd *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    pthread_mutex_init(&f->mu, NULL);
    atomic_init(&f->refs, 1);
    f->conn = c;
    f->req_headers = headers;
    f->req_body = body;
    f->req_body_len = body_len;
    f->content_length = -1;
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    f->client_fd = fdi ? fdi->connect_fd : -1;
    size_t ul = strlen(G.upstream) + strlen(uri) + 1;
    f->url = malloc(ul);
    f->method = strdup(method);
    if (!f->url || !f->method) {
        fwd_unref(f);
        return NULL;
    }
    snprintf(f->url, ul, "%s%s", G.upstream, uri);
    return f;
}

/* ---- curl callbacks (upstream thread) ---------------------------------------------------- */

static void mark_dirty(fwd *f) {
    if (f->dirty) return;
    f->dirty = 1;
    f->next_dirty = U.dirty;
    U.dirty = f;
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
            pthread_mutex_lock(&f->mu);
            f->headers_done = 1;
            pthread_mutex_unlock(&f->mu);
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
    char **nh = realloc(f->hdrs, (f->nhdrs + 1) * sizeof *nh);
    if (!nh) return 0;
    f->hdrs = nh;
    f->hdrs[f->nhdrs] = strndup(data, l);
    if (!f->hdrs[f->nhdrs]) return 0;
    f->nhdrs++;
    return n;
}

static size_t on_body(char *data, size_t size, size_t nitems, void *userp) {
    fwd *f = userp;
    size_t n = size * nitems;
    pthread_mutex_lock(&f->mu);
    if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    if (f->len > 0 && f->len + n > STREAM_BUF) {
        f->paused = 1;
        pthread_mutex_unlock(&f->mu);
        return CURL_WRITEFUNC_PAUSE;
    }
    char *nb = realloc(f->buf, f->len + n + 1);
    if (!nb) {
        pthread_mutex_unlock(&f->mu);
        return 0;
    }
    f->buf = nb;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    pthread_mutex_unlock(&f->mu);
    mark_dirty(f);
    return n;
}

/* ---- the upstream thread ----------------------------------------------------------------- */

static CURL *easy_get(void) {
    if (U.nspare > 0) return U.spare[--U.nspare];
    return curl_easy_init();
}

static void easy_put(CURL *e) {
    if (U.nspare < SPARE_EASY) {
        curl_easy_reset(e);
        U.spare[U.nspare++] = e;
    } else {
        curl_easy_cleanup(e);
    }
}

static void finish(fwd *f, CURLcode result, int timed_out) {
    if (f->easy) {
        curl_multi_remove_handle(U.multi, f->easy);
        easy_put(f->easy);
        f->easy = NULL;
    }
    pthread_mutex_lock(&f->mu);
    if (!f->done) {
        f->done = 1;
        f->result = result;
        f->timed_out = timed_out;
    }
    pthread_mutex_unlock(&f->mu);
    if (f->active) {
        if (f->prev)
            f->prev->next = f->next;
        else
            U.active = f->next;
        if (f->next) f->next->prev = f->prev;
        f->active = 0;
    }
    mark_dirty(f); /* the upstream thread's reference is dropped after the resume pass */
}

static void start(fwd *f) {
    CURL *e = easy_get();
    if (!e) {
        f->active = 0;
        finish(f, CURLE_OUT_OF_MEMORY, 0);
        return;
    }
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)G.connect_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->req_headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* the upstream is reached directly */
    if (strcmp(f->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(f->method, "GET") == 0 && f->req_body_len == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (f->req_body_len > 0 || strcmp(f->method, "POST") == 0 ||
            strcmp(f->method, "PUT") == 0 || strcmp(f->method, "PATCH") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->req_body ? f->req_body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->req_body_len);
        }
        if (strcmp(f->method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, f->method);
    }
    f->easy = e;
    f->started_ms = serve_now_ms();
    f->active = 1;
    f->prev = NULL;
    f->next = U.active;
    if (U.active) U.active->prev = f;
    U.active = f;
    if (curl_multi_add_handle(U.multi, e) != CURLM_OK) finish(f, CURLE_FAILED_INIT, 0);
}

/* 1 when the client closed its connection. */
static int client_gone(int fd) {
    if (fd < 0) return 0;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void scan(int64_t now, int tick) {
    fwd *next;
    for (fwd *f = U.active; f; f = next) {
        next = f->next;
        pthread_mutex_lock(&f->mu);
        int cancel = f->cancel, unpause = f->want_unpause && f->paused;
        int headers = f->headers_done, suspended = f->suspended;
        f->want_unpause = 0;
        if (unpause) f->paused = 0;
        pthread_mutex_unlock(&f->mu);
        if (cancel) {
            finish(f, CURLE_ABORTED_BY_CALLBACK, 0);
            continue;
        }
        if (!headers && now - f->started_ms >= (int64_t)G.upstream_timeout_s * 1000) {
            if (G.verbose)
                fprintf(stderr, "mcpauth serve: upstream sent no response headers in %u s\n",
                        G.upstream_timeout_s);
            finish(f, CURLE_OPERATION_TIMEDOUT, 1);
            continue;
        }
        if (tick && suspended && client_gone(f->client_fd)) {
            finish(f, CURLE_ABORTED_BY_CALLBACK, 0);
            continue;
        }
        if (unpause && f->easy) curl_easy_pause(f->easy, CURLPAUSE_CONT);
    }
}

/* Resumes every connection waiting on a transfer that changed; drops the thread's reference
 * of transfers that ended. */
static void flush_dirty(void) {
    while (U.dirty) {
        fwd *f = U.dirty;
        U.dirty = f->next_dirty;
        f->dirty = 0;
        pthread_mutex_lock(&f->mu);
        int resume = f->suspended;
        f->suspended = 0;
        int ended = f->done;
        pthread_mutex_unlock(&f->mu);
        if (resume) MHD_resume_connection(f->conn);
        if (ended && !f->active && !f->easy) fwd_unref(f);
    }
}

static void *upstream_main(void *arg) {
    (void)arg;
    int64_t next_tick = 0;
    for (;;) {
        pthread_mutex_lock(&U.qmu);
        fwd *p = U.pending;
        U.pending = NULL;
        int stop = U.stop;
        pthread_mutex_unlock(&U.qmu);
        while (p) {
            fwd *n = p->next_pending;
            start(p);
            p = n;
        }
        if (stop) break;
        int running = 0;
        curl_multi_perform(U.multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(U.multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            fwd *f = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&f);
            if (f) {
                CURLcode r = m->data.result;
                if (r != CURLE_OK && G.verbose)
                    fprintf(stderr, "mcpauth serve: upstream failed: %s\n", curl_easy_strerror(r));
                finish(f, r, 0);
            }
        }
        int64_t now = serve_now_ms();
        int tick = now >= next_tick;
        if (atomic_exchange(&U.attention, 0) || tick) scan(now, tick);
        if (tick) {
            next_tick = now + TICK_MS;
            serve_http_reaper_tick();
        }
        flush_dirty();
        curl_multi_poll(U.multi, NULL, 0, TICK_MS, NULL);
    }
    /* stopping: every transfer ends, every waiting connection is resumed */
    while (U.active) finish(U.active, CURLE_ABORTED_BY_CALLBACK, 0);
    flush_dirty();
    return NULL;
}

int serve_upstream_start(void) {
    U.multi = curl_multi_init();
    if (!U.multi) return -1;
    curl_multi_setopt(U.multi, CURLMOPT_MAXCONNECTS, (long)G.upstream_conns);
    if (pthread_create(&U.thread, NULL, upstream_main, NULL) != 0) {
        curl_multi_cleanup(U.multi);
        U.multi = NULL;
        return -1;
    }
    U.running = 1;
    return 0;
}

void serve_upstream_stop(void) {
    if (!U.running) return;
    pthread_mutex_lock(&U.qmu);
    U.stop = 1;
    pthread_mutex_unlock(&U.qmu);
    curl_multi_wakeup(U.multi);
    pthread_join(U.thread, NULL);
    U.running = 0;
}

void serve_upstream_cleanup(void) {
    for (size_t i = 0; i < U.nspare; i++) curl_easy_cleanup(U.spare[i]);
    U.nspare = 0;
    if (U.multi) curl_multi_cleanup(U.multi);
    U.multi = NULL;
}

/* ---- the libmicrohttpd side -------------------------------------------------------------- */

int fwd_submit(fwd *f) {
    atomic_fetch_add(&f->refs, 1); /* the upstream thread's */
    f->suspended = 1;
    pthread_mutex_lock(&U.qmu);
    if (U.stop) {
        pthread_mutex_unlock(&U.qmu);
        f->suspended = 0;
        atomic_fetch_sub(&f->refs, 1);
        return -1;
    }
    f->next_pending = U.pending;
    U.pending = f;
    pthread_mutex_unlock(&U.qmu);
    curl_multi_wakeup(U.multi);
    MHD_suspend_connection(f->conn);
    return 0;
}

int fwd_state(fwd *f) {
    pthread_mutex_lock(&f->mu);
    int st;
    if (f->headers_done)
        st = 1;
    else if (f->done)
        st = f->timed_out ? -2 : -1;
    else {
        f->suspended = 1;
        st = 0;
    }
    pthread_mutex_unlock(&f->mu);
    if (st == 0) MHD_suspend_connection(f->conn);
    return st;
}

static void wake(void) {
    atomic_store(&U.attention, 1);
    curl_multi_wakeup(U.multi);
}

void fwd_release(fwd *f) {
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    f->cancel = 1;
    int running = !f->done;
    pthread_mutex_unlock(&f->mu);
    if (running) wake();
    fwd_unref(f);
}

static void release_cb(void *cls) { fwd_release(cls); }

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max) {
    (void)pos;
    fwd *f = cls;
    ssize_t ret;
    int need_wake = 0;
    pthread_mutex_lock(&f->mu);
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
        need_wake = 1;
    }
    pthread_mutex_unlock(&f->mu);
    if (need_wake) wake();
    if (ret == 0) MHD_suspend_connection(f->conn);
    return ret;
}

enum MHD_Result fwd_respond(fwd *f, struct MHD_Connection *c, const char *method,
                            const char *log_target) {
    /* headers_done was seen under the lock: status, hdrs and content_length are final */
    unsigned status = (unsigned)f->status;
    int bodiless = status == 204 || status == 304 || (status >= 100 && status < 200);
    struct MHD_Response *r;
    if (bodiless) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
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
