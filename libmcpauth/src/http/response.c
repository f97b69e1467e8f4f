/* response.c - the response builder of the HTTP surface (response.h): the proxy's routes and the
 * router's metadata, error and challenge answers. */
#include "http/response.h"

#include <stdlib.h>

#include "http/challenge.h"
#include "util/common.h"

json_t *mcp_resp_new(int status, const char *content_type, const char *body) {
    json_t *r = json_object();
    if (!r) return NULL;
    int bad = 0;
    bad |= json_object_set_new(r, "action", json_string("respond"));
    bad |= json_object_set_new(r, "status", json_integer(status));
    bad |= json_object_set_new(r, "headers", json_array());
    bad |= json_object_set_new(r, "body", json_string(body ? body : ""));
    if (bad || !json_is_array(json_object_get(r, "headers"))) {
        json_decref(r);
        return NULL;
    }
    if (content_type) mcp_resp_header(r, "Content-Type", content_type);
    return r;
}

void mcp_resp_header(json_t *resp, const char *name, const char *value) {
    if (!resp || !name || !value) {
        if (resp) json_object_set_new(resp, "broken", json_true());
        return;
    }
    json_t *h = json_object_get(resp, "headers");
    json_t *pair = json_pack("[ss]", name, value);
    if (!pair || json_array_append_new(h, pair) != 0)
        json_object_set_new(resp, "broken", json_true());
}

void mcp_resp_code(json_t *resp, int code) {
    if (resp && json_object_set_new(resp, "code", json_integer(code)) != 0)
        json_object_set_new(resp, "broken", json_true());
}

int mcp_resp_broken(const json_t *resp) { return !resp || json_object_get(resp, "broken") != NULL; }

json_t *mcp_resp_json(int status, json_t *doc) {
    char *body = json_dumps(doc, JSON_COMPACT);
    if (!body) return NULL;
    json_t *r = mcp_resp_new(status, "application/json", body);
    free(body);
    mcp_resp_header(r, "Cache-Control", "no-store");
    mcp_resp_header(r, "Pragma", "no-cache");
    mcp_resp_header(r, "Access-Control-Allow-Origin", "*");
    return r;
}

json_t *mcp_resp_oauth_error(int status, const char *error, const char *description) {
    json_t *doc = json_pack("{s:s}", "error", error);
    if (!doc) return NULL;
    if (description && json_object_set_new(doc, "error_description", json_string(description))) {
        json_decref(doc);
        return NULL;
    }
    json_t *r = mcp_resp_json(status, doc);
    json_decref(doc);
    return r;
}

json_t *mcp_resp_redirect(int status, const char *location) {
    json_t *r = mcp_resp_new(status, NULL, "");
    mcp_resp_header(r, "Location", location);
    mcp_resp_header(r, "Cache-Control", "no-store");
    mcp_resp_header(r, "Referrer-Policy", "no-referrer");
    return r;
}

/* {"error","error_description"}; without "error" when error is NULL. */
static char *error_body(const char *error, const char *description) {
    json_t *b = json_object();
    if (!b) return NULL;
    if ((error && json_object_set_new(b, "error", json_string(error)) != 0) ||
        json_object_set_new(b, "error_description", json_string(description)) != 0) {
        json_decref(b);
        return NULL;
    }
    char *s = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    return s;
}

json_t *mcp_resp_error(int status, const char *error, const char *description) {
    char *body = error_body(error, description);
    if (!body) return NULL;
    json_t *r = mcp_resp_new(status, "application/json", body);
    free(body);
    mcp_resp_header(r, "Cache-Control", "no-store");
    return r;
}

int mcp_resp_challenge(int status, int code, const char *scope, const char *prm_url, json_t **out) {
    *out = NULL;
    const char *error = mcpauth_oauth_error(code); /* NULL for TOKEN_MISSING (RFC 6750 3.1) */
    const char *desc = mcpauth_strerror(code);
    char *www = NULL;
    int rc = mcp_challenge_render(error, error ? desc : NULL, scope, prm_url, &www);
    if (rc != MCPAUTH_OK) return rc;
    json_t *r = mcp_resp_error(status, mcpauth_oauth_error(code), desc);
    mcp_resp_header(r, "WWW-Authenticate", www);
    mcp_resp_header(r, "Access-Control-Expose-Headers", "WWW-Authenticate");
    free(www);
    if (mcp_resp_broken(r)) {
        json_decref(r);
        return MCPAUTH_E_NOMEM;
    }
    *out = r;
    return MCPAUTH_OK;
}

int mcp_resp_emit(json_t *resp, char **out) {
    *out = NULL;
    if (!mcp_resp_broken(resp)) *out = json_dumps(resp, JSON_COMPACT);
    json_decref(resp);
    return *out ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}
