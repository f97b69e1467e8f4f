/* serve.h - the parts of `mcpauth serve` (cmd_serve.c), shared between its files:
 *
 *   cmd_serve.c       options, start and stop
 *   serve_http.c      the libmicrohttpd side: requests in, decisions, responses out, deadlines
 *   serve_upstream.c  the upstream side: one thread driving a libcurl multi handle (keep-alive
 *                     connections reused), streaming responses back
 *   serve_pool.c      the bounded worker pool for router calls that need network I/O
 *   serve_headers.c   which headers reach the upstream, header encodings, log redaction
 *
 * Threads: libmicrohttpd's event threads (--threads, epoll) parse requests and write
 * responses and never block; router calls that would do network I/O (JWKS, IdP) go to the
 * worker pool (--workers); upstream requests go to the upstream thread. A connection waiting
 * for either is suspended, so no thread is held by a slow client or a slow upstream.
 */
#ifndef MCPAUTH_CLI_SERVE_H
#define MCPAUTH_CLI_SERVE_H

#ifdef MCPAUTH_HAVE_MHD

#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <mcpauth.h>

typedef struct serve_opts {
    mcpauth_engine *engine;
    char *upstream; /* without trailing '/' */
    size_t max_body;
    unsigned upstream_timeout_s; /* wait for the upstream's response headers, then 504 */
    unsigned connect_timeout_s;  /* TCP/TLS connect to the upstream */
    unsigned header_timeout_s;   /* the client's request line and headers, then closed */
    unsigned idle_timeout_s;     /* a client connection with no traffic, then closed */
    unsigned max_connections;    /* client connections, in all */
    unsigned max_per_ip;         /* client connections from one address */
    unsigned threads;            /* event threads */
    unsigned workers;            /* router calls that need network I/O */
    unsigned upstream_conns;     /* idle keep-alive connections kept to the upstream */
    int forward_authorization;
    int verbose;
} serve_opts;

extern serve_opts G;
extern atomic_int g_stopping;

int64_t serve_now_ms(void);

/* ---- serve_headers.c ---- */

/* Case-insensitive membership of a NULL-terminated list. */
int serve_name_in(const char *name, const char *const *list);
/* 1 if `name` is listed in a Connection header value (comma-separated tokens). */
int serve_listed_in_connection(const char *connection, const char *name);
/* 1 if a client header named `name` must not reach the upstream (hop-by-hop, set by serve,
 * reserved prefix X-MCPAuth- in any spelling: case folded, '_' read as '-'). `authenticated`
 * says whether the request passed authentication (method overrides are dropped otherwise). */
int serve_drop_request_header(const char *name, const char *connection, int authenticated,
                              int forward_authorization);
/* 1 if an upstream response header named `name` is not relayed. */
int serve_drop_response_header(const char *name, const char *connection);
char *serve_b64url(const unsigned char *in, size_t n);
/* Printable ASCII kept; '%' and everything else percent-encoded. */
char *serve_header_safe(const char *s);
/* The request target for logs: the path, with any query replaced by "?<redacted>". */
void serve_log_target(char *out, size_t cap, const char *uri);
/* A whole decimal number in [min, max]: digits only (no sign, space, exponent or suffix). */
int serve_parse_number(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out);

/* ---- serve_upstream.c ---- */

typedef struct fwd fwd;
int serve_upstream_start(void);
/* Stops the upstream thread: every transfer aborted, every waiting connection resumed. */
void serve_upstream_stop(void);
void serve_upstream_cleanup(void);

/* Builds an upstream request for `c`; takes ownership of body. NULL when out of memory. */
fwd *fwd_new(struct MHD_Connection *c, const char *method, const char *uri, char *body,
             size_t body_len, struct curl_slist *headers);
/* Hands it to the upstream thread and suspends the connection until the response headers
 * arrived, the wait timed out or the transfer failed. -1 when stopping. */
int fwd_submit(fwd *f);
/* After resumption: 1 when headers are there (status etc. valid), 0 when the connection must
 * wait further (spurious resume), -1 failed, -2 timed out. */
int fwd_state(fwd *f);
/* Queues the upstream's response on `c` (streams the body); consumes the MHD side's
 * reference. */
enum MHD_Result fwd_respond(fwd *f, struct MHD_Connection *c, const char *method,
                            const char *log_target);
/* Drops the MHD side's reference (aborting the transfer when still running). */
void fwd_release(fwd *f);

/* ---- serve_pool.c ---- */

typedef struct route_job {
    struct MHD_Connection *conn;
    char *request;    /* the request JSON */
    unsigned flags;   /* mcpauth_route flags (without MCPAUTH_ROUTE_NONBLOCK) */
    atomic_int state; /* 0 idle, 1 queued/running, 2 done */
    int rc;
    char *decision; /* mcpauth_free */
    struct route_job *next;
} route_job;

int serve_pool_start(unsigned workers);
/* Queues `j`; the connection must be suspended by the caller right after. -1 when stopping. */
int serve_pool_submit(route_job *j);
void serve_pool_stop(void);

/* ---- serve_http.c ---- */

struct MHD_Daemon *serve_http_start(const struct sockaddr *addr);
void serve_http_reaper_tick(void); /* closes connections past their header deadline */

#endif /* MCPAUTH_HAVE_MHD */
#endif
