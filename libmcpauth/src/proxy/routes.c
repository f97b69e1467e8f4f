/* routes.c - mcp_proxy_handle: matches a request to the proxy's routes (register, authorize,
 * callback, token) and method, answers CORS preflights and 405s. */
#include "proxy/proxy.h"

#include <string.h>

#include "engine/engine.h"
#include "proxy/proxy_impl.h"

static json_t *method_not_allowed(const char *allow) {
    json_t *r = mcp_resp_oauth_error(405, "invalid_request", "method not allowed");
    mcp_resp_header(r, "Allow", allow);
    return r;
}

static json_t *preflight(const char *allow) {
    json_t *r = mcp_resp_new(204, NULL, "");
    mcp_resp_header(r, "Access-Control-Allow-Origin", "*");
    mcp_resp_header(r, "Access-Control-Allow-Methods", allow);
    mcp_resp_header(r, "Access-Control-Allow-Headers", "Content-Type, Authorization");
    mcp_resp_header(r, "Access-Control-Max-Age", "86400");
    return r;
}

int mcp_proxy_wants_body(const struct mcpauth_engine *e, const char *path, const char *method) {
    if (!e || !e->proxy_state || !path || !method || strcmp(method, "POST") != 0) return 0;
    const mcp_proxy *p = e->proxy_state;
    return strcmp(path, p->route_register) == 0 || strcmp(path, p->route_authorize) == 0 ||
           strcmp(path, p->route_token) == 0;
}

int mcp_proxy_handle(const struct mcpauth_engine *e, const mcp_http_req *rq, int nonblock,
                     json_t **response, mcp_err *err) {
    if (response) *response = NULL;
    if (!e || !e->proxy_state || !response || !rq) return 0;
    const mcp_proxy *p = e->proxy_state;
    const char *m = rq->method; /* the handlers read the router's request model */
    json_t *resp = NULL;
    int rc = MCPAUTH_OK;
    if (strcmp(rq->path, p->route_register) == 0) {
        if (strcmp(m, "POST") == 0)
            rc = mcp_proxy_register(p, rq, &resp, err);
        else if (strcmp(m, "OPTIONS") == 0)
            resp = preflight("POST, OPTIONS");
        else
            resp = method_not_allowed("POST, OPTIONS");
    } else if (strcmp(rq->path, p->route_authorize) == 0) {
        if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
            rc = mcp_proxy_authorize(p, rq, nonblock, &resp, err);
        else if (strcmp(m, "POST") == 0)
            rc = mcp_proxy_consent_form(p, rq, &resp, err);
        else
            resp = method_not_allowed("GET, POST");
    } else if (strcmp(rq->path, p->route_callback) == 0) {
        if (strcmp(m, "GET") == 0)
            rc = mcp_proxy_callback(p, rq, &resp, err);
        else
            resp = method_not_allowed("GET");
    } else if (strcmp(rq->path, p->route_token) == 0) {
        if (strcmp(m, "POST") == 0)
            rc = mcp_proxy_token(p, rq, nonblock, &resp, err);
        else if (strcmp(m, "OPTIONS") == 0)
            resp = preflight("POST, OPTIONS");
        else
            resp = method_not_allowed("POST, OPTIONS");
    } else {
        return 0;
    }
    if (rc != MCPAUTH_OK) {
        json_decref(resp);
        return rc;
    }
    if (!resp || mcp_resp_broken(resp)) {
        json_decref(resp);
        return mcp_err_nomem(err);
    }
    *response = resp;
    return 1;
}
