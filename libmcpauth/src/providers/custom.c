/* custom.c - oauthCustomProvider: everything explicit, no env: issuer,
 * authEndpoint (or authorizationEndpoint), tokenEndpoint, and jwksUrl or static keys;
 * userInfoEndpoint, audience, scopesSupported (default openid profile email) and grant
 * types optional. With "hostVerifies" the host verifies the tokens and no key source is
 * needed; opaque tokens and verifyJwt: false need neither issuer nor key source. The default
 * mapping is the reference's "Custom (default)" row. */
#include "providers/provider_impl.h"

static int custom_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    /* Opaque tokens (introspection, userinfo, proxy preset github/google) are checked by the
     * authorization server and unverified ones (verifyJwt: false) by nobody: neither needs an
     * issuer or a key source; a host verifier (hostVerifies) needs no key source. */
    int jwt = cfg->verify_jwt && !mcp_pv_tokens_opaque(in);
    int rc = jwt ? mcp_pv_required("custom", "issuer", env, NULL, cfg->issuer, err) : MCPAUTH_OK;
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("custom", "authEndpoint", env, NULL, cfg->authorization_endpoint, err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_required("custom", "tokenEndpoint", env, NULL, cfg->token_endpoint, err);
    if (rc == MCPAUTH_OK && jwt && !cfg->host_verifies && !mcp_pv_has_key_source(cfg))
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "custom: option 'jwksUrl' is required (or static keys: 'jwks', "
                         "'publicKey' or 'secret')");
    static const char *const scopes[] = {"openid", "profile", "email", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, scopes, err);
    return rc;
}

static int custom_map_user(json_t *payload, json_t *user) {
    static const char *const ids[] = {"sub", "user_id", "id", NULL};
    static const char *const usernames[] = {"username", "preferred_username", NULL};
    static const char *const pictures[] = {"picture", "avatar_url", NULL};
    int bad = 0;
    bad |= mcp_map_str_first(user, "userId", payload, ids);
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str_first(user, "username", payload, usernames);
    bad |= mcp_map_str(user, "nickname", payload, "nickname");
    bad |= mcp_map_str_first(user, "picture", payload, pictures);
    bad |= mcp_map_str_array(user, "roles", json_object_get(payload, "roles")) < 0;
    bad |= mcp_map_str_array(user, "permissions", json_object_get(payload, "permissions")) < 0;
    bad |= mcp_map_scopes(user, payload);
    return bad ? -1 : 0;
}

static const char *const custom_options[] = {NULL};

const mcp_provider mcp_provider_custom = {"custom", custom_resolve, custom_map_user,
                                          custom_options};
