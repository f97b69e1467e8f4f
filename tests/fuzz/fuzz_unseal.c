/* fuzz_unseal.c - libFuzzer target: opening sealed proxy values (client ids, state, codes,
 * cookies) for every purpose. Nothing forged may open. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proxy/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mcp_sealer *sealer;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const unsigned char secret[] = "fuzz-sealing-secret-0123456789abcdef";
    if (!sealer && mcp_sealer_new(secret, sizeof secret - 1, &sealer, NULL) != MCPAUTH_OK) abort();
    for (int p = 0; p < MCP_SEAL_PURPOSES; p++) {
        json_t *payload = NULL;
        if (mcp_unseal(sealer, (mcp_seal_purpose)p, (const char *)data, size, 1, &payload, NULL) ==
            MCPAUTH_OK)
            abort(); /* a forgery opened: AES-GCM would have to be broken */
        json_decref(payload);
    }
    return 0;
}
