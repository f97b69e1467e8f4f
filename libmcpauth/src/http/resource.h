/* resource.h - the MCP resource of a request (resource.c). */
#ifndef MCP_HTTP_RESOURCE_H
#define MCP_HTTP_RESOURCE_H

#include "http/request.h"

struct mcpauth_engine;

/* The resource and its PRM URL for this request: the configured resource, else (trustHostHeader)
 * "scheme://host" + mcpPath from Host, or X-Forwarded-Host and X-Forwarded-Proto when the
 * request's peer is one of trustedProxies (loopback hosts default to http, others to https);
 * allowedHosts limits the hosts. With trustHostHeader the client's Host chooses the resource.
 * Returns MCPAUTH_OK (*resource, *prm_url malloc'd),
 * MCPAUTH_E_CONFIG (no base URL), MCPAUTH_E_NOMEM, or 400 when the Host header is needed but
 * bad. */
int mcp_http_resolve_resource(const struct mcpauth_engine *e, const mcp_http_req *r,
                              char **resource, char **prm_url);

#endif
