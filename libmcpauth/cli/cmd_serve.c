/* cmd_serve.c - `mcpauth serve`: an authenticating reverse proxy in front of an MCP server.
 *
 *   mcpauth serve --config FILE --upstream URL [--listen HOST:PORT] [--max-body BYTES]
 *                 [--forward-authorization] [--verbose]
 *
 * Every request goes through mcpauth_handle_request(). "respond" decisions (metadata,
 * challenges) are answered here; "pass" decisions are forwarded to the upstream with libcurl:
 * method, raw path and query, headers minus hop-by-hop ones, and the (bounded) body. The
 * upstream response is streamed back as it arrives (Server-Sent Events work). For requests
 * that passed authentication the upstream receives
 *   X-MCPAuth-User: the userId (bytes outside printable ASCII and '%' percent-encoded)
 *   X-MCPAuth-Auth: base64url (no padding) of the auth result JSON
 * and the client's Authorization header is dropped (--forward-authorization keeps it).
 * Headers with these names sent by the client are always removed.
 *
 * When ready it prints one JSON line on stdout: {"listening":"http://HOST:PORT"} (useful with
 * port 0). SIGINT / SIGTERM stop it cleanly.
 *
 * Uses only the public libmcpauth API, libmicrohttpd, libcurl and jansson.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#ifndef MCPAUTH_HAVE_MHD

int mcpauth_cmd_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "mcpauth serve: this build has no libmicrohttpd support\n");
    return 2;
}

#else

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>

#define SERVE_DEFAULT_MAX_BODY ((size_t)4 << 20)
#define SERVE_STREAM_BUF ((size_t)1 << 20) /* upstream bytes held before pausing curl */
#define SERVE_POLL_MS 500
#define SERVE_ROUTER_BODY ((size_t)64 << 10) /* bodies up to this size go to the router */

typedef struct serve_opts {
    mcpauth_engine *engine;
    char *upstream; /* without trailing '/' */
    size_t max_body;
    int forward_authorization;
    int verbose;
} serve_opts;

static serve_opts G;
static atomic_int g_stopping;

/* ---- small helpers ---------------------------------------------------------------------- */

static int name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0) return 1;
    return 0;
}

static const char *const hop_by_hop[] = {"connection",          "keep-alive", "proxy-authenticate",
                                         "proxy-authorization", "te",         "trailer",
                                         "transfer-encoding",   "upgrade",    NULL};

/* 1 if `name` is listed in a Connection header value (comma-separated tokens). */
static int listed_in_connection(const char *connection, const char *name) {
    if (!connection) return 0;
    size_t nl = strlen(name);
    const char *p = connection;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        size_t l = strcspn(p, ", \t");
        if (l == nl && strncasecmp(p, name, nl) == 0) return 1;
        p += l;
    }
    return 0;
}

static char *b64url(const unsigned char *in, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(n / 3 * 4 + 5);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

/* Printable ASCII kept; '%' and everything else percent-encoded. */
static char *header_safe(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '%') {
            out[o++] = (char)*p;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- per-request state ------------------------------------------------------------------ */

typedef struct conn_ctx {
    char *uri; /* the raw request target */
    int started;
    char *body;
    size_t body_len, body_cap;
    int too_large;
} conn_ctx;

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)cls;
    (void)c;
    conn_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx) ctx->uri = strdup(uri ? uri : "");
    return ctx;
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    conn_ctx *ctx = *con_cls;
    if (!ctx) return;
    free(ctx->uri);
    free(ctx->body);
    free(ctx);
    *con_cls = NULL;
}

/* ---- simple answers --------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, const char *body,
                              const char *ctype) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    if (ctype) MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *c, unsigned status, const char *error,
                                    const char *desc) {
    char buf[512];
    snprintf(buf, sizeof buf, "{\"error\":\"%s\",\"error_description\":\"%s\"}", error, desc);
    return answer(c, status, buf, "application/json");
}

/* ---- request JSON for the router -------------------------------------------------------- */

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value) {
    (void)kind;
    json_t *h = cls;
    if (!key) return MHD_YES;
    char name[256];
    size_t n = strlen(key);
    if (n == 0 || n >= sizeof name) return MHD_YES;
    for (size_t i = 0; i <= n; i++)
        name[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
    const char *v = value ? value : "";
    json_t *old = json_object_get(h, name);
    if (old) {
        /* repeated header: combined with ", " (RFC 9110 5.3) */
        size_t a = json_string_length(old), b = strlen(v);
        char *j = malloc(a + b + 3);
        if (!j) return MHD_NO;
        memcpy(j, json_string_value(old), a);
        memcpy(j + a, ", ", 2);
        memcpy(j + a + 2, v, b + 1);
        json_object_set_new(h, name, json_stringn(j, a + b + 2));
        free(j);
    } else {
        json_object_set_new(h, name, json_string(v));
    }
    return MHD_YES;
}

/* mcpMethod from the JSON-RPC body: a string, an array of strings, or null when the body is
 * not a well-formed JSON-RPC message (the router then applies every method scope). */
static json_t *mcp_methods(const char *body, size_t len) {
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *out = NULL;
    if (json_is_object(doc)) {
        json_t *m = json_object_get(doc, "method");
        if (json_is_string(m))
            out = json_incref(m);
        else if (!m)
            out = json_array();
    } else if (json_is_array(doc) && json_array_size(doc) > 0) {
        out = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(doc, i, x) {
            json_t *m = json_object_get(x, "method");
            if (!json_is_object(x) || (m && !json_is_string(m))) {
                json_decref(out);
                out = NULL;
                break;
            }
            if (m) json_array_append(out, m);
        }
    }
    json_decref(doc);
    return out ? out : json_null();
}

static char *request_json(struct MHD_Connection *c, const char *method, const conn_ctx *ctx,
                          json_t **headers_out) {
    json_t *req = json_object();
    json_t *headers = json_object();
    if (!req || !headers) {
        json_decref(req);
        json_decref(headers);
        return NULL;
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, headers);
    const char *uri = ctx->uri;
    const char *q = strchr(uri, '?');
    json_object_set_new(req, "method", json_string(method));
    json_object_set_new(req, "path", q ? json_stringn(uri, (size_t)(q - uri)) : json_string(uri));
    if (q) json_object_set_new(req, "query", json_string(q + 1));
    json_object_set(req, "headers", headers);
    if (ctx->body_len > 0) {
        json_object_set_new(req, "mcpMethod", mcp_methods(ctx->body, ctx->body_len));
        /* the OAuth proxy routes (/token, /register, consent) read small form/JSON bodies;
         * a body that is not UTF-8 cannot be a JSON string and is left out */
        if (ctx->body_len <= SERVE_ROUTER_BODY) {
            json_t *b = json_stringn(ctx->body, ctx->body_len);
            if (b) json_object_set_new(req, "body", b);
        }
    }
    char *s = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    *headers_out = headers;
    return s;
}

/* ---- forwarding ------------------------------------------------------------------------- */

typedef struct fwd {
    CURL *easy;
    CURLM *multi;
    struct curl_slist *req_headers;
    char *req_body;
    size_t req_body_len;
    long status;
    char **hdrs; /* "Name: value" of the final response */
    size_t nhdrs;
    int headers_done;
    char *buf;
    size_t len, off;
    int paused;
    int done;
    CURLcode result;
    int client_fd; /* the client's socket, to notice a disconnect while upstream is idle */
} fwd;

static void fwd_clear_headers(fwd *f) {
    for (size_t i = 0; i < f->nhdrs; i++) free(f->hdrs[i]);
    free(f->hdrs);
    f->hdrs = NULL;
    f->nhdrs = 0;
}

static void fwd_free(void *p) {
    fwd *f = p;
    if (!f) return;
    if (f->multi && f->easy) curl_multi_remove_handle(f->multi, f->easy);
    if (f->easy) curl_easy_cleanup(f->easy);
    if (f->multi) curl_multi_cleanup(f->multi);
    curl_slist_free_all(f->req_headers);
    fwd_clear_headers(f);
    free(f->req_body);
    free(f->buf);
    free(f);
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userp) {
    fwd *f = userp;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        fwd_clear_headers(f);
        f->status = 0;
        const char *sp = memchr(data, ' ', n);
        if (sp && (size_t)(sp - data) + 4 <= n) f->status = strtol(sp + 1, NULL, 10);
        return n;
    }
    size_t l = n;
    while (l > 0 && (data[l - 1] == '\r' || data[l - 1] == '\n')) l--;
    if (l == 0) {
        if (f->status >= 200) f->headers_done = 1;
        return n;
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
    if (f->off > 0) {
        memmove(f->buf, f->buf + f->off, f->len - f->off);
        f->len -= f->off;
        f->off = 0;
    }
    if (f->len > 0 && f->len + n > SERVE_STREAM_BUF) {
        f->paused = 1;
        return CURL_WRITEFUNC_PAUSE;
    }
    char *nb = realloc(f->buf, f->len + n + 1);
    if (!nb) return 0;
    f->buf = nb;
    memcpy(f->buf + f->len, data, n);
    f->len += n;
    return n;
}

/* One round: perform, collect completion, optionally wait. */
static void fwd_step(fwd *f, int wait) {
    int running = 0;
    curl_multi_perform(f->multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(f->multi, &left)))
        if (m->msg == CURLMSG_DONE) {
            f->done = 1;
            f->result = m->data.result;
        }
    if (wait && !f->done) curl_multi_poll(f->multi, NULL, 0, SERVE_POLL_MS, NULL);
}

/* 1 when the client closed its connection (an idle SSE stream would otherwise keep this
 * connection's thread forever). */
static int client_gone(int fd) {
    if (fd < 0) return 0;
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static ssize_t stream_reader(void *cls, uint64_t pos, char *out, size_t max) {
    (void)pos;
    fwd *f = cls;
    for (;;) {
        if (f->len > f->off) {
            size_t n = f->len - f->off;
            if (n > max) n = max;
            memcpy(out, f->buf + f->off, n);
            f->off += n;
            if (f->off == f->len) f->off = f->len = 0;
            if (f->paused) {
                f->paused = 0;
                curl_easy_pause(f->easy, CURLPAUSE_CONT);
            }
            return (ssize_t)n;
        }
        if (f->done)
            return f->result == CURLE_OK ? MHD_CONTENT_READER_END_OF_STREAM
                                         : MHD_CONTENT_READER_END_WITH_ERROR;
        if (atomic_load(&g_stopping)) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (f->paused) {
            f->paused = 0;
            curl_easy_pause(f->easy, CURLPAUSE_CONT);
        }
        if (client_gone(f->client_fd)) return MHD_CONTENT_READER_END_WITH_ERROR;
        fwd_step(f, f->len == f->off);
    }
}

static const char *const skip_request[] = {"host",
                                           "content-length",
                                           "expect",
                                           "x-mcpauth-user",
                                           "x-mcpauth-auth",
                                           "x-forwarded-for",
                                           "x-forwarded-host",
                                           "x-forwarded-proto",
                                           NULL};

static int add_req_header(fwd *f, const char *name, const char *value) {
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) return -1;
    snprintf(line, n, "%s: %s", name, value);
    struct curl_slist *s = curl_slist_append(f->req_headers, line);
    free(line);
    if (!s) return -1;
    f->req_headers = s;
    return 0;
}

static enum MHD_Result forward(struct MHD_Connection *c, const char *method, conn_ctx *ctx,
                               json_t *headers, json_t *auth) {
    fwd *f = calloc(1, sizeof *f);
    if (!f) return answer_error(c, 500, "server_error", "out of memory");
    const union MHD_ConnectionInfo *fdi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    f->client_fd = fdi ? fdi->connect_fd : -1;
    const char *connection = json_string_value(json_object_get(headers, "connection"));
    int bad = 0;
    const char *key;
    json_t *v;
    json_object_foreach(headers, key, v) {
        if (name_in(key, hop_by_hop) || name_in(key, skip_request) ||
            listed_in_connection(connection, key))
            continue;
        if (auth && !G.forward_authorization && strcmp(key, "authorization") == 0) continue;
        bad |= add_req_header(f, key, json_string_value(v));
    }
    const char *host = json_string_value(json_object_get(headers, "host"));
    if (host) bad |= add_req_header(f, "X-Forwarded-Host", host);
    bad |= add_req_header(f, "X-Forwarded-Proto", "http");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        char ip[INET6_ADDRSTRLEN] = "";
        if (ci->client_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, ip,
                      sizeof ip);
        else if (ci->client_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ci->client_addr)->sin6_addr, ip,
                      sizeof ip);
        if (ip[0]) bad |= add_req_header(f, "X-Forwarded-For", ip);
    }
    if (auth) {
        const char *uid =
            json_string_value(json_object_get(json_object_get(auth, "user"), "userId"));
        if (uid) {
            char *safe = header_safe(uid);
            bad |= !safe || add_req_header(f, "X-MCPAuth-User", safe);
            free(safe);
        }
        char *aj = json_dumps(auth, JSON_COMPACT);
        char *enc = aj ? b64url((const unsigned char *)aj, strlen(aj)) : NULL;
        bad |= !enc || add_req_header(f, "X-MCPAuth-Auth", enc);
        free(aj);
        free(enc);
    }
    bad |= add_req_header(f, "Expect", "");
    size_t ul = strlen(G.upstream) + strlen(ctx->uri) + 1;
    char *url = malloc(ul);
    f->easy = curl_easy_init();
    f->multi = curl_multi_init();
    if (bad || !url || !f->easy || !f->multi) {
        free(url);
        fwd_free(f);
        return answer_error(c, 500, "server_error", "out of memory");
    }
    snprintf(url, ul, "%s%s", G.upstream, ctx->uri);
    f->req_body = ctx->body;
    f->req_body_len = ctx->body_len;
    ctx->body = NULL;
    ctx->body_len = 0;

    CURL *e = f->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->req_headers);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") == 0 && f->req_body_len == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        if (f->req_body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
            strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->req_body ? f->req_body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->req_body_len);
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_multi_add_handle(f->multi, e);
    free(url);

    while (!f->headers_done && !f->done && !atomic_load(&g_stopping)) fwd_step(f, 1);
    if (!f->headers_done) {
        if (G.verbose)
            fprintf(stderr, "mcpauth serve: upstream failed: %s\n",
                    curl_easy_strerror(f->done ? f->result : CURLE_ABORTED_BY_CALLBACK));
        fwd_free(f);
        return answer_error(c, 502, "bad_gateway", "upstream server unavailable");
    }

    struct MHD_Response *r;
    if (strcmp(method, "HEAD") == 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_reader, f,
                                              fwd_free);
    }
    if (!r) {
        fwd_free(f);
        return MHD_NO;
    }
    static const char *const skip_response[] = {"content-length", "date", NULL};
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
        if (!name_in(line, hop_by_hop) && !name_in(line, skip_response) &&
            !listed_in_connection(resp_connection, line))
            MHD_add_response_header(r, line, val);
        *colon = ':';
    }
    unsigned status = (unsigned)f->status;
    if (G.verbose) fprintf(stderr, "%s %s -> %u (upstream)\n", method, ctx->uri, status);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    if (strcmp(method, "HEAD") == 0) fwd_free(f);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the access handler ----------------------------------------------------------------- */

static enum MHD_Result respond_decision(struct MHD_Connection *c, const char *method,
                                        const conn_ctx *ctx, json_t *d) {
    int status = (int)json_integer_value(json_object_get(d, "status"));
    const char *body = json_string_value(json_object_get(d, "body"));
    if (status < 100 || status > 599 || !body)
        return answer_error(c, 500, "server_error", "bad decision");
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
    if (G.verbose) fprintf(stderr, "%s %s -> %d\n", method, ctx->uri, status);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
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
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            errno = 0;
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > G.max_body)
                return answer_error(c, 413, "invalid_request", "request body too large");
        }
        return MHD_YES;
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
    if (ctx->too_large) return answer_error(c, 413, "invalid_request", "request body too large");

    json_t *headers = NULL;
    char *rj = request_json(c, method, ctx, &headers);
    if (!rj) {
        json_decref(headers);
        return answer_error(c, 500, "server_error", "out of memory");
    }
    char *decision = NULL;
    int rc = mcpauth_handle_request(G.engine, rj, strlen(rj), 0, &decision);
    free(rj);
    if (rc != MCPAUTH_OK) {
        json_decref(headers);
        if (G.verbose)
            fprintf(stderr, "%s %s -> router error %s\n", method, ctx->uri, mcpauth_code_name(rc));
        if (rc == MCPAUTH_E_INVALID_ARGUMENT)
            return answer_error(c, 400, "invalid_request", "request rejected");
        return answer_error(c, 500, "server_error", mcpauth_strerror(rc));
    }
    json_error_t jerr;
    json_t *d = json_loads(decision, 0, &jerr);
    mcpauth_free(decision);
    const char *action = json_string_value(json_object_get(d, "action"));
    enum MHD_Result ret;
    if (action && strcmp(action, "respond") == 0)
        ret = respond_decision(c, method, ctx, d);
    else if (action && strcmp(action, "pass") == 0)
        ret = forward(c, method, ctx, headers, json_object_get(d, "auth"));
    else
        ret = answer_error(c, 500, "server_error", "bad decision");
    json_decref(d);
    json_decref(headers);
    return ret;
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr, "usage: mcpauth serve --config FILE --upstream URL [--listen HOST:PORT]\n"
                    "                     [--max-body BYTES] [--forward-authorization] "
                    "[--verbose]\n");
}

static int parse_listen(const char *s, struct sockaddr_in *addr) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return -1;
    char host[64];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host) return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (strcmp(host, "localhost") == 0) strcpy(host, "127.0.0.1");
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) return -1;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

int mcpauth_cmd_serve(int argc, char **argv) {
    const char *config = NULL, *upstream = NULL, *listen = "127.0.0.1:8080";
    memset(&G, 0, sizeof G);
    G.max_body = SERVE_DEFAULT_MAX_BODY;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(a, "--upstream") == 0 && i + 1 < argc)
            upstream = argv[++i];
        else if (strcmp(a, "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(a, "--max-body") == 0 && i + 1 < argc)
            G.max_body = (size_t)strtoull(argv[++i], NULL, 10);
        else if (strcmp(a, "--forward-authorization") == 0)
            G.forward_authorization = 1;
        else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0)
            G.verbose = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        } else {
            fprintf(stderr, "mcpauth serve: unknown or incomplete option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (!config || !upstream) {
        usage();
        return 2;
    }
    if (strncmp(upstream, "http://", 7) != 0 && strncmp(upstream, "https://", 8) != 0) {
        fprintf(stderr, "mcpauth serve: --upstream must be an http(s) URL\n");
        return 2;
    }
    struct sockaddr_in addr;
    if (parse_listen(listen, &addr) != 0) {
        fprintf(stderr, "mcpauth serve: --listen must be IPv4HOST:PORT\n");
        return 2;
    }
    size_t clen = 0;
    char *cjson = mcpauth_cli_read_file(config, &clen);
    if (!cjson) return 1;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cjson, clen, 0, &G.engine, &detail);
    free(cjson);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth serve: %s: %s\n", mcpauth_code_name(rc),
                detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 1;
    }
    G.upstream = strdup(upstream);
    if (!G.upstream) return 1;
    size_t ul = strlen(G.upstream);
    while (ul > 0 && G.upstream[ul - 1] == '/') G.upstream[--ul] = '\0';

    /* Signals are handled by sigwait() here; every thread started from now on blocks them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    unsigned mhd_flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (G.verbose) mhd_flags |= MHD_USE_ERROR_LOG;
    struct MHD_Daemon *d = MHD_start_daemon(
        mhd_flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)300, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "mcpauth serve: cannot listen on %s\n", listen);
        mcpauth_engine_free(G.engine);
        free(G.upstream);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, ip, sizeof ip);
    printf("{\"listening\":\"http://%s:%u\"}\n", ip, di ? (unsigned)di->port : 0u);
    fflush(stdout);

    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    if (G.verbose) fprintf(stderr, "mcpauth serve: signal %d, stopping\n", sig);
    atomic_store(&g_stopping, 1);
    MHD_stop_daemon(d);
    mcpauth_engine_free(G.engine);
    free(G.upstream);
    curl_global_cleanup();
    return 0;
}

#endif /* MCPAUTH_HAVE_MHD */
