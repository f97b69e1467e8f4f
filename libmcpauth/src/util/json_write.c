/* json_write.c - compact JSON serialization of results, on the verification hot path.
 *
 * jansson's json_dumps() goes through a per-fragment callback and snprintf for every number;
 * serializing the auth result with it cost about half of a cache-miss HS256 verification. This
 * writer appends to one growing buffer, copies runs of characters that need no escaping with
 * memcpy, and formats integers itself. Output is the same compact JSON (object members in
 * jansson's insertion order); strings are already valid UTF-8 (jansson guarantees it). */
#include "util/json_write.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Bytes that must be escaped inside a JSON string. */
static int needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* Nonzero when any of the 8 bytes of w needs escaping (a control byte, '"' or '\\'):
 * the classic "has a zero byte" test applied to w, w ^ '"'x8 and w ^ '\\'x8. */
static uint64_t word_needs_escape(uint64_t w) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t lt20 = (w - ones * 0x20) & ~w;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    return (lt20 | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs;
}

static void put_string(mcp_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    mcp_buf_addc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        /* skip 8 clean bytes at a time (tokens and URLs are long and clean) */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (word_needs_escape(w)) break;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c)) continue;
        mcp_buf_add(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            mcp_buf_add(b, "\\\"", 2);
            break;
        case '\\':
            mcp_buf_add(b, "\\\\", 2);
            break;
        case '\n':
            mcp_buf_add(b, "\\n", 2);
            break;
        case '\r':
            mcp_buf_add(b, "\\r", 2);
            break;
        case '\t':
            mcp_buf_add(b, "\\t", 2);
            break;
        case '\b':
            mcp_buf_add(b, "\\b", 2);
            break;
        case '\f':
            mcp_buf_add(b, "\\f", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            mcp_buf_add(b, u, 6);
        }
        }
    }
    mcp_buf_add(b, s + run, n - run);
    mcp_buf_addc(b, '"');
}

static void put_integer(mcp_buf *b, json_int_t v) {
    char tmp[24];
    size_t i = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) tmp[--i] = '-';
    mcp_buf_add(b, tmp + i, sizeof tmp - i);
}

static void put_real(mcp_buf *b, double d) {
    char tmp[32];
    /* The shortest form that round-trips, with a ".0" so it stays a real (as jansson does). */
    int n = snprintf(tmp, sizeof tmp, "%.17g", d);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        b->oom = 1;
        return;
    }
    mcp_buf_add(b, tmp, (size_t)n);
    if (!strpbrk(tmp, ".eEn")) mcp_buf_add(b, ".0", 2);
}

static void write_value(mcp_buf *b, const json_t *v, int depth) {
    if (b->oom) return;
    if (depth > 64) {
        b->oom = 1;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        size_t klen;
        json_t *m;
        int first = 1;
        mcp_buf_addc(b, '{');
        json_object_keylen_foreach((json_t *)v, k, klen, m) {
            if (!first) mcp_buf_addc(b, ',');
            first = 0;
            put_string(b, k, klen);
            mcp_buf_addc(b, ':');
            write_value(b, m, depth + 1);
        }
        mcp_buf_addc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        mcp_buf_addc(b, '[');
        json_array_foreach((json_t *)v, i, m) {
            if (i) mcp_buf_addc(b, ',');
            write_value(b, m, depth + 1);
        }
        mcp_buf_addc(b, ']');
        break;
    }
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        put_real(b, json_real_value(v));
        break;
    case JSON_TRUE:
        mcp_buf_add(b, "true", 4);
        break;
    case JSON_FALSE:
        mcp_buf_add(b, "false", 5);
        break;
    case JSON_NULL:
        mcp_buf_add(b, "null", 4);
        break;
    default:
        b->oom = 1;
    }
}

char *mcp_json_write(const json_t *v, size_t *len) {
    mcp_buf b = {0};
    if (!v) return NULL;
    mcp_buf_reserve(&b, 2047); /* one allocation for a typical auth result */
    write_value(&b, v, 0);
    if (b.oom || mcp_buf_reserve(&b, 0) != 0) {
        free(b.p);
        return NULL;
    }
    b.p[b.len] = '\0';
    if (len) *len = b.len;
    return b.p;
}
