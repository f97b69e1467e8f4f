/* paths.c - request paths for the router: protection by whole-segment prefix on the raw and the
 * normalized path, path normalization, and access tokens in query strings. */
#include "http/paths.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "/a/b/" -> "/a/b"; "/" -> "". NULL on no memory. */
char *mcp_path_trim(const char *p) {
    size_t l = strlen(p);
    while (l > 0 && p[l - 1] == '/') l--;
    return mcp_strndup(p, l);
}

int mcp_strv_has(const mcp_strv v, const char *s) {
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes once, maps '\' to '/', resolves "." and ".." segments and collapses
 * repeated '/'. Malloc'd. */
char *mcp_path_normalize(const char *raw) {
    size_t n = strlen(raw);
    char *dec = malloc(n + 2);
    if (!dec) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)raw[i];
        if (c == '%' && i + 2 < n && hexval((unsigned char)raw[i + 1]) >= 0 &&
            hexval((unsigned char)raw[i + 2]) >= 0) {
            c = hexval((unsigned char)raw[i + 1]) * 16 + hexval((unsigned char)raw[i + 2]);
            i += 2;
        }
        if (c == '\\') c = '/';
        if (c == '\0') c = '?'; /* never a path character; keeps the string intact */
        dec[o++] = (char)c;
    }
    dec[o] = '\0';
    /* segment stack over dec */
    char *out = malloc(o + 2);
    if (!out) {
        free(dec);
        return NULL;
    }
    size_t ol = 0;
    size_t i = 0;
    while (i < o) {
        while (i < o && dec[i] == '/') i++;
        size_t s = i;
        while (i < o && dec[i] != '/') i++;
        size_t sl = i - s;
        if (sl == 0) break;
        if (sl == 1 && dec[s] == '.') continue;
        if (sl == 2 && dec[s] == '.' && dec[s + 1] == '.') {
            while (ol > 0 && out[ol - 1] != '/') ol--;
            if (ol > 0) ol--; /* drop the '/' too */
            continue;
        }
        out[ol++] = '/';
        memcpy(out + ol, dec + s, sl);
        ol += sl;
    }
    if (ol == 0) out[ol++] = '/';
    out[ol] = '\0';
    free(dec);
    return out;
}

/* Whole-segment, case-insensitive prefix match; prefix "" (from "/") matches everything. */
static int path_under(const char *path, const char *prefix) {
    size_t l = strlen(prefix);
    if (l == 0) return 1;
    if (strncasecmp(path, prefix, l) != 0) return 0;
    char c = path[l];
    return c == '\0' || c == '/' || c == ';';
}

int mcp_path_under2(const char *raw, const char *norm, const char *prefix) {
    return path_under(raw, prefix) || (norm && path_under(norm, prefix));
}

int mcp_path_protected(const mcp_strv protected_paths, const char *raw, const char *norm) {
    for (size_t i = 0; protected_paths && protected_paths[i]; i++)
        if (mcp_path_under2(raw, norm, protected_paths[i])) return 1;
    return 0;
}

/* 1 when the query has an access_token parameter (name percent-decoded, '+' as space). */
int mcp_query_has_token(const char *q) {
    static const char want[] = "access_token";
    while (q && *q) {
        size_t plen = strcspn(q, "&;");
        size_t klen = strcspn(q, "=&;");
        if (klen > plen) klen = plen;
        /* decode the name into a small buffer; longer names cannot match */
        char name[sizeof want + 1];
        size_t o = 0;
        int toolong = 0;
        for (size_t i = 0; i < klen; i++) {
            int c = (unsigned char)q[i];
            if (c == '%' && i + 2 < klen && hexval((unsigned char)q[i + 1]) >= 0 &&
                hexval((unsigned char)q[i + 2]) >= 0) {
                c = hexval((unsigned char)q[i + 1]) * 16 + hexval((unsigned char)q[i + 2]);
                i += 2;
            } else if (c == '+') {
                c = ' ';
            }
            if (o >= sizeof want) {
                toolong = 1;
                break;
            }
            name[o++] = (char)c;
        }
        if (!toolong && o == sizeof want - 1 && memcmp(name, want, o) == 0) return 1;
        q += plen;
        if (*q) q++;
    }
    return 0;
}
