/* options.c - typed readers of configuration options: absent or null means "not set" (the
 * output is left untouched); a wrong type or value is MCPAUTH_E_CONFIG naming the option. */
#include "config/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"
#include "util/url.h"

json_t *mcp_opt_get(json_t *in, const char *key) {
    json_t *v = json_object_get(in, key);
    return (v && !json_is_null(v)) ? v : NULL;
}

int mcp_opt_str(json_t *in, const char *key, char **out, mcp_err *err) {
    json_t *v = mcp_opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be a string", key);
    if (json_string_length(v) == 0)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must not be empty", key);
    free(*out);
    *out = mcp_strndup(json_string_value(v), json_string_length(v));
    return *out ? MCPAUTH_OK : mcp_err_nomem(err);
}

int mcp_opt_url(json_t *in, const char *key, char **out, mcp_err *err) {
    int rc = mcp_opt_str(in, key, out, err);
    if (rc != MCPAUTH_OK || !mcp_opt_get(in, key)) return rc;
    char what[80];
    snprintf(what, sizeof what, "option '%s'", key);
    return mcp_url_check(*out, what, err);
}

int mcp_opt_bool(json_t *in, const char *key, int *out, mcp_err *err) {
    json_t *v = mcp_opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_boolean(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be true or false", key);
    *out = json_is_true(v);
    return MCPAUTH_OK;
}

int mcp_opt_int(json_t *in, const char *key, int64_t min, int64_t max, int64_t *out, mcp_err *err) {
    json_t *v = mcp_opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option '%s' must be an integer between %lld and %lld", key,
                           (long long)min, (long long)max);
    *out = (int64_t)json_integer_value(v);
    return MCPAUTH_OK;
}

/* ---- section option readers (shared by the proxy and the opaque-token sections) ---------- */

int mcp_opt_section_str(json_t *obj, const char *sect, const char *key, char **out, mcp_err *err) {
    json_t *v = mcp_opt_get(obj, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        strlen(json_string_value(v)) != json_string_length(v))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s.%s' must be a non-empty string", sect,
                           key);
    free(*out);
    *out = mcp_strdup(json_string_value(v));
    return *out ? MCPAUTH_OK : mcp_err_nomem(err);
}

int mcp_opt_section_int(json_t *obj, const char *sect, const char *key, int64_t min, int64_t max,
                        int64_t *out, mcp_err *err) {
    json_t *v = mcp_opt_get(obj, key);
    if (!v) return MCPAUTH_OK;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option '%s.%s' must be an integer from %lld to %lld", sect, key,
                           (long long)min, (long long)max);
    *out = (int64_t)json_integer_value(v);
    return MCPAUTH_OK;
}

static int has_space(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') return 1;
    return 0;
}

/* An array of non-empty strings, or (allow_string) one string split on whitespace.
 * no_space: elements may not contain whitespace (scopes). */
int mcp_opt_strv_value(json_t *v, const char *key, int allow_string, int no_space, mcp_strv *out,
                       mcp_err *err) {
    mcp_strv r = calloc(1, sizeof *r);
    if (!r) return mcp_err_nomem(err);
    if (json_is_string(v) && allow_string) {
        json_t *list = mcp_json_string_list(v);
        if (!list) {
            mcp_strv_free(r);
            return mcp_err_nomem(err);
        }
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item) {
            if (mcp_strv_push(&r, json_string_value(item), json_string_length(item)) != 0) {
                json_decref(list);
                mcp_strv_free(r);
                return mcp_err_nomem(err);
            }
        }
        json_decref(list);
    } else if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item) || json_string_length(item) == 0 ||
                (no_space && has_space(json_string_value(item), json_string_length(item)))) {
                mcp_strv_free(r);
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option '%s': element %zu must be a non-empty string%s", key, i,
                                   no_space ? " without whitespace" : "");
            }
            if (mcp_strv_push(&r, json_string_value(item), json_string_length(item)) != 0) {
                mcp_strv_free(r);
                return mcp_err_nomem(err);
            }
        }
    } else {
        mcp_strv_free(r);
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           allow_string ? "option '%s' must be a string or an array of strings"
                                        : "option '%s' must be an array of strings",
                           key);
    }
    mcp_strv_free(*out);
    *out = r;
    return MCPAUTH_OK;
}

int mcp_opt_strv(json_t *in, const char *key, int allow_string, int no_space, mcp_strv *out,
                 mcp_err *err) {
    json_t *v = mcp_opt_get(in, key);
    if (!v) return MCPAUTH_OK;
    return mcp_opt_strv_value(v, key, allow_string, no_space, out, err);
}
