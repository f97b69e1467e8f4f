/* callback.c - GET /oauth/callback: checks the sealed state and the browser binding cookie,
 * wraps the upstream code into the proxy's own sealed code and redirects to the client with
 * code, state and iss (RFC 9207); upstream errors are forwarded, sanitized. */
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_impl.h"

int mcp_proxy_callback(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err) {
    json_t *params = NULL;
    const char *q = r->query ? r->query : "";
    int pr = mcp_form_parse(q, strlen(q), &params);
    if (pr == -2) return mcp_err_nomem(err);
    if (pr != 0) {
        *resp = mcp_proxy_params_error_page(pr);
        return *resp ? MCPAUTH_OK : mcp_err_nomem(err);
    }
    int rc = MCPAUTH_OK;
    json_t *st = NULL, *bd = NULL, *cd = NULL;
    char *bname = NULL, *bval = NULL, *clear = NULL, *code = NULL, *params_s = NULL, *loc = NULL;
    int64_t now = mcp_now();
    const char *state = mcp_px_param(params, "state");
    if (!state) {
        *resp = mcp_error_page(400, "Invalid sign-in response", "The response has no state.");
        goto done;
    }
    int sr = mcp_unseal(p->sealer, MCP_SEAL_STATE, state, strlen(state), now, &st, NULL);
    if (sr == MCPAUTH_E_NOMEM) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    if (sr != MCPAUTH_OK) {
        *resp = mcp_error_page(400, "Sign-in expired",
                               sr == MCPAUTH_E_EXPIRED
                                   ? "This sign-in took too long and has expired."
                                   : "The sign-in response is not valid for this server.");
        goto done;
    }
    const char *bn = json_string_value(json_object_get(st, "bn"));
    const char *ru = json_string_value(json_object_get(st, "ru"));
    const char *cs = json_string_value(json_object_get(st, "cs"));
    if (!bn || !ru) {
        *resp = mcp_error_page(400, "Invalid sign-in response", "The state is incomplete.");
        goto done;
    }
    bname = mcp_cookie_name_hashed(MCP_PX_BIND_COOKIE_PREFIX, bn);
    if (!bname) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    bval = mcp_http_req_cookie(r, bname);
    int bound = 0;
    if (bval &&
        mcp_unseal(p->sealer, MCP_SEAL_BINDING, bval, strlen(bval), now, &bd, NULL) == MCPAUTH_OK)
        bound = mcp_ct_streq(json_string_value(json_object_get(bd, "bn")), bn);
    if (!bound) {
        *resp = mcp_error_page(403, "Sign-in refused",
                               "This sign-in was not started in this browser (the binding "
                               "cookie is missing or does not match).");
        goto done;
    }
    clear = mcp_cookie_header(bname, "", 0);
    if (!clear) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    const char *iss = mcp_px_param(params, "iss");
    if (iss && p->upstream_issuer && strcmp(iss, p->upstream_issuer) != 0) {
        *resp = mcp_error_page(400, "Invalid sign-in response",
                               "The response comes from an unexpected issuer.");
        goto done;
    }
    const char *error = mcp_px_param(params, "error");
    if (error) {
        const char *desc = mcp_px_param(params, "error_description");
        const char *euri = mcp_px_param(params, "error_uri");
        if (!mcp_oauth_text_valid(error, strlen(error)) || strlen(error) > 128 || !*error)
            error = "server_error";
        if (desc && (!mcp_oauth_text_valid(desc, strlen(desc)) || strlen(desc) > 512)) desc = NULL;
        if (euri && (mcp_url_check(euri, "error_uri", NULL) != MCPAUTH_OK || strlen(euri) > 512))
            euri = NULL;
        *resp = mcp_proxy_client_error_redirect(p, ru, cs, error, desc, euri);
        mcp_resp_header(*resp, "Set-Cookie", clear);
        goto done;
    }
    const char *uc = mcp_px_param(params, "code");
    if (!uc || !mcp_printable(uc, 4096)) {
        *resp = mcp_error_page(400, "Invalid sign-in response",
                               "The identity provider returned neither a code nor an error.");
        goto done;
    }
    cd = json_pack("{s:s,s:O,s:O,s:O,s:O}", "uc", uc, "ch", json_object_get(st, "ch"), "ru",
                   json_object_get(st, "ru"), "cc", json_object_get(st, "cc"), "pv",
                   json_object_get(st, "pv"));
    if (!cd ||
        (json_object_get(st, "rs") && json_object_set(cd, "rs", json_object_get(st, "rs")) != 0)) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    rc = mcp_seal(p->sealer, MCP_SEAL_CODE, cd, now + p->code_ttl, &code, err);
    if (rc != MCPAUTH_OK) goto done;
    mcp_buf b = {0};
    mcp_buf_param(&b, "code", code);
    if (cs) mcp_buf_param(&b, "state", cs);
    mcp_buf_param(&b, "iss", p->issuer);
    params_s = mcp_buf_take(&b);
    loc = params_s ? mcp_url_with_params(ru, params_s) : NULL;
    if (!loc) {
        rc = mcp_err_nomem(err);
        goto done;
    }
    *resp = mcp_resp_redirect(302, loc);
    mcp_resp_header(*resp, "Set-Cookie", clear);
done:
    if (*resp && mcp_resp_broken(*resp)) {
        json_decref(*resp);
        *resp = NULL;
    }
    json_decref(params);
    json_decref(st);
    json_decref(bd);
    json_decref(cd);
    free(bname);
    free(bval);
    free(clear);
    free(code);
    free(params_s);
    free(loc);
    if (rc == MCPAUTH_OK && !*resp) rc = mcp_err_nomem(err);
    return rc;
}
