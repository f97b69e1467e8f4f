/* claims.c - registered claim validation (RFC 7519 section 4.1, RFC 8707, RFC 9068):
 * exp / nbf / iat with bounded leeway, exact issuer, audience and resource binding, and type
 * checks of the claims the auth result reads. All arithmetic stays inside int64. */
#include "verify/claims.h"

#include <string.h>
#include <strings.h>

#include "util/json_strict.h"

/* A JSON string equal, byte for byte, to s. */
static int json_str_eq(const json_t *v, const char *s) {
    if (!json_is_string(v) || !s) return 0;
    size_t n = strlen(s);
    return json_string_length(v) == n && memcmp(json_string_value(v), s, n) == 0;
}

/* aud is a string or an array of strings: 1 if it contains s. */
static int aud_contains(const json_t *aud, const char *s) {
    if (json_is_string(aud)) return json_str_eq(aud, s);
    size_t i;
    json_t *item;
    json_array_foreach(aud, i, item) {
        if (json_str_eq(item, s)) return 1;
    }
    return 0;
}

/* A registered time claim: absent (0 returned, *present = 0) or a JSON number >= 0. */
static int time_claim(json_t *payload, const char *name, int64_t *out, int *present, mcp_err *err) {
    json_t *v = json_object_get(payload, name);
    *present = v != NULL;
    if (!v) return MCPAUTH_OK;
    if (mcp_json_time(v, out) != 0)
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                           "claim '%s' must be a non-negative NumericDate (a JSON number)", name);
    return MCPAUTH_OK;
}

static int string_claim(json_t *payload, const char *name, mcp_err *err) {
    json_t *v = json_object_get(payload, name);
    if (v && !json_is_string(v))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "claim '%s' must be a string", name);
    return MCPAUTH_OK;
}

static int string_or_strings_claim(json_t *payload, const char *name, mcp_err *err) {
    json_t *v = json_object_get(payload, name);
    if (!v || json_is_string(v)) return MCPAUTH_OK;
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item))
                return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                                   "claim '%s': element %zu is not a string", name, i);
        }
        return MCPAUTH_OK;
    }
    return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID,
                       "claim '%s' must be a string or an array of strings", name);
}

int mcp_claims_check(const mcp_config *cfg, json_t *payload, int64_t now, int64_t *exp_out,
                     int64_t *nbf_out, mcp_err *err) {
    if (!cfg || !json_is_object(payload))
        return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "claims are not a JSON object");
    int rc, present;
    int64_t leeway = cfg->leeway < 0 ? 0 : cfg->leeway;
    if (leeway > 86400) leeway = 86400;
    int64_t iat_future = cfg->max_iat_future < 0 ? 0 : cfg->max_iat_future;
    if (iat_future > 86400) iat_future = 86400;
    if (now < 0) now = 0;
    /* now - leeway cannot overflow (now >= 0, leeway bounded); now + leeway only overflows
     * for a clock beyond year 292 billion, which the comparisons below avoid by moving the
     * leeway to the side that is known to be small. */

    int64_t exp = INT64_MAX, nbf = 0, iat = 0;
    if ((rc = time_claim(payload, "exp", &exp, &present, err)) != MCPAUTH_OK) return rc;
    if (!present) {
        if (cfg->require_exp)
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "token has no 'exp' claim");
        exp = INT64_MAX;
    } else if (exp <= now - leeway) {
        return mcp_err_set(err, MCPAUTH_E_EXPIRED, "token expired (exp is %lld s in the past)",
                           (long long)(now - exp));
    }
    if ((rc = time_claim(payload, "nbf", &nbf, &present, err)) != MCPAUTH_OK) return rc;
    if (present && nbf - leeway > now) /* nbf >= 0 so nbf - leeway cannot overflow */
        return mcp_err_set(err, MCPAUTH_E_NOT_YET_VALID, "token not valid before nbf");
    if (!present) nbf = 0;
    if ((rc = time_claim(payload, "iat", &iat, &present, err)) != MCPAUTH_OK) return rc;
    if (present && iat - iat_future > now)
        return mcp_err_set(err, MCPAUTH_E_NOT_YET_VALID, "token issued in the future (iat)");

    if (cfg->issuer) {
        json_t *iss = json_object_get(payload, "iss");
        if (!iss) return mcp_err_set(err, MCPAUTH_E_ISSUER_MISMATCH, "token has no 'iss' claim");
        if (!json_is_string(iss))
            return mcp_err_set(err, MCPAUTH_E_ISSUER_MISMATCH, "claim 'iss' is not a string");
        if (!json_str_eq(iss, cfg->issuer))
            return mcp_err_set(err, MCPAUTH_E_ISSUER_MISMATCH,
                               "token issuer is not the configured issuer");
    } else if ((rc = string_claim(payload, "iss", err)) != MCPAUTH_OK) {
        return rc;
    }

    if ((rc = string_or_strings_claim(payload, "aud", err)) != MCPAUTH_OK) return rc;
    if ((rc = string_claim(payload, "resource", err)) != MCPAUTH_OK) return rc;
    json_t *aud = json_object_get(payload, "aud");
    int audience_ok = 0;
    if (cfg->audience && cfg->audience[0]) {
        if (!aud)
            return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                               "token has no 'aud' claim but an audience is configured");
        for (char *const *a = cfg->audience; *a && !audience_ok; a++)
            audience_ok = aud_contains(aud, *a);
        if (!audience_ok)
            return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                               "token audience does not contain the configured audience");
    }
    if (cfg->resource &&
        (rc = mcp_claims_check_resource(cfg, payload, cfg->resource, err)) != MCPAUTH_OK)
        return rc;

    if ((rc = string_claim(payload, "sub", err)) != MCPAUTH_OK) return rc;
    if ((rc = string_or_strings_claim(payload, "scope", err)) != MCPAUTH_OK) return rc;
    if ((rc = string_or_strings_claim(payload, "scp", err)) != MCPAUTH_OK) return rc;
    if ((rc = string_claim(payload, "client_id", err)) != MCPAUTH_OK) return rc;
    if ((rc = string_claim(payload, "azp", err)) != MCPAUTH_OK) return rc;

    if (exp_out) *exp_out = exp;
    if (nbf_out) *nbf_out = nbf;
    return MCPAUTH_OK;
}

int mcp_claims_check_resource(const mcp_config *cfg, json_t *payload, const char *resource,
                              mcp_err *err) {
    if (!cfg || !cfg->bind_resource) return MCPAUTH_OK;
    if (!resource || !json_is_object(payload))
        return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH, "token is not bound to a resource");
    json_t *aud = json_object_get(payload, "aud");
    json_t *res = json_object_get(payload, "resource");
    if (res) {
        if (!json_str_eq(res, resource))
            return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                               "token 'resource' claim names another resource");
        return MCPAUTH_OK;
    }
    if (aud && aud_contains(aud, resource)) return MCPAUTH_OK;
    /* a configured audience that the token names stands for the binding */
    for (char *const *a = cfg->audience; aud && a && *a; a++)
        if (aud_contains(aud, *a)) return MCPAUTH_OK;
    return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                       "token is not bound to this resource (aud does not contain it)");
}

int mcp_typ_check(const mcp_config *cfg, const char *typ, mcp_err *err) {
    unsigned policy = cfg ? cfg->typ_policy : (MCP_TYP_ABSENT | MCP_TYP_JWT | MCP_TYP_AT_JWT);
    unsigned bit;
    if (!typ)
        bit = MCP_TYP_ABSENT;
    else if (strcasecmp(typ, "JWT") == 0 || strcasecmp(typ, "application/jwt") == 0)
        bit = MCP_TYP_JWT;
    else if (strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0)
        bit = MCP_TYP_AT_JWT;
    else
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           "token type (typ) is not an access token type");
    if (!(policy & bit))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           bit == MCP_TYP_ABSENT ? "token has no typ header but one is required"
                                                 : "token type (typ) is not allowed by policy");
    return MCPAUTH_OK;
}
