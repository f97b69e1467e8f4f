/* idp_presets.h - the catalogue of upstream identity providers the OAuth proxy can front
 * ("proxy":{"preset":"github"|"google"|"okta"|"azure"...}): their endpoints, default scopes and
 * parameters, and how their access tokens are verified. Read by the configuration (issuer and
 * JWKS URL of JWT presets), by opaque-token verification (userinfo endpoints of github/google)
 * and by the proxy (endpoints). Depends on nothing of the proxy. */
#ifndef MCP_IDP_PRESETS_H
#define MCP_IDP_PRESETS_H

#include <jansson.h>

#include "util/common.h"

typedef struct mcp_idp_preset {
    const char *name;
    const char *needs;         /* "domain", "tenant" or NULL: substituted for "{}" below */
    const char *auth_endpoint; /* templates: "{}" is replaced by the needed value */
    const char *token_endpoint;
    const char *issuer;   /* upstream issuer (NULL: none, e.g. GitHub) */
    const char *jwks_url; /* NULL for opaque-token providers */
    const char *const *scopes;
    const char *extra_params; /* JSON object text or NULL */
    const char *auth_method;  /* "client_secret_post" or "client_secret_basic" */
    int forward_resource;     /* send RFC 8707 resource upstream */
    /* opaque-token verification (opaque.c): NULL url for JWT providers */
    const char *userinfo_url;
    int userinfo_post_form;      /* 1: POST access_token=... (Google tokeninfo); 0: GET Bearer */
    const char *userinfo_accept; /* Accept header */
    const char *claims;          /* JSON {"normalized claim": "document field"} */
    int check_audience;          /* 1: aud/azp must name the proxy's client id (Google) */
    /* the UserInfo mapping the preset implies ({"userId":"sub",...}), JSON text */
    const char *user_map;
} mcp_idp_preset;

const mcp_idp_preset *mcp_idp_preset_find(const char *name);

/* Replaces every "{}" in tmpl with value (malloc'd) or NULL on no memory. */
char *mcp_idp_preset_expand(const char *tmpl, const char *value);

/* The preset named by a "proxy" configuration object (*preset NULL when it names none) and
 * its needed parameter ("domain" / "tenant": checked, malloc'd into *param, else NULL).
 * MCPAUTH_E_CONFIG naming the option for an unknown preset or a missing / bad parameter. */
int mcp_idp_preset_of(json_t *proxy_cfg, const mcp_idp_preset **preset, char **param, mcp_err *err);

/* How the tokens of the preset named by a "proxy" configuration object are verified, for
 * config.c (which runs before the proxy is set up): JWT presets (okta, azure) give their
 * issuer and JWKS URL (malloc'd); opaque-token presets (github, google) set *opaque. All NULL /
 * 0 without a preset. Errors as mcp_idp_preset_of. */
int mcp_idp_preset_verification(json_t *proxy_cfg, char **issuer, char **jwks_url, int *opaque,
                                mcp_err *err);

#endif
