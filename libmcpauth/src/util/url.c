/* url.c - URL helpers: outbound URL checks, form (query) parsing with percent-decoding,
 * percent-encoding, http(s) URI splitting, redirect URI rules (RFC 8252) and display hosts.
 * Every input is hostile: lengths are bounded and malformed escapes, NULs and invalid UTF-8
 * are refused. */
#include "util/url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- outbound URLs (https, or http to loopback) ---------------------------------------------- */

#define MCP_OUTBOUND_URL_MAX 2048

typedef struct url_parts {
    int https;        /* 1 https, 0 http */
    const char *host; /* points into the URL; for IPv6 literals includes the brackets */
    size_t host_len;
} url_parts;

static int ascii_lower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

static int hexv(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* Host characters allowed in a registered name: letters, digits, '-', '.', '_'. No percent
 * encoding, no IDN (punycode must be used), nothing a resolver could interpret differently. */
static int is_host_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
           c == '.' || c == '_';
}

/* Strict dotted-quad (four decimal octets 0..255, no leading zeros). Fills oct[0..3]. */
static int parse_ipv4(const char *s, size_t n, unsigned oct[4]) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || s[i] != '.') return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && is_digit((unsigned char)s[i]) && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255) return 0;
        if (i - start > 1 && s[start] == '0') return 0; /* leading zero: octal ambiguity */
        oct[part] = v;
    }
    return i == n;
}

static int host_is_loopback(const char *h, size_t n) {
    unsigned oct[4];
    if (mcp_eq_ci_n(h, n, "localhost")) return 1;
    if (n == 5 && memcmp(h, "[::1]", 5) == 0) return 1;
    if (parse_ipv4(h, n, oct) && oct[0] == 127) return 1;
    return 0;
}

/* Splits and validates; on failure returns MCPAUTH_E_CONFIG with a message naming `what`. */
static int url_parse(const char *url, const char *what, url_parts *p, mcp_err *err) {
    if (!what) what = "url";
    if (!url || !*url) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL is empty", what);
    size_t len = strnlen(url, MCP_OUTBOUND_URL_MAX + 1);
    if (len > MCP_OUTBOUND_URL_MAX)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL longer than %d characters", what,
                           MCP_OUTBOUND_URL_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: URL contains whitespace, control or non-ASCII characters",
                               what);
        if (c == '#')
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL must not contain a fragment", what);
        if (c == '\\')
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL must not contain a backslash", what);
    }
    const char *rest;
    if (mcp_starts_ci(url, "https://")) {
        p->https = 1;
        rest = url + 8;
    } else if (mcp_starts_ci(url, "http://")) {
        p->https = 0;
        rest = url + 7;
    } else {
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "%s: URL scheme must be https (or http for a "
                           "loopback host)",
                           what);
    }
    size_t alen = strcspn(rest, "/?");
    const char *auth = rest;
    if (memchr(auth, '@', alen))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL must not contain userinfo", what);
    if (alen == 0) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has no host", what);

    const char *host = auth;
    size_t hlen;
    const char *after;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has a malformed IPv6 host", what);
        hlen = (size_t)(close - auth) + 1;
        if (hlen < 4) /* "[::]" is the shortest */
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has a malformed IPv6 host", what);
        for (size_t i = 1; i + 1 < hlen; i++) {
            int c = (unsigned char)auth[i];
            if (hexv(c) < 0 && c != ':' && c != '.')
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has a malformed IPv6 host",
                                   what);
        }
        after = auth + hlen;
    } else {
        hlen = 0;
        while (hlen < alen && auth[hlen] != ':') hlen++;
        if (hlen == 0) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has no host", what);
        for (size_t i = 0; i < hlen; i++)
            if (!is_host_char((unsigned char)auth[i]))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "%s: URL host contains an invalid character", what);
        after = auth + hlen;
    }
    size_t left = alen - (size_t)(after - auth);
    if (left > 0) {
        if (after[0] != ':')
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has a malformed authority", what);
        if (left < 2 || left > 6)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has an invalid port", what);
        unsigned long port = 0;
        for (size_t i = 1; i < left; i++) {
            if (!is_digit((unsigned char)after[i]))
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has an invalid port", what);
            port = port * 10 + (unsigned long)(after[i] - '0');
        }
        if (port == 0 || port > 65535)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: URL has an invalid port", what);
    }
    p->host = host;
    p->host_len = hlen;
    return MCPAUTH_OK;
}

int mcp_url_check(const char *url, const char *what, mcp_err *err) {
    url_parts p;
    int rc = url_parse(url, what, &p, err);
    if (rc != MCPAUTH_OK) return rc;
    if (!p.https && !host_is_loopback(p.host, p.host_len))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "%s: URL must use https (http is allowed only for a loopback host)",
                           what ? what : "url");
    return MCPAUTH_OK;
}

int mcp_url_is_loopback(const char *url) {
    url_parts p;
    if (url_parse(url, "url", &p, NULL) != MCPAUTH_OK) return 0;
    return host_is_loopback(p.host, p.host_len);
}

/* ---- forms (application/x-www-form-urlencoded) ----------------------------------------------- */

/* Decodes into a malloc'd string; NULL with *bad = 1 on a malformed escape or NUL. */
static char *pct_decode(const char *s, size_t n, int *bad) {
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= n || hexv((unsigned char)s[i + 1]) < 0 ||
                hexv((unsigned char)s[i + 2]) < 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            int v = hexv((unsigned char)s[i + 1]) * 16 + hexv((unsigned char)s[i + 2]);
            if (v == 0) {
                free(out);
                *bad = 1;
                return NULL;
            }
            out[o++] = (char)v;
            i += 2;
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t extra;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return 0;
        }
        if (i + extra >= n) return 0;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
        i += extra + 1;
    }
    return 1;
}

int mcp_form_parse(const char *s, size_t len, json_t **out) {
    *out = NULL;
    json_t *obj = json_object();
    if (!obj) return -2;
    size_t i = 0, count = 0;
    while (i < len) {
        const char *seg = s + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t sl = amp ? (size_t)(amp - seg) : len - i;
        i += sl + 1;
        if (sl == 0) continue;
        if (++count > MCP_FORM_MAX_PARAMS) {
            json_decref(obj);
            return -1;
        }
        const char *eq = memchr(seg, '=', sl);
        size_t kl = eq ? (size_t)(eq - seg) : sl;
        int bad = 0;
        char *k = pct_decode(seg, kl, &bad);
        char *v = NULL;
        if (k) v = eq ? pct_decode(eq + 1, sl - kl - 1, &bad) : mcp_strdup("");
        if (!k || !v) {
            free(k);
            free(v);
            json_decref(obj);
            return bad ? -1 : -2;
        }
        int rc = 0;
        if (!utf8_valid((unsigned char *)k, strlen(k)) ||
            !utf8_valid((unsigned char *)v, strlen(v)) || k[0] == '\0')
            rc = -1;
        else if (json_object_get(obj, k))
            rc = -3;
        else if (json_object_set_new(obj, k, json_string(v)) != 0)
            rc = -2;
        free(k);
        free(v);
        if (rc) {
            json_decref(obj);
            return rc;
        }
    }
    *out = obj;
    return 0;
}

/* ---- encoding -------------------------------------------------------------------------------- */

static int unreserved(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void buf_enc(mcp_buf *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c)) {
            mcp_buf_add(b, (const char *)&c, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            mcp_buf_add(b, e, 3);
        }
    }
}

void mcp_buf_param(mcp_buf *b, const char *name, const char *value) {
    if (b->len > 0) mcp_buf_add(b, "&", 1);
    buf_enc(b, name);
    mcp_buf_add(b, "=", 1);
    buf_enc(b, value ? value : "");
}

char *mcp_url_encode(const char *s) {
    mcp_buf b = {0};
    buf_enc(&b, s ? s : "");
    return mcp_buf_take(&b);
}

char *mcp_url_with_params(const char *url, const char *params) {
    mcp_buf b = {0};
    mcp_buf_adds(&b, url);
    if (params && *params) {
        const char *q = strchr(url, '?');
        mcp_buf_adds(&b, !q ? "?" : (q[1] && url[strlen(url) - 1] != '&') ? "&" : "");
        mcp_buf_adds(&b, params);
    }
    return mcp_buf_take(&b);
}

/* ---- URIs ------------------------------------------------------------------------------------ */

/* Parses the scheme (lower-cased into buf). Returns its length, 0 when absent/invalid. */
static size_t scheme_of(const char *uri, char *buf, size_t cap) {
    size_t i = 0;
    if (!((uri[0] >= 'a' && uri[0] <= 'z') || (uri[0] >= 'A' && uri[0] <= 'Z'))) return 0;
    while (uri[i] && uri[i] != ':') {
        int c = (unsigned char)uri[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
        if (i + 1 >= cap) return 0;
        buf[i] = (char)ascii_lower(c);
        i++;
    }
    if (uri[i] != ':') return 0;
    buf[i] = '\0';
    return i;
}

typedef struct http_uri {
    const char *host;
    size_t host_len;
    const char *port;
    size_t port_len;
    const char *rest; /* path, query */
} http_uri;

/* Splits "//authority/rest" after the scheme. 0 ok, -1 bad. */
static int split_authority(const char *after_scheme, http_uri *u) {
    if (strncmp(after_scheme, "//", 2) != 0) return -1;
    const char *a = after_scheme + 2;
    size_t al = strcspn(a, "/?");
    if (al == 0 || memchr(a, '@', al)) return -1;
    u->rest = a + al;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', al);
        if (!close) return -1;
        u->host = a;
        u->host_len = (size_t)(close - a) + 1;
        for (size_t i = 1; i + 1 < u->host_len; i++) {
            int c = (unsigned char)a[i];
            if (!(hexv(c) >= 0 || c == ':' || c == '.')) return -1;
        }
    } else {
        const char *colon = memchr(a, ':', al);
        u->host = a;
        u->host_len = colon ? (size_t)(colon - a) : al;
        if (u->host_len == 0) return -1;
        for (size_t i = 0; i < u->host_len; i++) {
            int c = (unsigned char)a[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_'))
                return -1;
        }
    }
    const char *after_host = u->host + u->host_len;
    u->port = NULL;
    u->port_len = 0;
    if (after_host < a + al) {
        if (*after_host != ':') return -1;
        u->port = after_host + 1;
        u->port_len = (size_t)(a + al - u->port);
        if (u->port_len == 0 || u->port_len > 5) return -1;
        for (size_t i = 0; i < u->port_len; i++)
            if (u->port[i] < '0' || u->port[i] > '9') return -1;
    }
    return 0;
}

int mcp_http_uri_split(const char *uri, int *https, char **host, unsigned *port,
                       const char **rest) {
    char scheme[8];
    size_t sl = scheme_of(uri, scheme, sizeof scheme);
    if (sl == 5 && strcmp(scheme, "https") == 0)
        *https = 1;
    else if (sl == 4 && strcmp(scheme, "http") == 0)
        *https = 0;
    else
        return -1;
    http_uri u;
    if (split_authority(uri + sl + 1, &u) != 0) return -1;
    unsigned pv = 0;
    for (size_t i = 0; i < u.port_len; i++) pv = pv * 10 + (unsigned)(u.port[i] - '0');
    if (u.port && (pv == 0 || pv > 65535)) return -1;
    if (u.host[0] == '[')
        *host = mcp_strndup(u.host + 1, u.host_len - 2);
    else
        *host = mcp_strndup(u.host, u.host_len);
    if (!*host) return -2;
    *port = pv;
    *rest = u.rest;
    return 0;
}

static const char *const denied_schemes[] = {
    "javascript", "data", "file",   "vbscript", "about", "blob", "filesystem", "view-source", "ftp",
    "ws",         "wss",  "mailto", "tel",      "sms",   "jar",  "livescript", "mhtml",       NULL};

const char *mcp_redirect_uri_problem(const char *uri) {
    if (!uri || !*uri) return "redirect URI is empty";
    size_t n = strnlen(uri, MCP_REDIRECT_URI_MAX + 1);
    if (n > MCP_REDIRECT_URI_MAX) return "redirect URI is too long";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c <= 0x20 || c >= 0x7f)
            return "redirect URI contains whitespace, control or non-ASCII characters";
        if (c == '#') return "redirect URI must not contain a fragment";
        if (c == '\\') return "redirect URI must not contain a backslash";
    }
    char scheme[40];
    size_t sl = scheme_of(uri, scheme, sizeof scheme);
    if (sl == 0) return "redirect URI is not an absolute URI";
    for (const char *const *d = denied_schemes; *d; d++)
        if (strcmp(scheme, *d) == 0) return "redirect URI scheme is not allowed";
    const char *after = uri + sl + 1;
    if (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) {
        http_uri u;
        if (split_authority(after, &u) != 0)
            return "redirect URI has an invalid authority (host, port or userinfo)";
        if (strcmp(scheme, "http") == 0 && !host_is_loopback(u.host, u.host_len))
            return "http redirect URIs are allowed only for loopback hosts; use https";
        return NULL;
    }
    /* private-use scheme (RFC 8252 7.1): something must follow the ':' */
    if (!*after) return "redirect URI has nothing after its scheme";
    if (strncmp(after, "//", 2) == 0) {
        const char *a = after + 2;
        size_t al = strcspn(a, "/?");
        if (memchr(a, '@', al)) return "redirect URI must not contain userinfo";
    }
    return NULL;
}

int mcp_redirect_uri_match(const mcp_strv registered, const char *uri) {
    if (!registered || !uri) return 0;
    size_t ul = strlen(uri);
    for (size_t i = 0; registered[i]; i++)
        if (strlen(registered[i]) == ul && memcmp(registered[i], uri, ul) == 0) return 1;
    /* RFC 8252 7.3: a loopback redirect may use any port */
    char scheme[8];
    if (scheme_of(uri, scheme, sizeof scheme) != 4 || strcmp(scheme, "http") != 0) return 0;
    http_uri q;
    if (split_authority(uri + 5, &q) != 0 || !host_is_loopback(q.host, q.host_len)) return 0;
    for (size_t i = 0; registered[i]; i++) {
        const char *r = registered[i];
        char rs[8];
        if (scheme_of(r, rs, sizeof rs) != 4 || strcmp(rs, "http") != 0) continue;
        http_uri g;
        if (split_authority(r + 5, &g) != 0 || !host_is_loopback(g.host, g.host_len)) continue;
        if (g.host_len != q.host_len || strncasecmp(g.host, q.host, g.host_len) != 0) continue;
        if (strcmp(g.rest, q.rest) != 0) continue;
        return 1;
    }
    return 0;
}

char *mcp_uri_display_host(const char *uri) {
    char scheme[40];
    size_t sl = scheme_of(uri, scheme, sizeof scheme);
    if (sl == 0) return mcp_strdup(uri);
    const char *after = uri + sl + 1;
    if (strcmp(scheme, "https") == 0 || strcmp(scheme, "http") == 0) {
        http_uri u;
        if (split_authority(after, &u) == 0)
            return mcp_strndup(u.host, u.host_len + (u.port ? u.port_len + 1 : 0));
        return mcp_strdup(uri);
    }
    if (strncmp(after, "//", 2) == 0) {
        size_t al = strcspn(after + 2, "/?");
        return mcp_strndup(uri, sl + 3 + al);
    }
    size_t al = strcspn(after, "/?");
    return mcp_strndup(uri, sl + 1 + al);
}
