/* fuzz_json.c - libFuzzer target: the strict JSON parser and the typed accessors. The parser
 * is also checked against jansson's json_loadb() (JSON_REJECT_DUPLICATES, no JSON_ALLOW_NUL) as
 * an oracle: within the depth cap both must accept the same inputs and build equal values. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"

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

/* Nesting depth of buf counting brackets outside strings (for comparing with the oracle). */
static size_t depth_of(const char *buf, size_t len) {
    size_t depth = 0, max = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

static void differential(const char *buf, size_t size) {
    mcp_err err;
    json_t *mine = mcp_json_parse(buf, size, MCP_JSON_MAX_DEPTH, 0, "fuzz", 99, &err);
    json_error_t jerr;
    json_t *ref = json_loadb(buf, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!ref && !mine) return;
    /* jansson stops at a NUL byte as if the input ended there ("{}\0junk" loads): refusing
     * any NUL is the documented difference. */
    if (!mine && memchr(buf, '\0', size)) {
        json_decref(ref);
        return;
    }
    /* Beyond the depth cap only ours refuses. */
    if (!mine && ref && depth_of(buf, size) > MCP_JSON_MAX_DEPTH) {
        json_decref(ref);
        return;
    }
    if (!mine != !ref) abort();
    if (!json_equal(mine, ref)) abort();
    json_decref(mine);
    json_decref(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    differential(buf, size);
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
