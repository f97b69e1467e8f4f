/* fuzz_json.c - libFuzzer target: the strict JSON parser and the typed accessors. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_strict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(json_t *v, size_t depth) {
    if (depth > MCP_JSON_MAX_DEPTH + 1) abort(); /* the depth cap must hold */
    int64_t t;
    int rc = mcp_json_time(v, &t);
    if (rc == 0 && t < 0) abort();
    json_t *list = mcp_json_string_list(v);
    if (!list) abort();
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        if (!json_is_string(item)) abort();
    }
    json_decref(list);
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach(v, key, child) {
            if (*key && !strchr(key, '.') && mcp_json_path(v, key) != child) abort();
            walk(child, depth + 1);
        }
    } else if (json_is_array(v)) {
        json_t *child;
        json_array_foreach(v, i, child) walk(child, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    for (int want_object = 0; want_object < 2; want_object++) {
        mcp_err err;
        json_t *root = mcp_json_parse(buf, size, MCP_JSON_MAX_DEPTH, want_object, "fuzz", 99, &err);
        if (!root) {
            if (err.code != 99) abort();
            continue;
        }
        if (want_object && !json_is_object(root)) abort();
        walk(root, 1);
        (void)mcp_json_path(root, "realm_access.roles");
        (void)mcp_json_path(root, "a.b.c");
        (void)mcp_json_path(root, ".");
        (void)mcp_json_path(root, "a.");
        json_decref(root);
    }
    free(buf);
    return 0;
}
