/* fuzz_http_request.c - libFuzzer target: the HTTP request model's parser (http/request.c), which
 * reads the request JSON member by member without a tree. Besides crashes, it checks the parser
 * against jansson: a document it accepts is one jansson accepts (unless jansson refuses a
 * duplicate key among members the model does not read), with the same method, path, body and
 * header values. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_string(json_t *v, const char *s, size_t n) {
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), s, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mcp_http_req r;
    int rc = mcp_http_req_parse((const char *)data, size, &r);
    if (rc == 0 || rc == 414 || rc == 431) {
        json_error_t je;
        json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
        if (!doc) {
            if (!strstr(je.text, "duplicate")) abort(); /* accepted what jansson refuses */
        } else {
            if (!same_string(json_object_get(doc, "method"), r.method, strlen(r.method))) abort();
            if (r.body && !same_string(json_object_get(doc, "body"), r.body, r.body_len)) abort();
            json_t *h = json_object_get(doc, "headers");
            for (size_t i = 0; i < r.n_headers; i++) {
                json_t *v = json_object_get(h, r.headers[i].name);
                if (!v) abort();
                for (size_t j = 0; j < r.headers[i].count; j++) {
                    const mcp_req_value *x = &r.values[r.headers[i].first + j];
                    json_t *e = json_is_array(v) ? json_array_get(v, j) : v;
                    if (!same_string(e, x->s, x->n)) abort();
                }
            }
            json_decref(doc);
        }
        if (rc == 0) {
            const char *v = NULL;
            mcp_http_req_header_get(&r, "authorization", &v);
            char *c = mcp_http_req_cookie(&r, "sid");
            free(c);
        }
    }
    mcp_http_req_clear(&r);
    return 0;
}
