/* pipeline.c - the verify pipeline: one verifier interface (compact JWS, opaque tokens through
 * introspection or userinfo, development tokens), the verified-token cache in front of it, and one
 * map-and-scopes tail that writes the auth result (mcpauth_verify, mcpauth_map_claims, and the
 * router's mcp_engine_verify_route). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jose/jws.h"
#include "util/json_strict.h"
#include "util/json_write.h"
#include "verify/claims.h"
#include "engine/engine.h"
#include "verify/decode.h"
#include "verify/opaque.h"
#include "verify/userinfo.h"

#define DEV_WARNING                                                                                \
    "libmcpauth WARNING: verifyJwt is false: token signatures are NOT verified (development "      \
    "only)\n"

/* ---- the result --------------------------------------------------------------------------- */

/* Serializes an auth result. Its "payload" is written as the token's own payload bytes, which
 * mcp_jws_parse() already parsed strictly (one JSON object, valid UTF-8, no duplicate keys, no
 * NUL): re-serializing the claims was the largest cost of a cache-miss verification after the
 * signature. The member goes last; JSON objects are unordered. jws may be NULL. */
static char *write_result(json_t *res, const mcp_jws *jws, size_t *len) {
    json_t *payload = json_object_get(res, "payload");
    if (!jws || !payload || !jws->payload_raw || jws->payload_raw_len == 0)
        return mcp_json_write(res, len);
    json_incref(payload);
    json_object_del(res, "payload");
    size_t n = 0;
    char *head = mcp_json_write(res, &n);
    int restored = json_object_set_new(res, "payload", payload) == 0;
    if (!head || !restored || n < 2 || head[n - 1] != '}') {
        free(head);
        return NULL;
    }
    static const char member[] = ",\"payload\":";
    size_t m = sizeof member - 1, raw = jws->payload_raw_len;
    char *out = realloc(head, n - 1 + m + raw + 2);
    if (!out) {
        free(head);
        return NULL;
    }
    size_t at = n - 1; /* overwrite the closing brace */
    memcpy(out + at, member, m);
    at += m;
    memcpy(out + at, jws->payload_raw, raw);
    at += raw;
    out[at++] = '}';
    out[at] = '\0';
    if (len) *len = at;
    return out;
}

/* What a verification hands back, and how (the verify pipeline's one output). */
typedef struct verify_out {
    /* asked */
    int want_text;            /* the auth result as text in buf, at buf + head, tail bytes after */
    size_t head, tail;        /* room the caller writes around the text */
    int with_token;           /* "accessToken" in the result */
    int want_json;            /* the result as a tree in json */
    const char *const *extra; /* scopes beyond requiredScopes this call needs (NULL: none) */
    /* answered */
    char *buf;
    size_t text_len;
    json_t *json;
} verify_out;

/* `{"accessToken":"<token>",` : the member spliced in front of a result written without it. A
 * token that reaches the splice went through the compact JWS parser: base64url and dots, nothing
 * to escape. */
static const char tok_open[] = "{\"accessToken\":\"";
#define TOK_MEMBER_LEN(len) (sizeof tok_open - 1 + (len) + 2)

/* The b64token characters of RFC 6750 (every token the router or the JWS parser accepted). */
static const unsigned char b64token_char[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1, ['='] = 1, ['0'] = 1,
    ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
    ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1,
    ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1,
    ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* 1 when the token can stand in a JSON string as it is: b64token characters only, nothing to
 * escape. */
static int token_plain(const char *t, size_t len) {
    unsigned ok = 1;
    for (size_t i = 0; i < len; i++) ok &= b64token_char[(unsigned char)t[i]];
    return (int)ok;
}

/* The text of a result (text, n bytes, starting with '{') into o->buf, with the token spliced in
 * front when `splice`. */
static int deliver_text(verify_out *o, int splice, const char *text, size_t n, const char *token,
                        size_t len, mcp_err *err) {
    size_t pre = splice ? TOK_MEMBER_LEN(len) - 1 : 0; /* replaces the '{' */
    if (n < 3 || text[0] != '{')
        return mcp_err_set(err, MCPAUTH_E_INTERNAL, "auth result unexpectedly empty");
    char *buf = malloc(o->head + pre + n + o->tail + 1);
    if (!buf) return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    memcpy(buf + o->head + pre, text, n);
    if (splice) {
        char *w = buf + o->head;
        memcpy(w, tok_open, sizeof tok_open - 1);
        memcpy(w + sizeof tok_open - 1, token, len);
        memcpy(w + sizeof tok_open - 1 + len, "\",", 2); /* the ',' overwrites text's '{' */
    }
    buf[o->head + pre + n + o->tail] = '\0';
    o->buf = buf;
    o->text_len = pre + n;
    return MCPAUTH_OK;
}

/* The tail every verifier shares: map the claims (payload, already checked by the verifier) to
 * the auth result, check requiredScopes and the caller's extra scopes, hand it out as asked, and
 * cache it (JWS results, with the scopes it holds) while valid. */
static int map_and_deliver(const struct mcpauth_engine *e, json_t *payload, const char *token,
                           size_t len, const mcp_jws *jws, int64_t cache_until, int64_t not_before,
                           verify_out *o, mcp_err *err) {
    const mcp_config *cfg = e->cfg;
    /* the result is written without the token: cached so, spliced in when asked */
    json_t *res = mcp_auth_result(cfg, e->provider, payload, NULL, 0, err);
    if (!res) return err && err->code ? err->code : MCPAUTH_E_NOMEM;
    int rc = mcp_scopes_check(res, cfg->required_scopes, err);
    if (rc == MCPAUTH_OK && o->extra) rc = mcp_scopes_check(res, (const mcp_strv)o->extra, err);
    if (rc != MCPAUTH_OK) {
        json_decref(res);
        return rc;
    }
    /* the token is spliced into the text, or (a token with bytes to escape: opaque tokens from
     * mcpauth_verify) written by the serializer; such results are never cached */
    int plain = (o->with_token || cache_until > 0) && token_plain(token, len);
    int splice = o->with_token && plain;
    int cache_it = cache_until > 0 && plain;
    if (o->with_token && !splice) {
        json_t *t = json_stringn(token, len);
        if (!t || json_object_set_new(res, "accessToken", t) != 0) {
            json_decref(res);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
    }
    if (o->want_text || cache_it) {
        size_t n = 0;
        char *text = write_result(res, jws, &n);
        if (!text) {
            json_decref(res);
            return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        }
        if (cache_it) {
            size_t blen = 0;
            char *blob = mcp_scopes_held(res, &blen);
            if (blob)
                mcp_token_cache_put_ex(e->token_cache, token, len, not_before, cache_until, text, n,
                                       blob, blen);
            free(blob);
        }
        if (o->want_text) rc = deliver_text(o, splice, text, n, token, len, err);
        free(text);
    }
    if (rc == MCPAUTH_OK && o->want_json && splice) {
        json_t *t = json_stringn(token, len);
        if (!t || json_object_set_new(res, "accessToken", t) != 0)
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    if (rc == MCPAUTH_OK && o->want_json)
        o->json = res;
    else
        json_decref(res);
    if (rc != MCPAUTH_OK) {
        free(o->buf);
        o->buf = NULL;
    }
    return rc;
}

/* ---- the verifiers ------------------------------------------------------------------------ */

/* One verified token, as a verifier hands it to the shared tail. */
typedef struct verified {
    json_t *claims; /* the token's checked claims (owned; borrowed from jws for a JWS) */
    mcp_jws jws;    /* the JWS verifier's parsed token: its payload bytes go into the text */
    int is_jws;
    int64_t cache_until; /* > 0: cache the result until then */
    int64_t not_before;  /* the cached entry's start */
} verified;

static void verified_clear(verified *v) {
    if (!v->is_jws) json_decref(v->claims);
    mcp_jws_clear(&v->jws);
}

/* The verifier interface: check a token (its size already capped) at `now` and hand back its
 * claims, checked as the engine's configuration requires. */
typedef struct verifier {
    const char *name;
    int (*verify)(const struct mcpauth_engine *e, const char *token, size_t len, unsigned flags,
                  int64_t now, int use_cache, verified *v, mcp_err *err);
} verifier;

/* Development tokens (verifyJwt: false): decoded, not verified. */
static int dev_verify(const struct mcpauth_engine *e, const char *token, size_t len, unsigned flags,
                      int64_t now, int use_cache, verified *v, mcp_err *err) {
    (void)flags;
    (void)now;
    (void)use_cache;
    fputs(DEV_WARNING, stderr);
    json_t *h = NULL;
    int rc = mcp_decode_parts(token, len, e->cfg->max_token_bytes, &h, &v->claims, err);
    json_decref(h);
    return rc;
}

/* Opaque tokens: the authorization server says whether the token is active (opaque.c checks
 * exp / nbf / iss / aud of its answer and caches it). */
static int opaque_verify(const struct mcpauth_engine *e, const char *token, size_t len,
                         unsigned flags, int64_t now, int use_cache, verified *v, mcp_err *err) {
    (void)now;
    (void)use_cache;
    return mcp_opaque_verify(e, token, len, (flags & MCPAUTH_VERIFY_NONBLOCK) != 0, &v->claims,
                             err);
}

/* The keyset to try for this token: HMAC only ever from static keys; asymmetric from the
 * static keys when they hold a candidate, else from the remote JWKS. *owned: unref after. */
static int select_keys(const struct mcpauth_engine *e, const mcp_jws *jws, unsigned flags,
                       mcp_keyset **ks, int *owned, mcp_err *err) {
    *ks = NULL;
    *owned = 0;
    int hmac = (MCP_ALG_BIT(jws->alg) & MCP_ALG_MASK_HMAC) != 0;
    if (e->static_keys) {
        const mcp_key *cand[1];
        if (hmac || !e->jwks ||
            mcp_keyset_candidates(e->static_keys, jws->kid, jws->alg, cand, 1) > 0) {
            *ks = e->static_keys;
            return MCPAUTH_OK;
        }
    }
    if (!hmac && e->jwks) {
        int rc =
            mcp_jwks_source_get(e->jwks, jws->kid, (flags & MCPAUTH_VERIFY_NONBLOCK) != 0, ks, err);
        if (rc != MCPAUTH_OK) return rc;
        *owned = 1;
        return MCPAUTH_OK;
    }
    return mcp_err_set(err, MCPAUTH_E_KEY_NOT_FOUND, "no configured key can verify %s tokens",
                       mcp_alg_name(jws->alg));
}

/* Compact JWS: parse -> typ -> algorithm -> keys -> signature -> registered claims. */
static int jws_verify(const struct mcpauth_engine *e, const char *token, size_t len, unsigned flags,
                      int64_t now, int use_cache, verified *v, mcp_err *err) {
    const mcp_config *cfg = e->cfg;
    v->is_jws = 1;
    int rc = mcp_jws_parse(token, len, cfg->max_token_bytes, 0, &v->jws, err);
    if (rc != MCPAUTH_OK) return rc;
    mcp_jws *jws = &v->jws;
    json_t *typ = json_object_get(jws->header, "typ");
    if (typ && !json_is_string(typ))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_HEADER, "header 'typ' is not a string");
    if ((rc = mcp_typ_check(cfg, jws->typ, err)) != MCPAUTH_OK) return rc;
    if (!(cfg->alg_mask & MCP_ALG_BIT(jws->alg)))
        return mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "algorithm %s is not allowed",
                           mcp_alg_name(jws->alg));
    mcp_keyset *ks = NULL;
    int owned = 0;
    if ((rc = select_keys(e, jws, flags, &ks, &owned, err)) != MCPAUTH_OK) return rc;
    rc = mcp_jws_verify(jws, ks, cfg->alg_mask, err);
    if (owned) mcp_keyset_unref(ks);
    if (rc != MCPAUTH_OK) return rc;
    int64_t exp = INT64_MAX, nbf = 0;
    if ((rc = mcp_claims_check(cfg, jws->payload, now, &exp, &nbf, err)) != MCPAUTH_OK) return rc;
    v->claims = jws->payload;
    /* The entry never outlives exp (the leeway window is re-verified in full) nor
     * tokenCacheMaxSeconds; it starts when the claims check would accept nbf. */
    v->not_before = nbf > cfg->leeway ? nbf - cfg->leeway : 0;
    if (use_cache && exp > now) {
        v->cache_until = exp;
        if (cfg->token_cache_max_seconds < INT64_MAX - now &&
            now + cfg->token_cache_max_seconds < v->cache_until)
            v->cache_until = now + cfg->token_cache_max_seconds;
    }
    return MCPAUTH_OK;
}

static const verifier dev_verifier = {"development", dev_verify};
static const verifier opaque_verifier = {"opaque", opaque_verify};
static const verifier jws_verifier = {"jws", jws_verify};

/* The engine's verifier: introspection / userinfo, development mode, or compact JWS. */
static const verifier *verifier_of(const struct mcpauth_engine *e) {
    if (mcp_opaque_enabled(e)) return &opaque_verifier;
    if (!e->cfg->verify_jwt) return &dev_verifier;
    return &jws_verifier;
}

/* ---- the pipeline ------------------------------------------------------------------------- */

static json_t *signature_only_result(const mcp_jws *jws) {
    const char *si = jws->signing_input;
    const char *dot = memchr(si, '.', jws->signing_input_len);
    if (!dot) return NULL;
    size_t plen = jws->signing_input_len - (size_t)(dot + 1 - si);
    json_t *pay = json_stringn(dot + 1, plen);
    if (!pay) return NULL;
    return json_pack("{s:O,s:o}", "header", jws->header, "payloadBase64url", pay);
}

/* A cache hit: the stored text without a parse, the extra scopes checked against the stored
 * blob. 1 hit (o filled), 0 miss, or an error code (negative: never, codes are positive). */
static int cache_hit(const struct mcpauth_engine *e, const char *token, size_t len, int64_t now,
                     verify_out *o, int *rc_out, mcp_err *err) {
    size_t pre = o->with_token ? TOK_MEMBER_LEN(len) - 1 : 0;
    char *buf = NULL, *blob = NULL;
    size_t n = 0, blen = 0;
    int r = mcp_token_cache_get_ex(e->token_cache, token, len, now, o->head + pre, o->tail, &buf,
                                   &n, o->extra ? &blob : NULL, &blen);
    if (r < 0) {
        *rc_out = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
        return 1;
    }
    if (r == 0) return 0;
    int rc = MCPAUTH_OK;
    if (o->extra) rc = mcp_scopes_check_held(blob, blen, (const mcp_strv)o->extra, err);
    free(blob);
    char *text = buf + o->head + pre;
    if (rc == MCPAUTH_OK && (n < 3 || text[0] != '{'))
        rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "cached result unreadable");
    if (rc == MCPAUTH_OK && o->want_json) {
        json_error_t je;
        o->json = json_loadb(text, n, 0, &je);
        if (!o->json) rc = mcp_err_set(err, MCPAUTH_E_INTERNAL, "cached result unreadable");
        json_t *t = o->json && o->with_token ? json_stringn(token, len) : NULL;
        if (o->json && o->with_token && (!t || json_object_set_new(o->json, "accessToken", t)))
            rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    if (rc == MCPAUTH_OK && o->want_text) {
        if (o->with_token) {
            char *w = buf + o->head;
            memcpy(w, tok_open, sizeof tok_open - 1);
            memcpy(w + sizeof tok_open - 1, token, len);
            memcpy(w + sizeof tok_open - 1 + len, "\",", 2); /* over the text's '{' */
        }
        o->buf = buf;
        o->text_len = pre + n;
        buf = NULL;
    }
    free(buf);
    if (rc != MCPAUTH_OK) {
        json_decref(o->json);
        o->json = NULL;
    }
    *rc_out = rc;
    return 1;
}

/* What every verification checks first: an engine that verifies tokens itself, a token, the
 * size cap. */
static int verify_precheck(const struct mcpauth_engine *e, const char *token, size_t len,
                           mcp_err *err) {
    if (e->cfg->host_verifies)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "this engine verifies no tokens itself (hostVerifies): verify in the "
                           "host and call mcpauth_map_claims");
    if (!token || len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MISSING, "no token");
    if (len > e->cfg->max_token_bytes)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_TOO_LARGE,
                           "token is longer than maxTokenBytes (%zu)", e->cfg->max_token_bytes);
    return MCPAUTH_OK;
}

/* The verify pipeline: size cap -> the cache (JWS) -> the engine's verifier -> the shared tail
 * (map_and_deliver: mapping, requiredScopes and the caller's scopes, text, cache). */
static int verify_core(const struct mcpauth_engine *e, const char *token, size_t len,
                       unsigned flags, verify_out *o, mcp_err *err) {
    if (!e) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "engine is NULL");
    if (e->signature_only)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT,
                           "this engine was created for signature checks only "
                           "(MCPAUTH_ENGINE_SIGNATURE_ONLY): pass MCPAUTH_VERIFY_SIGNATURE_ONLY");
    int rc = verify_precheck(e, token, len, err);
    if (rc != MCPAUTH_OK) return rc;
    const mcp_config *cfg = e->cfg;
    const verifier *vf = verifier_of(e);
    int use_cache = vf == &jws_verifier && !(flags & MCPAUTH_VERIFY_NO_CACHE) && e->token_cache &&
                    cfg->token_cache_max_seconds > 0;
    int64_t now = mcp_now();
    if (use_cache && cache_hit(e, token, len, now, o, &rc, err)) return rc;
    verified v;
    memset(&v, 0, sizeof v);
    rc = vf->verify(e, token, len, flags, now, use_cache, &v, err);
    if (rc == MCPAUTH_OK)
        rc = map_and_deliver(e, v.claims, token, len, v.is_jws ? &v.jws : NULL, v.cache_until,
                             v.not_before, o, err);
    verified_clear(&v);
    return rc;
}

/* MCPAUTH_VERIFY_SIGNATURE_ONLY: the JWS layer only. */
static int verify_signature_only(const struct mcpauth_engine *e, const char *token, size_t len,
                                 unsigned flags, char **out_text, mcp_err *err) {
    if (!e) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "engine is NULL");
    int rc = verify_precheck(e, token, len, err);
    if (rc != MCPAUTH_OK) return rc;
    const mcp_config *cfg = e->cfg;
    mcp_jws jws;
    memset(&jws, 0, sizeof jws);
    rc = mcp_jws_parse(token, len, cfg->max_token_bytes, MCP_JWS_PAYLOAD_ANY, &jws, err);
    mcp_keyset *ks = NULL;
    int owned = 0;
    if (rc == MCPAUTH_OK && !(cfg->alg_mask & MCP_ALG_BIT(jws.alg)))
        rc = mcp_err_set(err, MCPAUTH_E_ALG_NOT_ALLOWED, "algorithm %s is not allowed",
                         mcp_alg_name(jws.alg));
    if (rc == MCPAUTH_OK) rc = select_keys(e, &jws, flags, &ks, &owned, err);
    if (rc == MCPAUTH_OK) {
        rc = mcp_jws_verify(&jws, ks, cfg->alg_mask, err);
        if (owned) mcp_keyset_unref(ks);
    }
    if (rc == MCPAUTH_OK) {
        json_t *res = signature_only_result(&jws);
        *out_text = res ? mcp_json_write(res, NULL) : NULL;
        json_decref(res);
        if (!*out_text) rc = mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory");
    }
    mcp_jws_clear(&jws);
    return rc;
}

int mcp_engine_verify_route(const struct mcpauth_engine *e, const char *token, size_t len,
                            unsigned flags, const mcp_route_verify *in, char **buf,
                            size_t *text_len, json_t **json, mcp_err *err) {
    verify_out o;
    memset(&o, 0, sizeof o);
    o.want_text = buf != NULL;
    o.want_json = json != NULL;
    o.head = in->head;
    o.tail = in->tail;
    o.with_token = in->with_token;
    o.extra = in->extra && in->extra[0] ? in->extra : NULL;
    if (buf) *buf = NULL;
    if (json) *json = NULL;
    int rc = verify_core(e, token, len, flags & ~MCPAUTH_VERIFY_SIGNATURE_ONLY, &o, err);
    if (rc != MCPAUTH_OK) return rc;
    if (buf) {
        *buf = o.buf;
        *text_len = o.text_len;
    }
    if (json) *json = o.json;
    return MCPAUTH_OK;
}

int mcpauth_verify(const mcpauth_engine *engine, const char *token, size_t token_len,
                   unsigned flags, char **auth_json, char **detail) {
    mcp_err err = {0, {0}};
    if (detail) *detail = NULL;
    if (auth_json) *auth_json = NULL;
    char *text = NULL;
    int rc;
    if (flags & MCPAUTH_VERIFY_SIGNATURE_ONLY) {
        rc = verify_signature_only(engine, token, token_len, flags, &text, &err);
    } else {
        verify_out o;
        memset(&o, 0, sizeof o);
        o.want_text = 1;
        o.with_token = 1;
        rc = verify_core(engine, token, token_len, flags, &o, &err);
        text = o.buf;
    }
    if (rc != MCPAUTH_OK) {
        free(text);
        err.code = rc;
        return mcp_err_export(&err, detail);
    }
    if (auth_json)
        *auth_json = text;
    else
        free(text);
    return MCPAUTH_OK;
}

int mcpauth_map_claims(const mcpauth_engine *e, const char *claims_json, size_t claims_len,
                       const char *token, size_t token_len, char **auth_json, char **detail) {
    mcp_err err = {0, {0}};
    if (detail) *detail = NULL;
    if (auth_json) *auth_json = NULL;
    if (!e || !claims_json || !auth_json) {
        mcp_err_set(&err, MCPAUTH_E_INVALID_ARGUMENT,
                    "engine, claims_json and auth_json are "
                    "required");
        return mcp_err_export(&err, detail);
    }
    json_t *payload = mcp_json_parse(claims_json, claims_len, MCP_JSON_MAX_DEPTH, 1, "claims",
                                     MCPAUTH_E_INVALID_ARGUMENT, &err);
    if (!payload) return mcp_err_export(&err, detail);
    json_t *res = mcp_auth_result(e->cfg, e->provider, payload, token, token ? token_len : 0, &err);
    json_decref(payload);
    if (!res) return mcp_err_export(&err, detail);
    int rc = mcp_scopes_check(res, e->cfg->required_scopes, &err);
    if (rc == MCPAUTH_OK && !(*auth_json = mcp_json_write(res, NULL)))
        rc = mcp_err_set(&err, MCPAUTH_E_NOMEM, "out of memory");
    json_decref(res);
    if (rc != MCPAUTH_OK) return mcp_err_export(&err, detail);
    return MCPAUTH_OK;
}
