/* decode.c - reading a token without verifying it: the header and payload of a compact JWS as
 * strict JSON (mcpauth_decode_unverified, and development mode's tokens in pipeline.c). */
#include "verify/decode.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/b64url.h"
#include "util/json_strict.h"

/* Hard cap for the unverified decoder, which has no configuration. */
#define DECODE_MAX_BYTES 65536

int mcp_decode_parts(const char *token, size_t len, size_t max, json_t **header, json_t **payload,
                     mcp_err *err) {
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
    mcp_engine_global_init();
    json_t *h, *p;
    int rc = mcp_decode_parts(token, token_len, DECODE_MAX_BYTES, &h, &p, &err);
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
