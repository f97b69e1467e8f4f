/* authorize.c - GET /authorize (validation, then the consent page or a remembered approval,
 * then the 302 upstream with the proxy's callback, client id, PKCE pair, sealed state and a
 * browser binding cookie) and POST /authorize (the consent form: approve or deny). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_impl.h"

/* ---- redirects to the client -------------------------------------------------------------- */

/* 302 to the client's redirect URI with error, error_description, state and iss. */
json_t *mcp_proxy_client_error_redirect(const mcp_proxy *p, const char *ru, const char *cs,
                                        const char *error, const char *desc, const char *uri) {
    mcp_buf b = {0};
    mcp_buf_param(&b, "error", error);
    if (desc) mcp_buf_param(&b, "error_description", desc);
    if (uri) mcp_buf_param(&b, "error_uri", uri);
    if (cs) mcp_buf_param(&b, "state", cs);
    mcp_buf_param(&b, "iss", p->issuer);
    char *params = mcp_buf_take(&b);
    char *loc = params ? mcp_url_with_params(ru, params) : NULL;
    json_t *r = loc ? mcp_resp_redirect(302, loc) : NULL;
    free(params);
    free(loc);
    return r;
}

/* The 302 to the upstream authorization endpoint for a validated (and consented) request. */
static int go_upstream(const mcp_proxy *p, json_t *req, const char *extra_cookie, json_t **resp,
                       mcp_err *err) {
    const char *cid = json_string_value(json_object_get(req, "cid"));
    const char *sc = json_string_value(json_object_get(req, "sc"));
    const char *rs = json_string_value(json_object_get(req, "rs"));
    const char *au = json_string_value(json_object_get(req, "au"));
    if (!cid || !json_is_string(json_object_get(req, "ru")) ||
        !json_is_string(json_object_get(req, "cc")))
        return mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete authorization request");
    int64_t now = mcp_now();
    char *pv = mcp_random_b64url(32), *bn = mcp_random_b64url(16);
    char *pc = pv ? mcp_sha256_b64url(pv, strlen(pv)) : NULL;
    char *ch = mcp_sha256_b64url(cid, strlen(cid));
    char *state = NULL, *bind = NULL, *bname = NULL, *bcookie = NULL, *params = NULL, *loc = NULL;
    json_t *st = NULL, *bd = NULL;
    int rc = MCPAUTH_E_NOMEM;
    if (!pv || !bn || !pc || !ch) goto done;
    st = json_pack("{s:s,s:O,s:O,s:s,s:s}", "ch", ch, "ru", json_object_get(req, "ru"), "cc",
                   json_object_get(req, "cc"), "pv", pv, "bn", bn);
    if (!st) goto done;
    if (json_object_get(req, "cs") && json_object_set(st, "cs", json_object_get(req, "cs")))
        goto done;
    if (rs && json_object_set_new(st, "rs", json_string(rs))) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_STATE, st, now + p->state_ttl, &state, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    bd = json_pack("{s:s}", "bn", bn);
    if (!bd) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_BINDING, bd, now + p->state_ttl, &bind, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    bname = mcp_cookie_name_hashed(MCP_PX_BIND_COOKIE_PREFIX, bn);
    bcookie = bname ? mcp_cookie_header(bname, bind, p->state_ttl) : NULL;
    if (!bcookie) goto done;

    mcp_buf b = {0};
    mcp_buf_param(&b, "response_type", "code");
    mcp_buf_param(&b, "client_id", p->client_id);
    mcp_buf_param(&b, "redirect_uri", p->url_callback);
    if (sc && *sc) mcp_buf_param(&b, "scope", sc);
    mcp_buf_param(&b, "state", state);
    mcp_buf_param(&b, "code_challenge", pc);
    mcp_buf_param(&b, "code_challenge_method", "S256");
    if (rs && p->forward_resource) mcp_buf_param(&b, "resource", rs);
    if (au) mcp_buf_param(&b, "audience", au);
    if (p->extra_params) {
        const char *k;
        json_t *v;
        json_object_foreach(p->extra_params, k, v) {
            if (strcmp(k, "scope") == 0 || (au && strcmp(k, "audience") == 0) ||
                (rs && p->forward_resource && strcmp(k, "resource") == 0))
                continue; /* the request's own value wins over a configured default */
            mcp_buf_param(&b, k, json_string_value(v));
        }
    }
    params = mcp_buf_take(&b);
    loc = params ? mcp_url_with_params(p->auth_endpoint, params) : NULL;
    if (!loc) goto done;
    *resp = mcp_resp_redirect(302, loc);
    mcp_resp_header(*resp, "Set-Cookie", bcookie);
    if (extra_cookie) mcp_resp_header(*resp, "Set-Cookie", extra_cookie);
    if (mcp_resp_broken(*resp)) {
        json_decref(*resp);
        *resp = NULL;
        goto done;
    }
    rc = MCPAUTH_OK;
done:
    if (rc == MCPAUTH_E_NOMEM) mcp_err_nomem(err);
    if (pv) OPENSSL_cleanse(pv, strlen(pv));
    free(pv);
    free(bn);
    free(pc);
    free(ch);
    free(state);
    free(bind);
    free(bname);
    free(bcookie);
    free(params);
    free(loc);
    json_decref(st);
    json_decref(bd);
    return rc;
}

/* ---- GET /authorize ----------------------------------------------------------------------- */

static int b64url_len(const char *s, size_t want) {
    if (!s || strlen(s) != want) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

json_t *mcp_proxy_params_error_page(int pr) {
    return mcp_error_page(400, "Invalid request",
                          pr == -3 ? "A request parameter was given more than once."
                                   : "The request parameters are malformed.");
}

int mcp_proxy_resource_ok(const mcp_proxy *p, const char *rs) {
    if (mcp_url_check(rs, "resource", NULL) != MCPAUTH_OK) return 0;
    if (!p->resource) return 1;
    if (strcmp(rs, p->resource) == 0) return 1;
    /* the same URL with a trailing slash */
    size_t a = strlen(rs), b = strlen(p->resource);
    return a == b + 1 && rs[a - 1] == '/' && strncmp(rs, p->resource, b) == 0;
}

int mcp_proxy_authorize(const mcp_proxy *p, const mcp_http_req *r, int nonblock, json_t **resp,
                        mcp_err *err) {
    json_t *params = NULL;
    const char *q = r->query ? r->query : "";
    int pr = mcp_form_parse(q, strlen(q), &params);
    if (pr == -2) return mcp_err_nomem(err);
    if (pr != 0) {
        *resp = mcp_proxy_params_error_page(pr);
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    mcp_proxy_client c;
    memset(&c, 0, sizeof c);
    json_t *req = NULL;
    int rc = MCPAUTH_OK;
    const char *cid = mcp_px_param(params, "client_id");
    if (!cid) {
        *resp = mcp_error_page(400, "Invalid request", "The request has no client_id.");
        goto done;
    }
    mcp_err cerr = {0, {0}};
    rc = mcp_proxy_client_resolve(p, cid, nonblock, &c, &cerr);
    if (rc == MCPAUTH_E_WOULD_BLOCK || rc == MCPAUTH_E_NOMEM) {
        if (err) *err = cerr;
        goto done;
    }
    if (rc == MCPAUTH_E_UPSTREAM) {
        rc = MCPAUTH_OK;
        *resp = mcp_error_page(503, "Application details unavailable",
                               "The application's metadata document could not be fetched. "
                               "Try again later.");
        goto done;
    }
    if (rc != MCPAUTH_OK) {
        rc = MCPAUTH_OK;
        *resp = mcp_error_page(400, "Unknown application", cerr.msg);
        goto done;
    }
    const char *ru = mcp_px_param(params, "redirect_uri");
    if (!ru) {
        *resp = mcp_error_page(400, "Invalid request", "The request has no redirect_uri.");
        goto done;
    }
    if (!mcp_redirect_uri_match(c.redirect_uris, ru)) {
        *resp = mcp_error_page(400, "Invalid redirect URI",
                               "The redirect URI does not match the application's "
                               "registration.");
        goto done;
    }
    /* From here on, errors go back to the client. */
    const char *cs = mcp_px_param(params, "state");
    if (cs && !mcp_printable(cs, MCP_PX_MAX_STATE)) {
        *resp = mcp_proxy_client_error_redirect(p, ru, NULL, "invalid_request", "state is invalid",
                                                NULL);
        goto done;
    }
    const char *rt = mcp_px_param(params, "response_type");
    if (!rt || strcmp(rt, "code") != 0) {
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "unsupported_response_type",
                                                "only response_type=code is supported", NULL);
        goto done;
    }
    if (!mcp_strv_contains(c.grant_types, "authorization_code")) {
        *resp = mcp_proxy_client_error_redirect(
            p, ru, cs, "unauthorized_client", "the client may not use the authorization code grant",
            NULL);
        goto done;
    }
    const char *ccm = mcp_px_param(params, "code_challenge_method");
    const char *cc = mcp_px_param(params, "code_challenge");
    if (!cc || !ccm || strcmp(ccm, "S256") != 0) {
        *resp = mcp_proxy_client_error_redirect(
            p, ru, cs, "invalid_request",
            "PKCE with code_challenge_method=S256 is required (plain "
            "is not supported)",
            NULL);
        goto done;
    }
    if (!b64url_len(cc, 43)) {
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "invalid_request",
                                                "code_challenge is not a S256 challenge", NULL);
        goto done;
    }
    const char *sc = mcp_px_param(params, "scope");
    char *def_scope = NULL;
    if (sc && !mcp_scope_valid(sc)) {
        *resp =
            mcp_proxy_client_error_redirect(p, ru, cs, "invalid_scope", "scope is malformed", NULL);
        goto done;
    }
    size_t refused_len = 0;
    const char *refused = sc ? mcp_proxy_scope_refused(p, sc, &refused_len) : NULL;
    if (refused) {
        char desc[160];
        snprintf(desc, sizeof desc, "scope '%.*s' is not allowed",
                 (int)(refused_len > 64 ? 64 : refused_len), refused);
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "invalid_scope", desc, NULL);
        goto done;
    }
    if (!sc) {
        def_scope = mcp_strv_join(p->scopes);
        if (!def_scope) {
            rc = mcp_err_nomem(err);
            goto done;
        }
    }
    const char *rs = mcp_px_param(params, "resource");
    if (rs && !mcp_proxy_resource_ok(p, rs)) {
        free(def_scope);
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "invalid_target",
                                                "resource is not this server's MCP resource", NULL);
        goto done;
    }
    const char *au = mcp_px_param(params, "audience");
    if (au && !mcp_printable(au, 512)) {
        free(def_scope);
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "invalid_request", "audience is invalid",
                                                NULL);
        goto done;
    }
    if (au && !mcp_strv_contains(p->allowed_audiences, au)) {
        free(def_scope);
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "invalid_target",
                                                "audience is not allowed", NULL);
        goto done;
    }
    req = json_pack("{s:s,s:s,s:s,s:s}", "cid", cid, "ru", ru, "cc", cc, "sc", sc ? sc : def_scope);
    free(def_scope);
    if (!req || (cs && json_object_set_new(req, "cs", json_string(cs))) ||
        (rs && json_object_set_new(req, "rs", json_string(rs))) ||
        (au && json_object_set_new(req, "au", json_string(au)))) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    if (p->consent &&
        !mcp_consent_remembered(p, r, cid, json_string_value(json_object_get(req, "sc"))))
        rc = mcp_consent_page(p, r, &c, req, resp, err);
    else
        rc = go_upstream(p, req, NULL, resp, err);
done:
    json_decref(req);
    json_decref(params);
    mcp_proxy_client_clear(&c);
    if (rc == MCPAUTH_OK && !*resp) rc = mcp_err_nomem(err);
    return rc;
}

/* ---- POST /authorize (the consent form) ---------------------------------------------------- */

int mcp_proxy_consent_form(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err) {
    const char *ct = mcp_http_req_header(r, "content-type");
    if (!mcp_starts_ci(ct, "application/x-www-form-urlencoded") ||
        r->body_len > MCP_PX_MAX_REGISTER_BODY) {
        *resp = mcp_error_page(400, "Invalid request", "The consent form could not be read.");
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    json_t *form = NULL;
    int pr = mcp_form_parse(r->body ? r->body : "", r->body ? r->body_len : 0, &form);
    if (pr == -2) return mcp_err_nomem(err);
    if (pr != 0) {
        *resp = mcp_proxy_params_error_page(pr);
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    json_t *req = NULL;
    const char *why = NULL;
    int rc = MCPAUTH_OK;
    int status = mcp_consent_check_form(p, r, form, &req, &why);
    if (status) {
        *resp = mcp_error_page(status, status == 403 ? "Request refused" : "Request expired", why);
        goto done;
    }
    const char *decision = mcp_px_param(form, "decision");
    const char *ru = json_string_value(json_object_get(req, "ru"));
    const char *cs = json_string_value(json_object_get(req, "cs"));
    const char *cid = json_string_value(json_object_get(req, "cid"));
    if (!ru || !cid) {
        rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete consent request");
        goto done;
    }
    if (decision && strcmp(decision, "deny") == 0) {
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, "access_denied",
                                                "the user denied the authorization request", NULL);
    } else if (decision && strcmp(decision, "approve") == 0) {
        char *cookie = NULL;
        if (p->consent) {
            cookie = mcp_consent_cookie(p, r, cid, json_string_value(json_object_get(req, "sc")));
            if (!cookie) {
                rc = mcp_err_nomem(err);
                goto done;
            }
        }
        rc = go_upstream(p, req, cookie, resp, err);
        free(cookie);
    } else {
        *resp = mcp_error_page(400, "Invalid request", "Choose Allow or Deny.");
    }
done:
    json_decref(req);
    json_decref(form);
    if (rc == MCPAUTH_OK && !*resp) rc = mcp_err_nomem(err);
    return rc;
}
