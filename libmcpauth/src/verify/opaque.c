/* opaque.c - verification of opaque access tokens by asking the authorization server:
 *  - "introspection": RFC 7662 (POST token=...; client authentication client_secret_basic,
 *    client_secret_post or none). `active` must be the JSON boolean true; exp, nbf, iss and
 *    aud are checked when present.
 *  - "userinfo": a userinfo-style endpoint (GET with the bearer token, e.g. GitHub /user; or
 *    POST access_token=... for Google's tokeninfo). The document is normalized through a
 *    claim map ({"sub":"id",...}); with an audience configured, aud or azp must name it (for
 *    Google: the proxy's client id, so tokens issued to other applications are refused).
 * Presets: "preset":"github" | "google" fill url, method and claim map. When neither option
 * is given but the OAuth proxy uses the github or google preset, the matching userinfo
 * verifier is enabled automatically (those providers issue opaque tokens).
 *
 * Results are cached (token_cache.h: keyed hash, constant-time compare) no longer than the
 * token lives (exp) and never longer than cacheSeconds (default 300). Fetches are bounded by
 * the engine's HTTP timeouts; an unreachable or failing endpoint gives MCPAUTH_E_UPSTREAM (the
 * router answers 503), never invalid_token. */
#include "verify/opaque.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "util/json_strict.h"
#include "providers/idp_presets.h"
#include "util/url.h"
#include "verify/token_cache.h"

#define OPAQUE_DEFAULT_CACHE 300
#define OPAQUE_CACHE_ENTRIES 10000
#define OPAQUE_MAX_BODY ((size_t)262144)

enum { MODE_INTROSPECTION = 1, MODE_USERINFO = 2 };
enum { AUTH_BASIC = 0, AUTH_POST = 1, AUTH_NONE = 2 };

typedef struct mcp_opaque {
    int mode;
    char *url;
    char *client_id;
    char *client_secret;
    int auth;
    int post_form;  /* userinfo: POST access_token=... instead of GET Bearer */
    char *accept;   /* Accept header line */
    json_t *claims; /* normalized name -> document path */
    mcp_strv audience;
    int64_t cache_max;
    int64_t leeway;
    char *issuer;
    mcp_http_opts http;
    mcp_token_cache *cache;
    size_t max_token;
} opaque;

static const char *const introspection_options[] = {
    "url", "clientId", "clientSecret", "authMethod", "audience", "cacheSeconds", NULL};
static const char *const userinfo_options[] = {"url",      "preset",       "method", "claims",
                                               "audience", "cacheSeconds", NULL};

void mcp_opaque_free(struct mcp_opaque *o) {
    if (!o) return;
    free(o->url);
    free(o->client_id);
    if (o->client_secret) {
        OPENSSL_cleanse(o->client_secret, strlen(o->client_secret));
        free(o->client_secret);
    }
    free(o->accept);
    json_decref(o->claims);
    mcp_strv_free(o->audience);
    free(o->issuer);
    mcp_token_cache_free(o->cache);
    free(o);
}

int mcp_opaque_enabled(const struct mcpauth_engine *e) { return e && e->opaque_state != NULL; }

/* ---- configuration ------------------------------------------------------------------------ */

static int known(const char *const *list, const char *k) {
    for (; *list; list++)
        if (strcmp(*list, k) == 0) return 1;
    return 0;
}

static char *concat_accept(const char *v) {
    const char *val = v ? v : "application/json";
    size_t n = strlen(val);
    char *s = malloc(n + 9);
    if (!s) return NULL;
    memcpy(s, "Accept: ", 8);
    memcpy(s + 8, val, n + 1);
    return s;
}

static int get_audience(json_t *o, const char *sect, mcp_strv *out, mcp_err *err) {
    json_t *v = json_object_get(o, "audience");
    if (!v || json_is_null(v)) return MCPAUTH_OK;
    if (json_is_string(v) && json_string_length(v) > 0) {
        if (mcp_strv_add(out, json_string_value(v))) return mcp_err_nomem(err);
        return MCPAUTH_OK;
    }
    if (json_is_array(v) && json_array_size(v) > 0 && json_array_size(v) <= 32) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x) || json_string_length(x) == 0)
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option '%s.audience' must hold non-empty strings", sect);
            if (mcp_strv_add(out, json_string_value(x))) return mcp_err_nomem(err);
        }
        return MCPAUTH_OK;
    }
    return mcp_err_set(err, MCPAUTH_E_CONFIG,
                       "option '%s.audience' must be a string or an array of strings", sect);
}

static int get_cache(json_t *o, const char *sect, int64_t *out, mcp_err *err) {
    return mcp_opt_section_int(o, sect, "cacheSeconds", 0, 86400, out, err);
}

static const char *proxy_str(const mcp_config *cfg, const char *key) {
    json_t *pc = cfg->extra ? json_object_get(cfg->extra, "proxy") : NULL;
    return json_string_value(json_object_get(pc, key));
}

static int parse_introspection(opaque *o, const mcp_config *cfg, json_t *c, mcp_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach(c, key, v) {
        if (!known(introspection_options, key))
            return mcp_err_set(err, MCPAUTH_E_CONFIG, "unknown option 'introspection.%.60s'", key);
    }
    o->mode = MODE_INTROSPECTION;
    int rc;
    if ((rc = mcp_opt_section_str(c, "introspection", "url", &o->url, err)) != MCPAUTH_OK)
        return rc;
    if (!o->url)
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option 'introspection.url' is required");
    if ((rc = mcp_url_check(o->url, "option 'introspection.url'", err)) != MCPAUTH_OK) return rc;
    if ((rc = mcp_opt_section_str(c, "introspection", "clientId", &o->client_id, err)) !=
        MCPAUTH_OK)
        return rc;
    if ((rc = mcp_opt_section_str(c, "introspection", "clientSecret", &o->client_secret, err)) !=
        MCPAUTH_OK)
        return rc;
    if (!o->client_id && proxy_str(cfg, "clientId")) {
        o->client_id = mcp_strdup(proxy_str(cfg, "clientId"));
        if (!o->client_id) return mcp_err_nomem(err);
        if (!o->client_secret && proxy_str(cfg, "clientSecret") &&
            !(o->client_secret = mcp_strdup(proxy_str(cfg, "clientSecret"))))
            return mcp_err_nomem(err);
    }
    char *am = NULL;
    if ((rc = mcp_opt_section_str(c, "introspection", "authMethod", &am, err)) != MCPAUTH_OK)
        return rc;
    o->auth = AUTH_BASIC;
    if (am) {
        if (strcmp(am, "client_secret_basic") == 0)
            o->auth = AUTH_BASIC;
        else if (strcmp(am, "client_secret_post") == 0)
            o->auth = AUTH_POST;
        else if (strcmp(am, "none") == 0)
            o->auth = AUTH_NONE;
        else
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                             "option 'introspection.authMethod' must be \"client_secret_basic\", "
                             "\"client_secret_post\" or \"none\"");
        free(am);
        if (rc != MCPAUTH_OK) return rc;
    }
    if (o->auth != AUTH_NONE && (!o->client_id || !o->client_secret))
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'introspection.clientId' and 'introspection.clientSecret' are "
                           "required (or authMethod \"none\")");
    for (const char *s = o->client_id; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'introspection.clientId' must be printable ASCII");
    for (const char *s = o->client_secret; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return mcp_err_set(err, MCPAUTH_E_CONFIG,
                               "option 'introspection.clientSecret' must be printable ASCII");
    if ((rc = get_audience(c, "introspection", &o->audience, err)) != MCPAUTH_OK) return rc;
    if ((rc = get_cache(c, "introspection", &o->cache_max, err)) != MCPAUTH_OK) return rc;
    o->accept = mcp_strdup("Accept: application/json");
    return o->accept ? MCPAUTH_OK : mcp_err_nomem(err);
}

static int parse_userinfo(opaque *o, const mcp_config *cfg, json_t *c, const char *preset_name,
                          mcp_err *err) {
    const char *key;
    json_t *v;
    if (c) {
        json_object_foreach(c, key, v) {
            if (!known(userinfo_options, key))
                return mcp_err_set(err, MCPAUTH_E_CONFIG, "unknown option 'userinfo.%.60s'", key);
        }
    }
    o->mode = MODE_USERINFO;
    int rc;
    const mcp_idp_preset *ps = NULL;
    char *pname = NULL;
    if (c && (rc = mcp_opt_section_str(c, "userinfo", "preset", &pname, err)) != MCPAUTH_OK)
        return rc;
    if (pname || preset_name) {
        ps = mcp_idp_preset_find(pname ? pname : preset_name);
        if (!ps || !ps->userinfo_url) {
            rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                             "option 'userinfo.preset': unknown preset \"%.40s\" (known: github, "
                             "google)",
                             pname ? pname : preset_name);
            free(pname);
            return rc;
        }
        free(pname);
        o->url = mcp_strdup(ps->userinfo_url);
        o->post_form = ps->userinfo_post_form;
        json_error_t je;
        o->claims = json_loads(ps->claims, 0, &je);
        o->accept = concat_accept(ps->userinfo_accept);
        if (!o->url || !o->claims || !o->accept) return mcp_err_nomem(err);
        if (ps->check_audience && proxy_str(cfg, "clientId") &&
            mcp_strv_add(&o->audience, proxy_str(cfg, "clientId")))
            return mcp_err_nomem(err);
    }
    if (c) {
        if ((rc = mcp_opt_section_str(c, "userinfo", "url", &o->url, err)) != MCPAUTH_OK) return rc;
        char *method = NULL;
        if ((rc = mcp_opt_section_str(c, "userinfo", "method", &method, err)) != MCPAUTH_OK)
            return rc;
        if (method) {
            if (strcmp(method, "GET") == 0)
                o->post_form = 0;
            else if (strcmp(method, "POST") == 0)
                o->post_form = 1;
            else
                rc = mcp_err_set(err, MCPAUTH_E_CONFIG,
                                 "option 'userinfo.method' must be \"GET\" (Bearer) or \"POST\" "
                                 "(access_token form)");
            free(method);
            if (rc != MCPAUTH_OK) return rc;
        }
        json_t *cm = json_object_get(c, "claims");
        if (cm && !json_is_null(cm)) {
            if (!json_is_object(cm) || json_object_size(cm) > 64)
                return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                   "option 'userinfo.claims' must be an object of strings");
            json_object_foreach(cm, key, v) {
                if (!json_is_string(v) || json_string_length(v) == 0)
                    return mcp_err_set(err, MCPAUTH_E_CONFIG,
                                       "option 'userinfo.claims.%.40s' must be a non-empty "
                                       "string",
                                       key);
            }
            json_decref(o->claims);
            o->claims = json_deep_copy(cm);
            if (!o->claims) return mcp_err_nomem(err);
        }
        if (json_object_get(c, "audience")) {
            mcp_strv_free(o->audience);
            o->audience = NULL;
            if ((rc = get_audience(c, "userinfo", &o->audience, err)) != MCPAUTH_OK) return rc;
        }
        if ((rc = get_cache(c, "userinfo", &o->cache_max, err)) != MCPAUTH_OK) return rc;
    }
    if (!o->url)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "option 'userinfo.url' is required (or 'userinfo.preset')");
    if ((rc = mcp_url_check(o->url, "option 'userinfo.url'", err)) != MCPAUTH_OK) return rc;
    if (!o->accept && !(o->accept = mcp_strdup("Accept: application/json")))
        return mcp_err_nomem(err);
    if (!o->claims && !(o->claims = json_object())) return mcp_err_nomem(err);
    return MCPAUTH_OK;
}

int mcp_opaque_init(struct mcpauth_engine *e, mcp_err *err) {
    if (!e || !e->cfg) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "no engine");
    const mcp_config *cfg = e->cfg;
    json_t *in = cfg->extra ? json_object_get(cfg->extra, "introspection") : NULL;
    json_t *ui = cfg->extra ? json_object_get(cfg->extra, "userinfo") : NULL;
    if (json_is_null(in)) in = NULL;
    if (json_is_null(ui)) ui = NULL;
    const char *auto_preset = NULL;
    if (!in && !ui) {
        const char *pp = proxy_str(cfg, "preset");
        const mcp_idp_preset *ps = mcp_idp_preset_find(pp);
        if (!ps || !ps->userinfo_url) return MCPAUTH_OK;
        auto_preset = ps->name;
    }
    if (in && ui)
        return mcp_err_set(err, MCPAUTH_E_CONFIG,
                           "options 'introspection' and 'userinfo' are mutually exclusive");
    if ((in && !json_is_object(in)) || (ui && !json_is_object(ui)))
        return mcp_err_set(err, MCPAUTH_E_CONFIG, "option '%s' must be an object",
                           in ? "introspection" : "userinfo");
    opaque *o = calloc(1, sizeof *o);
    if (!o) return mcp_err_nomem(err);
    o->cache_max = OPAQUE_DEFAULT_CACHE;
    int rc =
        in ? parse_introspection(o, cfg, in, err) : parse_userinfo(o, cfg, ui, auto_preset, err);
    if (rc == MCPAUTH_OK && o->mode == MODE_INTROSPECTION && !o->audience) {
        /* default expectation for aud (when the response has one): the engine's audience,
         * else the MCP resource */
        for (size_t i = 0; cfg->audience && cfg->audience[i] && rc == MCPAUTH_OK; i++)
            if (mcp_strv_add(&o->audience, cfg->audience[i])) rc = mcp_err_nomem(err);
        if (rc == MCPAUTH_OK && !o->audience && cfg->resource &&
            mcp_strv_add(&o->audience, cfg->resource))
            rc = mcp_err_nomem(err);
    }
    if (rc == MCPAUTH_OK && cfg->issuer && !(o->issuer = mcp_strdup(cfg->issuer)))
        rc = mcp_err_nomem(err);
    if (rc == MCPAUTH_OK) {
        o->leeway = cfg->leeway;
        o->max_token = cfg->max_token_bytes ? cfg->max_token_bytes : 16384;
        o->http.connect_timeout_ms = cfg->connect_timeout_ms;
        o->http.total_timeout_ms = cfg->timeout_ms;
        o->http.max_body = OPAQUE_MAX_BODY;
        o->cache = mcp_token_cache_new(o->cache_max > 0 ? OPAQUE_CACHE_ENTRIES : 0);
        if (!o->cache) rc = mcp_err_nomem(err);
    }
    if (rc != MCPAUTH_OK) {
        mcp_opaque_free(o);
        return rc;
    }
    e->opaque_state = o;
    return MCPAUTH_OK;
}

/* ---- verification ------------------------------------------------------------------------- */

static int list_has(json_t *v, const mcp_strv want) {
    for (size_t i = 0; want && want[i]; i++) {
        if (json_is_string(v) && strcmp(json_string_value(v), want[i]) == 0) return 1;
        if (json_is_array(v)) {
            size_t k;
            json_t *x;
            json_array_foreach(v, k, x) if (json_is_string(x) &&
                                            strcmp(json_string_value(x), want[i]) == 0) return 1;
        }
    }
    return 0;
}

/* A numeric claim that may arrive as a decimal string (Google tokeninfo). */
static int time_of(json_t *v, int64_t *out) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = strlen(s);
        if (n == 0 || n > 12 || strspn(s, "0123456789") != n) return -1;
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    return mcp_json_time(v, out);
}

static json_t *normalize(const opaque *o, json_t *doc) {
    json_t *out = json_deep_copy(doc);
    if (!out) return NULL;
    const char *name;
    json_t *path;
    json_object_foreach(o->claims, name, path) {
        json_t *v = mcp_json_path(doc, json_string_value(path));
        if (!v || json_is_null(v)) continue;
        json_t *nv = NULL;
        int64_t t;
        if (strcmp(name, "sub") == 0 && json_is_integer(v)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            nv = json_string(buf);
        } else if ((strcmp(name, "exp") == 0 || strcmp(name, "iat") == 0 ||
                    strcmp(name, "nbf") == 0) &&
                   time_of(v, &t) == 0) {
            nv = json_integer((json_int_t)t);
        } else {
            nv = json_deep_copy(v);
        }
        if (!nv || json_object_set_new(out, name, nv) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Introspection: aud, when present, must contain one of `want`. Userinfo: aud or azp must. */
static int audience_check(int mode, json_t *c, const mcp_strv want, mcp_err *err) {
    json_t *aud = json_object_get(c, "aud");
    json_t *azp = json_object_get(c, "azp");
    if (mode == MODE_INTROSPECTION) {
        if (aud && !list_has(aud, want))
            return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                               "the token was issued for another audience");
    } else if (!list_has(aud, want) && !list_has(azp, want)) {
        return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH,
                           "the token was issued to another client");
    }
    return MCPAUTH_OK;
}

static int check_claims(const opaque *o, json_t *c, int64_t now, int64_t *exp_out, mcp_err *err) {
    *exp_out = INT64_MAX;
    if (o->mode == MODE_INTROSPECTION && !json_is_true(json_object_get(c, "active")))
        return mcp_err_set(err, MCPAUTH_E_TOKEN_INACTIVE, "the token is not active");
    json_t *ev = json_object_get(c, "exp");
    if (ev) {
        int64_t exp;
        if (time_of(ev, &exp) != 0)
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "claim 'exp' is not a number");
        if (exp <= now - o->leeway)
            return mcp_err_set(err, MCPAUTH_E_EXPIRED, "the token has expired");
        *exp_out = exp;
    }
    json_t *nv = json_object_get(c, "nbf");
    if (nv) {
        int64_t nbf;
        if (time_of(nv, &nbf) != 0)
            return mcp_err_set(err, MCPAUTH_E_CLAIM_INVALID, "claim 'nbf' is not a number");
        if (nbf > now + o->leeway)
            return mcp_err_set(err, MCPAUTH_E_NOT_YET_VALID, "the token is not yet valid");
    }
    json_t *iss = json_object_get(c, "iss");
    if (o->mode == MODE_INTROSPECTION && iss && o->issuer &&
        (!json_is_string(iss) || strcmp(json_string_value(iss), o->issuer) != 0))
        return mcp_err_set(err, MCPAUTH_E_ISSUER_MISMATCH, "the token has another issuer");
    if (o->audience) return audience_check(o->mode, c, o->audience, err);
    return MCPAUTH_OK;
}

int mcp_opaque_check_resource(const struct mcpauth_engine *e, json_t *claims, const char *resource,
                              mcp_err *err) {
    const opaque *o = e ? e->opaque_state : NULL;
    /* only introspection takes the resource as its default audience, and only when no
     * audience was configured (opaque_init) */
    if (!o || o->mode != MODE_INTROSPECTION || o->audience) return MCPAUTH_OK;
    if (!resource || !json_is_object(claims))
        return mcp_err_set(err, MCPAUTH_E_AUDIENCE_MISMATCH, "no resource to check");
    char *want[2] = {mcp_strdup(resource), NULL};
    if (!want[0]) return mcp_err_nomem(err);
    int rc = audience_check(o->mode, claims, want, err);
    free(want[0]);
    return rc;
}

static char *basic_auth(const char *id, const char *secret) {
    char *ei = mcp_url_encode(id), *es = mcp_url_encode(secret);
    char *out = NULL;
    if (ei && es) {
        size_t li = strlen(ei), ls = strlen(es), n = li + 1 + ls;
        unsigned char *raw = malloc(n);
        size_t cap = 22 + 4 * ((n + 2) / 3) + 1;
        out = malloc(cap);
        if (raw && out) {
            memcpy(raw, ei, li);
            raw[li] = ':';
            memcpy(raw + li + 1, es, ls);
            memcpy(out, "Authorization: Basic ", 21);
            EVP_EncodeBlock((unsigned char *)out + 21, raw, (int)n);
            OPENSSL_cleanse(raw, n);
        } else {
            free(out);
            out = NULL;
        }
        free(raw);
    }
    if (es) OPENSSL_cleanse(es, strlen(es));
    free(ei);
    free(es);
    return out;
}

static int fetch(const opaque *o, const char *token, json_t **doc, mcp_err *err) {
    *doc = NULL;
    mcp_buf body = {0};
    char *auth = NULL, *bearer = NULL, *form = NULL;
    const char *headers[4] = {o->accept, NULL, NULL, NULL};
    int post = 1;
    if (o->mode == MODE_INTROSPECTION) {
        mcp_buf_param(&body, "token", token);
        mcp_buf_param(&body, "token_type_hint", "access_token");
        if (o->auth == AUTH_POST) {
            mcp_buf_param(&body, "client_id", o->client_id);
            mcp_buf_param(&body, "client_secret", o->client_secret);
        } else if (o->auth == AUTH_BASIC) {
            auth = basic_auth(o->client_id, o->client_secret);
            if (!auth) {
                mcp_buf_free(&body);
                return mcp_err_nomem(err);
            }
            headers[2] = auth;
        } else if (o->client_id) {
            mcp_buf_param(&body, "client_id", o->client_id);
        }
        headers[1] = "Content-Type: application/x-www-form-urlencoded";
    } else if (o->post_form) {
        mcp_buf_param(&body, "access_token", token);
        headers[1] = "Content-Type: application/x-www-form-urlencoded";
    } else {
        post = 0;
        size_t n = strlen(token);
        bearer = malloc(n + 23);
        if (!bearer) return mcp_err_nomem(err);
        memcpy(bearer, "Authorization: Bearer ", 22);
        memcpy(bearer + 22, token, n + 1);
        headers[1] = bearer;
    }
    int rc = MCPAUTH_OK;
    if (post) {
        form = mcp_buf_take(&body);
        if (!form) rc = mcp_err_nomem(err);
    }
    mcp_http_response h;
    memset(&h, 0, sizeof h);
    if (rc == MCPAUTH_OK) {
        mcp_err herr = {0, {0}};
        rc = post ? mcp_http_post(o->url, &o->http, headers, form, strlen(form), &h, &herr)
                  : mcp_http_get(o->url, &o->http, headers, &h, &herr);
        if (rc == MCPAUTH_E_NOMEM)
            mcp_err_nomem(err);
        else if (rc != MCPAUTH_OK)
            rc =
                mcp_err_set(err, MCPAUTH_E_UPSTREAM, "%s endpoint unreachable: %s",
                            o->mode == MODE_INTROSPECTION ? "introspection" : "userinfo", herr.msg);
    }
    if (rc == MCPAUTH_OK) {
        long st = h.status;
        if (st == 200) {
            *doc = mcp_json_parse(h.body, h.body_len, 16, 1, "verification response",
                                  MCPAUTH_E_UPSTREAM, NULL);
            if (!*doc)
                rc = mcp_err_set(err, MCPAUTH_E_UPSTREAM,
                                 "the verification endpoint answered with no JSON object");
        } else if (o->mode == MODE_USERINFO && (st == 400 || st == 401 || st == 403 || st == 404)) {
            rc = mcp_err_set(err, MCPAUTH_E_TOKEN_INACTIVE,
                             "the userinfo endpoint rejected the token (HTTP %ld)", st);
        } else if (o->mode == MODE_INTROSPECTION && (st == 401 || st == 403)) {
            rc = mcp_err_set(err, MCPAUTH_E_UPSTREAM,
                             "the introspection endpoint refused the client credentials (HTTP "
                             "%ld)",
                             st);
        } else {
            rc = mcp_err_set(err, MCPAUTH_E_UPSTREAM, "the verification endpoint answered %ld", st);
        }
    }
    mcp_http_response_clear(&h);
    if (form) OPENSSL_cleanse(form, strlen(form));
    free(form);
    mcp_buf_free(&body);
    if (auth) OPENSSL_cleanse(auth, strlen(auth));
    free(auth);
    if (bearer) OPENSSL_cleanse(bearer, strlen(bearer));
    free(bearer);
    return rc;
}

int mcp_opaque_verify(const struct mcpauth_engine *e, const char *token, size_t len, int nonblock,
                      json_t **claims, mcp_err *err) {
    if (claims) *claims = NULL;
    if (!e || !e->opaque_state || !claims)
        return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "opaque verification not enabled");
    const opaque *o = e->opaque_state;
    if (!token || len == 0) return mcp_err_set(err, MCPAUTH_E_TOKEN_MISSING, "no token");
    if (len > o->max_token)
        return mcp_err_set(err, MCPAUTH_E_TOKEN_TOO_LARGE,
                           "token is longer than maxTokenBytes (%zu)", o->max_token);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c < 0x21 || c > 0x7e)
            return mcp_err_set(err, MCPAUTH_E_TOKEN_MALFORMED,
                               "token has characters outside visible ASCII");
    }
    int64_t now = mcp_now();
    char *hit = NULL;
    int hr = mcp_token_cache_get(o->cache, token, len, now, &hit);
    if (hr < 0) return mcp_err_nomem(err);
    if (hr == 1) {
        *claims = mcp_json_parse(hit, strlen(hit), MCP_JSON_MAX_DEPTH, 1, "cached claims",
                                 MCPAUTH_E_INTERNAL, err);
        free(hit);
        return *claims ? MCPAUTH_OK : (err ? err->code : MCPAUTH_E_INTERNAL);
    }
    if (nonblock)
        return mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "token verification needs network I/O");
    char *tok = mcp_strndup(token, len);
    if (!tok) return mcp_err_nomem(err);
    json_t *doc = NULL;
    int rc = fetch(o, tok, &doc, err);
    OPENSSL_cleanse(tok, len);
    free(tok);
    if (rc != MCPAUTH_OK) return rc;
    json_t *c = o->mode == MODE_USERINFO ? normalize(o, doc) : json_incref(doc);
    json_decref(doc);
    if (!c) return mcp_err_nomem(err);
    int64_t exp;
    rc = check_claims(o, c, now, &exp, err);
    if (rc != MCPAUTH_OK) {
        json_decref(c);
        return rc;
    }
    if (o->cache_max > 0) {
        char *text = json_dumps(c, JSON_COMPACT);
        if (text) {
            int64_t until = now + o->cache_max;
            if (exp < until) until = exp;
            if (until > now)
                mcp_token_cache_put(o->cache, token, len, 0, until, text, strlen(text));
            free(text);
        }
    }
    *claims = c;
    return MCPAUTH_OK;
}
