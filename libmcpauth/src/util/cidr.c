/* cidr.c - IP addresses and CIDR ranges (trustedProxies). Parsing is inet_pton's (no
 * shortened IPv4 forms, no zone ids), the prefix length strictly decimal. */
#include "util/cidr.h"

#include <arpa/inet.h>
#include <string.h>

static int parse_ip(const char *s, int *family, unsigned char out[16]) {
    if (inet_pton(AF_INET, s, out) == 1) {
        *family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *family = 6;
        return 0;
    }
    return -1;
}

int mcp_cidr_parse(const char *s, mcp_cidr *out) {
    if (!s || !out) return -1;
    memset(out, 0, sizeof *out);
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    unsigned bits = 0;
    int has_bits = 0;
    if (slash) {
        *slash = '\0';
        const char *b = slash + 1;
        size_t bl = strlen(b);
        if (bl == 0 || bl > 3 || (bl > 1 && b[0] == '0')) return -1;
        for (size_t i = 0; i < bl; i++) {
            if (b[i] < '0' || b[i] > '9') return -1;
            bits = bits * 10 + (unsigned)(b[i] - '0');
        }
        has_bits = 1;
    }
    if (parse_ip(buf, &out->family, out->addr) != 0) return -1;
    unsigned max = out->family == 4 ? 32 : 128;
    if (!has_bits) bits = max;
    if (bits > max) return -1;
    out->bits = bits;
    /* no host bits past the prefix: "10.1.2.3/8" is refused as probably a mistake */
    for (unsigned i = bits; i < max; i++)
        if (out->addr[i / 8] & (0x80u >> (i % 8))) return -1;
    return 0;
}

int mcp_cidr_contains(const mcp_cidr *c, const char *ip) {
    if (!c || !ip) return 0;
    unsigned char a[16];
    int family;
    if (strlen(ip) >= 64 || parse_ip(ip, &family, a) != 0) return 0;
    /* an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is its IPv4 address */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (family == 6 && c->family == 4 && memcmp(a, mapped, 12) == 0) {
        memmove(a, a + 12, 4);
        family = 4;
    }
    if (family != c->family) return 0;
    for (unsigned i = 0; i < c->bits; i++) {
        unsigned m = 0x80u >> (i % 8);
        if ((a[i / 8] & m) != (c->addr[i / 8] & m)) return 0;
    }
    return 1;
}
