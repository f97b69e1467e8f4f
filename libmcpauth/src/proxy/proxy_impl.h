/* proxy_impl.h - internals shared by the OAuth proxy modules: proxy_config.c (configuration),
 * routes.c (dispatch), register.c, authorize.c, callback.c and token.c (one route group each),
 * as_metadata.c (the AS metadata document), proxy_util.c (request/response/URL helpers),
 * consent.c (the consent page and error pages) and cimd.c (client ID metadata documents). */
#ifndef MCP_PROXY_IMPL_H
#define MCP_PROXY_IMPL_H

#include <jansson.h>
#include <stdint.h>

#include "util/common.h"
#include "config/config.h"
#include "http/request.h"
#include "http/response.h"
#include "util/http_client.h"
#include "util/url.h"
#include "proxy/seal.h"
#include "providers/idp_presets.h"

/* ---- limits ------------------------------------------------------------------------------ */

#define MCP_PX_MAX_BODY 65536               /* /token and /authorize form bodies */
#define MCP_PX_MAX_REGISTER_BODY 16384      /* /register JSON body */
#define MCP_PX_MAX_URI MCP_REDIRECT_URI_MAX /* a redirect URI or client metadata URL */
#define MCP_PX_MAX_REDIRECTS 10             /* redirect URIs per client */
#define MCP_PX_MAX_CLIENT_NAME 200          /* bytes */
#define MCP_PX_MAX_STATE 2048               /* the client's state */
#define MCP_PX_MAX_SCOPE 2048               /* a scope parameter */
#define MCP_PX_MAX_CIMD_BODY 65536          /* a client metadata document */

/* the browser binding cookie (set at authorize, checked at the callback) */
#define MCP_PX_BIND_COOKIE_PREFIX "__Host-mcpauth-bind-"

/* ---- the proxy state --------------------------------------------------------------------- */

typedef struct mcp_cimd_cache mcp_cimd_cache;

typedef struct mcp_proxy {
    char *issuer;         /* the proxy's issuer: its base URL, no trailing '/' */
    char *origin;         /* scheme://host[:port] of the issuer */
    char *route_register; /* local paths ("<issuer path>/register", ...) */
    char *route_authorize;
    char *route_callback;
    char *route_token;
    char *url_register; /* absolute URLs */
    char *url_authorize;
    char *url_callback;
    char *url_token;
    char *auth_endpoint; /* upstream */
    char *token_endpoint;
    char *upstream_issuer;      /* NULL when unknown */
    char *client_id;            /* upstream client */
    char *client_secret;        /* NULL for a public upstream client */
    int basic_auth;             /* client_secret_basic */
    mcp_strv scopes;            /* default scopes forwarded upstream */
    mcp_strv allowed_scopes;    /* scopes a client may ask for (never NULL once parsed) */
    mcp_strv allowed_audiences; /* audience values a client may ask for (may be empty) */
    mcp_strv grant_types;
    json_t *extra_params;       /* object of strings */
    mcp_strv allowed_redirects; /* patterns with '*'; NULL: any valid redirect URI */
    int consent;
    int allow_loopback_cimd;
    char *cimd_proxy; /* clientMetadataProxy: the proxy metadata fetches go through, or NULL */
    int forward_resource;
    int64_t code_ttl, state_ttl, client_ttl, consent_ttl, cimd_ttl;
    char *resource; /* the MCP resource (cfg->resource), NULL when unknown */
    char *server_name;
    mcp_http_opts http;
    mcp_sealer *sealer;
    mcp_cimd_cache *cimd;
    const mcp_idp_preset *preset;
} mcp_proxy;

/* A client as resolved from a sealed client_id or a metadata document. */
typedef struct mcp_proxy_client {
    char *client_id;
    char *name;
    mcp_strv redirect_uris;
    mcp_strv grant_types;
    int is_cimd;
} mcp_proxy_client;

void mcp_proxy_client_clear(mcp_proxy_client *c);

/* ---- requests and responses (proxy_util.c) ----------------------------------------------- */

/* Set-Cookie value for a __Host- cookie (Secure; HttpOnly; SameSite=Lax; Path=/). max_age 0
 * deletes it. malloc'd or NULL. */
char *mcp_cookie_header(const char *name, const char *value, int64_t max_age);
/* Cookie name PREFIX + the first 16 characters of base64url(SHA-256(key)), so one cookie per
 * key without putting the key itself into the name. malloc'd or NULL. */
char *mcp_cookie_name_hashed(const char *prefix, const char *key);

/* ---- allowedRedirectUris patterns (redirect_pattern.c) --------------------------------- */

/* 1 when `pattern` is well formed ("*" only as a whole host label, the port or a whole path
 * segment); 1 when `uri` matches it. */
int mcp_redirect_pattern_valid(const char *pattern);
int mcp_redirect_pattern_match(const char *pattern, const char *uri);

/* ---- OAuth text (proxy_util.c) ----------------------------------------------------------- */

/* 1 when every character of a scope string is a valid scope-token character and tokens are
 * separated by single spaces. */
int mcp_scope_valid(const char *s);
/* (proxy_util.c) NULL when every scope token of `s` is in p->allowed_scopes, else the first
 * one that is not (pointing into s; its length in *len). */
const char *mcp_proxy_scope_refused(const mcp_proxy *p, const char *s, size_t *len);

/* 1 when s (of n bytes) is within %x20-7E except '"' and '\\' (OAuth error fields). */
int mcp_oauth_text_valid(const char *s, size_t n);

/* ---- routes ------------------------------------------------------------------------------ */

/* Each route handler answers OK with *resp set (a response, possibly an error page or an
 * OAuth error), or fails with err set (NOMEM, INTERNAL, WOULD_BLOCK when nonblock and network
 * I/O is needed). */
int mcp_proxy_register(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err);
int mcp_proxy_authorize(const mcp_proxy *p, const mcp_http_req *r, int nonblock, json_t **resp,
                        mcp_err *err);
int mcp_proxy_consent_form(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err);
int mcp_proxy_callback(const mcp_proxy *p, const mcp_http_req *r, json_t **resp, mcp_err *err);
int mcp_proxy_token(const mcp_proxy *p, const mcp_http_req *r, int nonblock, json_t **resp,
                    mcp_err *err);

/* Resolves a client_id (register.c): a sealed registration, or a metadata document URL.
 * OK, WOULD_BLOCK, UPSTREAM, NOMEM, or CLAIM_INVALID (unknown client; err says why). */
int mcp_proxy_client_resolve(const mcp_proxy *p, const char *client_id, int nonblock,
                             mcp_proxy_client *out, mcp_err *err);

/* (authorize.c) 302 to the client's redirect URI with error, error_description, state and
 * iss; NULL on no memory. */
json_t *mcp_proxy_client_error_redirect(const mcp_proxy *p, const char *ru, const char *cs,
                                        const char *error, const char *desc, const char *uri);
/* (authorize.c) The error page for a query or form that mcp_form_parse refused (pr -1/-3). */
json_t *mcp_proxy_params_error_page(int pr);
/* (authorize.c) 1 when rs is a URL naming this server's MCP resource (or any URL when the
 * resource is unknown). */
int mcp_proxy_resource_ok(const mcp_proxy *p, const char *rs);

/* A string parameter of a parsed query or form, or NULL. */
static inline const char *mcp_px_param(json_t *params, const char *k) {
    return json_string_value(json_object_get(params, k));
}

/* ---- client metadata documents (cimd.c) --------------------------------------------------- */

mcp_cimd_cache *mcp_cimd_cache_new(size_t capacity);
void mcp_cimd_cache_free(mcp_cimd_cache *c);

/* 1 when client_id has the shape of a metadata document URL (https://, or http:// to a
 * loopback host when allow_loopback). */
int mcp_cimd_is_url(const char *client_id, int allow_loopback);

/* Resolves a URL client_id: from the cache, else fetched (blocking) and validated.
 * MCPAUTH_E_WOULD_BLOCK (nonblock and not cached), MCPAUTH_E_UPSTREAM (unreachable),
 * MCPAUTH_E_CLAIM_INVALID (the URL or the document is not acceptable; err says why). */
int mcp_cimd_resolve(const mcp_proxy *p, const char *client_id, int nonblock, mcp_proxy_client *out,
                     mcp_err *err);

/* ---- pages (consent.c) ------------------------------------------------------------------- */

/* The consent page for a validated authorization request `req` (cid, ru, sc, ...). */
int mcp_consent_page(const mcp_proxy *p, const mcp_http_req *r, const mcp_proxy_client *c,
                     json_t *req, json_t **response, mcp_err *err);

/* Checks the consent form's tx / csrf_token against the CSRF cookie. On success *req receives
 * the request (new reference). Returns 0, or the HTTP status to answer (400 or 403) with
 * *why set to a static message. */
int mcp_consent_check_form(const mcp_proxy *p, const mcp_http_req *r, json_t *form, json_t **req,
                           const char **why);

/* 1 when the browser's consent cookie already approves `scope` for client_id. */
int mcp_consent_remembered(const mcp_proxy *p, const mcp_http_req *r, const char *client_id,
                           const char *scope);

/* Set-Cookie value remembering the approval of `scope` (merged with an existing approval). */
char *mcp_consent_cookie(const mcp_proxy *p, const mcp_http_req *r, const char *client_id,
                         const char *scope);

/* A styled HTML error page (no-store, framing refused). */
json_t *mcp_error_page(int status, const char *title, const char *message);

#endif
