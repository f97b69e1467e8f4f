/* userinfo.c - verified claims -> the auth result (the seed's ctx.auth): provider mapping,
 * then the proxy / userinfo preset's mapping, then the declarative claim map, then scopes /
 * permissions / clientId / expiresAt / resource. Also the required-scope check (scopes and
 * the token's permissions claim form one set, as hasScope does). */
#include "verify/userinfo.h"

#include <stdio.h>
#include <string.h>

#include "util/json_strict.h"

static int list_has(json_t *arr, const char *s, size_t n) {
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item) {
        if (json_string_length(item) == n && memcmp(json_string_value(item), s, n) == 0) return 1;
    }
    return 0;
}

/* Appends the strings of src (a string list) to dst, skipping ones already there. */
static int append_unique(json_t *dst, json_t *src) {
    size_t i;
    json_t *item;
    json_array_foreach(src, i, item) {
        if (!json_is_string(item)) continue;
        if (list_has(dst, json_string_value(item), json_string_length(item))) continue;
        if (json_array_append(dst, item) != 0) return -1;
    }
    return 0;
}

/* scope (whitespace string or array) then scp (array or string), de-duplicated in order. */
static json_t *collect_scopes(json_t *payload) {
    json_t *out = json_array();
    if (!out) return NULL;
    const char *names[] = {"scope", "scp"};
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(payload, names[k]);
        if (!v) continue;
        json_t *list = mcp_json_string_list(v);
        int bad = !list || append_unique(out, list) != 0;
        json_decref(list);
        if (bad) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static json_t *strings_of(json_t *v) {
    json_t *out = json_array();
    if (out && json_is_array(v) && append_unique(out, v) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The proxy / userinfo preset's mapping (config.h preset_user_map): each field takes the claim
 * at its path when that is a non-empty string, or an integer (GitHub's numeric id) as decimal
 * text; anything else leaves the provider's value. 0, or -1 on no memory. */
static int apply_preset_map(json_t *map, json_t *payload, json_t *user) {
    const char *field;
    json_t *path;
    json_object_foreach(map, field, path) {
        json_t *v = mcp_json_path(payload, json_string_value(path));
        json_t *nv = NULL;
        if (json_is_string(v) && json_string_length(v) > 0) {
            nv = json_deep_copy(v);
        } else if (json_is_integer(v)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            nv = json_string(buf);
        } else {
            continue;
        }
        if (!nv || json_object_set_new(user, field, nv) != 0) return -1;
    }
    return 0;
}

static json_t *nomem_null(mcp_err *err) {
    mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    return NULL;
}

/* 1 when every byte is 7-bit ASCII without NUL: then the string is valid UTF-8 and jansson's
 * per-byte UTF-8 validation (a visible share of a verification, for an 800-byte token) can be
 * skipped. Other input goes through json_stringn(), which validates. */
static int ascii_only(const char *s, size_t n) {
    unsigned char acc = 0, nul = 1;
    for (size_t i = 0; i < n; i++) {
        acc |= (unsigned char)s[i];
        nul &= (unsigned char)(s[i] != 0);
    }
    return acc < 0x80 && nul;
}

json_t *mcp_auth_result(const mcp_config *cfg, const mcp_provider *prov, json_t *payload,
                        const char *token, size_t token_len, mcp_err *err) {
    if (!cfg || !json_is_object(payload)) {
        mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "claims are not a JSON object");
        return NULL;
    }
    json_t *res = json_object();
    json_t *user = json_object();
    if (!res || !user) goto oom;
    if (prov && prov->map_user && prov->map_user(payload, user) != 0) goto oom;
    if (cfg->preset_user_map && apply_preset_map(cfg->preset_user_map, payload, user) != 0)
        goto oom;

    if (cfg->claims_map) {
        const char *field;
        json_t *path;
        json_object_foreach(cfg->claims_map, field, path) {
            json_t *v = mcp_json_path(payload, json_string_value(path));
            if (!v) continue;
            json_t *c = json_deep_copy(v);
            if (!c || json_object_set_new(user, field, c) != 0) goto oom;
        }
    }
    json_t *uid = json_object_get(user, "userId");
    if (!json_is_string(uid) || json_string_length(uid) == 0) {
        json_decref(user);
        json_decref(res);
        mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                    "token identifies no user (no string 'sub' or mapped userId)");
        return NULL;
    }
    if (json_object_set_new(res, "user", user) != 0) {
        user = NULL;
        goto oom;
    }
    user = json_object_get(res, "user");

    if (token) {
        json_t *t = ascii_only(token, token_len) ? json_stringn_nocheck(token, token_len)
                                                 : json_stringn(token, token_len);
        if (!t) {
            json_decref(res);
            mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "access token is not valid UTF-8");
            return NULL;
        }
        if (json_object_set_new(res, "accessToken", t) != 0) goto oom_res;
    }

    json_t *scopes = collect_scopes(payload);
    if (!scopes || json_object_set_new(res, "scopes", scopes) != 0) goto oom_res;

    /* the token's own permissions claim (the seed: "parsed from JWT permissions"), never the
     * preset's user.permissions (Keycloak client roles, Clerk org_permissions, Supabase aal:*):
     * the scope rule (mcp_scopes_check) reads scopes and this list only */
    json_t *pv = json_object_get(payload, "permissions");
    json_t *perms = strings_of(json_is_array(pv) ? pv : NULL);
    if (!perms || json_object_set_new(res, "permissions", perms) != 0) goto oom_res;

    if (json_object_set(res, "payload", payload) != 0) goto oom_res;

    json_t *cid = json_object_get(payload, "client_id");
    if (!json_is_string(cid)) cid = json_object_get(payload, "azp");
    if (json_object_set_new(res, "clientId",
                            json_is_string(cid) ? json_deep_copy(cid) : json_null()) != 0)
        goto oom_res;

    int64_t exp;
    json_t *ev = json_object_get(payload, "exp");
    json_t *expires =
        (ev && mcp_json_time(ev, &exp) == 0) ? json_integer((json_int_t)exp) : json_null();
    if (json_object_set_new(res, "expiresAt", expires) != 0) goto oom_res;

    json_t *rclaim = json_object_get(payload, "resource");
    json_t *resource = NULL;
    if (json_is_string(rclaim)) {
        resource = json_deep_copy(rclaim);
    } else if (cfg->resource) {
        json_t *aud = json_object_get(payload, "aud");
        int hit = 0;
        size_t n = strlen(cfg->resource);
        if (json_is_string(aud))
            hit = json_string_length(aud) == n &&
                  memcmp(json_string_value(aud), cfg->resource, n) == 0;
        else if (json_is_array(aud))
            hit = list_has(aud, cfg->resource, n);
        resource = hit ? json_string(cfg->resource) : json_null();
    } else {
        resource = json_null();
    }
    if (json_object_set_new(res, "resource", resource) != 0) goto oom_res;
    return res;

oom:
    json_decref(user);
oom_res:
    json_decref(res);
    return nomem_null(err);
}

/* The rule: a scope is held when it is in the result's "scopes" or "permissions". Both
 * mcp_scopes_check and mcp_scopes_held (for the token cache) read the lists from here. */
static void held_lists(json_t *auth_result, json_t *lists[2]) {
    lists[0] = json_object_get(auth_result, "scopes");
    lists[1] = json_object_get(auth_result, "permissions");
}

/* 1 when the NUL-separated blob holds the scope s (n bytes). */
static int blob_has(const char *blob, size_t len, const char *s, size_t n) {
    for (size_t at = 0; at < len;) {
        size_t l = strlen(blob + at);
        if (l == n && memcmp(blob + at, s, n) == 0) return 1;
        at += l + 1;
    }
    return 0;
}

/* Reports the missing scopes of `required` (has(i) says whether required[i] is held). */
static int scopes_report(const mcp_strv required, json_t *lists[2], const char *blob, size_t len,
                         mcp_err *err) {
    char missing[200];
    size_t used = 0, nmissing = 0;
    missing[0] = '\0';
    for (char *const *r = required; *r; r++) {
        size_t n = strlen(*r);
        if (lists ? (json_is_array(lists[0]) && list_has(lists[0], *r, n)) ||
                        (json_is_array(lists[1]) && list_has(lists[1], *r, n))
                  : blob_has(blob, len, *r, n))
            continue;
        nmissing++;
        if (used < sizeof missing - 1) {
            int w = snprintf(missing + used, sizeof missing - used, "%s%s", used ? " " : "", *r);
            if (w > 0) used += (size_t)w;
            if (used >= sizeof missing) used = sizeof missing - 1;
        }
    }
    if (!nmissing) return MCPAUTH_OK;
    return mcp_err_set(err, MCPAUTH_E_INSUFFICIENT_SCOPE, "missing required scope%s: %s",
                       nmissing > 1 ? "s" : "", missing);
}

int mcp_scopes_check(json_t *auth_result, const mcp_strv required, mcp_err *err) {
    if (!required || !required[0]) return MCPAUTH_OK;
    json_t *lists[2];
    held_lists(auth_result, lists);
    return scopes_report(required, lists, NULL, 0, err);
}

int mcp_scopes_check_held(const char *blob, size_t len, const mcp_strv required, mcp_err *err) {
    if (!required || !required[0]) return MCPAUTH_OK;
    return scopes_report(required, NULL, blob ? blob : "", blob ? len : 0, err);
}

char *mcp_scopes_held(json_t *auth_result, size_t *len) {
    json_t *lists[2];
    held_lists(auth_result, lists);
    size_t n = 0, i;
    json_t *x;
    for (int l = 0; l < 2; l++)
        json_array_foreach(lists[l], i, x) if (json_is_string(x)) n += json_string_length(x) + 1;
    char *blob = malloc(n + 1), *o = blob;
    if (!blob) return NULL;
    for (int l = 0; l < 2; l++) json_array_foreach(lists[l], i, x) {
            if (!json_is_string(x)) continue;
            size_t k = json_string_length(x);
            memcpy(o, json_string_value(x), k); /* strict JSON strings hold no NUL */
            o[k] = '\0';
            o += k + 1;
        }
    *len = n;
    return blob;
}
