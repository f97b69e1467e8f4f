/* check_engine.c - the public verify pipeline end to end: every algorithm family with inline
 * JWKS / PEM / secret, the verified-token cache, required scopes (403), scp, map_claims,
 * development mode, signature-only mode, decode, mint, and the attack catalogue at engine
 * level (one named test each). */
#include <check.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mcpauth.h>

#include "util/b64url.h"
#include "util/common.h"
#include "engine/engine.h"
#include "verify/token_cache.h"
#include "httpd.h"
#include "tokens.h"

#define ISS "https://issuer.example"
#define AUD "https://api.example"
#define RES "https://mcp.example.com/mcp"
#define SECRET32 "0123456789abcdef0123456789abcdef"

/* ---- helpers ---------------------------------------------------------------------------- */

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ck_assert_int_ge(n, 0);
    char *s = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(s);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static mcpauth_engine *engine_ok(const char *cfg) {
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    ck_assert_msg(rc == MCPAUTH_OK, "engine_new(%s): %s", cfg, detail ? detail : "?");
    mcpauth_free(detail);
    return e;
}

/* Engine over an inline JWKS of the given keys plus extra config members ("" for none). */
static mcpauth_engine *engine_jwks(const tu_key *const *keys, size_t n, const char *extra) {
    char *jwks = tu_jwks(keys, n);
    /* tokens are for AUD unless the test configures the audience or the resource itself */
    const char *aud = (strstr(extra, "\"audience\"") || strstr(extra, "\"baseUrl\"") ||
                       strstr(extra, "\"resource\""))
                          ? ""
                          : ",\"audience\":\"" AUD "\"";
    char *cfg =
        xprintf("{\"issuer\":\"" ISS "\"%s,\"jwks\":%s%s%s}", aud, jwks, *extra ? "," : "", extra);
    mcpauth_engine *e = engine_ok(cfg);
    free(cfg);
    free(jwks);
    return e;
}

/* Standard claims valid for 10 minutes, with extra members appended. */
static char *claims(const char *extra) {
    long long now = (long long)mcp_now();
    /* issued for AUD unless the test names the audience */
    const char *aud = strstr(extra, "\"aud\"") ? "" : ",\"aud\":\"" AUD "\"";
    return xprintf("{\"iss\":\"" ISS "\",\"sub\":\"user-1\",\"iat\":%lld,\"exp\":%lld%s%s%s}", now,
                   now + 600, aud, *extra ? "," : "", extra);
}

static char *token_for(const tu_key *k, const char *extra) {
    char *c = claims(extra);
    char *t = tu_sign_claims(k, c);
    free(c);
    return t;
}

/* Verifies and returns the code; the auth JSON (if OK) parsed into *out when out != NULL.
 * Asserts the detail never contains the token's payload or signature. */
static int verify(const mcpauth_engine *e, const char *tok, unsigned flags, json_t **out) {
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, tok, strlen(tok), flags, &auth, &detail);
    if (out) *out = NULL;
    if (rc == MCPAUTH_OK) {
        ck_assert_ptr_nonnull(auth);
        ck_assert_ptr_null(detail);
        if (out) {
            json_error_t je;
            *out = json_loads(auth, 0, &je);
            ck_assert_ptr_nonnull(*out);
        }
    } else {
        ck_assert_ptr_null(auth);
        ck_assert_ptr_nonnull(detail);
        const char *dot = strchr(tok, '.');
        if (dot && strlen(dot + 1) > 8) {
            char seg[9];
            memcpy(seg, dot + 1, 8);
            seg[8] = '\0';
            ck_assert_msg(strstr(detail, seg) == NULL, "detail leaks the token: %s", detail);
        }
    }
    mcpauth_free(auth);
    mcpauth_free(detail);
    return rc;
}

static const char *user_id(json_t *auth) {
    return json_string_value(json_object_get(json_object_get(auth, "user"), "userId"));
}

/* HS256 over header.payload with an arbitrary secret (for the confusion attack). */
static char *hs256_token(const unsigned char *secret, size_t slen, const char *header,
                         const char *payload) {
    char *h = mcp_b64url_encode((const unsigned char *)header, strlen(header), NULL);
    char *p = mcp_b64url_encode((const unsigned char *)payload, strlen(payload), NULL);
    char *si = xprintf("%s.%s", h, p);
    unsigned char mac[32];
    unsigned int mlen = 0;
    ck_assert_ptr_nonnull(
        HMAC(EVP_sha256(), secret, (int)slen, (const unsigned char *)si, strlen(si), mac, &mlen));
    char *s = mcp_b64url_encode(mac, mlen, NULL);
    char *tok = xprintf("%s.%s", si, s);
    free(h);
    free(p);
    free(si);
    free(s);
    return tok;
}

/* ---- every algorithm family ------------------------------------------------------------- */

START_TEST(verify_each_alg_inline_jwks) {
    const char *algs[] = {"RS256", "RS384", "PS256", "PS512", "ES256",
                          "ES384", "ES512", "EdDSA", "HS256", "HS512"};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        tu_key k;
        tu_key_gen(&k, algs[i], "kid-1");
        const tu_key *ks[] = {&k};
        mcpauth_engine *e = engine_jwks(ks, 1, "");
        char *t = token_for(&k, "");
        json_t *auth = NULL;
        ck_assert_msg(verify(e, t, 0, &auth) == MCPAUTH_OK, "alg %s", algs[i]);
        ck_assert_str_eq(user_id(auth), "user-1");
        json_decref(auth);
        free(t);
        mcpauth_engine_free(e);
        tu_key_free(&k);
    }
}
END_TEST

START_TEST(verify_pem_keys) {
    const char *algs[] = {"RS256", "PS256", "ES256", "EdDSA"};
    for (size_t i = 0; i < 4; i++) {
        tu_key k;
        tu_key_gen(&k, algs[i], "pem");
        char *pem = tu_key_pem_public(&k);
        json_t *cfgj = json_pack("{s:s,s:s,s:s}", "issuer", ISS, "audience", AUD, "publicKey", pem);
        char *cfg = json_dumps(cfgj, JSON_COMPACT);
        mcpauth_engine *e = engine_ok(cfg);
        char *t = token_for(&k, "");
        ck_assert_msg(verify(e, t, 0, NULL) == MCPAUTH_OK, "PEM %s", algs[i]);
        free(t);
        mcpauth_engine_free(e);
        free(cfg);
        json_decref(cfgj);
        free(pem);
        tu_key_free(&k);
    }
}
END_TEST

START_TEST(verify_hmac_secret) {
    tu_key k;
    tu_key_gen(&k, "HS256", "");
    memcpy(k.secret, SECRET32, 32);
    k.secret_len = 32;
    mcpauth_engine *e =
        engine_ok("{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"secret\":\"" SECRET32 "\"}");
    char *t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    /* same secret, one byte different */
    k.secret[0] ^= 1;
    t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_BAD_SIGNATURE);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

/* ---- cache, scopes, mapping ------------------------------------------------------------ */

START_TEST(cache_hit_same_result_and_past_exp_fails) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    long long now = (long long)time(NULL);
    char *c =
        xprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":%lld}", now + 100);
    char *t = tu_sign_claims(&k, c);
    char *a1 = NULL, *a2 = NULL, *d = NULL;
    ck_assert_int_eq(mcpauth_verify(e, t, strlen(t), 0, &a1, &d), MCPAUTH_OK);
    /* the result is now in the engine's token cache */
    char *cached = NULL;
    ck_assert_int_eq(mcp_token_cache_get(e->token_cache, t, strlen(t), now, &cached), 1);
    /* the cache keeps the result without the token, which a hit splices back in front */
    char *want = xprintf("{\"accessToken\":\"%s\",%s", t, cached + 1);
    ck_assert_str_eq(want, a1);
    ck_assert_ptr_null(strstr(cached, t));
    free(want);
    free(cached);
    ck_assert_int_eq(mcpauth_verify(e, t, strlen(t), 0, &a2, &d), MCPAUTH_OK);
    ck_assert_str_eq(a1, a2);
    mcpauth_free(a2);
    ck_assert_int_eq(mcpauth_verify(e, t, strlen(t), MCPAUTH_VERIFY_NO_CACHE, &a2, &d), MCPAUTH_OK);
    ck_assert_str_eq(a1, a2);
    mcpauth_free(a2);
    /* inside the leeway after exp: still accepted (re-verified, never served beyond exp) */
    mcp_time_set_override(now + 130);
    ck_assert_int_eq(mcp_token_cache_get(e->token_cache, t, strlen(t), now + 130, &cached), 0);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    /* past exp + leeway: the cached entry must not be served */
    mcp_time_set_override(now + 161);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_EXPIRED);
    mcp_time_set_override(0);
    mcpauth_free(a1);
    free(t);
    free(c);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(cache_respects_max_seconds) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"tokenCacheMaxSeconds\":10");
    long long now = (long long)time(NULL);
    char *t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    char *cached = NULL;
    ck_assert_int_eq(mcp_token_cache_get(e->token_cache, t, strlen(t), now + 5, &cached), 1);
    free(cached);
    ck_assert_int_eq(mcp_token_cache_get(e->token_cache, t, strlen(t), now + 11, &cached), 0);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(required_scopes_give_403_code) {
    tu_key k;
    tu_key_gen(&k, "RS256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"requiredScopes\":[\"tools:read\",\"tools:call\"]");
    char *t = token_for(&k, "\"scope\":\"tools:read\"");
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, t, strlen(t), 0, &auth, &detail);
    ck_assert_int_eq(rc, MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_int_eq(mcpauth_http_status(rc), 403);
    ck_assert_str_eq(mcpauth_oauth_error(rc), "insufficient_scope");
    ck_assert_str_eq(detail, "missing required scope: tools:call");
    mcpauth_free(detail);
    free(t);
    t = token_for(&k, "\"scope\":\"tools:read tools:call\"");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    /* permissions count as granted scopes */
    t = token_for(&k, "\"scope\":\"tools:read\",\"permissions\":[\"tools:call\"]");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(scp_array_grants_scopes) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"requiredScopes\":[\"files:read\"]");
    char *t = token_for(&k, "\"scp\":[\"files:read\",\"files:write\"],\"scope\":\"openid\"");
    json_t *auth = NULL;
    ck_assert_int_eq(verify(e, t, 0, &auth), MCPAUTH_OK);
    json_t *sc = json_object_get(auth, "scopes");
    ck_assert_uint_eq(json_array_size(sc), 3);
    ck_assert_str_eq(json_string_value(json_array_get(sc, 0)), "openid");
    ck_assert_str_eq(json_string_value(json_array_get(sc, 2)), "files:write");
    json_decref(auth);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(map_claims_applies_mapping_and_scopes) {
    mcpauth_engine *e = engine_ok("{\"provider\":\"keycloak\",\"audience\":\"" AUD
                                  "\",\"serverUrl\":\"https://kc.example\","
                                  "\"realm\":\"r\",\"claims\":{\"email\":\"mail\"},"
                                  "\"requiredScopes\":[\"api:read\"]}");
    /* the scope comes from the scope claim; a Keycloak client role (user.permissions) would
     * not grant it */
    const char *cl = "{\"sub\":\"k\",\"mail\":\"m@x\",\"realm_access\":{\"roles\":[\"a\"]},"
                     "\"scope\":\"api:read\"}";
    char *auth = NULL, *detail = NULL;
    ck_assert_int_eq(mcpauth_map_claims(e, cl, strlen(cl), "t.o.k", 5, &auth, &detail), MCPAUTH_OK);
    json_error_t je;
    json_t *j = json_loads(auth, 0, &je);
    ck_assert_str_eq(user_id(j), "k");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "user"), "email")),
                     "m@x");
    ck_assert_str_eq(json_string_value(json_object_get(j, "accessToken")), "t.o.k");
    json_decref(j);
    mcpauth_free(auth);
    const char *cl2 = "{\"sub\":\"k\",\"resource_access\":{\"api\":{\"roles\":[\"read\"]}}}";
    ck_assert_int_eq(mcpauth_map_claims(e, cl2, strlen(cl2), NULL, 0, &auth, &detail),
                     MCPAUTH_E_INSUFFICIENT_SCOPE);
    ck_assert_ptr_null(auth);
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_map_claims(e, "[1]", 3, NULL, 0, &auth, &detail),
                     MCPAUTH_E_INVALID_ARGUMENT);
    mcpauth_free(detail);
    mcpauth_engine_free(e);
}
END_TEST

/* The proxy preset's user mapping applies to JWTs too: Entra's stable object id (oid) is the
 * userId when present (else sub, from the provider mapping), preferred_username the username. */
START_TEST(proxy_preset_user_map_on_jwts) {
    tu_key k;
    ck_assert_int_eq(tu_key_gen(&k, "RS256", "az1"), 0);
    const tu_key *keys[] = {&k};
    mcpauth_engine *e = engine_jwks(keys, 1,
                                    "\"baseUrl\":\"https://mcp.example.com\",\"proxy\":{\"preset\":"
                                    "\"azure\",\"tenant\":\"contoso\",\"clientId\":\"az\","
                                    "\"sealingSecret\":\"" SECRET32 "\"}");
    char *tok = token_for(&k, "\"aud\":\"" RES "\",\"oid\":\"oid-1\",\"preferred_username\":"
                              "\"ada@contoso.example\",\"name\":\"Ada\"");
    json_t *a = NULL;
    ck_assert_int_eq(verify(e, tok, 0, &a), MCPAUTH_OK);
    ck_assert_str_eq(user_id(a), "oid-1");
    json_t *u = json_object_get(a, "user");
    ck_assert_str_eq(json_string_value(json_object_get(u, "username")), "ada@contoso.example");
    ck_assert_str_eq(json_string_value(json_object_get(u, "name")), "Ada");
    json_decref(a);
    free(tok);
    tok = token_for(&k, "\"aud\":\"" RES "\"");
    ck_assert_int_eq(verify(e, tok, 0, &a), MCPAUTH_OK);
    ck_assert_str_eq(user_id(a), "user-1");
    ck_assert_ptr_null(json_object_get(json_object_get(a, "user"), "username"));
    json_decref(a);
    free(tok);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

/* hostVerifies: the engine verifies nothing (CONFIG with a detail saying what to do) and maps
 * the claims the host verified. */
START_TEST(host_verifies_engine) {
    mcpauth_engine *e =
        engine_ok("{\"provider\":\"custom\",\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\","
                  "\"authEndpoint\":\"" ISS "/a\",\"tokenEndpoint\":\"" ISS "/t\","
                  "\"hostVerifies\":true,\"requiredScopes\":\"read\"}");
    tu_key k;
    ck_assert_int_eq(tu_key_gen(&k, "ES256", "k1"), 0);
    char *tok = token_for(&k, "\"scope\":\"read\"");
    const unsigned flags[] = {0, MCPAUTH_VERIFY_NO_CACHE, MCPAUTH_VERIFY_NONBLOCK,
                              MCPAUTH_VERIFY_SIGNATURE_ONLY};
    for (size_t i = 0; i < 4; i++) {
        char *auth = (char *)"sentinel", *detail = NULL;
        ck_assert_int_eq(mcpauth_verify(e, tok, strlen(tok), flags[i], &auth, &detail),
                         MCPAUTH_E_CONFIG);
        ck_assert_ptr_null(auth);
        ck_assert_str_eq(detail, "this engine verifies no tokens itself (hostVerifies): verify in "
                                 "the host and call mcpauth_map_claims");
        mcpauth_free(detail);
    }
    const char *cl = "{\"sub\":\"h1\",\"scope\":\"read\",\"preferred_username\":\"hu\"}";
    char *auth = NULL, *detail = NULL;
    ck_assert_int_eq(mcpauth_map_claims(e, cl, strlen(cl), "opaque", 6, &auth, &detail),
                     MCPAUTH_OK);
    json_error_t je;
    json_t *j = json_loads(auth, 0, &je);
    ck_assert_str_eq(user_id(j), "h1");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "user"), "username")),
                     "hu");
    json_decref(j);
    mcpauth_free(auth);
    free(tok);
    tu_key_free(&k);
    mcpauth_engine_free(e);
}
END_TEST

/* ---- development mode ------------------------------------------------------------------ */

START_TEST(dev_mode_warns_and_refuses_in_production) {
    mcpauth_engine *e = engine_ok("{\"verifyJwt\":false,\"audience\":\"" AUD "\"}");
    const char *tok = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZXYifQ.";
    fflush(stderr);
    int saved = dup(2);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    dup2(fileno(tmp), 2);
    json_t *auth = NULL;
    int rc1 = verify(e, tok, 0, &auth);
    int rc2 = verify(e, "abc.def", 0, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    char out[1024] = {0};
    size_t n = fread(out, 1, sizeof out - 1, tmp);
    fclose(tmp);
    ck_assert_int_eq(rc1, MCPAUTH_OK);
    ck_assert_str_eq(user_id(auth), "dev");
    json_decref(auth);
    ck_assert_int_eq(rc2, MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_uint_gt(n, 0);
    const char *w = "libmcpauth WARNING: verifyJwt is false: token signatures are NOT verified "
                    "(development only)";
    char *first = strstr(out, w);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(strstr(first + 1, w)); /* once per verify call */
    mcpauth_engine_free(e);

    setenv("NODE_ENV", "production", 1);
    mcpauth_engine *e2 = NULL;
    char *detail = NULL;
    ck_assert_int_eq(mcpauth_engine_new("{\"verifyJwt\":false}", 19, 0, &e2, &detail),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(e2);
    ck_assert_ptr_nonnull(strstr(detail, "verifyJwt"));
    mcpauth_free(detail);
    /* NO_ENV does not hide production */
    ck_assert_int_eq(
        mcpauth_engine_new("{\"verifyJwt\":false}", 19, MCPAUTH_ENGINE_NO_ENV, &e2, NULL),
        MCPAUTH_E_CONFIG);
    unsetenv("NODE_ENV");
}
END_TEST

/* ---- Supabase: the legacy secret and the project's JWKS side by side ------------------- */

static char *sb_token(const tu_key *k, const char *iss, const char *extra) {
    long long now = (long long)mcp_now();
    char *c = xprintf("{\"iss\":\"%s\",\"aud\":\"authenticated\",\"sub\":\"sb-user\","
                      "\"role\":\"authenticated\",\"exp\":%lld%s}",
                      iss, now + 600, extra);
    char *h = xprintf("{\"alg\":\"%s\",\"typ\":\"JWT\"%s%s%s}", k->alg,
                      k->kid[0] ? ",\"kid\":\"" : "", k->kid, k->kid[0] ? "\"" : "");
    char *tok = tu_sign(k, h, c);
    free(c);
    free(h);
    return tok;
}

/* The project signs with ES256 / RS256 keys published at its JWKS, and legacy tokens with the
 * JWT secret: with jwtSecret both are accepted, each only with its own key. */
START_TEST(supabase_secret_and_project_jwks) {
    tu_httpd *srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
    tu_key es, rs, hs, other;
    ck_assert_int_eq(tu_key_gen(&es, "ES256", "sb-es"), 0);
    ck_assert_int_eq(tu_key_gen(&rs, "RS256", "sb-rs"), 0);
    ck_assert_int_eq(tu_key_gen(&hs, "HS256", ""), 0);
    ck_assert_int_eq(tu_key_gen(&other, "ES256", "sb-es"), 0); /* same kid, not published */
    memcpy(hs.secret, SECRET32, 32);
    hs.secret_len = 32;
    const tu_key *pub[] = {&es, &rs};
    char *jwks = tu_jwks(pub, 2);
    ck_assert_int_eq(tu_httpd_route(srv, "/auth/v1/.well-known/jwks.json", 200, jwks), 0);
    char *base = mcp_strdup(tu_httpd_url(srv, ""));
    char *iss = xprintf("%s/auth/v1", base);
    char *cfg = xprintf(
        "{\"provider\":\"supabase\",\"supabaseUrl\":\"%s\",\"jwtSecret\":\"" SECRET32 "\"}", base);
    mcpauth_engine *e = engine_ok(cfg);
    json_t *a = NULL;
    char *t_es = sb_token(&es, iss, ""), *t_rs = sb_token(&rs, iss, ""),
         *t_hs = sb_token(&hs, iss, ""), *t_other = sb_token(&other, iss, "");
    ck_assert_int_eq(verify(e, t_es, 0, &a), MCPAUTH_OK);
    ck_assert_str_eq(user_id(a), "sb-user");
    json_decref(a);
    ck_assert_int_eq(verify(e, t_rs, 0, NULL), MCPAUTH_OK);
    ck_assert_int_eq(verify(e, t_hs, 0, NULL), MCPAUTH_OK);
    ck_assert_int_eq(verify(e, t_other, 0, NULL), MCPAUTH_E_BAD_SIGNATURE);
    ck_assert_uint_ge(tu_httpd_hits(srv, "/auth/v1/.well-known/jwks.json"), 1);
    /* an HS256 token keyed with the published EC key's JWK text is still only HS256 under the
     * secret: a wrong MAC */
    tu_key conf = hs;
    char *jwk_text = tu_key_jwk(&es);
    size_t jl = strlen(jwk_text) < sizeof conf.secret ? strlen(jwk_text) : sizeof conf.secret;
    memcpy(conf.secret, jwk_text, jl);
    conf.secret_len = jl;
    char *t_conf = sb_token(&conf, iss, "");
    ck_assert_int_eq(verify(e, t_conf, 0, NULL), MCPAUTH_E_BAD_SIGNATURE);
    mcpauth_engine_free(e);
    free(cfg);
    /* without the secret: the JWKS only, HS256 is not an allowed algorithm */
    cfg = xprintf("{\"provider\":\"supabase\",\"supabaseUrl\":\"%s\"}", base);
    e = engine_ok(cfg);
    ck_assert_int_eq(verify(e, t_es, 0, NULL), MCPAUTH_OK);
    ck_assert_int_eq(verify(e, t_hs, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    mcpauth_engine_free(e);
    free(cfg);
    free(t_es);
    free(t_rs);
    free(t_hs);
    free(t_other);
    free(t_conf);
    free(jwk_text);
    free(iss);
    free(base);
    free(jwks);
    tu_key_free(&es);
    tu_key_free(&rs);
    tu_key_free(&hs);
    tu_key_free(&other);
    tu_httpd_stop(srv);
}
END_TEST

/* ---- tokens must be issued for this server --------------------------------------------- */

static void capture_stderr_begin(int *saved, FILE **tmp) {
    fflush(stderr);
    *saved = dup(2);
    *tmp = tmpfile();
    ck_assert_ptr_nonnull(*tmp);
    dup2(fileno(*tmp), 2);
}

static void capture_stderr_end(int saved, FILE *tmp, char *out, size_t cap) {
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(out, 1, cap - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
}

START_TEST(audience_required_unless_allow_any_audience) {
    const char *none = "{\"issuer\":\"" ISS "\",\"secret\":\"" SECRET32 "\"}";
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    /* neither audience nor resource: refused, naming both options (and MCP_URL only when the
     * environment is read) */
    ck_assert_int_eq(mcpauth_engine_new(none, strlen(none), MCPAUTH_ENGINE_NO_ENV, &e, &detail),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(detail, "'audience'"));
    ck_assert_ptr_nonnull(strstr(detail, "'baseUrl'"));
    ck_assert_ptr_nonnull(strstr(detail, "'allowAnyAudience': true"));
    ck_assert_ptr_null(strstr(detail, "MCP_URL"));
    mcpauth_free(detail);
    unsetenv("MCP_URL");
    ck_assert_int_eq(mcpauth_engine_new(none, strlen(none), 0, &e, &detail), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(detail, "'baseUrl' (or MCP_URL)"));
    mcpauth_free(detail);
    /* an audience, a resource or baseUrl (also from MCP_URL) each satisfy it */
    const char *ok[] = {"{\"issuer\":\"" ISS "\",\"secret\":\"" SECRET32 "\",\"audience\":\"x\"}",
                        "{\"issuer\":\"" ISS "\",\"secret\":\"" SECRET32
                        "\",\"resource\":\"https://mcp.example/mcp\"}",
                        "{\"issuer\":\"" ISS "\",\"secret\":\"" SECRET32
                        "\",\"baseUrl\":\"https://mcp.example\"}"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(mcpauth_engine_new(ok[i], strlen(ok[i]), MCPAUTH_ENGINE_NO_ENV, &e, NULL),
                         MCPAUTH_OK);
        mcpauth_engine_free(e);
    }
    setenv("MCP_URL", "https://mcp.example", 1);
    ck_assert_int_eq(mcpauth_engine_new(none, strlen(none), 0, &e, NULL), MCPAUTH_OK);
    mcpauth_engine_free(e);
    unsetenv("MCP_URL");

    /* the explicit opt-out: accepted, and said on stderr at every engine creation */
    const char *any =
        "{\"issuer\":\"" ISS "\",\"secret\":\"" SECRET32 "\",\"allowAnyAudience\":true}";
    int saved;
    FILE *tmp;
    char out[2048];
    capture_stderr_begin(&saved, &tmp);
    int rc1 = mcpauth_engine_new(any, strlen(any), MCPAUTH_ENGINE_NO_ENV, &e, NULL);
    mcpauth_engine *e2 = NULL;
    int rc2 = mcpauth_engine_new(any, strlen(any), MCPAUTH_ENGINE_NO_ENV, &e2, NULL);
    capture_stderr_end(saved, tmp, out, sizeof out);
    ck_assert_int_eq(rc1, MCPAUTH_OK);
    ck_assert_int_eq(rc2, MCPAUTH_OK);
    const char *w = "libmcpauth WARNING: allowAnyAudience is true: tokens issued for any audience "
                    "are accepted";
    char *first = strstr(out, w);
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(strstr(first + 1, w));
    tu_key k;
    ck_assert_int_eq(tu_key_gen(&k, "HS256", "h"), 0);
    memcpy(k.secret, SECRET32, 32);
    k.secret_len = 32;
    char *tok = token_for(&k, "\"aud\":\"https://anyone.example\"");
    ck_assert_int_eq(verify(e, tok, 0, NULL), MCPAUTH_OK);
    mcpauth_engine_free(e);
    mcpauth_engine_free(e2);
    char *cfg = NULL;
    ck_assert_int_eq(mcpauth_engine_new(ok[0], strlen(ok[0]), 0, &e, NULL), MCPAUTH_OK);
    ck_assert_int_eq(mcpauth_engine_config(e, &cfg), MCPAUTH_OK);
    ck_assert_ptr_nonnull(strstr(cfg, "\"allowAnyAudience\":false"));
    mcpauth_free(cfg);
    mcpauth_engine_free(e);

    /* an engine for signature checks only needs no audience, and does nothing else */
    ck_assert_int_eq(
        mcpauth_engine_new(none, strlen(none), MCPAUTH_ENGINE_SIGNATURE_ONLY, &e, &detail),
        MCPAUTH_OK);
    ck_assert_int_eq(verify(e, tok, MCPAUTH_VERIFY_SIGNATURE_ONLY, NULL), MCPAUTH_OK);
    char *auth = NULL;
    ck_assert_int_eq(mcpauth_verify(e, tok, strlen(tok), 0, &auth, &detail),
                     MCPAUTH_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(auth);
    ck_assert_ptr_nonnull(strstr(detail, "signature checks only"));
    mcpauth_free(detail);
    mcpauth_engine_free(e);
    free(tok);
    tu_key_free(&k);
}
END_TEST

/* ---- the attack catalogue ---------------------------------------------------------------- */

START_TEST(attack_hs256_confusion_with_rsa_jwks) {
    tu_key k;
    tu_key_gen(&k, "RS256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    char *pem = tu_key_pem_public(&k);
    char *c = claims("");
    /* MAC keyed with the public key PEM text (and with the JWK text) */
    char *t = hs256_token((const unsigned char *)pem, strlen(pem),
                          "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    char *jwk = tu_key_jwk(&k);
    t = hs256_token((const unsigned char *)jwk, strlen(jwk), "{\"alg\":\"HS256\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    free(jwk);
    free(c);
    free(pem);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_alg_none) {
    tu_key k;
    tu_key_gen(&k, "RS256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    char *c = claims("");
    char *p = mcp_b64url_encode((const unsigned char *)c, strlen(c), NULL);
    const char *hdrs[] = {"{\"alg\":\"none\"}", "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}"};
    for (size_t i = 0; i < 3; i++) {
        char *h = mcp_b64url_encode((const unsigned char *)hdrs[i], strlen(hdrs[i]), NULL);
        char *t1 = xprintf("%s.%s.", h, p);
        char *t2 = xprintf("%s.%s.c2lnbmF0dXJl", h, p);
        ck_assert_int_eq(verify(e, t1, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
        ck_assert_int_eq(verify(e, t2, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
        free(t1);
        free(t2);
        free(h);
    }
    free(p);
    free(c);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_aud_missing_when_configured) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"audience\":\"api://mine\"");
    char *t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    free(t);
    t = token_for(&k, "\"aud\":\"api://theirs\"");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    free(t);
    t = token_for(&k, "\"aud\":[\"api://theirs\",\"api://mine\"]");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_token_for_another_resource) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"resource\":\"" RES "\"");
    char *t = token_for(&k, "\"aud\":\"https://other.example.com/mcp\"");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    free(t);
    t = token_for(&k, "\"aud\":\"" RES "\",\"resource\":\"https://other.example.com/mcp\"");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    free(t);
    t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_AUDIENCE_MISMATCH);
    free(t);
    json_t *auth = NULL;
    t = token_for(&k, "\"aud\":[\"x\",\"" RES "\"]");
    ck_assert_int_eq(verify(e, t, 0, &auth), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(auth, "resource")), RES);
    json_decref(auth);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_id_token_typ_under_at_jwt_policy) {
    tu_key k;
    tu_key_gen(&k, "RS256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"typ\":\"at+jwt\"");
    char *c = claims("");
    char *t = tu_sign_claims(&k, c); /* typ JWT, as an ID token has */
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_HEADER);
    free(t);
    t = tu_sign(&k, "{\"alg\":\"RS256\",\"kid\":\"k1\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_HEADER);
    free(t);
    t = tu_sign(&k, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"at+jwt\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    t = tu_sign(&k, "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"application/at+jwt\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_OK);
    free(t);
    free(c);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_alg_downgrade_within_family) {
    tu_key k;
    tu_key_gen(&k, "RS256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    tu_key k512 = k; /* same RSA key, signing RS512 */
    strcpy(k512.alg, "RS512");
    char *c = claims("");
    char *t = tu_sign(&k512, "{\"alg\":\"RS512\",\"kid\":\"k1\"}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    free(c);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_algorithms_option_pins) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"algorithms\":[\"RS256\"]");
    char *t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_unknown_kid_and_tampering) {
    tu_key k, other;
    tu_key_gen(&k, "ES256", "k1");
    tu_key_gen(&other, "ES256", "k2");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    char *t = token_for(&other, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_KEY_NOT_FOUND);
    free(t);
    /* right kid, wrong key */
    strcpy(other.kid, "k1");
    t = token_for(&other, "");
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_BAD_SIGNATURE);
    free(t);
    /* payload swapped after signing */
    t = token_for(&k, "");
    char *c2 = claims("\"admin\":true");
    char *p2 = mcp_b64url_encode((const unsigned char *)c2, strlen(c2), NULL);
    char *d1 = strchr(t, '.'), *d2 = strchr(d1 + 1, '.');
    *d1 = '\0';
    char *forged = xprintf("%s.%s%s", t, p2, d2);
    ck_assert_int_eq(verify(e, forged, 0, NULL), MCPAUTH_E_BAD_SIGNATURE);
    free(forged);
    free(p2);
    free(c2);
    free(t);
    mcpauth_engine_free(e);
    tu_key_free(&k);
    tu_key_free(&other);
}
END_TEST

START_TEST(attack_embedded_jwk_and_crit) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    char *c = claims("");
    char *jwk = tu_key_jwk(&k);
    char *h = xprintf("{\"alg\":\"ES256\",\"kid\":\"k1\",\"jwk\":%s}", jwk);
    char *t = tu_sign(&k, h, c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_HEADER);
    free(t);
    t = tu_sign(&k, "{\"alg\":\"ES256\",\"kid\":\"k1\",\"crit\":[\"exp\"],\"exp\":1}", c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_HEADER);
    free(t);
    free(h);
    free(jwk);
    free(c);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(attack_claims_expired_wrong_issuer_oversize) {
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "\"maxTokenBytes\":2048");
    long long now = (long long)time(NULL);
    char *c =
        xprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":%lld}", now - 120);
    char *t = tu_sign_claims(&k, c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_EXPIRED);
    free(t);
    free(c);
    c = xprintf("{\"iss\":\"" ISS "/\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":%lld}", now + 120);
    t = tu_sign_claims(&k, c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_ISSUER_MISMATCH);
    free(t);
    free(c);
    c = xprintf("{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",\"exp\":\"%lld\"}",
                now + 120);
    t = tu_sign_claims(&k, c);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_CLAIM_INVALID);
    free(t);
    free(c);
    char *pad = malloc(3000);
    memset(pad, 'a', 2999);
    pad[2999] = '\0';
    char *extra = xprintf("\"pad\":\"%s\"", pad);
    t = token_for(&k, extra);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_TOO_LARGE);
    free(t);
    free(extra);
    free(pad);
    ck_assert_int_eq(verify(e, "", 0, NULL), MCPAUTH_E_TOKEN_MISSING);
    /* RFC 6750 section 3.1: no credentials, no error code (the challenge carries none) */
    ck_assert_ptr_null(mcpauth_oauth_error(MCPAUTH_E_TOKEN_MISSING));
    ck_assert_int_eq(mcpauth_http_status(MCPAUTH_E_TOKEN_MISSING), 401);
    ck_assert_int_eq(verify(e, "a.b.c.d", 0, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

/* ---- other modes ------------------------------------------------------------------------ */

START_TEST(signature_only_mode) {
    tu_key k;
    tu_key_gen(&k, "EdDSA", "k1");
    const tu_key *ks[] = {&k};
    mcpauth_engine *e = engine_jwks(ks, 1, "");
    char *t = tu_sign(&k, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", "foo");
    json_t *out = NULL;
    ck_assert_int_eq(verify(e, t, MCPAUTH_VERIFY_SIGNATURE_ONLY, &out), MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(out, "payloadBase64url")), "Zm9v");
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(out, "header"), "alg")),
                     "EdDSA");
    json_decref(out);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_TOKEN_MALFORMED);
    free(t);
    /* the signature is still checked */
    tu_key o;
    tu_key_gen(&o, "EdDSA", "k1");
    t = tu_sign(&o, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", "foo");
    ck_assert_int_eq(verify(e, t, MCPAUTH_VERIFY_SIGNATURE_ONLY, NULL), MCPAUTH_E_BAD_SIGNATURE);
    free(t);
    tu_key_free(&o);
    mcpauth_engine_free(e);
    tu_key_free(&k);
}
END_TEST

START_TEST(decode_unverified) {
    char *out = NULL, *detail = NULL;
    const char *tok = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    ck_assert_int_eq(mcpauth_decode_unverified(tok, strlen(tok), &out, &detail), MCPAUTH_OK);
    ck_assert_str_eq(out, "{\"verified\":false,\"header\":{\"alg\":\"RS256\"},\"payload\":"
                          "{\"sub\":\"x\"}}");
    mcpauth_free(out);
    ck_assert_int_eq(mcpauth_decode_unverified("x.y", 3, &out, &detail), MCPAUTH_E_TOKEN_MALFORMED);
    ck_assert_ptr_null(out);
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_decode_unverified("e30.!!!.x", 9, &out, &detail),
                     MCPAUTH_E_TOKEN_MALFORMED);
    mcpauth_free(detail);
}
END_TEST

START_TEST(mint_round_trip) {
    const char *algs[] = {"RS256", "ES256", "ES384"};
    for (size_t i = 0; i < 3; i++) {
        tu_key k;
        tu_key_gen(&k, algs[i], "m1");
        const tu_key *ks[] = {&k};
        mcpauth_engine *e = engine_jwks(ks, 1, "");
        char *priv = tu_key_pem_private(&k);
        char *c = claims("");
        json_error_t je;
        json_t *req = json_pack("{s:s,s:s,s:s,s:o,s:{s:s}}", "alg", algs[i], "key", priv, "kid",
                                "m1", "claims", json_loads(c, 0, &je), "header", "x-test", "yes");
        char *rq = json_dumps(req, JSON_COMPACT);
        char *tok = NULL, *detail = NULL;
        ck_assert_msg(mcpauth_mint(rq, strlen(rq), &tok, &detail) == MCPAUTH_OK, "mint %s: %s",
                      algs[i], detail ? detail : "");
        json_t *auth = NULL;
        ck_assert_int_eq(verify(e, tok, 0, &auth), MCPAUTH_OK);
        ck_assert_str_eq(user_id(auth), "user-1");
        json_decref(auth);
        char *dec = NULL;
        ck_assert_int_eq(mcpauth_decode_unverified(tok, strlen(tok), &dec, NULL), MCPAUTH_OK);
        ck_assert_ptr_nonnull(strstr(dec, "\"x-test\":\"yes\""));
        ck_assert_ptr_nonnull(strstr(dec, "\"typ\":\"JWT\""));
        ck_assert_ptr_nonnull(strstr(dec, "\"kid\":\"m1\""));
        mcpauth_free(dec);
        mcpauth_free(tok);
        free(rq);
        json_decref(req);
        free(c);
        free(priv);
        mcpauth_engine_free(e);
        tu_key_free(&k);
    }
    /* HS256 against a secret config */
    mcpauth_engine *e =
        engine_ok("{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"secret\":\"" SECRET32 "\"}");
    char *c = claims("");
    char *rq = xprintf("{\"alg\":\"HS256\",\"key\":\"" SECRET32 "\",\"claims\":%s}", c);
    char *tok = NULL, *detail = NULL;
    ck_assert_int_eq(mcpauth_mint(rq, strlen(rq), &tok, &detail), MCPAUTH_OK);
    ck_assert_int_eq(verify(e, tok, 0, NULL), MCPAUTH_OK);
    mcpauth_free(tok);
    free(rq);
    /* refusals */
    const char *bad[] = {"{\"alg\":\"none\",\"key\":\"x\",\"claims\":{}}",
                         "{\"alg\":\"HS256\",\"claims\":{}}",
                         "{\"alg\":\"RS256\",\"key\":\"not a pem\",\"claims\":{}}",
                         "{\"alg\":\"HS256\",\"key\":\"k\",\"claims\":[]}",
                         "{\"alg\":\"HS256\",\"key\":\"k\",\"header\":{\"alg\":\"none\"}}",
                         "{\"alg\":\"HS256\",\"key\":\"k\",\"bogus\":1}",
                         "{\"alg\":\"HS256\",\"key\":\"k\",\"header\":{\"typ\":\"at+jwt\"}}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(mcpauth_mint(bad[i], strlen(bad[i]), &tok, &detail) ==
                          MCPAUTH_E_INVALID_ARGUMENT,
                      "mint accepted %s", bad[i]);
        ck_assert_ptr_null(tok);
        mcpauth_free(detail);
    }
    free(c);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(engine_config_view_and_flags) {
    mcpauth_engine *e =
        engine_ok("{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"secret\":\"" SECRET32 "\"}");
    char *cfg = NULL;
    ck_assert_int_eq(mcpauth_engine_config(e, &cfg), MCPAUTH_OK);
    ck_assert_ptr_null(strstr(cfg, SECRET32));
    ck_assert_ptr_nonnull(strstr(cfg, "\"issuer\":\"" ISS "\""));
    mcpauth_free(cfg);
    mcpauth_engine_free(e);

    /* MCPAUTH_ENGINE_NO_ENV ignores MCP_USE_OAUTH_* */
    setenv("MCP_USE_OAUTH_AUTH0_DOMAIN", "t.auth0.com", 1);
    setenv("MCP_USE_OAUTH_AUTH0_AUDIENCE", "api", 1);
    const char *a0 = "{\"provider\":\"auth0\"}";
    mcpauth_engine *e2 = NULL;
    char *detail = NULL;
    ck_assert_int_eq(mcpauth_engine_new(a0, strlen(a0), MCPAUTH_ENGINE_NO_ENV, &e2, &detail),
                     MCPAUTH_E_CONFIG);
    /* under NO_ENV the message names the option only, not a variable that would be ignored */
    ck_assert_ptr_nonnull(strstr(detail, "auth0: option 'domain' is required"));
    ck_assert_ptr_null(strstr(detail, "MCP_USE_OAUTH"));
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_engine_new(a0, strlen(a0), 0, &e2, NULL), MCPAUTH_OK);
    ck_assert_int_eq(mcpauth_engine_config(e2, &cfg), MCPAUTH_OK);
    ck_assert_ptr_nonnull(strstr(cfg, "\"issuer\":\"https://t.auth0.com/\""));
    mcpauth_free(cfg);
    mcpauth_engine_free(e2);
    unsetenv("MCP_USE_OAUTH_AUTH0_DOMAIN");
    unsetenv("MCP_USE_OAUTH_AUTH0_AUDIENCE");

    /* a bad inline key is a configuration error naming the option */
    const char *badkey = "{\"issuer\":\"" ISS "\",\"jwks\":{\"keys\":[{\"kty\":\"RSA\","
                         "\"n\":\"AQAB\",\"e\":\"AQAB\"}]}}";
    ck_assert_int_eq(mcpauth_engine_new(badkey, strlen(badkey), 0, &e2, &detail), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(detail, "'jwks'"));
    mcpauth_free(detail);
    ck_assert_int_eq(mcpauth_engine_new(NULL, 0, 0, &e2, NULL), MCPAUTH_E_INVALID_ARGUMENT);
    mcpauth_engine_free(NULL);
}
END_TEST

START_TEST(nonblock_remote_jwks) {
    mcpauth_engine *e = engine_ok("{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"jwksUrl\":"
                                  "\"http://127.0.0.1:1/jwks\",\"httpTimeoutMs\":1000}");
    tu_key k;
    tu_key_gen(&k, "ES256", "k1");
    char *t = token_for(&k, "");
    ck_assert_int_eq(verify(e, t, MCPAUTH_VERIFY_NONBLOCK, NULL), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(verify(e, t, 0, NULL), MCPAUTH_E_KEYS_UNAVAILABLE);
    /* HMAC never goes to the remote set */
    char *c = claims("");
    char *h = hs256_token((const unsigned char *)SECRET32, 32, "{\"alg\":\"HS256\"}", c);
    ck_assert_int_eq(verify(e, h, 0, NULL), MCPAUTH_E_ALG_NOT_ALLOWED);
    free(h);
    free(c);
    free(t);
    tu_key_free(&k);
    mcpauth_engine_free(e);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("verify");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, verify_each_alg_inline_jwks);
    tcase_add_test(tc, verify_pem_keys);
    tcase_add_test(tc, verify_hmac_secret);
    tcase_add_test(tc, cache_hit_same_result_and_past_exp_fails);
    tcase_add_test(tc, cache_respects_max_seconds);
    tcase_add_test(tc, required_scopes_give_403_code);
    tcase_add_test(tc, scp_array_grants_scopes);
    tcase_add_test(tc, map_claims_applies_mapping_and_scopes);
    tcase_add_test(tc, audience_required_unless_allow_any_audience);
    tcase_add_test(tc, supabase_secret_and_project_jwks);
    tcase_add_test(tc, proxy_preset_user_map_on_jwts);
    tcase_add_test(tc, host_verifies_engine);
    tcase_add_test(tc, dev_mode_warns_and_refuses_in_production);
    tcase_add_test(tc, signature_only_mode);
    tcase_add_test(tc, decode_unverified);
    tcase_add_test(tc, mint_round_trip);
    tcase_add_test(tc, engine_config_view_and_flags);
    tcase_add_test(tc, nonblock_remote_jwks);
    suite_add_tcase(s, tc);
    TCase *ta = tcase_create("attacks");
    tcase_set_timeout(ta, 60);
    tcase_add_test(ta, attack_hs256_confusion_with_rsa_jwks);
    tcase_add_test(ta, attack_alg_none);
    tcase_add_test(ta, attack_aud_missing_when_configured);
    tcase_add_test(ta, attack_token_for_another_resource);
    tcase_add_test(ta, attack_id_token_typ_under_at_jwt_policy);
    tcase_add_test(ta, attack_alg_downgrade_within_family);
    tcase_add_test(ta, attack_algorithms_option_pins);
    tcase_add_test(ta, attack_unknown_kid_and_tampering);
    tcase_add_test(ta, attack_embedded_jwk_and_crit);
    tcase_add_test(ta, attack_claims_expired_wrong_issuer_oversize);
    suite_add_tcase(s, ta);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
