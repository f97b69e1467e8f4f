/* engine.c - the engine's lifecycle: configuration, keys, caches and the modules' states
 * (creation, destruction, the resolved configuration), and decoding without verification. The
 * verify pipeline is pipeline.c. */
#include "verify/engine.h"
#include "util/json_write.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64url.h"
#include "verify/claims.h"
#include "util/http_client.h"
#include "util/json_strict.h"
#include "jose/jws.h"
#include "verify/opaque.h"
#include "proxy/proxy.h"
#include "verify/userinfo.h"

/* Hard cap for the unverified decoder, which has no configuration. */
#define DECODE_MAX_BYTES 65536

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void) {
    json_object_seed(0);
    mcp_http_global_init();
}

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
    pthread_once(&global_once, global_init);

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

/* ---- decoding without verification ------------------------------------------------------ */

/* Splits a compact JWS into exactly three segments and decodes header and payload as strict
 * JSON objects. Used by development mode and mcpauth_decode_unverified. */
int mcp_engine_decode_parts(const char *token, size_t len, size_t max, json_t **header,
                            json_t **payload, mcp_err *err) {
    *header = *payload = NULL;
    if (len > max)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_TOO_LARGE, "token is longer than %zu bytes", max);
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                           "token is not a compact JWS (three dot-separated segments)");
    const char *seg[2] = {token, d1 + 1};
    size_t seglen[2] = {(size_t)(d1 - token), (size_t)(d2 - d1 - 1)};
    const char *what[2] = {"token header", "token payload"};
    json_t *parts[2] = {NULL, NULL};
    for (int i = 0; i < 2; i++) {
        unsigned char *raw = NULL;
        size_t rawlen = 0;
        int r = mcp_b64url_decode(seg[i], seglen[i], &raw, &rawlen);
        if (r == -2) {
            json_decref(parts[0]);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
        if (r != 0) {
            json_decref(parts[0]);
            return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "%s is not valid base64url",
                               what[i]);
        }
        parts[i] = mcp_json_parse((const char *)raw, rawlen, MCP_JSON_MAX_DEPTH, 1, what[i],
                                  MCPAUTH_E_TOKEN_MALFORMED, err);
        free(raw);
        if (!parts[i]) {
            json_decref(parts[0]);
            return err ? err->code : MCPAUTH_E_TOKEN_MALFORMED;
        }
    }
    *header = parts[0];
    *payload = parts[1];
    return MCPAUTH_OK;
}

int mcpauth_decode_unverified(const char *token, size_t token_len, char **json, char **detail) {
    mcp_err err = {0, {0}};
    if (json) *json = NULL;
    if (detail) *detail = NULL;
    if (!json) {
        mcp_err_set(&err, MCPAUTH_E_INVALID_ARGUMENT, "json output pointer is required");
        return mcp_err_export(&err, detail);
    }
    if (!token || token_len == 0) {
        mcp_err_set(&err, MCPAUTH_E_TOKEN_MISSING, "no token");
        return mcp_err_export(&err, detail);
    }
    pthread_once(&global_once, global_init);
    json_t *h, *p;
    int rc = mcp_engine_decode_parts(token, token_len, DECODE_MAX_BYTES, &h, &p, &err);
    if (rc != MCPAUTH_OK) return mcp_err_export(&err, detail);
    json_t *o = json_pack("{s:b,s:o,s:o}", "verified", 0, "header", h, "payload", p);
    if (o) *json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!*json) {
        mcp_err_set(&err, MCPAUTH_E_NOMEM, "out of memory");
        return mcp_err_export(&err, detail);
    }
    return MCPAUTH_OK;
}
