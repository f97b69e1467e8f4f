/* provider_jwks.c - the default preset: the seed's jwksVerifier ({jwksUrl, issuer,
 * audience?}), also usable with static keys (jwks, publicKey, secret). Nothing is derived;
 * the generic validation requires issuer and a key source. The user mapping is the
 * oauthProxy default: userId <- sub, email, name, picture, scopes. */
#include "providers/provider_impl.h"

static int jwks_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    (void)cfg;
    (void)in;
    (void)env;
    (void)err;
    return MCPAUTH_OK;
}

static int jwks_map_user(json_t *payload, json_t *user) {
    int bad = 0;
    bad |= mcp_map_str(user, "userId", payload, "sub");
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str(user, "name", payload, "name");
    bad |= mcp_map_str(user, "picture", payload, "picture");
    bad |= mcp_map_scopes(user, payload);
    return bad ? -1 : 0;
}

static const char *const jwks_options[] = {NULL};

const mcp_provider mcp_provider_jwks = {"jwks", jwks_resolve, jwks_map_user, jwks_options};
