/* provider.c - the preset registry, option lookup with env fallback, and the helpers the
 * presets share for configuration and claim mapping. */
#include "providers/provider.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/http_client.h"
#include "util/json_strict.h"
#include "providers/provider_impl.h"
#include "providers/idp_presets.h"

static const mcp_provider *const registry[] = {
    &mcp_provider_jwks,   &mcp_provider_auth0,    &mcp_provider_betterauth, &mcp_provider_clerk,
    &mcp_provider_workos, &mcp_provider_supabase, &mcp_provider_keycloak,   &mcp_provider_custom,
};

#define REGISTRY_LEN (sizeof registry / sizeof registry[0])

const mcp_provider *mcp_provider_find(const char *name) {
    if (!name) return NULL;
    if (strcmp(name, "better-auth") == 0) name = "betterauth";
    for (size_t i = 0; i < REGISTRY_LEN; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

const mcp_provider *mcp_provider_owning_option(const char *option) {
    if (!option) return NULL;
    for (size_t i = 0; i < REGISTRY_LEN; i++) {
        const char *const *o = registry[i]->options;
        for (; o && *o; o++)
            if (strcmp(*o, option) == 0) return registry[i];
    }
    return NULL;
}

int mcp_provider_opt(json_t *in, const char *key, mcp_getenv_fn env, const char *env_name,
                     char **out, mcp_err *err) {
    *out = NULL;
    json_t *v = in ? json_object_get(in, key) : NULL;
    if (v && !json_is_null(v)) { /* explicit config beats env; null means "not set" */
        if (!json_is_string(v) || json_string_length(v) == 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be a non-empty string",
                               key);
        *out = mcp_strndup(json_string_value(v), json_string_length(v));
        if (!*out) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        return MCPAUTH_OK;
    }
    if (env && env_name) {
        const char *e = env(env_name);
        if (e && *e) {
            *out = mcp_strdup(e);
            if (!*out) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    return MCPAUTH_OK;
}

/* ---- configuration helpers ------------------------------------------------------------- */

int mcp_pv_tokens_opaque(json_t *in) {
    json_t *i = json_object_get(in, "introspection"), *u = json_object_get(in, "userinfo");
    if ((i && !json_is_null(i)) || (u && !json_is_null(u))) return 1;
    json_t *proxy = json_object_get(in, "proxy");
    const char *preset = json_string_value(json_object_get(proxy, "preset"));
    const mcp_idp_preset *ps = preset ? mcp_idp_preset_find(preset) : NULL;
    return ps && ps->userinfo_url != NULL;
}

int mcp_pv_required(const char *prov, const char *opt, mcp_getenv_fn env, const char *env_name,
                    const char *value, mcp_err *err) {
    if (value) return MCPAUTH_OK;
    if (env_name && mcp_env_on(env))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: option '%s' is required (or set %s)", prov,
                           opt, env_name);
    return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: option '%s' is required", prov, opt);
}

void mcp_pv_strip_slashes(char *s) {
    if (!s) return;
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') s[--n] = '\0';
}

int mcp_pv_fill(char **field, const char *a, const char *b, mcp_err *err) {
    if (*field) return MCPAUTH_OK;
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    char *s = malloc(la + lb + 1);
    if (!s) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    memcpy(s, a, la);
    if (lb) memcpy(s + la, b, lb);
    s[la + lb] = '\0';
    *field = s;
    return MCPAUTH_OK;
}

int mcp_pv_fill_strv(mcp_strv *field, const char *const *list, mcp_err *err) {
    if (*field) return MCPAUTH_OK;
    *field = mcp_strv_from_list(list);
    if (!*field) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    return MCPAUTH_OK;
}

int mcp_pv_audience_env(mcp_config *cfg, mcp_getenv_fn env, const char *env_name, mcp_err *err) {
    if (cfg->audience || !env) return MCPAUTH_OK;
    const char *v = env(env_name);
    if (!v || !*v) return MCPAUTH_OK;
    const char *const one[] = {v, NULL};
    cfg->audience = mcp_strv_from_list(one);
    if (!cfg->audience) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    return MCPAUTH_OK;
}

int mcp_pv_has_key_source(const mcp_config *cfg) {
    return cfg->jwks_url || cfg->jwks_inline || cfg->public_key_pem || cfg->secret;
}

int mcp_pv_host(char **value, const char *prov, const char *opt, mcp_err *err) {
    char *s = *value;
    const char *scheme = strstr(s, "://");
    if (scheme) {
        if (strncmp(s, "https://", 8) != 0)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: option '%s' must be a host name or an https:// URL", prov, opt);
        memmove(s, s + 8, strlen(s + 8) + 1);
    }
    mcp_pv_strip_slashes(s);
    if (!*s) return mcp_err_set(err, MCPAUTH_E_CONFIG, "%s: option '%s' is empty", prov, opt);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '/' || *p == '?' || *p == '#' || *p == '@' ||
            *p == '\\' || *p == '%')
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "%s: option '%s' must be a bare host name (no path, query or "
                               "credentials)",
                               prov, opt);
    }
    return MCPAUTH_OK;
}

int mcp_pv_url(char *value, const char *prov, const char *opt, mcp_err *err) {
    mcp_pv_strip_slashes(value);
    char what[96];
    snprintf(what, sizeof what, "%s: option '%s'", prov, opt);
    return mcp_url_check(value, what, err);
}

/* ---- claim mapping helpers ------------------------------------------------------------- */

static int set_copy(json_t *user, const char *field, json_t *v) {
    json_t *c = json_deep_copy(v);
    if (!c) return -1;
    return json_object_set_new(user, field, c) == 0 ? 0 : -1;
}

int mcp_map_str(json_t *user, const char *field, json_t *payload, const char *claim) {
    json_t *v = mcp_json_path(payload, claim);
    if (!json_is_string(v)) return 0;
    return set_copy(user, field, v);
}

int mcp_map_str_first(json_t *user, const char *field, json_t *payload, const char *const *claims) {
    for (; *claims; claims++) {
        json_t *v = mcp_json_path(payload, *claims);
        /* an empty string is no value: the next claim is tried (the reference's `a || b`) */
        if (json_is_string(v) && json_string_length(v) > 0) return set_copy(user, field, v);
    }
    return 0;
}

int mcp_map_any(json_t *user, const char *field, json_t *payload, const char *claim) {
    json_t *v = mcp_json_path(payload, claim);
    if (!v) return 0;
    return set_copy(user, field, v);
}

int mcp_map_str_array(json_t *user, const char *field, json_t *v) {
    if (!json_is_array(v)) return 0;
    json_t *arr = json_array();
    if (!arr) return -1;
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item)) continue;
        json_t *c = json_deep_copy(item);
        if (!c || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            return -1;
        }
    }
    return json_object_set_new(user, field, arr) == 0 ? 1 : -1;
}

int mcp_map_empty_array(json_t *user, const char *field) {
    json_t *arr = json_array();
    if (!arr) return -1;
    return json_object_set_new(user, field, arr) == 0 ? 0 : -1;
}

int mcp_map_str_list(json_t *user, const char *field, json_t *v) {
    int r = mcp_map_str_array(user, field, v);
    if (r == 0) r = mcp_map_empty_array(user, field);
    return r < 0 ? -1 : 0;
}

int mcp_map_scopes(json_t *user, json_t *payload) {
    json_t *list = mcp_json_string_list(json_object_get(payload, "scope"));
    if (!list) return -1;
    return json_object_set_new(user, "scopes", list) == 0 ? 0 : -1;
}
