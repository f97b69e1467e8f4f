/* json_strict.c - hostile-input JSON parsing into jansson values, and small typed accessors. */
#include "util/json_strict.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * A strict RFC 8259 parser that builds jansson values directly. jansson's own loader reads
 * one character at a time through a stream layer and dominated the cost of verifying a token;
 * this one accepts exactly the same language as json_loadb() with JSON_REJECT_DUPLICATES (and
 * without JSON_ALLOW_NUL): UTF-8 validated (no overlongs, no surrogates, <= U+10FFFF), escapes
 * checked (surrogate pairs paired, no \u0000), control characters refused in strings, integers
 * that overflow json_int_t refused, reals that overflow refused, duplicate keys refused,
 * nothing but whitespace after the value, and nesting bounded by max_depth (checked on entry,
 * before anything deeper is allocated). fuzz_json compares it with json_loadb() on every input.
 */
typedef mcp_jreader jparser; /* the state is shared with the reader API (json_strict.h) */

static locale_t c_numeric_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void init_c_locale(void) { c_numeric_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

static void *jfail(jparser *jp, const char *why) {
    if (!jp->why) {
        jp->why = why;
        jp->where = (size_t)(jp->p - jp->start);
    }
    return NULL;
}

static void *jnomem(jparser *jp) {
    jp->nomem = 1;
    return jfail(jp, "out of memory");
}

static void skip_ws(jparser *jp) {
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\n' || *jp->p == '\r' || *jp->p == '\t'))
        jp->p++;
}

/* Consumes the byte c when it is next: 1, else 0. */
static int eat(jparser *jp, char c) {
    if (jp->p >= jp->end || *jp->p != c) return 0;
    jp->p++;
    return 1;
}

static int hex4(const unsigned char *h, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = h[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f; /* no UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f; /* <= U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return n;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Parses the string at jp->p (on the opening quote). *out points either into the input (no
 * escapes) or into scratch at jp->used. Returns 0 or -1. */
static int parse_string(jparser *jp, const char **out, size_t *out_len) {
    const unsigned char *p = ++jp->p; /* past the quote */
    /* Fast path: plain printable ASCII up to the closing quote, eight bytes at a time while no
     * byte of the word is a quote, a backslash, a control or a non-ASCII byte. */
    while (jp->end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w;
        if (special & high) break;
        p += 8;
    }
    while (p < jp->end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
    if (p < jp->end && *p == '"') {
        *out = (const char *)jp->p;
        *out_len = (size_t)(p - jp->p);
        jp->p = p + 1;
        return 0;
    }
    char *o = jp->scratch + jp->used, *o0 = o;
    size_t lead = (size_t)(p - jp->p);
    memcpy(o, jp->p, lead);
    o += lead;
    jp->p = p;
    while (jp->p < jp->end) {
        unsigned c = *jp->p;
        if (c == '"') {
            jp->p++;
            *out = o0;
            *out_len = (size_t)(o - o0);
            return 0;
        }
        if (c < 0x20) return jfail(jp, "control character in string"), -1;
        if (c >= 0x80) {
            size_t n = utf8_seq(jp->p, jp->end);
            if (!n) return jfail(jp, "invalid UTF-8"), -1;
            memcpy(o, jp->p, n);
            o += n;
            jp->p += n;
            continue;
        }
        if (c != '\\') {
            *o++ = (char)c;
            jp->p++;
            continue;
        }
        if (jp->end - jp->p < 2) break;
        unsigned e = jp->p[1];
        jp->p += 2;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            *o++ = (char)e;
            break;
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned cp, lo;
            if (jp->end - jp->p < 4 || hex4(jp->p, &cp) != 0)
                return jfail(jp, "invalid \\u escape"), -1;
            jp->p += 4;
            if (cp >= 0xdc00 && cp <= 0xdfff) return jfail(jp, "lone low surrogate"), -1;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (jp->end - jp->p < 6 || jp->p[0] != '\\' || jp->p[1] != 'u' ||
                    hex4(jp->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                    return jfail(jp, "unpaired high surrogate"), -1;
                jp->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            if (cp == 0) return jfail(jp, "\\u0000 is not allowed"), -1;
            o += put_utf8(o, cp);
            break;
        }
        default:
            return jfail(jp, "invalid escape"), -1;
        }
    }
    return jfail(jp, "unterminated string"), -1;
}

static json_t *parse_number(jparser *jp) {
    const unsigned char *s = jp->p, *p = s;
    int neg = 0, is_real = 0;
    if (p < jp->end && *p == '-') neg = 1, p++;
    if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "invalid number");
    if (*p == '0') {
        p++;
        if (p < jp->end && *p >= '0' && *p <= '9') return jfail(jp, "leading zero in number");
    } else {
        while (p < jp->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < jp->end && *p == '.') {
        is_real = 1;
        p++;
        if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "invalid fraction");
        while (p < jp->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < jp->end && (*p == 'e' || *p == 'E')) {
        is_real = 1;
        p++;
        if (p < jp->end && (*p == '+' || *p == '-')) p++;
        if (p >= jp->end || *p < '0' || *p > '9') return jfail(jp, "invalid exponent");
        while (p < jp->end && *p >= '0' && *p <= '9') p++;
    }
    jp->p = p;
    if (!is_real) {
        unsigned long long v = 0, limit = neg ? (unsigned long long)INT64_MAX + 1u : INT64_MAX;
        for (const unsigned char *d = s + neg; d < p; d++) {
            unsigned digit = (unsigned)(*d - '0');
            if (v > (limit - digit) / 10) return jp->p = s, jfail(jp, "integer out of range");
            v = v * 10 + digit;
        }
        json_int_t iv = neg ? (v == (unsigned long long)INT64_MAX + 1u ? INT64_MIN : -(json_int_t)v)
                            : (json_int_t)v;
        json_t *j = json_integer(iv);
        return j ? j : jnomem(jp);
    }
    size_t n = (size_t)(p - s);
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return jnomem(jp);
    memcpy(buf, s, n);
    buf[n] = '\0';
    pthread_once(&c_locale_once, init_c_locale);
    locale_t old = c_numeric_locale ? uselocale(c_numeric_locale) : (locale_t)0;
    errno = 0;
    double d = strtod(buf, NULL);
    int overflow = errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL);
    if (old) uselocale(old);
    if (buf != small) free(buf);
    if (!c_numeric_locale) return jnomem(jp);
    if (overflow || !isfinite(d)) return jp->p = s, jfail(jp, "real number overflow");
    json_t *j = json_real(d);
    return j ? j : jnomem(jp);
}

static json_t *parse_value(jparser *jp, size_t depth);

static json_t *parse_object(jparser *jp, size_t depth) {
    json_t *obj = json_object();
    if (!obj) return jnomem(jp);
    jp->p++; /* '{' */
    skip_ws(jp);
    if (eat(jp, '}')) return obj;
    for (;;) {
        if (jp->p >= jp->end || *jp->p != '"') goto bad_key;
        const char *key;
        size_t klen;
        if (parse_string(jp, &key, &klen) != 0) goto fail;
        if (json_object_getn(obj, key, klen)) {
            jfail(jp, "duplicate object key");
            goto fail;
        }
        /* A key decoded into scratch must survive the value's own strings. */
        size_t held = key == jp->scratch + jp->used ? klen + 1 : 0;
        jp->used += held;
        skip_ws(jp);
        if (!eat(jp, ':')) {
            jp->used -= held;
            jfail(jp, "':' expected");
            goto fail;
        }
        skip_ws(jp);
        json_t *v = parse_value(jp, depth);
        jp->used -= held;
        if (!v) goto fail;
        if (json_object_setn_new_nocheck(obj, key, klen, v) != 0) {
            jnomem(jp);
            goto fail;
        }
        skip_ws(jp);
        if (eat(jp, ',')) {
            skip_ws(jp);
            continue;
        }
        if (eat(jp, '}')) return obj;
        jfail(jp, "',' or '}' expected");
        goto fail;
    }
bad_key:
    jfail(jp, "string key expected");
fail:
    json_decref(obj);
    return NULL;
}

static json_t *parse_array(jparser *jp, size_t depth) {
    json_t *arr = json_array();
    if (!arr) return jnomem(jp);
    jp->p++; /* '[' */
    skip_ws(jp);
    if (eat(jp, ']')) return arr;
    for (;;) {
        json_t *v = parse_value(jp, depth);
        if (!v) goto fail;
        if (json_array_append_new(arr, v) != 0) {
            jnomem(jp);
            goto fail;
        }
        skip_ws(jp);
        if (eat(jp, ',')) {
            skip_ws(jp);
            continue;
        }
        if (eat(jp, ']')) return arr;
        jfail(jp, "',' or ']' expected");
        goto fail;
    }
fail:
    json_decref(arr);
    return NULL;
}

static int literal(jparser *jp, const char *word, size_t n) {
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, word, n) != 0) return -1;
    jp->p += n;
    return 0;
}

static json_t *parse_value(jparser *jp, size_t depth) {
    if (jp->p >= jp->end) return jfail(jp, "unexpected end of input");
    switch (*jp->p) {
    case '{':
    case '[':
        if (depth + 1 > jp->max_depth) return jfail(jp, "nesting too deep");
        return *jp->p == '{' ? parse_object(jp, depth + 1) : parse_array(jp, depth + 1);
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(jp, &s, &n) != 0) return NULL;
        json_t *j = json_stringn_nocheck(s, n);
        return j ? j : jnomem(jp);
    }
    case 't':
        if (literal(jp, "true", 4) == 0) return json_true();
        break;
    case 'f':
        if (literal(jp, "false", 5) == 0) return json_false();
        break;
    case 'n':
        if (literal(jp, "null", 4) == 0) return json_null();
        break;
    default:
        if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9')) return parse_number(jp);
        break;
    }
    return jfail(jp, "invalid token");
}

json_t *mcp_json_parse(const char *buf, size_t len, size_t max_depth, int want_object,
                       const char *what, int code, mcp_err *err) {
    if (!what) what = "JSON";
    if (!buf || len == 0) {
        mcp_err_set(err, code, "%s: empty", what);
        return NULL;
    }
    if (memchr(buf, '\0', len)) {
        mcp_err_set(err, code, "%s: embedded NUL byte", what);
        return NULL;
    }
    if (max_depth == 0 || max_depth > MCP_JSON_MAX_DEPTH) max_depth = MCP_JSON_MAX_DEPTH;
    jparser jp;
    memset(&jp, 0, sizeof jp);
    jp.start = jp.p = (const unsigned char *)buf;
    jp.end = jp.p + len;
    jp.max_depth = max_depth;
    jp.scratch = malloc(len + 1);
    if (!jp.scratch) {
        mcp_err_set(err, MCPAUTH_E_NOMEM, "%s: out of memory", what);
        return NULL;
    }
    skip_ws(&jp);
    json_t *root = parse_value(&jp, 0);
    if (root) {
        skip_ws(&jp);
        if (jp.p != jp.end) {
            jfail(&jp, "end of input expected");
            json_decref(root);
            root = NULL;
        }
    }
    free(jp.scratch);
    if (!root) {
        /* The reason and offset only: no fragment of the input reaches a log line. */
        mcp_err_set(err, jp.nomem ? MCPAUTH_E_NOMEM : code, "%s: invalid JSON (%s at offset %zu)",
                    what, jp.why ? jp.why : "parse error", jp.where);
        return NULL;
    }
    if (want_object && !json_is_object(root)) {
        json_decref(root);
        mcp_err_set(err, code, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

/* Looks p[0..len) up in `cur`: the whole remaining path as one key first (claim names such as
 * "https://example.com/roles" contain dots), then each split at a dot, left to right, into a
 * key naming an object and the rest. *budget bounds the total work whatever the document. */
static json_t *path_lookup(json_t *cur, const char *p, size_t len, int *budget) {
    if (!json_is_object(cur) || len == 0 || --*budget < 0) return NULL;
    json_t *whole = json_object_getn(cur, p, len);
    if (whole) return whole;
    for (size_t i = 1; i + 1 < len; i++) {
        if (p[i] != '.') continue;
        json_t *child = json_object_getn(cur, p, i);
        if (!json_is_object(child)) continue;
        json_t *found = path_lookup(child, p + i + 1, len - i - 1, budget);
        if (found) return found;
    }
    return NULL;
}

json_t *mcp_json_path(json_t *root, const char *dotted) {
    if (!root || !dotted) return NULL;
    int budget = 256;
    return path_lookup(root, dotted, strlen(dotted), &budget);
}

int mcp_json_time(const json_t *v, int64_t *out) {
    if (!v || !out) return -1;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) return -1;
        *out = (int64_t)i;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* 9223372036854775808.0 is 2^63, the first double that does not fit int64. */
        if (!isfinite(d) || d < 0.0 || d >= 9223372036854775808.0) return -1;
        *out = (int64_t)d; /* truncation toward zero == floor for d >= 0 */
        return 0;
    }
    return -1;
}

static int is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

json_t *mcp_json_string_list(const json_t *v) {
    json_t *arr = json_array();
    if (!arr) return NULL;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), i = 0;
        while (i < len) {
            while (i < len && is_ascii_space(s[i])) i++;
            size_t start = i;
            while (i < len && !is_ascii_space(s[i])) i++;
            if (i > start) {
                json_t *item = json_stringn(s + start, i - start);
                if (!item || json_array_append_new(arr, item) != 0) {
                    json_decref(arr);
                    return NULL;
                }
            }
        }
    } else if (json_is_array(v)) {
        size_t idx;
        json_t *item;
        json_array_foreach(v, idx, item) {
            if (!json_is_string(item)) continue;
            if (json_array_append(arr, item) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
    }
    return arr;
}

/* ---- the reader: the same language, read member by member (json_strict.h) ---------------- */

int mcp_jreader_init(mcp_jreader *r, const char *buf, size_t len, size_t max_depth) {
    memset(r, 0, sizeof *r);
    r->start = r->p = (const unsigned char *)buf;
    r->end = r->p + len;
    r->max_depth =
        max_depth == 0 || max_depth > MCP_JSON_MAX_DEPTH ? MCP_JSON_MAX_DEPTH : max_depth;
    r->scratch = malloc(len + 1);
    if (!r->scratch) {
        r->nomem = 1;
        return -1;
    }
    if (memchr(buf, '\0', len)) return jfail(r, "embedded NUL byte"), -1;
    return 0;
}

char *mcp_jreader_take(mcp_jreader *r) {
    char *s = r->scratch;
    r->scratch = NULL;
    return s;
}

void mcp_jreader_clear(mcp_jreader *r) {
    free(r->scratch);
    r->scratch = NULL;
}

int mcp_jreader_peek(mcp_jreader *r) {
    skip_ws(r);
    return r->p < r->end ? *r->p : -1;
}

int mcp_jreader_eat(mcp_jreader *r, char c) {
    skip_ws(r);
    return eat(r, c);
}

int mcp_jreader_string(mcp_jreader *r, const char **s, size_t *n) {
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return jfail(r, "string expected"), -1;
    const char *out;
    size_t len;
    if (parse_string(r, &out, &len) != 0) return -1;
    char *dst = r->scratch + r->used;
    if (out != dst) memcpy(dst, out, len);
    dst[len] = '\0';
    r->used += len + 1; /* every string costs at least its two quotes: scratch never overflows */
    *s = dst;
    *n = len;
    return 0;
}

int mcp_jreader_skip(mcp_jreader *r, size_t depth) {
    skip_ws(r);
    json_t *v = parse_value(r, depth);
    if (!v) return -1;
    json_decref(v);
    return 0;
}

int mcp_jreader_literal(mcp_jreader *r) {
    skip_ws(r);
    if (literal(r, "null", 4) == 0) return 0;
    if (literal(r, "true", 4) == 0) return 1;
    if (literal(r, "false", 5) == 0) return 2;
    return -1;
}

int mcp_jreader_end(mcp_jreader *r) {
    skip_ws(r);
    return r->p == r->end ? 0 : (jfail(r, "trailing data"), -1);
}

int mcp_jreader_fail(mcp_jreader *r, const char *why) { return jfail(r, why), -1; }
