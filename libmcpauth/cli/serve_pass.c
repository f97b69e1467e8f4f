/* serve_pass.c - reading the router's "pass" decision without building a JSON tree.
 *
 * Every forwarded request's decision is {"action":"pass"} or {"action":"pass","auth":{...}}
 * (the auth result). serve needs of it only the auth result's text (base64url-encoded into
 * X-MCPAuth-Auth as it is) and its user.userId. The reader below walks the auth result once,
 * checking that it is well-formed JSON; anything it does not expect (another shape, an
 * "accessToken" member that must not be forwarded, malformed text) sends the caller to the
 * general path (jansson), which decides as before.
 */
#ifndef MCPAUTH_HAVE_MHD
typedef int mcpauth_serve_pass_unused; /* no translation unit is empty */
#else

#include "serve.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct rd {
    const char *p, *end;
} rd;

static void ws(rd *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* A JSON string at r->p ('"'). With out (cap bytes, cap >= 1): its UTF-8 value,
 * NUL-terminated; *len its length; -2 when it does not fit. -1 when malformed. */
static int str(rd *r, char *out, size_t cap, size_t *len) {
    if (r->p >= r->end || *r->p != '"') return -1;
    r->p++;
    size_t o = 0;
    int fits = 1;
    while (r->p < r->end) {
        unsigned char ch = (unsigned char)*r->p;
        if (ch == '"') {
            r->p++;
            if (out) out[fits ? o : 0] = '\0';
            if (len) *len = o;
            return fits ? 0 : -2;
        }
        if (ch < 0x20) return -1;
        unsigned char tmp[4];
        size_t tn = 1;
        if (ch != '\\') {
            tmp[0] = ch;
            r->p++;
        } else {
            if (r->end - r->p < 2) return -1;
            char e = r->p[1];
            r->p += 2;
            switch (e) {
            case '"':
                tmp[0] = '"';
                break;
            case '\\':
                tmp[0] = '\\';
                break;
            case '/':
                tmp[0] = '/';
                break;
            case 'b':
                tmp[0] = '\b';
                break;
            case 'f':
                tmp[0] = '\f';
                break;
            case 'n':
                tmp[0] = '\n';
                break;
            case 'r':
                tmp[0] = '\r';
                break;
            case 't':
                tmp[0] = '\t';
                break;
            case 'u': {
                unsigned cp;
                if (r->end - r->p < 4 || hex4(r->p, &cp) != 0) return -1;
                r->p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
                        hex4(r->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                        return -1;
                    r->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return -1;
                }
                if (cp == 0) return -1; /* not representable in a C string */
                if (cp < 0x80) {
                    tmp[0] = (unsigned char)cp;
                } else if (cp < 0x800) {
                    tmp[0] = (unsigned char)(0xC0 | cp >> 6);
                    tmp[1] = (unsigned char)(0x80 | (cp & 0x3F));
                    tn = 2;
                } else if (cp < 0x10000) {
                    tmp[0] = (unsigned char)(0xE0 | cp >> 12);
                    tmp[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[2] = (unsigned char)(0x80 | (cp & 0x3F));
                    tn = 3;
                } else {
                    tmp[0] = (unsigned char)(0xF0 | cp >> 18);
                    tmp[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
                    tmp[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
                    tmp[3] = (unsigned char)(0x80 | (cp & 0x3F));
                    tn = 4;
                }
                break;
            }
            default:
                return -1;
            }
        }
        if (out) {
            if (o + tn >= cap) fits = 0;
            if (fits) memcpy(out + o, tmp, tn);
        }
        o += tn;
    }
    return -1;
}

static int value(rd *r, int depth);

static int literal(rd *r, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0) return -1;
    r->p += n;
    return 0;
}

static int number(rd *r) {
    const char *s = r->p;
    if (r->p < r->end && *r->p == '-') r->p++;
    if (r->p >= r->end) return -1;
    if (*r->p == '0') {
        r->p++;
    } else if (*r->p >= '1' && *r->p <= '9') {
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
    } else {
        return -1;
    }
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        const char *d = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
        if (r->p == d) return -1;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        const char *d = r->p;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
        if (r->p == d) return -1;
    }
    return r->p > s ? 0 : -1;
}

/* Walks an object; for each member calls on_member(key, r at the value) which must consume
 * the value (or leaves it to value() when it returns 1). */
typedef int (*member_fn)(void *cls, const char *key, int key_fits, rd *r, int depth);

static int object(rd *r, int depth, member_fn fn, void *cls) {
    if (depth > MAX_DEPTH || r->p >= r->end || *r->p != '{') return -1;
    r->p++;
    ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        char key[32];
        ws(r);
        int k = str(r, key, sizeof key, NULL);
        if (k == -1) return -1;
        ws(r);
        if (r->p >= r->end || *r->p != ':') return -1;
        r->p++;
        ws(r);
        int handled = fn ? fn(cls, key, k == 0, r, depth + 1) : 1;
        if (handled < 0) return -1;
        if (handled == 1 && value(r, depth + 1) != 0) return -1;
        ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p == '}') {
            r->p++;
            return 0;
        }
        return -1;
    }
}

static int array(rd *r, int depth) {
    if (depth > MAX_DEPTH) return -1;
    r->p++; /* '[' */
    ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        return 0;
    }
    for (;;) {
        ws(r);
        if (value(r, depth + 1) != 0) return -1;
        ws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p == ']') {
            r->p++;
            return 0;
        }
        return -1;
    }
}

static int value(rd *r, int depth) {
    if (r->p >= r->end) return -1;
    switch (*r->p) {
    case '{':
        return object(r, depth, NULL, NULL);
    case '[':
        return array(r, depth);
    case '"':
        return str(r, NULL, 0, NULL) == 0 ? 0 : -1;
    case 't':
        return literal(r, "true");
    case 'f':
        return literal(r, "false");
    case 'n':
        return literal(r, "null");
    default:
        return number(r);
    }
}

typedef struct walk {
    char *user_id; /* the last user.userId string seen (malloc) */
    int refuse;    /* a member the fast path does not hand on */
    int oom;
} walk;

static int user_member(void *cls, const char *key, int key_fits, rd *r, int depth) {
    (void)depth;
    walk *w = cls;
    if (!key_fits || strcmp(key, "userId") != 0) return 1;
    free(w->user_id);
    w->user_id = NULL;
    if (r->p >= r->end || *r->p != '"') return 1; /* not a string: no user id */
    rd probe = *r;
    size_t n;
    if (str(&probe, NULL, 0, &n) != 0) return -1;
    w->user_id = malloc(n + 1);
    if (!w->user_id) {
        w->oom = 1;
        return -1;
    }
    return str(r, w->user_id, n + 1, NULL) == 0 ? 0 : -1;
}

static int auth_member(void *cls, const char *key, int key_fits, rd *r, int depth) {
    walk *w = cls;
    if (!key_fits) return 1;
    if (strcmp(key, "accessToken") == 0 && !G.forward_authorization) w->refuse = 1;
    if (strcmp(key, "user") != 0) return 1;
    free(w->user_id);
    w->user_id = NULL;
    if (r->p >= r->end || *r->p != '{') return 1;
    return object(r, depth, user_member, w) == 0 ? 0 : -1;
}

int serve_pass_decision(const char *d, size_t n, serve_pass *out) {
    static const char bare[] = "{\"action\":\"pass\"}";
    static const char open[] = "{\"action\":\"pass\",\"auth\":";
    memset(out, 0, sizeof *out);
    if (n == sizeof bare - 1 && memcmp(d, bare, n) == 0) return 1;
    if (n < sizeof open + 1 || memcmp(d, open, sizeof open - 1) != 0 || d[n - 1] != '}') return 0;
    rd r = {d + sizeof open - 1, d + n - 1};
    walk w = {0};
    ws(&r);
    const char *start = r.p;
    int rc = object(&r, 0, auth_member, &w);
    const char *stop = r.p;
    ws(&r);
    if (rc != 0 || r.p != r.end || w.refuse) {
        free(w.user_id);
        return w.oom ? -1 : 0;
    }
    out->has_auth = 1;
    out->auth = start;
    out->auth_len = (size_t)(stop - start);
    out->user_id = w.user_id;
    return 1;
}

#endif /* MCPAUTH_HAVE_MHD */
