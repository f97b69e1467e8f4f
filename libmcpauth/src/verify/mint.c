/* mint.c - token signing for tests and development, through libjwt 1.10.2 (signing only;
 * libjwt never verifies anything in libmcpauth). */
#include <errno.h>
#include <jwt.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/common.h"
#include "util/json_strict.h"

typedef struct mint_alg {
    const char *name;
    jwt_alg_t alg;
} mint_alg;

static const mint_alg mint_algs[] = {
    {"HS256", JWT_ALG_HS256}, {"HS384", JWT_ALG_HS384}, {"HS512", JWT_ALG_HS512},
    {"RS256", JWT_ALG_RS256}, {"RS384", JWT_ALG_RS384}, {"RS512", JWT_ALG_RS512},
    {"ES256", JWT_ALG_ES256}, {"ES384", JWT_ALG_ES384}, {"ES512", JWT_ALG_ES512},
};

static int mint_impl(json_t *req, char **token, mcp_err *err) {
    json_t *jalg = json_object_get(req, "alg");
    json_t *jkey = json_object_get(req, "key");
    json_t *jkid = json_object_get(req, "kid");
    json_t *claims = json_object_get(req, "claims");
    json_t *hdr = json_object_get(req, "header");
    const char *known[] = {"alg", "key", "kid", "claims", "header", NULL};
    const char *k;
    json_t *v;
    json_object_foreach(req, k, v) {
        int ok = 0;
        for (const char **p = known; *p; p++) ok |= strcmp(*p, k) == 0;
        if (!ok)
            return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: unknown member '%.60s'", k);
    }
    if (!json_is_string(jalg))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: 'alg' must be a string");
    const mint_alg *ma = NULL;
    for (size_t i = 0; i < sizeof mint_algs / sizeof mint_algs[0]; i++)
        if (strcmp(mint_algs[i].name, json_string_value(jalg)) == 0) ma = &mint_algs[i];
    if (!ma)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "mint: unsupported alg (HS256/384/512, RS256/384/512, ES256/384/512)");
    if (!json_is_string(jkey) || json_string_length(jkey) == 0 ||
        json_string_length(jkey) > INT_MAX)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "mint: 'key' must be a PEM private key or an HMAC secret");
    if (jkid && !json_is_string(jkid))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: 'kid' must be a string");
    if (claims && !json_is_object(claims))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: 'claims' must be an object");
    if (hdr && !json_is_object(hdr))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: 'header' must be an object");
    if (hdr && json_object_get(hdr, "alg"))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "mint: give the algorithm as 'alg', not in 'header'");
    json_t *htyp = hdr ? json_object_get(hdr, "typ") : NULL;
    if (htyp && !(json_is_string(htyp) && strcmp(json_string_value(htyp), "JWT") == 0))
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "mint: libjwt 1.10.2 always writes typ \"JWT\"; another typ cannot "
                           "be minted");

    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0 || !jwt) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    int rc = MCPAUTH_OK;
    char *text = NULL;
    json_t *h = hdr ? json_deep_copy(hdr) : json_object();
    if (!h) {
        rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        goto out;
    }
    if (jkid && json_object_set(h, "kid", jkid) != 0) {
        rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        goto out;
    }
    if (claims && json_object_size(claims) > 0) {
        text = json_dumps(claims, JSON_COMPACT);
        if (!text || jwt_add_grants_json(jwt, text) != 0) {
            rc = mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: claims rejected by libjwt");
            goto out;
        }
        free(text);
        text = NULL;
    }
    if (json_object_size(h) > 0) {
        text = json_dumps(h, JSON_COMPACT);
        if (!text || jwt_add_headers_json(jwt, text) != 0) {
            rc = mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: header rejected by libjwt");
            goto out;
        }
        free(text);
        text = NULL;
    }
    if (jwt_set_alg(jwt, ma->alg, (const unsigned char *)json_string_value(jkey),
                    (int)json_string_length(jkey)) != 0) {
        rc = mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "mint: key rejected for %s", ma->name);
        goto out;
    }
    errno = 0;
    text = jwt_encode_str(jwt);
    if (!text) {
        rc = mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                         "mint: signing failed (is 'key' a %s private key?)", ma->name);
        goto out;
    }
    *token = text; /* libjwt allocates with malloc: mcpauth_free() releases it */
    text = NULL;
out:
    free(text);
    json_decref(h);
    jwt_free(jwt);
    return rc;
}

static pthread_once_t mint_once = PTHREAD_ONCE_INIT;

static void mint_init(void) { json_object_seed(0); }

int mcpauth_mint(const char *request_json, size_t request_len, char **token, char **detail) {
    mcp_err err = {0, {0}};
    pthread_once(&mint_once, mint_init);
    if (detail) *detail = NULL;
    if (token) *token = NULL;
    if (!request_json || !token) {
        mcp_err_set(&err, MCPAUTH_E_INVALID_ARGUMENT, "request_json and token are required");
        return mcp_err_export(&err, detail);
    }
    json_t *req = mcp_json_parse(request_json, request_len, MCP_JSON_MAX_DEPTH, 1, "mint request",
                                 MCPAUTH_E_INVALID_ARGUMENT, &err);
    if (!req) return mcp_err_export(&err, detail);
    int rc = mint_impl(req, token, &err);
    json_decref(req);
    if (rc != MCPAUTH_OK) return mcp_err_export(&err, detail);
    return MCPAUTH_OK;
}
