/* register.c - clients: POST /register (RFC 7591) seals the client's redirect URIs, name and
 * grant types into its client_id (nothing is stored); mcp_proxy_client_resolve opens a sealed
 * client_id again, or resolves a client metadata document URL (cimd.c). */
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"
#include "proxy/proxy_impl.h"

static int strv_from_json(json_t *a, mcp_strv *out) {
    *out = calloc(json_array_size(a) + 1, sizeof **out);
    if (!*out) return -1;
    size_t i;
    json_t *x;
    json_array_foreach(a, i, x) {
        if (!json_is_string(x)) continue;
        size_t n = mcp_strv_len(*out);
        (*out)[n] = mcp_strdup(json_string_value(x));
        if (!(*out)[n]) return -1;
    }
    return 0;
}

/* OK, WOULD_BLOCK, UPSTREAM, NOMEM, or CLAIM_INVALID (unknown client; err says why). */
int mcp_proxy_client_resolve(const mcp_proxy *p, const char *client_id, int nonblock,
                             mcp_proxy_client *out, mcp_err *err) {
    memset(out, 0, sizeof *out);
    if (!client_id || !*client_id)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "client_id is missing");
    if (mcp_cimd_is_url(client_id, p->allow_loopback_cimd))
        return mcp_cimd_resolve(p, client_id, nonblock, out, err);
    json_t *d = NULL;
    int rc =
        mcp_unseal(p->sealer, MCP_SEAL_CLIENT, client_id, strlen(client_id), mcp_now(), &d, NULL);
    if (rc == MCPAUTH_E_NOMEM) return mcp_err_nomem(err);
    if (rc != MCPAUTH_OK)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           rc == MCPAUTH_E_EXPIRED ? "the client registration has expired; "
                                                     "register again"
                                                   : "unknown client_id");
    json_t *ru = json_object_get(d, "ru"), *n = json_object_get(d, "n"),
           *g = json_object_get(d, "g");
    if (!json_is_array(ru) || !json_is_string(n) || !json_is_array(g)) {
        json_decref(d);
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "unknown client_id");
    }
    out->client_id = mcp_strdup(client_id);
    out->name = mcp_strdup(json_string_value(n));
    int bad = !out->client_id || !out->name || strv_from_json(ru, &out->redirect_uris) ||
              strv_from_json(g, &out->grant_types);
    json_decref(d);
    if (bad) {
        mcp_proxy_client_clear(out);
        return mcp_err_nomem(err);
    }
    return MCPAUTH_OK;
}

/* ---- POST /register ----------------------------------------------------------------------- */

static json_t *reg_error(const char *error, const char *desc) {
    return mcp_resp_oauth_error(400, error, desc);
}

static int redirect_allowed(const mcp_proxy *p, const char *uri) {
    if (!p->allowed_redirects) return 1;
    for (size_t i = 0; p->allowed_redirects[i]; i++)
        if (mcp_redirect_pattern_match(p->allowed_redirects[i], uri)) return 1;
    return 0;
}

int mcp_proxy_register(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err) {
    const char *ct = mcp_http_req_header(r, "content-type");
    if (ct && !mcp_starts_ci(ct, "application/json")) {
        *resp = reg_error("invalid_client_metadata", "Content-Type must be application/json");
        return MCPAUTH_OK;
    }
    if (r->body_len > MCP_PX_MAX_REGISTER_BODY) {
        *resp = reg_error("invalid_client_metadata", "registration request is too large");
        return MCPAUTH_OK;
    }
    json_t *doc = mcp_json_parse(r->body ? r->body : "", r->body ? r->body_len : 0, 8, 1,
                                 "registration request", MCPAUTH_E_CLAIM_INVALID, NULL);
    if (!doc) {
        *resp = reg_error("invalid_client_metadata", "the body must be a JSON object");
        return MCPAUTH_OK;
    }
    json_t *out = NULL, *grants = NULL, *ru_out = NULL;
    char *client_id = NULL;
    int rc = MCPAUTH_OK;
    json_t *ru = json_object_get(doc, "redirect_uris");
    if (!json_is_array(ru) || json_array_size(ru) == 0 ||
        json_array_size(ru) > MCP_PX_MAX_REDIRECTS) {
        *resp = reg_error("invalid_redirect_uri", "redirect_uris must be an array of 1 to 10 "
                                                  "redirect URIs");
        goto done;
    }
    size_t i;
    json_t *x;
    json_array_foreach(ru, i, x) {
        if (!json_is_string(x) || strlen(json_string_value(x)) != json_string_length(x)) {
            *resp = reg_error("invalid_redirect_uri", "redirect_uris must hold strings");
            goto done;
        }
        const char *why = mcp_redirect_uri_problem(json_string_value(x));
        if (!why && !redirect_allowed(p, json_string_value(x)))
            why = "redirect URI is not allowed by this server's allowedRedirectUris";
        if (why) {
            *resp = reg_error("invalid_redirect_uri", why);
            goto done;
        }
    }
    const char *name = "MCP Client";
    json_t *nv = json_object_get(doc, "client_name");
    if (nv && !json_is_null(nv)) {
        int ok = json_is_string(nv) && json_string_length(nv) > 0 &&
                 json_string_length(nv) <= MCP_PX_MAX_CLIENT_NAME &&
                 strlen(json_string_value(nv)) == json_string_length(nv);
        for (const unsigned char *c = ok ? (const unsigned char *)json_string_value(nv) : NULL;
             c && *c; c++)
            if (*c < 0x20 || *c == 0x7f) ok = 0;
        if (!ok) {
            *resp = reg_error("invalid_client_metadata",
                              "client_name must be a string of 1 to 200 bytes without control "
                              "characters");
            goto done;
        }
        name = json_string_value(nv);
    }
    json_t *gv = json_object_get(doc, "grant_types");
    if (gv && !json_is_null(gv)) {
        if (!json_is_array(gv) || json_array_size(gv) == 0 || json_array_size(gv) > 8) {
            *resp = reg_error("invalid_client_metadata", "grant_types must be an array");
            goto done;
        }
        grants = json_array();
        if (!grants) {
            rc = mcp_err_nomem(err);
            goto done;
        }
        int has_code = 0;
        json_array_foreach(gv, i, x) {
            if (!json_is_string(x) || !mcp_strv_contains(p->grant_types, json_string_value(x))) {
                *resp = reg_error("invalid_client_metadata",
                                  "grant_types may hold only \"authorization_code\" and "
                                  "\"refresh_token\" (as enabled on this server)");
                goto done;
            }
            if (strcmp(json_string_value(x), "authorization_code") == 0) has_code = 1;
            int dup = 0;
            size_t k;
            json_t *y;
            json_array_foreach(grants, k, y) if (json_equal(x, y)) dup = 1;
            if (!dup && json_array_append(grants, x) != 0) {
                rc = mcp_err_nomem(err);
                goto done;
            }
        }
        if (!has_code) {
            *resp = reg_error("invalid_client_metadata",
                              "grant_types must include \"authorization_code\"");
            goto done;
        }
    } else {
        grants = mcp_strv_to_json(p->grant_types);
        if (!grants) {
            rc = mcp_err_nomem(err);
            goto done;
        }
    }
    json_t *rt = json_object_get(doc, "response_types");
    if (rt && !json_is_null(rt)) {
        int ok = json_is_array(rt) && json_array_size(rt) > 0;
        json_array_foreach(rt, i, x) if (!json_is_string(x) ||
                                         strcmp(json_string_value(x), "code") != 0) ok = 0;
        if (!ok) {
            *resp = reg_error("invalid_client_metadata", "response_types must be [\"code\"]");
            goto done;
        }
    }
    ru_out = json_deep_copy(ru);
    json_t *sealed = json_pack("{s:O,s:s,s:O}", "ru", ru, "n", name, "g", grants);
    if (!ru_out || !sealed) {
        json_decref(sealed);
        rc = mcp_err_nomem(err);
        goto done;
    }
    int64_t now = mcp_now();
    rc = mcp_seal(p->sealer, MCP_SEAL_CLIENT, sealed, now + p->client_ttl, &client_id, err);
    json_decref(sealed);
    if (rc != MCPAUTH_OK) goto done;
    out =
        json_pack("{s:s,s:I,s:s,s:O,s:O,s:[s],s:s}", "client_id", client_id, "client_id_issued_at",
                  (json_int_t)now, "client_name", name, "redirect_uris", ru_out, "grant_types",
                  grants, "response_types", "code", "token_endpoint_auth_method", "none");
    if (!out) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    *resp = mcp_resp_json(201, out);
done:
    json_decref(out);
    json_decref(ru_out);
    json_decref(grants);
    json_decref(doc);
    free(client_id);
    if (rc == MCPAUTH_OK && !*resp) rc = mcp_err_nomem(err);
    return rc;
}
