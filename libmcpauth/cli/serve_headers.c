/* serve_headers.c - which headers `mcpauth serve` hands on, their encodings, log redaction
 * and the strict number parser for its flags. */
#ifndef MCPAUTH_HAVE_MHD
typedef int mcpauth_serve_headers_unused; /* no translation unit is empty */
#else

#include "serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int serve_name_in(const char *name, const char *const *list) {
    for (; *list; list++)
        if (strcasecmp(name, *list) == 0) return 1;
    return 0;
}

static const char *const hop_by_hop[] = {"connection",          "keep-alive", "proxy-authenticate",
                                         "proxy-authorization", "te",         "trailer",
                                         "transfer-encoding",   "upgrade",    NULL};

/* Set by serve itself (or describing the client's connection to serve): never taken from the
 * client. Compared after folding case and reading '_' as '-'. */
static const char *const set_by_serve[] = {"host",
                                           "content-length",
                                           "expect",
                                           "x-forwarded-for",
                                           "x-forwarded-host",
                                           "x-forwarded-proto",
                                           "x-forwarded-port",
                                           "x-forwarded-prefix",
                                           "x-real-ip",
                                           "forwarded",
                                           NULL};

/* Headers by which frameworks let a request claim another method than the one the router saw. */
static const char *const method_override[] = {"x-http-method-override", "x-http-method",
                                              "x-method-override", NULL};

#define RESERVED_PREFIX "x-mcpauth-"

int serve_listed_in_connection(const char *connection, const char *name) {
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

/* name lower-cased with '_' as '-' into buf; 0 when it does not fit. */
static int fold_name(const char *name, char *buf, size_t cap) {
    size_t n = strlen(name);
    if (n >= cap) return 0;
    for (size_t i = 0; i <= n; i++) {
        char ch = name[i];
        if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
        if (ch == '_') ch = '-';
        buf[i] = ch;
    }
    return 1;
}

int serve_drop_request_header(const char *name, const char *connection, int authenticated,
                              int forward_authorization) {
    char f[256];
    if (!fold_name(name, f, sizeof f)) return 1; /* serve refuses longer names before this */
    if (serve_name_in(f, hop_by_hop) || serve_name_in(f, set_by_serve) ||
        strncmp(f, RESERVED_PREFIX, sizeof RESERVED_PREFIX - 1) == 0 ||
        serve_listed_in_connection(connection, name) || serve_listed_in_connection(connection, f))
        return 1;
    /* a spelling of a hop-by-hop or credential header that only a lenient server would read */
    if (strcmp(name, f) != 0 && strchr(name, '_') &&
        (strcmp(f, "authorization") == 0 || strcmp(f, "cookie") == 0))
        return 1;
    if (authenticated && !forward_authorization && strcmp(f, "authorization") == 0) return 1;
    if (!authenticated && serve_name_in(f, method_override)) return 1;
    return 0;
}

int serve_drop_response_header(const char *name, const char *connection) {
    static const char *const skip_response[] = {"content-length", "date", NULL};
    return serve_name_in(name, hop_by_hop) || serve_name_in(name, skip_response) ||
           serve_listed_in_connection(connection, name);
}

char *serve_b64url(const unsigned char *in, size_t n) {
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

char *serve_header_safe(const char *s) {
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

void serve_log_target(char *out, size_t cap, const char *uri) {
    if (cap == 0) return;
    size_t pl = strcspn(uri, "?#");
    int q = uri[pl] != '\0';
    const char *suffix = q ? "?<redacted>" : "";
    size_t room = cap - 1 - strlen(suffix);
    if (cap <= strlen(suffix) + 1) room = 0;
    if (pl > room) pl = room;
    /* control bytes are not written to a terminal as they are */
    size_t o = 0;
    for (size_t i = 0; i < pl; i++) {
        unsigned char ch = (unsigned char)uri[i];
        out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    out[o] = '\0';
    if (room > 0 || !q) strncat(out, suffix, cap - 1 - o);
}

int serve_parse_number(const char *s, unsigned long long min, unsigned long long max,
                       unsigned long long *out) {
    if (!s || !*s) return -1;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        unsigned d = (unsigned)(*p - '0');
        if (d > max || v > (max - d) / 10) return -1; /* past max (and never wraps) */
        v = v * 10 + d;
    }
    if (v < min) return -1;
    *out = v;
    return 0;
}

#endif /* MCPAUTH_HAVE_MHD */
