/* fuzz_url.c - libFuzzer target: the outbound URL policy (https, http only for loopback). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/http_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    mcp_err err;
    int ok = mcp_url_check(url, "fuzz", &err) == MCPAUTH_OK;
    int loop = mcp_url_is_loopback(url);
    /* an accepted plain-http URL must be a loopback one */
    if (ok && strncmp(url, "http://", 7) == 0 && !loop) abort();
    free(url);
    return 0;
}
