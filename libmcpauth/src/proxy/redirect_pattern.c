/* redirect_pattern.c - allowedRedirectUris patterns, matched on the parsed URI.
 *
 * A pattern is a URI  scheme "://" host [":" port] path ["?" query]  in which "*" may stand
 * for exactly one whole part, never more:
 *   - one host label: the host "*.example.com" matches "a.example.com", not "a.b.example.com"
 *     nor "example.com"
 *   - the port: "127.0.0.1:*" matches any port given, not a missing one
 *   - one path segment: a segment that is exactly "*" matches one non-empty segment, never
 *     several ("/oauth" "/" "*" "/cb" matches "/oauth/x/cb", not "/oauth/x/y/cb")
 * The scheme, the number of host labels and of path segments, and the query must match; the
 * scheme and host compare case-insensitively, the path and query exactly. A "*" anywhere else
 * (inside a label or segment, in the scheme or query) makes the pattern invalid: the
 * configuration is refused. URIs with userinfo or a fragment never match.
 */
#include <string.h>
#include <strings.h>

#include "proxy/proxy_impl.h"

#define MAX_PARTS 64

typedef struct puri {
    const char *scheme;
    size_t scheme_len;
    const char *host; /* NULL: no authority ("scheme:/path") */
    size_t host_len;
    const char *port; /* NULL: none */
    size_t port_len;
    const char *path;
    size_t path_len;
    const char *query; /* NULL: none */
    size_t query_len;
} puri;

static int scheme_char(char c, int first) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
    return !first && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.');
}

/* Splits s into its parts. 0 ok, -1 not a URI of the accepted shape. `pattern` lets "*" be a
 * host label or the port. */
static int parse(const char *s, int pattern, puri *u) {
    memset(u, 0, sizeof *u);
    size_t i = 0;
    while (s[i] && scheme_char(s[i], i == 0)) i++;
    if (i == 0 || s[i] != ':') return -1;
    u->scheme = s;
    u->scheme_len = i;
    const char *p = s + i + 1;
    if (strchr(p, '#')) return -1;
    if (p[0] == '/' && p[1] == '/') {
        const char *a = p + 2;
        size_t al = strcspn(a, "/?");
        if (al == 0 || memchr(a, '@', al)) return -1;
        const char *end = a + al;
        if (a[0] == '[') {
            const char *close = memchr(a, ']', al);
            if (!close) return -1;
            u->host = a;
            u->host_len = (size_t)(close - a) + 1;
            for (size_t k = 1; k + 1 < u->host_len; k++) {
                char c = a[k];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.'))
                    return -1;
            }
        } else {
            const char *colon = memchr(a, ':', al);
            u->host = a;
            u->host_len = colon ? (size_t)(colon - a) : al;
            if (u->host_len == 0) return -1;
            for (size_t k = 0; k < u->host_len; k++) {
                char c = a[k];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || (pattern && c == '*')))
                    return -1;
            }
        }
        const char *after = u->host + u->host_len;
        if (after < end) {
            if (*after != ':') return -1;
            u->port = after + 1;
            u->port_len = (size_t)(end - u->port);
            if (pattern && u->port_len == 1 && u->port[0] == '*') {
                /* the wildcard port */
            } else {
                if (u->port_len == 0 || u->port_len > 5) return -1;
                for (size_t k = 0; k < u->port_len; k++)
                    if (u->port[k] < '0' || u->port[k] > '9') return -1;
            }
        }
        p = end;
    }
    u->path = p;
    u->path_len = strcspn(p, "?");
    if (p[u->path_len] == '?') {
        u->query = p + u->path_len + 1;
        u->query_len = strlen(u->query);
    }
    return 0;
}

/* Splits [s, s+n) at sep into at most MAX_PARTS parts; -1 when there are more. */
static int split(const char *s, size_t n, char sep, const char **part, size_t *len) {
    int k = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == sep) {
            if (k == MAX_PARTS) return -1;
            part[k] = s + start;
            len[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* "*" must be a whole part. */
static int stars_whole(const char *s, size_t n, char sep) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '*') continue;
        if ((i > 0 && s[i - 1] != sep) || (i + 1 < n && s[i + 1] != sep)) return 0;
    }
    return 1;
}

int mcp_redirect_pattern_valid(const char *pattern) {
    puri u;
    if (!pattern || parse(pattern, 1, &u) != 0) return 0;
    if (memchr(u.scheme, '*', u.scheme_len)) return 0;
    if (u.query && memchr(u.query, '*', u.query_len)) return 0;
    if (u.host && !stars_whole(u.host, u.host_len, '.')) return 0;
    if (u.host && u.host[0] == '[' && memchr(u.host, '*', u.host_len)) return 0;
    if (!stars_whole(u.path, u.path_len, '/')) return 0;
    const char *part[MAX_PARTS];
    size_t len[MAX_PARTS];
    if (u.host && split(u.host, u.host_len, '.', part, len) < 0) return 0;
    if (split(u.path, u.path_len, '/', part, len) < 0) return 0;
    return 1;
}

/* Parts of a and b (split at sep) pairwise equal, a's "*" matching any one non-empty part. */
static int parts_match(const char *pa, size_t na, const char *pb, size_t nb, char sep, int ci) {
    const char *ap[MAX_PARTS], *bp[MAX_PARTS];
    size_t al[MAX_PARTS], bl[MAX_PARTS];
    int ka = split(pa, na, sep, ap, al), kb = split(pb, nb, sep, bp, bl);
    if (ka < 0 || kb < 0 || ka != kb) return 0;
    for (int i = 0; i < ka; i++) {
        if (al[i] == 1 && ap[i][0] == '*') {
            if (bl[i] == 0) return 0;
            continue;
        }
        if (al[i] != bl[i]) return 0;
        if (ci ? strncasecmp(ap[i], bp[i], al[i]) != 0 : memcmp(ap[i], bp[i], al[i]) != 0) return 0;
    }
    return 1;
}

int mcp_redirect_pattern_match(const char *pattern, const char *uri) {
    if (!mcp_redirect_pattern_valid(pattern)) return 0;
    puri p, u;
    if (parse(pattern, 1, &p) != 0 || parse(uri, 0, &u) != 0) return 0;
    if (p.scheme_len != u.scheme_len || strncasecmp(p.scheme, u.scheme, p.scheme_len) != 0)
        return 0;
    if (!p.host != !u.host) return 0;
    if (p.host) {
        if (!parts_match(p.host, p.host_len, u.host, u.host_len, '.', 1)) return 0;
        if (!p.port != !u.port) return 0;
        if (p.port && !(p.port_len == 1 && p.port[0] == '*') &&
            (p.port_len != u.port_len || memcmp(p.port, u.port, p.port_len) != 0))
            return 0;
    }
    if (!parts_match(p.path, p.path_len, u.path, u.path_len, '/', 0)) return 0;
    if (!p.query != !u.query) return 0;
    if (p.query && (p.query_len != u.query_len || memcmp(p.query, u.query, p.query_len) != 0))
        return 0;
    return 1;
}
