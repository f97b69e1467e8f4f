/* fuzz_cidr.c - libFuzzer target: trustedProxies entries (util/cidr.c). Input: CIDR '\n' IP. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = memchr(buf, '\n', size);
    const char *ip = "";
    if (nl) {
        *nl = '\0';
        ip = nl + 1;
    }
    mcp_cidr c;
    if (mcp_cidr_parse(buf, &c) == 0) {
        if (c.family != 4 && c.family != 6) abort();
        if (c.bits > (c.family == 4 ? 32u : 128u)) abort();
        int in = mcp_cidr_contains(&c, ip);
        if (in != 0 && in != 1) abort();
        /* a range contains its own network address */
        if (!strchr(buf, '/') && !mcp_cidr_contains(&c, buf)) abort();
    }
    free(buf);
    return 0;
}
