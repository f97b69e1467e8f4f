/* token.c - POST /token: authorization_code (the client's PKCE verifier checked here, the
 * upstream exchange done with the proxy's verifier and credentials) and refresh_token (the
 * upstream refresh token unwrapped, credentials injected); upstream answers are sanitized
 * before forwarding.
 *
 * Every grant resolves its client (a sealed client_id, or a CIMD document fetched and
 * checked) and refuses unknown clients and grant types the client did not register. The
 * upstream's refresh tokens never reach clients as they are: each is sealed (purpose
 * "refresh") together with a hash of the client_id it was issued to, so a leaked refresh token
 * is useless to another client and cannot be presented without its client identity; a
 * rotated refresh token is sealed again for the same client. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/json_strict.h"
#include "proxy/proxy_impl.h"

static int verifier_valid(const char *v) {
    size_t n = strlen(v);
    if (n < 43 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return 0;
    }
    return 1;
}

/* Basic credentials "id:secret" with both parts form-urlencoded (RFC 6749 2.3.1). */
static char *basic_header(const char *id, const char *secret) {
    char *ei = mcp_url_encode(id), *es = mcp_url_encode(secret);
    char *out = NULL;
    if (ei && es) {
        size_t n = strlen(ei) + 1 + strlen(es);
        unsigned char *raw = malloc(n + 1);
        char *b64 = malloc(4 * ((n + 2) / 3) + 1);
        if (raw && b64) {
            memcpy(raw, ei, strlen(ei));
            raw[strlen(ei)] = ':';
            memcpy(raw + strlen(ei) + 1, es, strlen(es));
            int bl = EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
            if (bl >= 0) {
                out = mcp_concat("Authorization: Basic ", b64);
            }
            OPENSSL_cleanse(raw, n);
            OPENSSL_cleanse(b64, (size_t)(bl > 0 ? bl : 0));
        }
        free(raw);
        free(b64);
    }
    if (es) OPENSSL_cleanse(es, strlen(es));
    free(ei);
    free(es);
    return out;
}

/* Turns the upstream body into a JSON object (JSON, or form-encoded as GitHub answers). */
static json_t *upstream_doc(const mcp_http_response *h) {
    const char *ct = h->content_type ? h->content_type : "";
    if (h->body_len == 0) return NULL;
    if (strstr(ct, "json") || h->body[0] == '{')
        return mcp_json_parse(h->body, h->body_len, 16, 1, "token response", MCPAUTH_E_UPSTREAM,
                              NULL);
    if (mcp_starts_ci(ct, "application/x-www-form-urlencoded") || mcp_starts_ci(ct, "text/plain")) {
        json_t *o = NULL;
        if (mcp_form_parse(h->body, h->body_len, &o) != 0) return NULL;
        const char *nums[] = {"expires_in", "refresh_token_expires_in"};
        for (size_t i = 0; i < 2; i++) {
            const char *v = json_string_value(json_object_get(o, nums[i]));
            if (!v || !*v || strlen(v) > 12 || strspn(v, "0123456789") != strlen(v)) continue;
            json_object_set_new(o, nums[i], json_integer(strtoll(v, NULL, 10)));
        }
        return o;
    }
    return NULL;
}

static json_t *forward_error(int status, json_t *doc) {
    const char *e = json_string_value(json_object_get(doc, "error"));
    const char *d = json_string_value(json_object_get(doc, "error_description"));
    const char *u = json_string_value(json_object_get(doc, "error_uri"));
    if (!e || !*e || strlen(e) > 128 || !mcp_oauth_text_valid(e, strlen(e))) e = "invalid_grant";
    if (d && (strlen(d) > 512 || !mcp_oauth_text_valid(d, strlen(d)))) d = NULL;
    if (u && (strlen(u) > 512 || mcp_url_check(u, "error_uri", NULL) != MCPAUTH_OK)) u = NULL;
    json_t *o = json_pack("{s:s}", "error", e);
    if (!o) return NULL;
    if (d) json_object_set_new(o, "error_description", json_string(d));
    if (u) json_object_set_new(o, "error_uri", json_string(u));
    json_t *r = mcp_resp_json(status, o);
    json_decref(o);
    return r;
}

static json_t *unavailable(const char *desc) {
    json_t *r = mcp_resp_oauth_error(503, "temporarily_unavailable", desc);
    mcp_resp_header(r, "Retry-After", "30");
    return r;
}

/* Default lifetime of a sealed refresh token when the upstream says none. */
#define REFRESH_TTL ((int64_t)90 * 86400)

/* Replaces the upstream refresh token in a token response by one sealed for client `ch`. */
static int wrap_refresh(const mcp_proxy *p, json_t *doc, const char *ch, mcp_err *err) {
    json_t *rt = json_object_get(doc, "refresh_token");
    if (!rt) return MCPAUTH_OK;
    if (!json_is_string(rt)) {
        json_object_del(doc, "refresh_token");
        return MCPAUTH_OK;
    }
    int64_t now = mcp_now(), ttl = REFRESH_TTL;
    json_t *rx = json_object_get(doc, "refresh_token_expires_in");
    if (json_is_integer(rx) && json_integer_value(rx) > 0 && json_integer_value(rx) < ttl)
        ttl = json_integer_value(rx);
    json_t *d = json_pack("{s:O,s:s}", "rt", rt, "ch", ch);
    if (!d) return mcp_err_nomem(err);
    char *sealed = NULL;
    int rc = mcp_seal(p->sealer, MCP_SEAL_REFRESH, d, now + ttl, &sealed, err);
    json_decref(d);
    if (rc != MCPAUTH_OK) return rc;
    rc = json_object_set_new(doc, "refresh_token", json_string(sealed)) == 0 ? MCPAUTH_OK
                                                                             : mcp_err_nomem(err);
    free(sealed);
    return rc;
}

static int exchange(const mcp_proxy *p, const char *body, const char *ch, json_t **resp,
                    mcp_err *err) {
    const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL, NULL};
    char *auth = NULL;
    if (p->basic_auth && p->client_secret) {
        auth = basic_header(p->client_id, p->client_secret);
        if (!auth) return mcp_err_nomem(err);
        headers[2] = auth;
    }
    mcp_http_response h;
    memset(&h, 0, sizeof h);
    mcp_err herr = {0, {0}};
    int rc = mcp_http_post(p->token_endpoint, &p->http, headers, body, strlen(body), &h, &herr);
    if (auth) OPENSSL_cleanse(auth, strlen(auth));
    free(auth);
    if (rc == MCPAUTH_E_NOMEM) {
        mcp_http_response_clear(&h);
        return mcp_err_nomem(err);
    }
    if (rc != MCPAUTH_OK) {
        mcp_http_response_clear(&h);
        *resp = unavailable("the upstream token endpoint is unavailable");
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    json_t *doc = upstream_doc(&h);
    long status = h.status;
    mcp_http_response_clear(&h);
    if (status >= 200 && status < 300) {
        if (doc && json_is_string(json_object_get(doc, "error")) &&
            !json_object_get(doc, "access_token"))
            *resp = forward_error(400, doc); /* GitHub: 200 with an error */
        else if (doc && json_is_string(json_object_get(doc, "access_token"))) {
            int wr = wrap_refresh(p, doc, ch, err);
            if (wr != MCPAUTH_OK) {
                json_decref(doc);
                return wr;
            }
            *resp = mcp_resp_json(200, doc);
        } else
            *resp = mcp_resp_oauth_error(502, "server_error",
                                         "the upstream token endpoint answered garbage");
    } else if (status >= 400 && status < 600 && doc &&
               json_is_string(json_object_get(doc, "error"))) {
        *resp = forward_error((int)status, doc);
    } else if (status >= 500 || status == 429) {
        *resp = unavailable("the upstream token endpoint is unavailable");
    } else {
        *resp = mcp_resp_oauth_error(502, "server_error",
                                     "the upstream token endpoint answered unexpectedly");
    }
    json_decref(doc);
    return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
}

static void add_client_credentials(const mcp_proxy *p, mcp_buf *b) {
    mcp_buf_param(b, "client_id", p->client_id);
    if (p->client_secret && !p->basic_auth) mcp_buf_param(b, "client_secret", p->client_secret);
}

int mcp_proxy_token(const mcp_proxy *p, const mcp_http_req *r, int nonblock, json_t **resp,
                    mcp_err *err) {
    const char *ct = mcp_http_req_header(r, "content-type");
    if (!mcp_starts_ci(ct, "application/x-www-form-urlencoded")) {
        *resp = mcp_resp_oauth_error(400, "invalid_request",
                                     "the body must be application/x-www-form-urlencoded");
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    if (r->body_len > MCP_PX_MAX_BODY) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "the request is too large");
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    json_t *f = NULL;
    int pr = mcp_form_parse(r->body ? r->body : "", r->body ? r->body_len : 0, &f);
    if (pr == -2) return mcp_err_nomem(err);
    if (pr != 0) {
        *resp = mcp_resp_oauth_error(400, "invalid_request",
                                     pr == -3 ? "a parameter was given more than once"
                                              : "the form is malformed");
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    int rc = MCPAUTH_OK;
    mcp_proxy_client c;
    memset(&c, 0, sizeof c);
    json_t *cd = NULL;
    char *body = NULL, *ch = NULL, *vh = NULL;
    mcp_buf b = {0};
    const char *gt = mcp_px_param(f, "grant_type");
    const char *cid = mcp_px_param(f, "client_id");
    if (!gt) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "grant_type is required");
        goto done;
    }
    if (!mcp_strv_contains(p->grant_types, gt)) {
        *resp = mcp_resp_oauth_error(400, "unsupported_grant_type", NULL);
        goto done;
    }
    if (!cid) {
        *resp = mcp_resp_oauth_error(400, "invalid_request", "client_id is required");
        goto done;
    }
    {
        /* every grant: the client is resolved (sealed id, or its CIMD document) */
        mcp_err cerr = {0, {0}};
        rc = mcp_proxy_client_resolve(p, cid, nonblock, &c, &cerr);
        if (rc == MCPAUTH_E_NOMEM) {
            mcp_err_nomem(err);
            goto done;
        }
        if (rc == MCPAUTH_E_WOULD_BLOCK) {
            mcp_err_set(err, rc, "resolving the client needs network I/O");
            goto done;
        }
        rc = MCPAUTH_OK;
        if (!c.client_id) {
            *resp = mcp_resp_oauth_error(401, "invalid_client", cerr.msg);
            goto done;
        }
        if (!mcp_strv_contains(c.grant_types, gt)) {
            *resp = mcp_resp_oauth_error(400, "unauthorized_client",
                                         "the client may not use this grant type");
            goto done;
        }
    }
    ch = mcp_sha256_b64url(cid, strlen(cid));
    if (!ch) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    const char *rs = mcp_px_param(f, "resource");
    if (strcmp(gt, "authorization_code") == 0) {
        const char *code = mcp_px_param(f, "code");
        const char *ru = mcp_px_param(f, "redirect_uri");
        const char *cv = mcp_px_param(f, "code_verifier");
        if (!code || !ru || !cv) {
            *resp = mcp_resp_oauth_error(400, "invalid_request",
                                         "code, redirect_uri and code_verifier are required");
            goto done;
        }
        int ur = mcp_unseal(p->sealer, MCP_SEAL_CODE, code, strlen(code), mcp_now(), &cd, NULL);
        if (ur == MCPAUTH_E_NOMEM) {
            rc = mcp_err_nomem(err);
            goto done;
        }
        if (ur != MCPAUTH_OK) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "the authorization code is invalid or expired");
            goto done;
        }
        vh = verifier_valid(cv) ? mcp_sha256_b64url(cv, strlen(cv)) : NULL;
        const char *c_ch = json_string_value(json_object_get(cd, "ch"));
        const char *c_ru = json_string_value(json_object_get(cd, "ru"));
        const char *c_cc = json_string_value(json_object_get(cd, "cc"));
        const char *c_uc = json_string_value(json_object_get(cd, "uc"));
        const char *c_pv = json_string_value(json_object_get(cd, "pv"));
        const char *c_rs = json_string_value(json_object_get(cd, "rs"));
        if (!mcp_ct_streq(c_ch, ch)) {
            *resp =
                mcp_resp_oauth_error(400, "invalid_grant", "the code was issued to another client");
            goto done;
        }
        if (!c_ru || strcmp(c_ru, ru) != 0) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "redirect_uri does not match the authorization request");
            goto done;
        }
        if (!vh || !mcp_ct_streq(c_cc, vh)) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant", "PKCE verification failed");
            goto done;
        }
        if (rs && ((c_rs && strcmp(rs, c_rs) != 0) || !mcp_proxy_resource_ok(p, rs))) {
            *resp = mcp_resp_oauth_error(400, "invalid_target",
                                         "resource does not match the authorization request");
            goto done;
        }
        if (!c_uc || !c_pv) {
            rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "incomplete code");
            goto done;
        }
        if (nonblock) {
            rc = mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "token exchange needs network I/O");
            goto done;
        }
        mcp_buf_param(&b, "grant_type", "authorization_code");
        mcp_buf_param(&b, "code", c_uc);
        mcp_buf_param(&b, "redirect_uri", p->url_callback);
        mcp_buf_param(&b, "code_verifier", c_pv);
        add_client_credentials(p, &b);
        if (p->forward_resource && (rs || c_rs)) mcp_buf_param(&b, "resource", rs ? rs : c_rs);
    } else { /* refresh_token */
        const char *rt = mcp_px_param(f, "refresh_token");
        const char *sc = mcp_px_param(f, "scope");
        if (!rt || !mcp_printable(rt, 8192)) {
            *resp = mcp_resp_oauth_error(400, "invalid_request", "refresh_token is required");
            goto done;
        }
        if (sc && !mcp_scope_valid(sc)) {
            *resp = mcp_resp_oauth_error(400, "invalid_scope", "scope is malformed");
            goto done;
        }
        size_t refused_len = 0;
        if (sc && mcp_proxy_scope_refused(p, sc, &refused_len)) {
            *resp = mcp_resp_oauth_error(400, "invalid_scope", "scope is not allowed");
            goto done;
        }
        if (rs && !mcp_proxy_resource_ok(p, rs)) {
            *resp = mcp_resp_oauth_error(400, "invalid_target",
                                         "resource is not this server's MCP resource");
            goto done;
        }
        /* the proxy's refresh tokens are sealed for one client; anything else (an upstream
         * refresh token presented directly, another client's) is refused here */
        int ur = mcp_unseal(p->sealer, MCP_SEAL_REFRESH, rt, strlen(rt), mcp_now(), &cd, NULL);
        if (ur == MCPAUTH_E_NOMEM) {
            rc = mcp_err_nomem(err);
            goto done;
        }
        const char *c_rt = ur == MCPAUTH_OK ? json_string_value(json_object_get(cd, "rt")) : NULL;
        if (!c_rt) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "the refresh token is invalid or expired");
            goto done;
        }
        if (!mcp_ct_streq(json_string_value(json_object_get(cd, "ch")), ch)) {
            *resp = mcp_resp_oauth_error(400, "invalid_grant",
                                         "the refresh token was issued to another client");
            goto done;
        }
        if (nonblock) {
            rc = mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "token refresh needs network I/O");
            goto done;
        }
        mcp_buf_param(&b, "grant_type", "refresh_token");
        mcp_buf_param(&b, "refresh_token", c_rt);
        if (sc) mcp_buf_param(&b, "scope", sc);
        add_client_credentials(p, &b);
        if (rs && p->forward_resource) mcp_buf_param(&b, "resource", rs);
    }
    body = mcp_buf_take(&b);
    if (!body) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    rc = exchange(p, body, ch, resp, err);
done:
    if (body) OPENSSL_cleanse(body, strlen(body));
    free(body);
    mcp_buf_free(&b);
    free(ch);
    free(vh);
    json_decref(cd);
    json_decref(f);
    mcp_proxy_client_clear(&c);
    if (rc == MCPAUTH_OK && !*resp) rc = mcp_err_nomem(err);
    return rc;
}
