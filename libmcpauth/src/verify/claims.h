/* claims.h - registered claim validation: exp, nbf, iat, iss, aud, resource binding, types. */
#ifndef MCP_CLAIMS_H
#define MCP_CLAIMS_H

#include <jansson.h>
#include <stdint.h>

#include "config/config.h"

/* Validates payload against cfg at time `now`. On success, *exp_out / *nbf_out receive the
 * token's exp (INT64_MAX if absent and allowed) and nbf (0 if absent).
 * Codes: MCPAUTH_E_EXPIRED, _NOT_YET_VALID, _ISSUER_MISMATCH, _AUDIENCE_MISMATCH,
 * _CLAIM_INVALID. */
int mcp_claims_check(const mcp_config *cfg, json_t *payload, int64_t now, int64_t *exp_out,
                     int64_t *nbf_out, mcp_err *err);

/* RFC 8707 binding of a token to `resource` (the configured one, or one the router derived
 * from the Host header): with cfg->bind_resource, a "resource" claim must equal it, else aud
 * must contain it or a configured audience (cfg->audience). OK when cfg->bind_resource is 0.
 * MCPAUTH_E_AUDIENCE_MISMATCH on refusal. mcp_claims_check applies it to cfg->resource. */
int mcp_claims_check_resource(const mcp_config *cfg, json_t *payload, const char *resource,
                              mcp_err *err);

/* Checks the typ header against cfg->typ_policy. MCPAUTH_E_TOKEN_HEADER on refusal. */
int mcp_typ_check(const mcp_config *cfg, const char *typ, mcp_err *err);

#endif
