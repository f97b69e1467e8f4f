/* fuzz_redirect_pattern.c - libFuzzer target: allowedRedirectUris patterns (redirect_pattern.c).
 * Input: PATTERN '\n' URI. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *nl = memchr(buf, '\n', size);
    const char *uri = "";
    if (nl) {
        *nl = '\0';
        uri = nl + 1;
    }
    const char *pattern = buf;
    int valid = mcp_redirect_pattern_valid(pattern);
    int match = mcp_redirect_pattern_match(pattern, uri);
    /* only a valid pattern matches anything */
    if (match && !valid) abort();
    /* a matched URI has no fragment and no userinfo-like '@' before its path */
    if (match && strchr(uri, '#')) abort();
    /* a valid pattern without '*' is a URI that matches itself */
    if (valid && !strchr(pattern, '*') && !mcp_redirect_pattern_match(pattern, pattern)) abort();
    free(buf);
    return 0;
}
