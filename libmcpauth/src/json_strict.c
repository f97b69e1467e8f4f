/* json_strict.c - hostile-input JSON parsing on jansson, and small typed accessors. */
#include "json_strict.h"

#include <math.h>
#include <string.h>

/* Maximum nesting of `buf`, counting '[' and '{' outside strings; stops early (returning a
 * value > limit) as soon as the limit is passed, so a depth bomb costs one linear scan and no
 * allocation. The scan is only a bound: jansson still does the real parse afterwards. */
static size_t scan_depth(const char *buf, size_t len, size_t limit) {
    size_t depth = 0, max = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++; /* skip the escaped character, whatever it is */
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                max = depth;
                if (max > limit) return max;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

json_t *mcp_json_parse(const char *buf, size_t len, size_t max_depth, int want_object,
                       const char *what, int code, mcp_err *err) {
    if (!what) what = "JSON";
    if (!buf || len == 0) {
        mcp_err_set(err, code, "%s: empty", what);
        return NULL;
    }
    if (memchr(buf, '\0', len)) {
        mcp_err_set(err, code, "%s: embedded NUL byte", what);
        return NULL;
    }
    if (max_depth == 0 || max_depth > MCP_JSON_MAX_DEPTH) max_depth = MCP_JSON_MAX_DEPTH;
    if (scan_depth(buf, len, max_depth) > max_depth) {
        mcp_err_set(err, code, "%s: nesting deeper than %zu", what, max_depth);
        return NULL;
    }
    /* No JSON_DISABLE_EOF_CHECK: trailing data is an error. No JSON_ALLOW_NUL: "\u0000" in a
     * string is an error. */
    size_t flags = JSON_REJECT_DUPLICATES | (want_object ? 0 : JSON_DECODE_ANY);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, flags, &jerr);
    if (!root) {
        /* jansson appends " near '<input fragment>'" to lexer errors: cut it, so that no
         * part of a token (or secret) reaches a log line. */
        char *near = strstr(jerr.text, " near ");
        if (near) *near = '\0';
        mcp_err_set(err, code, "%s: invalid JSON (%s at offset %d)", what, jerr.text,
                    jerr.position);
        return NULL;
    }
    if (want_object && !json_is_object(root)) {
        json_decref(root);
        mcp_err_set(err, code, "%s: not a JSON object", what);
        return NULL;
    }
    return root;
}

/* Looks p[0..len) up in `cur`: the whole remaining path as one key first (claim names such as
 * "https://example.com/roles" contain dots), then each split at a dot, left to right, into a
 * key naming an object and the rest. *budget bounds the total work whatever the document. */
static json_t *path_lookup(json_t *cur, const char *p, size_t len, int *budget) {
    if (!json_is_object(cur) || len == 0 || --*budget < 0) return NULL;
    json_t *whole = json_object_getn(cur, p, len);
    if (whole) return whole;
    for (size_t i = 1; i + 1 < len; i++) {
        if (p[i] != '.') continue;
        json_t *child = json_object_getn(cur, p, i);
        if (!json_is_object(child)) continue;
        json_t *found = path_lookup(child, p + i + 1, len - i - 1, budget);
        if (found) return found;
    }
    return NULL;
}

json_t *mcp_json_path(json_t *root, const char *dotted) {
    if (!root || !dotted) return NULL;
    int budget = 256;
    return path_lookup(root, dotted, strlen(dotted), &budget);
}

int mcp_json_time(const json_t *v, int64_t *out) {
    if (!v || !out) return -1;
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0) return -1;
        *out = (int64_t)i;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* 9223372036854775808.0 is 2^63, the first double that does not fit int64. */
        if (!isfinite(d) || d < 0.0 || d >= 9223372036854775808.0) return -1;
        *out = (int64_t)d; /* truncation toward zero == floor for d >= 0 */
        return 0;
    }
    return -1;
}

static int is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

json_t *mcp_json_string_list(const json_t *v) {
    json_t *arr = json_array();
    if (!arr) return NULL;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), i = 0;
        while (i < len) {
            while (i < len && is_ascii_space(s[i])) i++;
            size_t start = i;
            while (i < len && !is_ascii_space(s[i])) i++;
            if (i > start) {
                json_t *item = json_stringn(s + start, i - start);
                if (!item || json_array_append_new(arr, item) != 0) {
                    json_decref(arr);
                    return NULL;
                }
            }
        }
    } else if (json_is_array(v)) {
        size_t idx;
        json_t *item;
        json_array_foreach(v, idx, item) {
            if (!json_is_string(item)) continue;
            if (json_array_append(arr, item) != 0) {
                json_decref(arr);
                return NULL;
            }
        }
    }
    return arr;
}
