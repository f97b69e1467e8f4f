/* httpd.h - a loopback HTTP server for tests (libmicrohttpd), with a programmable route table.
 *
 * The server binds 127.0.0.1 on a kernel-chosen port and answers each request from a route
 * table keyed by exact path (the query string is ignored for matching) and optionally by
 * method. Every route has a status, content type, body, optional Cache-Control / Location /
 * extra headers, an optional delay before answering (to simulate a slow or hanging server;
 * tu_httpd_stop() interrupts it), a hit counter, and a record of the last request it served
 * (method, decoded query, headers, body). Routes can be changed while the server runs (e.g. a key
 * rotation); every function is thread-safe. Unknown paths answer 404 and count as misses.
 *
 * Typical use:
 *     tu_httpd *s = tu_httpd_start();
 *     tu_httpd_route(s, "/jwks", 200, jwks_text);            // simple route
 *     tu_route r = {.path = "/slow", .status = 200, .body = "{}", .delay_ms = 2000};
 *     tu_httpd_set(s, &r);                                   // full control
 *     const char *url = tu_httpd_url(s, "/jwks");            // http://127.0.0.1:PORT/jwks
 *     ... tu_httpd_hits(s, "/jwks") ...
 *     tu_httpd_set_body(s, "/jwks", rotated_jwks);           // rotation while running
 *     tu_httpd_stop(s);
 */
#ifndef TU_HTTPD_H
#define TU_HTTPD_H

#include <stddef.h>

typedef struct tu_httpd tu_httpd;

/* A request as seen by a handler (all strings NUL-terminated, valid during the call). */
typedef struct tu_request {
    const char *method;
    const char *path;
    const char *query;   /* decoded "a=1&b=2" (MHD arguments), "" when none */
    const char *headers; /* "Name: value\n" lines, as received */
    const char *body;    /* request body (capped at 1 MiB), "" when none */
    size_t body_len;
} tu_request;

/* A handler's answer. The handler may set status, content_type and body (malloc'd by the
 * handler; the server frees it) and extra_headers (malloc'd, "Name: value\r\n..." lines). */
typedef struct tu_response {
    int status;
    char *content_type;
    char *body;
    size_t body_len;
    char *extra_headers;
} tu_response;

/* Dynamic route: called instead of the static body; runs on the connection's thread. */
typedef void (*tu_handler)(void *arg, const tu_request *req, tu_response *resp);

/* A route description; tu_httpd_set() copies every string. */
typedef struct tu_route {
    const char *path;          /* exact path, e.g. "/jwks" (required) */
    const char *method;        /* NULL = any method; else exact, e.g. "POST" */
    int status;                /* 0 = 200 */
    const char *content_type;  /* NULL = "application/json"; "" = no Content-Type header */
    const char *body;          /* NULL = empty */
    size_t body_len;           /* 0 = strlen(body) */
    const char *cache_control; /* NULL = no Cache-Control header */
    const char *location;      /* NULL = no Location header */
    const char *extra_headers; /* NULL or "Name: value\r\nName2: value2" (CRLF separated) */
    unsigned delay_ms;         /* wait this long before answering */
    int chunked;               /* 1: chunked transfer encoding, no Content-Length */
    tu_handler handler;        /* optional: dynamic answer (overrides status/body/type) */
    void *handler_arg;
} tu_route;

/* Starts the server on 127.0.0.1 with a free port. NULL on failure (prints why). */
tu_httpd *tu_httpd_start(void);
/* Stops it (interrupting delayed routes) and frees everything, including tu_httpd_url()
 * strings. NULL-safe. */
void tu_httpd_stop(tu_httpd *s);

unsigned tu_httpd_port(const tu_httpd *s);
/* "http://127.0.0.1:PORT" + path; owned by the server, valid until tu_httpd_stop(). */
const char *tu_httpd_url(tu_httpd *s, const char *path);

/* Adds or replaces the route for (path, method). Replacing keeps the hit counter.
 * Returns 0, or -1 on no memory. */
int tu_httpd_set(tu_httpd *s, const tu_route *r);
/* Shorthand: any method, JSON content type, no extra headers, no delay. */
int tu_httpd_route(tu_httpd *s, const char *path, int status, const char *body);

/* Changes one field of every route with this path (any method). Return 0, or -1 when no
 * such route exists / no memory. */
int tu_httpd_set_body(tu_httpd *s, const char *path, const char *body);
int tu_httpd_set_status(tu_httpd *s, const char *path, int status);
int tu_httpd_set_delay(tu_httpd *s, const char *path, unsigned delay_ms);
int tu_httpd_set_cache_control(tu_httpd *s, const char *path, const char *cache_control);
/* Removes every route with this path. */
void tu_httpd_remove(tu_httpd *s, const char *path);

/* Requests answered on routes with this path (all methods), since creation or reset. */
unsigned tu_httpd_hits(tu_httpd *s, const char *path);
void tu_httpd_reset_hits(tu_httpd *s, const char *path);
/* Requests to paths without a route. */
unsigned tu_httpd_misses(tu_httpd *s);

/* The last request served on this path: malloc'd copies (caller frees), NULL when none. */
char *tu_httpd_last_body(tu_httpd *s, const char *path);
char *tu_httpd_last_query(tu_httpd *s, const char *path);
char *tu_httpd_last_method(tu_httpd *s, const char *path);
/* Value of header `name` (case-insensitive) in the last request on this path, or NULL. */
char *tu_httpd_last_header(tu_httpd *s, const char *path, const char *name);

#endif
