/* b64url.c - strict base64url without padding (RFC 7515 section 2, RFC 4648 section 5). */
#include "util/b64url.h"

#include <stdint.h>
#include <stdlib.h>

static const char enc_tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Value + 1 for the URL-safe alphabet; 0 (invalid) for everything else: '+', '/', '=',
 * whitespace, NUL, bytes >= 0x80. */
static const uint8_t dec_tab[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

int mcp_b64url_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len) {
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!out || !out_len || (!in && in_len)) return -1;
    size_t rem = in_len % 4;
    if (rem == 1) return -1;
    size_t full = in_len / 4;
    size_t n = full * 3 + (rem ? rem - 1 : 0);
    unsigned char *buf = malloc(n + 1);
    if (!buf) return -2;
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < full; i++, p += 4) {
        uint8_t a = dec_tab[p[0]], b = dec_tab[p[1]], c = dec_tab[p[2]], d = dec_tab[p[3]];
        if (!a || !b || !c || !d) goto bad;
        uint32_t v = (uint32_t)(a - 1) << 18 | (uint32_t)(b - 1) << 12 | (uint32_t)(c - 1) << 6 |
                     (uint32_t)(d - 1);
        buf[o++] = (unsigned char)(v >> 16);
        buf[o++] = (unsigned char)(v >> 8);
        buf[o++] = (unsigned char)v;
    }
    if (rem == 2) {
        uint8_t a = dec_tab[p[0]], b = dec_tab[p[1]];
        if (!a || !b) goto bad;
        if ((b - 1) & 0x0f) goto bad; /* unused low 4 bits must be zero */
        buf[o++] = (unsigned char)((a - 1) << 2 | (b - 1) >> 4);
    } else if (rem == 3) {
        uint8_t a = dec_tab[p[0]], b = dec_tab[p[1]], c = dec_tab[p[2]];
        if (!a || !b || !c) goto bad;
        if ((c - 1) & 0x03) goto bad; /* unused low 2 bits must be zero */
        uint32_t v = (uint32_t)(a - 1) << 12 | (uint32_t)(b - 1) << 6 | (uint32_t)(c - 1);
        buf[o++] = (unsigned char)(v >> 10);
        buf[o++] = (unsigned char)(v >> 2);
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
bad:
    free(buf);
    return -1;
}

char *mcp_b64url_encode(const unsigned char *in, size_t in_len, size_t *out_len) {
    if (out_len) *out_len = 0;
    if (!in && in_len) return NULL;
    if (in_len > (SIZE_MAX - 4) / 4 * 3) return NULL;
    size_t n = in_len / 3 * 4 + (in_len % 3 ? in_len % 3 + 1 : 0);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= in_len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = enc_tab[v >> 18 & 63];
        out[o++] = enc_tab[v >> 12 & 63];
        out[o++] = enc_tab[v >> 6 & 63];
        out[o++] = enc_tab[v & 63];
    }
    if (in_len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = enc_tab[v >> 18 & 63];
        out[o++] = enc_tab[v >> 12 & 63];
    } else if (in_len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = enc_tab[v >> 18 & 63];
        out[o++] = enc_tab[v >> 12 & 63];
        out[o++] = enc_tab[v >> 6 & 63];
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    return out;
}
