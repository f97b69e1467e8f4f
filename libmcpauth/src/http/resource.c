/* resource.c - the MCP resource of a request: the configured one, or with trustHostHeader one
 * derived from the Host (X-Forwarded-Host / -Proto) header, validated. */
#include "http/resource.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/metadata.h"
#include "http/paths.h"
#include "util/cidr.h"
#include "engine/engine.h"

static int host_valid(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > 255) return 0;
    size_t i = 0;
    if (h[0] == '[') {
        const char *end = strchr(h, ']');
        if (!end) return 0;
        for (const char *p = h + 1; p < end; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.') return 0;
        i = (size_t)(end - h) + 1;
    } else {
        while (i < n && (isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '-')) i++;
        if (i == 0) return 0;
    }
    if (i == n) return 1;
    if (h[i] != ':' || i + 1 == n || n - i - 1 > 5) return 0;
    for (i++; i < n; i++)
        if (!isdigit((unsigned char)h[i])) return 0;
    return 1;
}

/* A loopback host (port ignored): a dotted-quad IPv4 address in 127.0.0.0/8, "localhost"
 * (any case) or "[::1]". Names that merely start with "127." are not. */
static int host_is_loopback(const char *h) {
    if (h[0] == '[') return strncmp(h, "[::1]", 5) == 0 && (h[5] == '\0' || h[5] == ':');
    size_t l = strcspn(h, ":");
    if (l == 9 && strncasecmp(h, "localhost", 9) == 0) return 1;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= l || h[i] != '.') return 0;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < l && i - start < 3 && isdigit((unsigned char)h[i]))
            v = v * 10 + (unsigned)(h[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && h[start] == '0')) return 0;
        if (part == 0 && v != 127) return 0;
    }
    return i == l;
}

/* 1 when the request's "peer" (the socket's peer address, as the host declares it) is one of
 * the configured trustedProxies: only then are X-Forwarded-Host and X-Forwarded-Proto read. */
static int peer_trusted(const struct mcpauth_engine *e, const mcp_http_req *r) {
    const mcp_config *c = e->cfg;
    if (c->n_trusted_cidrs == 0 || !r->peer) return 0;
    for (size_t i = 0; i < c->n_trusted_cidrs; i++)
        if (mcp_cidr_contains(&c->trusted_cidrs[i], r->peer)) return 1;
    return 0;
}

/* allowedHosts (lower-case at configuration): the host, with its port, must be listed. */
static int host_allowed(const mcp_config *c, const char *host) {
    if (!c->allowed_hosts) return 1;
    for (size_t i = 0; c->allowed_hosts[i]; i++)
        if (strcasecmp(c->allowed_hosts[i], host) == 0) return 1;
    return 0;
}

/* The resource and PRM URL for this request. Returns MCPAUTH_OK (*resource, *prm_url
 * malloc'd), MCPAUTH_E_CONFIG (no base URL), or 400 when the Host header is needed but bad. */
int mcp_http_resolve_resource(const struct mcpauth_engine *e, const mcp_http_req *r,
                              char **resource, char **prm_url) {
    const mcp_http_state *st = e->http_state;
    *resource = *prm_url = NULL;
    if (st->resource) {
        *resource = mcp_strdup(st->resource);
        *prm_url = mcp_strdup(st->prm_url);
        if (!*resource || !*prm_url) goto nomem;
        return MCPAUTH_OK;
    }
    if (!e->cfg->trust_host_header) return MCPAUTH_E_CONFIG;
    const char *host = NULL, *proto = NULL;
    int trusted = peer_trusted(e, r);
    int hr = trusted ? mcp_http_req_header_get(r, "x-forwarded-host", &host) : 0;
    if (hr == 0) hr = mcp_http_req_header_get(r, "host", &host);
    if (hr != 1 || !host || !host_valid(host)) return 400;
    if (!host_allowed(e->cfg, host)) return 400;
    if (trusted && mcp_http_req_header_get(r, "x-forwarded-proto", &proto) < 0) return 400;
    const char *scheme = host_is_loopback(host) ? "http" : "https";
    if (proto) {
        if (strcasecmp(proto, "https") == 0)
            scheme = "https";
        else if (strcasecmp(proto, "http") == 0)
            scheme = "http";
        else
            return 400;
    }
    const char *mp = e->cfg->mcp_path && e->cfg->mcp_path[0] ? e->cfg->mcp_path : "/mcp";
    char *mpn = mcp_path_trim(mp);
    if (!mpn) goto nomem;
    size_t n = strlen(scheme) + 3 + strlen(host) + strlen(mpn) + 1;
    *resource = malloc(n);
    if (*resource) {
        snprintf(*resource, n, "%s://%s%s", scheme, host, mpn);
        for (char *p = *resource + strlen(scheme) + 3; *p && *p != '/'; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    free(mpn);
    if (!*resource) goto nomem;
    mcp_err err = {0};
    *prm_url = mcp_prm_url_for(*resource, &err);
    if (!*prm_url) {
        free(*resource);
        *resource = NULL;
        return err.code == MCPAUTH_E_NOMEM ? MCPAUTH_E_NOMEM : 400;
    }
    return MCPAUTH_OK;
nomem:
    free(*resource);
    free(*prm_url);
    *resource = *prm_url = NULL;
    return MCPAUTH_E_NOMEM;
}
