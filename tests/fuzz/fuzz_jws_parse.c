/* fuzz_jws_parse.c - libFuzzer target: compact JWS parsing and verification against fixed
 * keysets (the seed corpus holds tokens these keys really signed, so verification is reached). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jwk.h"
#include "jose/jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char asym_jwks[] =
    "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"sZSVA6XvQu9oYP7X0RKjh_V_UMxafASdlnOC9k73J-9"
    "n-DSEaYjUAFcI8SyKxZRhiZv3odxRMxyzcgknLkNsJpDj_vH9PSkLIMr_BFtIr-o0ehw81"
    "wc2VaR-OVzRawpnV9pZodIoapErCq1w_7M-IS805bIGMUNiEwDwMS60tedXi3roXE-fB6T"
    "mIuep4CBW-U04y8fu6pWDTq3d0XO88_sWfo5N5lv0DNJgGubLAsLjHendJfLSWJ_me95GK"
    "vtvtAoER5ebZfsjaLcdryfo_8dLGwxbnwWWnOtSj5PWUnl0S4ra3gSIqJuuZwZP2sjJ49t"
    "HNBaRjDjsS5GJqO_Hmw\",\"e\":\"AQAB\",\"kid\":\"rs\",\"alg\":\"RS256\",\"use\":\"sig\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"G3N4zpbpkVHic9p2tzM9jy8VGBekqlViTN5Zn7r"
    "tbsY\",\"y\":\"s3F_HQsIU45cLg3Ot91ztV3HUplVavVuVMgZp5NoWk4\",\"kid\":\"es\",\"al"
    "g\":\"ES256\",\"use\":\"sig\"},{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"-15GKTzLcw67"
    "mr5pCdfBFmnO81WvUtTu2I_nENGzlyw\",\"kid\":\"ed\",\"alg\":\"EdDSA\",\"use\":\"sig\"}"
    "]}";

static const char hs_jwks[] =
    "{\"keys\":[{\"kty\":\"oct\",\"k\":\"_8l_h_pfaZ9-lKF_LXUMIeF9fG63MH7NGpH-crKsMhQ"
    "\",\"kid\":\"hs\",\"alg\":\"HS256\",\"use\":\"sig\"}]}";

static mcp_keyset *asym_ks, *hs_ks;

static void load_keys(void) {
    if (asym_ks) return;
    if (mcp_keyset_from_jwks_text(asym_jwks, sizeof asym_jwks - 1, 0, 0, &asym_ks, NULL) != 0 ||
        mcp_keyset_from_jwks_text(hs_jwks, sizeof hs_jwks - 1, MCP_JWKS_ALLOW_OCT, 0, &hs_ks,
                                  NULL) != 0)
        abort();
}

static void one(const char *tok, size_t len, unsigned flags) {
    mcp_jws j;
    mcp_err err;
    int rc = mcp_jws_parse(tok, len, 16384, flags, &j, &err);
    if (rc != 0) {
        if (err.code != rc || j.header || j.sig || j.payload_raw) abort();
        return;
    }
    /* Invariants of a successful parse. */
    if (!j.header || !j.sig || j.sig_len == 0 || j.alg <= MCP_ALG_UNKNOWN ||
        j.alg >= MCP_ALG_COUNT || j.signing_input != tok || j.signing_input_len >= len)
        abort();
    if (!(flags & MCP_JWS_PAYLOAD_ANY) && !json_is_object(j.payload)) abort();
    if (j.kid && strlen(j.kid) > 256) abort();
    unsigned all = (1u << MCP_ALG_COUNT) - 2u;
    rc = mcp_jws_verify(&j, asym_ks, all, &err);
    if (rc != 0 && err.code != rc) abort();
    rc = mcp_jws_verify(&j, hs_ks, all, &err);
    if (rc != 0 && err.code != rc) abort();
    mcp_jws_clear(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_keys();
    /* A private, unterminated copy: any read past `size` is caught by ASan. */
    char *tok = malloc(size ? size : 1);
    if (!tok) return 0;
    memcpy(tok, data, size);
    one(tok, size, 0);
    one(tok, size, MCP_JWS_PAYLOAD_ANY);
    free(tok);
    return 0;
}
