/* fuzz_b64url.c - libFuzzer target: strict base64url. A strict decoder accepts only canonical
 * text, so encode(decode(x)) must give x back exactly; and decode(encode(x)) must give x. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    memcpy(text, data, size);

    unsigned char *raw = NULL;
    size_t raw_len = 0;
    int rc = mcp_b64url_decode(text, size, &raw, &raw_len);
    if (rc == 0) {
        if (raw[raw_len] != '\0') abort();
        size_t elen = 0;
        char *again = mcp_b64url_encode(raw, raw_len, &elen);
        if (!again || elen != size || memcmp(again, text, size) != 0) abort();
        free(again);
        free(raw);
    } else if (rc != -1 || raw || raw_len) {
        abort();
    }

    size_t elen = 0;
    char *enc = mcp_b64url_encode(data, size, &elen);
    if (!enc || strlen(enc) != elen || elen % 4 == 1) abort();
    unsigned char *back = NULL;
    size_t blen = 0;
    if (mcp_b64url_decode(enc, elen, &back, &blen) != 0 || blen != size ||
        memcmp(back, data, size) != 0)
        abort();
    free(back);
    free(enc);
    free(text);
    return 0;
}
