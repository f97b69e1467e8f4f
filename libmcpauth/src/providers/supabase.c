/* supabase.c - oauthSupabaseProvider: projectId (MCP_USE_OAUTH_SUPABASE_PROJECT_ID)
 * or supabaseUrl (MCP_USE_OAUTH_SUPABASE_URL; wins, trailing '/' removed, for self-hosted and
 * local stacks), jwtSecret (MCP_USE_OAUTH_SUPABASE_JWT_SECRET). Either option in the JSON
 * beats both variables; the URL wins only against a value from the same source. Issuer
 * {base}/auth/v1, JWKS {iss}/.well-known/jwks.json (always derived). Legacy projects sign HS256
 * with the JWT secret (>= 32 bytes); projects with asymmetric keys sign ES256/RS256 with keys
 * from the JWKS; with the secret set both are accepted, each only with its own key. Audience
 * defaults to "authenticated". */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "providers/provider_impl.h"

#define SB_ENV_PROJECT "MCP_USE_OAUTH_SUPABASE_PROJECT_ID"
#define SB_ENV_URL "MCP_USE_OAUTH_SUPABASE_URL"
#define SB_ENV_SECRET "MCP_USE_OAUTH_SUPABASE_JWT_SECRET"

static int project_id_ok(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-'))
            return 0;
    return 1;
}

static int sb_secret(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *secret = NULL;
    int rc = mcp_provider_opt(in, "jwtSecret", env, SB_ENV_SECRET, &secret, err);
    if (rc != MCPAUTH_OK || !secret) return rc;
    size_t n = strlen(secret);
    if (cfg->secret)
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "supabase: give the HMAC key as 'jwtSecret' or 'secret', not both");
    else if (n < 32)
        rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                         "supabase: option 'jwtSecret' (or %s) must be at least 32 bytes",
                         SB_ENV_SECRET);
    if (rc == MCPAUTH_OK) {
        cfg->secret = (unsigned char *)secret;
        cfg->secret_len = n;
        return MCPAUTH_OK;
    }
    OPENSSL_cleanse(secret, n);
    free(secret);
    return rc;
}

static int sb_resolve(mcp_config *cfg, json_t *in, mcp_getenv_fn env, mcp_err *err) {
    char *project = NULL, *url = NULL, *base = NULL, *iss = NULL;
    /* Explicit configuration first (either option in the JSON beats both variables); only
     * when the JSON has neither are the variables read. In each source the URL wins. */
    int rc = mcp_provider_opt(in, "supabaseUrl", NULL, NULL, &url, err);
    if (rc == MCPAUTH_OK) rc = mcp_provider_opt(in, "projectId", NULL, NULL, &project, err);
    if (rc == MCPAUTH_OK && !url && !project) {
        rc = mcp_provider_opt(NULL, "supabaseUrl", env, SB_ENV_URL, &url, err);
        if (rc == MCPAUTH_OK && !url)
            rc = mcp_provider_opt(NULL, "projectId", env, SB_ENV_PROJECT, &project, err);
    }
    if (rc == MCPAUTH_OK && !url && !project)
        rc = mcp_env_on(env) ? mcp_err_set(err, MCPAUTH_E_CONFIG,
                                           "supabase: option 'projectId' is required (or set %s), "
                                           "or give 'supabaseUrl' (or set %s)",
                                           SB_ENV_PROJECT, SB_ENV_URL)
                             : mcp_err_set(err, MCPAUTH_E_CONFIG,
                                           "supabase: option 'projectId' is required, or give "
                                           "'supabaseUrl'");
    if (rc == MCPAUTH_OK && url) {
        rc = mcp_pv_url(url, "supabase", "supabaseUrl", err);
        if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&base, url, NULL, err);
    } else if (rc == MCPAUTH_OK) {
        if (!project_id_ok(project))
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                             "supabase: option 'projectId' must be a project reference "
                             "(letters, digits and '-')");
        else
            rc = mcp_pv_fill(&base, "https://", project, err);
        if (rc == MCPAUTH_OK) {
            char *full = NULL;
            rc = mcp_pv_fill(&full, base, ".supabase.co", err);
            free(base);
            base = full;
        }
    }
    if (rc == MCPAUTH_OK) rc = sb_secret(cfg, in, env, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&iss, base, "/auth/v1", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->issuer, iss, NULL, err);
    /* the project's signing keys (ES256/RS256) are published at its JWKS, with or without the
     * legacy JWT secret (HS256); an explicit public key source replaces the JWKS */
    if (rc == MCPAUTH_OK && !cfg->jwks_url && !cfg->jwks_inline && !cfg->public_key_pem)
        rc = mcp_pv_fill(&cfg->jwks_url, iss, "/.well-known/jwks.json", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->authorization_endpoint, iss, "/oauth/authorize", err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill(&cfg->token_endpoint, iss, "/oauth/token", err);
    if (rc == MCPAUTH_OK)
        rc = mcp_pv_fill(&cfg->registration_endpoint, iss, "/oauth/clients/register", err);
    static const char *const no_scopes[] = {NULL};
    static const char *const aud[] = {"authenticated", NULL};
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->scopes_supported, no_scopes, err);
    if (rc == MCPAUTH_OK) rc = mcp_pv_fill_strv(&cfg->audience, aud, err);
    /* HS256 only with the secret, ES256/RS256 only with the public keys: the secret is an HMAC
     * key and keys from a JWKS never are, so the key that verifies decides the algorithm */
    if (rc == MCPAUTH_OK && !cfg->alg_mask)
        cfg->alg_mask = (cfg->secret ? MCP_ALG_BIT(MCP_ALG_HS256) : 0u) |
                        (cfg->jwks_url || cfg->jwks_inline || cfg->public_key_pem
                             ? (MCP_ALG_BIT(MCP_ALG_ES256) | MCP_ALG_BIT(MCP_ALG_RS256))
                             : 0u);
    free(project);
    free(url);
    free(base);
    free(iss);
    return rc;
}

static int sb_map_user(json_t *payload, json_t *user) {
    static const char *const ids[] = {"sub", "user_id", NULL};
    static const char *const names[] = {"user_metadata.name", "user_metadata.full_name", NULL};
    int bad = 0;
    bad |= mcp_map_str_first(user, "userId", payload, ids);
    bad |= mcp_map_str(user, "email", payload, "email");
    bad |= mcp_map_str_first(user, "name", payload, names);
    bad |= mcp_map_str(user, "username", payload, "user_metadata.username");
    bad |= mcp_map_str(user, "picture", payload, "user_metadata.avatar_url");
    json_t *roles = json_array(), *perms = json_array();
    if (!roles || !perms) {
        json_decref(roles);
        json_decref(perms);
        return -1;
    }
    json_t *role = json_object_get(payload, "role");
    /* empty claims are no values: role "" gives no role, aal "" no "aal:" permission */
    if (json_is_string(role) && json_string_length(role) > 0)
        bad |= json_array_append_new(roles, json_deep_copy(role)) != 0;
    json_t *aal = json_object_get(payload, "aal");
    if (json_is_string(aal) && json_string_length(aal) > 0) {
        size_t n = json_string_length(aal);
        char *s = malloc(n + 5);
        if (!s) {
            bad = 1;
        } else {
            memcpy(s, "aal:", 4);
            memcpy(s + 4, json_string_value(aal), n);
            bad |= json_array_append_new(perms, json_stringn(s, n + 4)) != 0;
            free(s);
        }
    }
    bad |= json_object_set_new(user, "roles", roles) != 0;
    bad |= json_object_set_new(user, "permissions", perms) != 0;
    bad |= mcp_map_any(user, "aal", payload, "aal");
    bad |= mcp_map_any(user, "amr", payload, "amr");
    bad |= mcp_map_any(user, "session_id", payload, "session_id");
    return bad ? -1 : 0;
}

static const char *const sb_options[] = {"projectId", "supabaseUrl", "jwtSecret", NULL};

const mcp_provider mcp_provider_supabase = {"supabase", sb_resolve, sb_map_user, sb_options};
