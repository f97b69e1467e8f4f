/* fuzz_config.c - libFuzzer target: engine configuration parsing (every option, presets,
 * inline JWKS / PEM / secrets, proxy and opaque-token options), environment ignored. */
#include <stddef.h>
#include <stdint.h>

#include "mcpauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new((const char *)data, size, MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    if (rc == MCPAUTH_OK) {
        char *cfg = NULL;
        if (mcpauth_engine_config(e, &cfg) == MCPAUTH_OK) mcpauth_free(cfg);
        mcpauth_engine_free(e);
    }
    mcpauth_free(detail);
    return 0;
}
