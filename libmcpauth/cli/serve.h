/* serve.h - the parts of `mcpauth serve` (cmd_serve.c), shared between its files:
 *
 *   cmd_serve.c       options, start and stop
 *   serve_http.c      the libmicrohttpd side: requests in, decisions, responses out, deadlines
 *   serve_upstream.c  the event loops: each runs a libmicrohttpd daemon (external epoll) and
 *                     a libcurl multi handle (keep-alive connections reused) on one thread,
 *                     streaming responses back
 *   serve_pool.c      the bounded worker pool for router calls that need network I/O
 *   serve_headers.c   which headers reach the upstream, header encodings, log redaction
 *
 * Threads: --threads event loops parse requests, forward them upstream and write responses,
 * each for the connections it accepted, and never block; router calls that would do network
 * I/O (JWKS, IdP) go to the worker pool (--workers). A connection waiting for the pool or the
 * upstream is suspended, so no thread is held by a slow client or a slow upstream.
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
    unsigned body_timeout_s;     /* the client's request body, from the end of its headers */
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
typedef struct serve_loop serve_loop;
/* The loop of the calling thread (NULL outside the loops). */
serve_loop *serve_loop_self(void);
/* Makes a loop run its daemon (after another thread resumed one of its connections). */
void serve_loop_wake(serve_loop *l);
/* Starts G.threads event loops accepting on listen_fd (taken over). -1 on failure (then
 * serve_loops_stop() frees what was made). */
int serve_loops_start(int listen_fd);
/* Stops the loops: every transfer aborted, every waiting connection answered, the daemons
 * stopped and everything freed. */
void serve_loops_stop(void);

/* The rest runs on an event loop's thread (libmicrohttpd's callbacks).
 * Builds an upstream request for `c`; takes ownership of body. NULL when out of memory. */
fwd *fwd_new(struct MHD_Connection *c, const char *method, const char *uri, char *body,
             size_t body_len, struct curl_slist *headers);
/* Starts the transfer and suspends the connection until the response headers arrived, the
 * wait timed out or the transfer failed. -1 when stopping or out of memory. */
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

/* ---- serve_pass.c ---- */

typedef struct serve_pass {
    int has_auth;
    const char *auth; /* the auth result's JSON text, auth_len bytes (in the decision) */
    size_t auth_len;
    char *user_id; /* its user.userId (malloc; NULL when absent) */
} serve_pass;
/* 1: `d` (n bytes) is a "pass" decision read into *out; 0: another decision, or one this
 * reader leaves to the general path; -1: out of memory. */
int serve_pass_decision(const char *d, size_t n, serve_pass *out);

/* ---- serve_pool.c ---- */

typedef struct route_job {
    struct MHD_Connection *conn;
    serve_loop *loop; /* the loop that owns conn */
    char *request;    /* the request JSON */
    unsigned flags;   /* mcpauth_route flags (without MCPAUTH_ROUTE_NONBLOCK) */
    atomic_int state; /* 0 idle, 1 queued/running, 2 done */
    int rc;
    char *decision; /* mcpauth_free */
    struct route_job *next;
} route_job;

int serve_pool_start(unsigned workers);
/* Suspends j's connection and queues `j` (the worker resumes it). -1 when stopping (then the
 * connection is not suspended). */
int serve_pool_submit(route_job *j);
void serve_pool_stop(void);

/* ---- serve_http.c ---- */

/* A listening TCP socket (non-blocking), -1 on failure. */
int serve_http_listen(const struct sockaddr *addr, socklen_t len);
/* A daemon in external epoll mode accepting on listen_fd (which it then owns). */
struct MHD_Daemon *serve_http_daemon(int listen_fd);
void serve_http_reaper_tick(void); /* closes connections past their header or body deadline */

#endif /* MCPAUTH_HAVE_MHD */
#endif
