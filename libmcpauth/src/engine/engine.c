/* engine.c - the engine's lifecycle, where the modules meet: configuration, keys, caches, the
 * verifiers' states, the HTTP surface and the OAuth proxy (creation, destruction, the resolved
 * configuration). The verify pipeline is verify/pipeline.c; nothing under verify/ knows the
 * proxy. */
#include "engine/engine.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"
#include "util/http_client.h"
#include "verify/opaque.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void) {
    json_object_seed(0);
    mcp_http_global_init();
}

void mcp_engine_global_init(void) { pthread_once(&global_once, global_init); }

static const char *env_process(const char *name) { return getenv(name); }

/* ---- creation ---------------------------------------------------------------------------- */

static int build_static_keys(struct mcpauth_engine *e, mcp_err *err) {
    const mcp_config *cfg = e->cfg;
    int rc = MCPAUTH_OK;
    const char *what = NULL;
    if (cfg->jwks_inline) {
        what = "jwks";
        rc = mcp_keyset_from_jwks(cfg->jwks_inline, MCP_JWKS_ALLOW_OCT, cfg->max_keys,
                                  &e->static_keys, err);
    } else if (cfg->public_key_pem) {
        what = "publicKey";
        rc = mcp_keyset_from_pem(cfg->public_key_pem, strlen(cfg->public_key_pem), &e->static_keys,
                                 err);
    } else if (cfg->secret) {
        what = "secret";
        rc = mcp_keyset_from_secret(cfg->secret, cfg->secret_len, &e->static_keys, err);
    }
    if (rc != MCPAUTH_OK && rc != MCPAUTH_E_NOMEM && err) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s': %s", what, msg);
        rc = MCPAUTH_E_CONFIG;
    }
    return rc;
}

int mcpauth_engine_new(const char *config_json, size_t config_len, unsigned flags,
                       mcpauth_engine **out, char **detail) {
    mcp_err err = {0, {0}};
    if (detail) *detail = NULL;
    if (!out || !config_json) {
        if (out) *out = NULL;
        mcp_err_set(&err, MCPAUTH_E_INVALID_ARGUMENT, "config_json and out are required");
        return mcp_err_export(&err, detail);
    }
    *out = NULL;
    mcp_engine_global_init();

    struct mcpauth_engine *e = calloc(1, sizeof *e);
    if (!e) {
        mcp_err_set(&err, MCPAUTH_E_NOMEM, "out of memory");
        return mcp_err_export(&err, detail);
    }
    mcp_getenv_fn env = (flags & MCPAUTH_ENGINE_NO_ENV) ? mcp_getenv_none : env_process;
    e->env = env;
    int rc = mcp_config_load(config_json, config_len, env, &e->cfg, &err);
    if (rc != MCPAUTH_OK) goto fail;
    e->provider = mcp_provider_find(e->cfg->provider);
    if (!e->provider) {
        rc = mcp_err_set(&err, MCPAUTH_E_INTERNAL, "provider vanished");
        goto fail;
    }
    if (e->cfg->verify_jwt) {
        if ((rc = build_static_keys(e, &err)) != MCPAUTH_OK) goto fail;
        if (e->cfg->jwks_url) {
            mcp_jwks_opts o;
            memset(&o, 0, sizeof o);
            o.ttl_default = e->cfg->jwks_ttl_default;
            o.ttl_min = e->cfg->jwks_ttl_min;
            o.ttl_max = e->cfg->jwks_ttl_max;
            o.cooldown = e->cfg->jwks_cooldown;
            o.max_keys = e->cfg->max_keys;
            o.http.connect_timeout_ms = e->cfg->connect_timeout_ms;
            o.http.total_timeout_ms = e->cfg->timeout_ms;
            o.http.max_body = e->cfg->max_fetch_bytes;
            e->jwks = mcp_jwks_source_new(e->cfg->jwks_url, &o);
            if (!e->jwks) {
                rc = mcp_err_set(&err, MCPAUTH_E_NOMEM, "out of memory");
                goto fail;
            }
        }
    }
    e->token_cache = mcp_token_cache_new(e->cfg->token_cache_size);
    if (!e->token_cache) {
        rc = mcp_err_set(&err, MCPAUTH_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = mcp_proxy_init(e, &err)) != MCPAUTH_OK) goto fail;
    if ((rc = mcp_opaque_init(e, &err)) != MCPAUTH_OK) goto fail;
    if ((rc = mcp_http_surface_init(e, &err)) != MCPAUTH_OK) goto fail;
    /* last, so that errors in what the configuration says come first */
    e->signature_only = (flags & MCPAUTH_ENGINE_SIGNATURE_ONLY) != 0;
    if (!e->signature_only && (rc = mcp_config_require_audience(e->cfg, env, &err)) != MCPAUTH_OK)
        goto fail;
    if ((flags & MCPAUTH_ENGINE_PREFETCH) && e->jwks) {
        mcp_keyset *ks = NULL;
        if (mcp_jwks_source_get(e->jwks, NULL, 0, &ks, NULL) == MCPAUTH_OK) mcp_keyset_unref(ks);
    }
    *out = e;
    return MCPAUTH_OK;
fail:
    mcpauth_engine_free(e);
    if (err.code != rc) err.code = rc;
    return mcp_err_export(&err, detail);
}

void mcpauth_engine_free(mcpauth_engine *e) {
    if (!e) return;
    mcp_http_surface_free(e->http_state);
    if (e->opaque_state) mcp_opaque_free(e->opaque_state);
    if (e->proxy_state) mcp_proxy_free(e->proxy_state);
    mcp_token_cache_free(e->token_cache);
    mcp_jwks_source_free(e->jwks);
    mcp_keyset_unref(e->static_keys);
    mcp_config_free(e->cfg);
    free(e);
}

int mcpauth_engine_config(const mcpauth_engine *e, char **config_json) {
    if (!config_json) return MCPAUTH_E_INVALID_ARGUMENT;
    *config_json = NULL;
    if (!e) return MCPAUTH_E_INVALID_ARGUMENT;
    json_t *j = mcp_config_to_json(e->cfg);
    if (!j) return MCPAUTH_E_NOMEM;
    *config_json = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return *config_json ? MCPAUTH_OK : MCPAUTH_E_NOMEM;
}
