/* fuzz_jwks.c - libFuzzer target: JWKS text and PEM import, then key lookup. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwk.h"
#include "jose/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_keyset(mcp_keyset *ks) {
    static const unsigned char msg[] = "fuzz";
    unsigned char sig[132] = {1};
    for (int a = MCP_ALG_UNKNOWN; a < MCP_ALG_COUNT; a++) {
        const mcp_key *c[8];
        size_t n = mcp_keyset_candidates(ks, NULL, (mcp_alg)a, c, 8);
        for (size_t i = 0; i < n; i++) {
            if (!(c[i]->alg_mask & MCP_ALG_BIT(a))) abort();
            if (mcp_sig_verify((mcp_alg)a, c[i], msg, 4, sig, sizeof sig) == 1) abort();
        }
        for (size_t k = 0; k < ks->n; k++)
            if (ks->keys[k].kid && !mcp_keyset_has_kid(ks, ks->keys[k].kid)) abort();
    }
    mcp_keyset_ref(ks);
    mcp_keyset_unref(ks);
    mcp_keyset_unref(ks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);
    const unsigned flags[] = {0, MCP_JWKS_ALLOW_OCT};
    for (int f = 0; f < 2; f++) {
        mcp_keyset *ks = NULL;
        mcp_err err;
        int rc = mcp_keyset_from_jwks_text(text, size, flags[f], 64, &ks, &err);
        if (rc == 0) {
            if (!ks || ks->n > 64) abort();
            use_keyset(ks);
        } else if (ks || err.code != rc) {
            abort();
        }
    }
    mcp_keyset *ks = NULL;
    if (mcp_keyset_from_pem(text, size, &ks, NULL) == 0) use_keyset(ks);
    free(text);
    return 0;
}
