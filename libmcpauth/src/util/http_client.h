/* http_client.h - the bounded libcurl client every outbound fetch goes through. */
#ifndef MCP_HTTP_CLIENT_H
#define MCP_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/common.h"
#include "util/url.h" /* mcp_url_check: the rule every fetch follows */

struct sockaddr;

typedef struct mcp_http_opts {
    long connect_timeout_ms; /* default 3000 */
    long total_timeout_ms;   /* default 5000 */
    size_t max_body;         /* default 1 MiB; a larger body is an error */
    /* When set: every socket is checked before it connects; a 0 answer refuses the address
     * (the fetch fails). The check sees the address actually connected to, so a name that
     * resolves differently between a check and the fetch (DNS rebinding) cannot slip by. */
    int (*addr_ok)(const struct sockaddr *sa, void *ctx);
    void *addr_ctx;
    int direct; /* 1: never through a proxy from the environment (http_proxy, HTTPS_PROXY...) */
    /* When set: the one HTTP(S) proxy this fetch goes through ("http://host:port"), whatever
     * the environment says (its proxies and no_proxy are ignored). addr_ok then sees the
     * proxy's address, not the final one. */
    const char *proxy;
} mcp_http_opts;

typedef struct mcp_http_response {
    long status;
    char *body; /* NUL-terminated, malloc'd */
    size_t body_len;
    int64_t max_age; /* from Cache-Control max-age / s-maxage, -1 when absent */
    int no_store;    /* Cache-Control no-store / no-cache */
    char *content_type;
} mcp_http_response;

/* GET with redirects off, protocols limited to http/https (and the rule above), timeouts
 * and body cap. headers: NULL-terminated "Name: value" list or NULL.
 * Network failure / timeout / oversize: MCPAUTH_E_UPSTREAM. Any HTTP status is success
 * (caller checks out->status). */
int mcp_http_get(const char *url, const mcp_http_opts *opts, const char *const *headers,
                 mcp_http_response *out, mcp_err *err);

/* POST `body` (body_len bytes) with the given headers; same rules. */
int mcp_http_post(const char *url, const mcp_http_opts *opts, const char *const *headers,
                  const char *body, size_t body_len, mcp_http_response *out, mcp_err *err);

void mcp_http_response_clear(mcp_http_response *r);

/* One-time global init (curl_global_init), thread-safe, idempotent. */
void mcp_http_global_init(void);

#endif
