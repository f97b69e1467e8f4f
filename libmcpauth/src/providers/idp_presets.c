/* idp_presets.c - upstream identity providers for the OAuth proxy ("proxy":{"preset":...}):
 * endpoints, default scopes and parameters, and how their access tokens are verified
 * (JWKS for OIDC providers issuing JWTs; a userinfo-style endpoint for opaque tokens). */
#include <stdlib.h>
#include <string.h>

#include "providers/idp_presets.h"

static const char *const google_scopes[] = {"openid", "email", "profile", NULL};
static const char *const github_scopes[] = {"read:user", "user:email", NULL};
static const char *const oidc_scopes[] = {"openid", "email", "profile", "offline_access", NULL};

static const mcp_idp_preset presets[] = {
    {
        .name = "google",
        .needs = NULL,
        .auth_endpoint = "https://accounts.google.com/o/oauth2/v2/auth",
        .token_endpoint = "https://oauth2.googleapis.com/token",
        .issuer = "https://accounts.google.com",
        .jwks_url = "https://www.googleapis.com/oauth2/v3/certs",
        .scopes = google_scopes,
        /* a refresh token needs offline access; Google issues it only with consent */
        .extra_params = "{\"access_type\":\"offline\",\"prompt\":\"consent\"}",
        .auth_method = "client_secret_post",
        .forward_resource = 0, /* Google refuses unknown authorization parameters */
        /* Google access tokens are opaque: tokeninfo names the client they were issued to */
        .userinfo_url = "https://oauth2.googleapis.com/tokeninfo",
        .userinfo_post_form = 1,
        .userinfo_accept = "application/json",
        .claims = "{\"sub\":\"sub\",\"email\":\"email\",\"email_verified\":\"email_verified\","
                  "\"scope\":\"scope\",\"exp\":\"exp\",\"aud\":\"aud\",\"azp\":\"azp\"}",
        .check_audience = 1,
        .user_map = "{\"userId\":\"sub\",\"email\":\"email\",\"name\":\"name\","
                    "\"picture\":\"picture\"}",
    },
    {
        .name = "github",
        .needs = NULL,
        .auth_endpoint = "https://github.com/login/oauth/authorize",
        .token_endpoint = "https://github.com/login/oauth/access_token",
        .issuer = NULL, /* GitHub OAuth apps are not OpenID providers */
        .jwks_url = NULL,
        .scopes = github_scopes,
        .extra_params = NULL,
        .auth_method = "client_secret_post",
        .forward_resource = 0,
        .userinfo_url = "https://api.github.com/user",
        .userinfo_post_form = 0,
        .userinfo_accept = "application/vnd.github+json",
        .claims = "{\"sub\":\"id\",\"preferred_username\":\"login\",\"username\":\"login\","
                  "\"name\":\"name\",\"email\":\"email\",\"picture\":\"avatar_url\"}",
        .check_audience = 0,
        .user_map = "{\"userId\":\"id\",\"username\":\"login\",\"name\":\"name\","
                    "\"email\":\"email\",\"picture\":\"avatar_url\"}",
    },
    {
        .name = "okta",
        .needs = "domain",
        .auth_endpoint = "https://{}/oauth2/default/v1/authorize",
        .token_endpoint = "https://{}/oauth2/default/v1/token",
        .issuer = "https://{}/oauth2/default",
        .jwks_url = "https://{}/oauth2/default/v1/keys",
        .scopes = oidc_scopes,
        .extra_params = NULL,
        .auth_method = "client_secret_basic",
        .forward_resource = 1,
        .userinfo_url = NULL,
        .user_map = "{\"userId\":\"sub\",\"username\":\"preferred_username\",\"name\":\"name\","
                    "\"email\":\"email\"}",
    },
    {
        .name = "azure",
        .needs = "tenant",
        .auth_endpoint = "https://login.microsoftonline.com/{}/oauth2/v2.0/authorize",
        .token_endpoint = "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
        .issuer = "https://login.microsoftonline.com/{}/v2.0",
        .jwks_url = "https://login.microsoftonline.com/{}/discovery/v2.0/keys",
        .scopes = oidc_scopes,
        .extra_params = NULL,
        .auth_method = "client_secret_post",
        .forward_resource = 0, /* v2.0 endpoints use scopes, not resource */
        .userinfo_url = NULL,
        .user_map = "{\"userId\":\"oid\",\"username\":\"preferred_username\",\"name\":\"name\","
                    "\"email\":\"email\"}",
    },
};

const mcp_idp_preset *mcp_idp_preset_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0) return &presets[i];
    return NULL;
}

char *mcp_idp_preset_expand(const char *tmpl, const char *value) {
    if (!tmpl) return NULL;
    size_t vl = value ? strlen(value) : 0, tl = strlen(tmpl), n = 0;
    for (const char *p = strstr(tmpl, "{}"); p; p = strstr(p + 2, "{}")) n++;
    char *out = malloc(tl + n * vl + 1);
    if (!out) return NULL;
    char *o = out;
    const char *s = tmpl;
    for (const char *p = strstr(s, "{}"); p; p = strstr(s, "{}")) {
        memcpy(o, s, (size_t)(p - s));
        o += p - s;
        if (vl) memcpy(o, value, vl);
        o += vl;
        s = p + 2;
    }
    strcpy(o, s);
    return out;
}

int mcp_idp_preset_of(json_t *proxy_cfg, const mcp_idp_preset **preset, char **param,
                      mcp_err *err) {
    *preset = NULL;
    *param = NULL;
    json_t *pv = json_object_get(proxy_cfg, "preset");
    if (!pv || json_is_null(pv)) return MCPAUTH_OK;
    if (!json_is_string(pv))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'proxy.preset' must be a string");
    const mcp_idp_preset *ps = mcp_idp_preset_find(json_string_value(pv));
    if (!ps)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'proxy.preset': unknown preset \"%.40s\" (known: google, "
                           "github, okta, azure)",
                           json_string_value(pv));
    if (ps->needs) {
        json_t *v = json_object_get(proxy_cfg, ps->needs);
        if (!v || json_is_null(v))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.%s' is required by the %s preset", ps->needs,
                               ps->name);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            strlen(json_string_value(v)) != json_string_length(v))
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'proxy.%s' must be a non-empty string", ps->needs);
        /* substituted into https://{}/... : a host name or tenant id, nothing else */
        for (const char *c = json_string_value(v); *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'proxy.%s' has invalid characters", ps->needs);
        *param = mcp_strdup(json_string_value(v));
        if (!*param) return mcp_err_nomem(err);
    }
    *preset = ps;
    return MCPAUTH_OK;
}

int mcp_idp_preset_verification(json_t *proxy_cfg, char **issuer, char **jwks_url, int *opaque,
                                mcp_err *err) {
    *issuer = *jwks_url = NULL;
    *opaque = 0;
    const mcp_idp_preset *ps;
    char *param;
    int rc = mcp_idp_preset_of(proxy_cfg, &ps, &param, err);
    if (rc != MCPAUTH_OK || !ps) return rc;
    if (ps->userinfo_url) {
        *opaque = 1; /* opaque access tokens: verified through the userinfo path */
    } else if (ps->issuer && ps->jwks_url) {
        *issuer = mcp_idp_preset_expand(ps->issuer, param);
        *jwks_url = mcp_idp_preset_expand(ps->jwks_url, param);
        if (!*issuer || !*jwks_url) {
            free(*issuer);
            free(*jwks_url);
            *issuer = *jwks_url = NULL;
            rc = mcp_err_nomem(err);
        }
    }
    free(param);
    return rc;
}
