/* jws.c - compact JWS parsing with every structural check, and the verification of a parsed
 * JWS against a key set (candidate keys by kid and alg, each tried with sig.c). libjwt is
 * never used here.
 *
 * Parsing order (each step only runs when the previous ones passed):
 *   1. size cap (before touching the token), 2. exactly two dots, counted without allocating,
 *   3. strict base64url of each segment, 4. header: strict JSON object, 5. alg a known name
 *   (any spelling of "none" and anything unknown -> ALG_NOT_ALLOWED), 6. crit / b64 / cty JWT /
 *   jwk / jku / x5u / x5c -> TOKEN_HEADER, kid a string of <= 256 bytes, typ a string,
 *   7. empty signature -> MALFORMED, empty payload -> MALFORMED (unless MCP_JWS_PAYLOAD_ANY,
 *   where the payload is any octet string, the empty one included: a detached-content JWS then
 *   fails at the signature, which covers the real payload), 8. payload: strict JSON object
 *   unless MCP_JWS_PAYLOAD_ANY.
 */
#include "jose/jws.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/b64url.h"
#include "util/json_strict.h"

#define MCP_JWS_DEFAULT_MAX_LEN 16384
#define MCP_JWS_KID_MAX 256
#define MCP_JWS_MAX_CANDIDATES 16

/* ---- parsing ------------------------------------------------------------------------------- */

static void jws_init(mcp_jws *j) { memset(j, 0, sizeof *j); }

void mcp_jws_clear(mcp_jws *jws) {
    if (!jws) return;
    json_decref(jws->header);
    json_decref(jws->payload);
    free(jws->payload_raw);
    free(jws->sig);
    jws_init(jws);
}

static int is_none_alg(const char *s) { return strcasecmp(s, "none") == 0; }

/* Header members that must not appear: key material or key locations chosen by the sender. */
static const char *const forbidden_members[] = {"jwk", "jku", "x5u", "x5c"};

static int check_header(json_t *h, mcp_jws *out, mcp_err *err) {
    json_t *alg = json_object_get(h, "alg");
    if (!alg) return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: no alg");
    if (!json_is_string(alg))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: alg is not a string");
    const char *name = json_string_value(alg);
    if (is_none_alg(name))
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "unsigned token (alg none) refused");
    out->alg = mcp_alg_from_name(name);
    if (out->alg == MCP_ALG_UNKNOWN)
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "token alg is not supported");

    if (json_object_get(h, "crit"))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           "token header: crit names extensions this verifier does not "
                           "implement");
    json_t *b64 = json_object_get(h, "b64");
    if (b64 && !json_is_true(b64))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                           "token header: unencoded payload (b64) refused");
    json_t *cty = json_object_get(h, "cty");
    if (cty) {
        if (!json_is_string(cty))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: cty not a string");
        if (strcasecmp(json_string_value(cty), "JWT") == 0)
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                               "token header: nested JWT (cty JWT) refused");
    }
    for (size_t i = 0; i < sizeof forbidden_members / sizeof forbidden_members[0]; i++)
        if (json_object_get(h, forbidden_members[i]))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER,
                               "token header: embedded key or key URL (%s) refused",
                               forbidden_members[i]);
    json_t *kid = json_object_get(h, "kid");
    if (kid) {
        if (!json_is_string(kid))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: kid not a string");
        if (json_string_length(kid) > MCP_JWS_KID_MAX)
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: kid longer than %d",
                               MCP_JWS_KID_MAX);
        out->kid = json_string_value(kid);
    }
    json_t *typ = json_object_get(h, "typ");
    if (typ) {
        if (!json_is_string(typ))
            return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "token header: typ not a string");
        out->typ = json_string_value(typ);
    }
    return MCPAUTH_OK;
}

static int decode_segment(const char *s, size_t len, unsigned char **out, size_t *out_len,
                          const char *what, mcp_err *err) {
    int r = mcp_b64url_decode(s, len, out, out_len);
    if (r == -2) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    if (r != 0)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token %s is not strict base64url",
                           what);
    return MCPAUTH_OK;
}

int mcp_jws_parse(const char *token, size_t len, size_t max_len, unsigned flags, mcp_jws *out,
                  mcp_err *err) {
    if (!out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no output");
    jws_init(out);
    if (max_len == 0) max_len = MCP_JWS_DEFAULT_MAX_LEN;
    if (len > max_len)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_TOO_LARGE, "token of %zu bytes exceeds %zu", len,
                           max_len);
    if (!token || len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "empty token");

    /* Exactly two dots; stop counting at the third. */
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                           "token is not a compact JWS (three dot-separated segments)");
    const char *hdr = token, *pay = d1 + 1, *sig = d2 + 1;
    size_t hdr_len = (size_t)(d1 - token), pay_len = (size_t)(d2 - pay);
    size_t sig_len = len - (size_t)(sig - token);
    if (hdr_len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token header is empty");

    int rc;
    unsigned char *hdr_raw = NULL;
    size_t hdr_raw_len = 0;
    if ((rc = decode_segment(hdr, hdr_len, &hdr_raw, &hdr_raw_len, "header", err)) != 0) goto fail;
    if ((rc = decode_segment(pay, pay_len, &out->payload_raw, &out->payload_raw_len, "payload",
                             err)) != 0)
        goto fail;
    if ((rc = decode_segment(sig, sig_len, &out->sig, &out->sig_len, "signature", err)) != 0)
        goto fail;

    out->header = mcp_json_parse((const char *)hdr_raw, hdr_raw_len, MCP_JSON_MAX_DEPTH, 1,
                                 "token header", MCPAUTH_E_TOKEN_MALFORMED, err);
    free(hdr_raw);
    hdr_raw = NULL;
    if (!out->header) {
        rc = err ? err->code : MCPAUTH_E_TOKEN_MALFORMED;
        goto fail;
    }
    if ((rc = check_header(out->header, out, err)) != 0) goto fail;

    if (out->sig_len == 0) {
        rc = mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED, "token signature is empty");
        goto fail;
    }
    if (!(flags & MCP_JWS_PAYLOAD_ANY)) {
        if (out->payload_raw_len == 0) {
            rc = mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                             "token payload is empty (detached content is not supported)");
            goto fail;
        }
        out->payload =
            mcp_json_parse((const char *)out->payload_raw, out->payload_raw_len, MCP_JSON_MAX_DEPTH,
                           1, "token payload", MCPAUTH_E_TOKEN_MALFORMED, err);
        if (!out->payload) {
            rc = err ? err->code : MCPAUTH_E_TOKEN_MALFORMED;
            goto fail;
        }
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(d2 - token);
    return MCPAUTH_OK;
fail:
    free(hdr_raw);
    mcp_jws_clear(out);
    return rc;
}

/* ---- JWS against a keyset ------------------------------------------------------------------ */

int mcp_jws_verify(const mcp_jws *jws, const mcp_keyset *ks, unsigned allowed_mask, mcp_err *err) {
    if (!jws || !jws->signing_input)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no parsed token");
    mcp_alg alg = jws->alg;
    if (alg <= MCP_ALG_UNKNOWN || alg >= MCP_ALG_COUNT || !(allowed_mask & MCP_ALG_BIT(alg)))
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "token alg %s is not allowed",
                           mcp_alg_name(alg));
    if (!ks || ks->n == 0) return mcp_err_set(err, MCPAUTH_E_KEY_NOT_FOUND, "no verification keys");

    const mcp_key *cand[MCP_JWS_MAX_CANDIDATES];
    size_t n = mcp_keyset_candidates(ks, jws->kid, alg, cand, MCP_JWS_MAX_CANDIDATES);
    if (n == 0 && jws->kid) {
        if (mcp_keyset_has_kid(ks, jws->kid))
            return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED,
                               "the key named by kid does not allow alg %s", mcp_alg_name(alg));
        /* The kid names no key: configured keys without a kid (a PEM key or a secret) are
         * still candidates, exactly as for a token without kid. */
        for (size_t i = 0; i < ks->n && n < MCP_JWS_MAX_CANDIDATES; i++)
            if (!ks->keys[i].kid && (ks->keys[i].alg_mask & MCP_ALG_BIT(alg)))
                cand[n++] = &ks->keys[i];
        if (n == 0)
            return mcp_err_set(err, MCPAUTH_E_KEY_NOT_FOUND, "no key matches the token kid");
    }
    if (n == 0) {
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "no configured key allows alg %s",
                           mcp_alg_name(alg));
    }
    int internal = 0;
    for (size_t i = 0; i < n; i++) {
        int r = mcp_sig_verify(alg, cand[i], (const unsigned char *)jws->signing_input,
                               jws->signing_input_len, jws->sig, jws->sig_len);
        if (r == 1) return MCPAUTH_OK;
        if (r < 0) internal = 1;
    }
    return mcp_err_set(err, MCPAUTH_E_BAD_SIGNATURE, "signature verification failed%s",
                       internal ? " (verifier error)" : "");
}
