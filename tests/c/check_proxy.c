/* check_proxy.c - the OAuth proxy: configuration and presets, metadata, /register validation,
 * /authorize (redirect matching, PKCE, resource), the consent page (headers, escaping, CSRF),
 * the browser binding at /oauth/callback, sealed state and codes, /token against the loopback
 * upstream (credentials, form-encoded replies, error forwarding, outage), client ID metadata
 * documents, and one flow walked across three engines built from the same configuration. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine.h"
#include "httpd.h"
#include "verify/opaque.h"
#include "proxy/proxy.h"
#include "proxy/proxy_impl.h"
#include "proxy/seal.h"

#define SECRET "proxy-test-sealing-secret-0123456789-abcdefghij"
#define BASE "https://mcp.example.com"
#define CLIENT_CB "http://127.0.0.1:3000/callback"
/* RFC 7636 appendix B */
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

static tu_httpd *srv;

static void setup(void) {
    srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
}

static void teardown(void) {
    tu_httpd_stop(srv);
    srv = NULL;
    mcp_time_set_override(0);
}

/* ---- engines ---------------------------------------------------------------------------- */

typedef struct eng {
    mcpauth_engine *e;
    int manual; /* the proxy was initialized here (engine.c not yet hooked) */
} eng;

/* A configuration with the given "proxy" members (JSON text without braces) and upstream
 * endpoints on the loopback server. */
static char *config_with(const char *proxy_members) {
    const char *tok = srv ? tu_httpd_url(srv, "/token") : "https://idp.example.com/token";
    size_t n = strlen(proxy_members) + strlen(tok) + 1024;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://idp.example.com/"
             "jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":{\"authEndpoint\":\"https://"
             "idp.example.com/authorize\",\"tokenEndpoint\":\"%s\",\"clientId\":\"upstream-"
             "client\",\"clientSecret\":\"upstream-secret\",\"sealingSecret\":\"" SECRET "\"%s%s}}",
             tok, proxy_members[0] ? "," : "", proxy_members);
    return s;
}

static eng eng_new_json(const char *json) {
    eng x = {0};
    char *detail = NULL;
    int rc = mcpauth_engine_new(json, strlen(json), MCPAUTH_ENGINE_NO_ENV, &x.e, &detail);
    if (rc != MCPAUTH_OK) fprintf(stderr, "engine: %s\n", detail ? detail : "?");
    mcpauth_free(detail);
    ck_assert_int_eq(rc, MCPAUTH_OK);
    if (!x.e->proxy_state) {
        mcp_err err = {0, {0}};
        rc = mcp_proxy_init(x.e, &err);
        if (rc != MCPAUTH_OK) fprintf(stderr, "proxy: %s\n", err.msg);
        ck_assert_int_eq(rc, MCPAUTH_OK);
        x.manual = 1;
    }
    ck_assert_ptr_nonnull(x.e->proxy_state);
    return x;
}

static eng eng_new(const char *proxy_members) {
    char *json = config_with(proxy_members);
    eng x = eng_new_json(json);
    free(json);
    return x;
}

static void eng_free(eng *x) {
    if (x->manual) {
        mcp_proxy_free(x->e->proxy_state);
        x->e->proxy_state = NULL;
    }
    mcpauth_engine_free(x->e);
    x->e = NULL;
}

/* mcp_proxy_init on a bare engine: the return code, and the message in msg. */
static int proxy_init_rc(const char *json, char *msg, size_t cap) {
    struct mcpauth_engine fake;
    memset(&fake, 0, sizeof fake);
    mcp_err err = {0, {0}};
    int rc = mcp_config_load(json, strlen(json), NULL, &fake.cfg, &err);
    if (rc == MCPAUTH_OK) rc = mcp_proxy_init(&fake, &err);
    if (msg) snprintf(msg, cap, "%s", err.msg);
    mcp_proxy_free(fake.proxy_state);
    mcp_config_free(fake.cfg);
    return rc;
}

/* ---- requests and responses ------------------------------------------------------------- */

typedef struct jar {
    char names[16][96];
    char values[16][2048];
    int n;
} jar;

static void jar_take(jar *j, json_t *resp) {
    json_t *h = json_object_get(resp, "headers");
    size_t i;
    json_t *pair;
    json_array_foreach(h, i, pair) {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), "Set-Cookie") != 0) continue;
        const char *v = json_string_value(json_array_get(pair, 1));
        const char *eq = strchr(v, '=');
        const char *semi = strchr(v, ';');
        ck_assert_ptr_nonnull(eq);
        ck_assert_ptr_nonnull(semi);
        char name[96], value[2048];
        snprintf(name, sizeof name, "%.*s", (int)(eq - v), v);
        snprintf(value, sizeof value, "%.*s", (int)(semi - eq - 1), eq + 1);
        int del = strstr(v, "Max-Age=0;") != NULL;
        int k;
        for (k = 0; k < j->n; k++)
            if (strcmp(j->names[k], name) == 0) break;
        if (del) {
            if (k < j->n) {
                j->n--;
                memmove(&j->names[k], &j->names[k + 1], sizeof j->names[0] * (size_t)(j->n - k));
                memmove(&j->values[k], &j->values[k + 1], sizeof j->values[0] * (size_t)(j->n - k));
            }
            continue;
        }
        if (k == j->n) {
            ck_assert_int_lt(j->n, 16);
            j->n++;
        }
        snprintf(j->names[k], sizeof j->names[k], "%s", name);
        snprintf(j->values[k], sizeof j->values[k], "%s", value);
    }
}

static char *jar_header(const jar *j) {
    static char buf[16 * 2200];
    buf[0] = '\0';
    for (int k = 0; j && k < j->n; k++) {
        if (k) strcat(buf, "; ");
        strcat(buf, j->names[k]);
        strcat(buf, "=");
        strcat(buf, j->values[k]);
    }
    return buf;
}

static int jar_has_prefix(const jar *j, const char *prefix) {
    for (int k = 0; k < j->n; k++)
        if (strncmp(j->names[k], prefix, strlen(prefix)) == 0) return 1;
    return 0;
}

static void jar_drop_prefix(jar *j, const char *prefix) {
    for (int k = 0; k < j->n;) {
        if (strncmp(j->names[k], prefix, strlen(prefix)) == 0) {
            j->n--;
            memmove(&j->names[k], &j->names[k + 1], sizeof j->names[0] * (size_t)(j->n - k));
            memmove(&j->values[k], &j->values[k + 1], sizeof j->values[0] * (size_t)(j->n - k));
        } else {
            k++;
        }
    }
}

static int router_hooked = -1;

/* mcp_proxy_handle on a request object, through the router's request model. */
static int proxy_handle_json(mcpauth_engine *e, json_t *req, int nonblock, json_t **resp,
                             mcp_err *err) {
    char *text = json_dumps(req, JSON_COMPACT);
    ck_assert_ptr_nonnull(text);
    mcp_http_req r;
    ck_assert_int_eq(mcp_http_req_parse(text, strlen(text), &r), 0);
    int rc = mcp_proxy_handle(e, &r, nonblock, resp, err);
    mcp_http_req_clear(&r);
    free(text);
    return rc;
}

/* Sends a request: through mcpauth_handle_request when the router hooks the proxy in,
 * else to mcp_proxy_handle directly. Returns the response object (never NULL). */
static json_t *send_req(eng *x, const char *method, const char *path, const char *query,
                        const char *ctype, const char *body, const jar *j, const char *origin) {
    json_t *req = json_pack("{s:s,s:s,s:{}}", "method", method, "path", path, "headers");
    if (query) json_object_set_new(req, "query", json_string(query));
    if (body) json_object_set_new(req, "body", json_string(body));
    json_t *h = json_object_get(req, "headers");
    if (ctype) json_object_set_new(h, "content-type", json_string(ctype));
    if (j && j->n) json_object_set_new(h, "cookie", json_string(jar_header(j)));
    if (origin) json_object_set_new(h, "origin", json_string(origin));
    json_t *resp = NULL;
    if (router_hooked == -1) {
        /* detect once: does the router answer /register through the proxy? */
        char *text = json_dumps(req, JSON_COMPACT);
        char *out = NULL;
        json_t *probe = json_pack("{s:s,s:s}", "method", "OPTIONS", "path", "/register");
        char *pt = json_dumps(probe, JSON_COMPACT);
        int rc = mcpauth_handle_request(x->e, pt, strlen(pt), 0, &out);
        router_hooked = 0;
        if (rc == MCPAUTH_OK && out) {
            json_error_t je;
            json_t *o = json_loads(out, 0, &je);
            router_hooked = o && json_integer_value(json_object_get(o, "status")) == 204;
            json_decref(o);
        }
        if (!router_hooked) printf("proxy: router not hooked yet; calling mcp_proxy_handle\n");
        mcpauth_free(out);
        free(pt);
        free(text);
        json_decref(probe);
    }
    if (router_hooked) {
        char *text = json_dumps(req, JSON_COMPACT);
        char *out = NULL;
        ck_assert_int_eq(mcpauth_handle_request(x->e, text, strlen(text), 0, &out), MCPAUTH_OK);
        json_error_t je;
        resp = json_loads(out, 0, &je);
        mcpauth_free(out);
        free(text);
    } else {
        mcp_err err = {0, {0}};
        int rc = proxy_handle_json(x->e, req, 0, &resp, &err);
        if (rc != 1) fprintf(stderr, "proxy_handle rc=%d %s\n", rc, err.msg);
        ck_assert_int_eq(rc, 1);
    }
    json_decref(req);
    ck_assert_ptr_nonnull(resp);
    ck_assert_str_eq(json_string_value(json_object_get(resp, "action")), "respond");
    return resp;
}

static int status_of(json_t *r) { return (int)json_integer_value(json_object_get(r, "status")); }
static const char *body_of(json_t *r) { return json_string_value(json_object_get(r, "body")); }

static const char *header_of(json_t *r, const char *name) {
    json_t *h = json_object_get(r, "headers");
    size_t i;
    json_t *pair;
    json_array_foreach(h, i, pair) {
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0)
            return json_string_value(json_array_get(pair, 1));
    }
    return NULL;
}

static int count_header(json_t *r, const char *name) {
    int n = 0;
    json_t *h = json_object_get(r, "headers");
    size_t i;
    json_t *pair;
    json_array_foreach(h, i, pair) n +=
        strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0;
    return n;
}

/* The query parameters of a Location header (or any URL). New object. */
static json_t *url_params(const char *url) {
    ck_assert_ptr_nonnull(url);
    const char *q = strchr(url, '?');
    json_t *o = NULL;
    ck_assert_int_eq(mcp_form_parse(q ? q + 1 : "", q ? strlen(q + 1) : 0, &o), 0);
    return o;
}

static const char *pget(json_t *o, const char *k) {
    return json_string_value(json_object_get(o, k));
}

static json_t *body_json(json_t *r) {
    json_error_t je;
    json_t *o = json_loads(body_of(r), 0, &je);
    ck_assert_ptr_nonnull(o);
    return o;
}

/* An HTML hidden input's value (the page escapes nothing in base64url values). */
static char *form_value(const char *html, const char *name) {
    char needle[64];
    snprintf(needle, sizeof needle, "name=\"%s\" value=\"", name);
    const char *p = strstr(html, needle);
    ck_assert_ptr_nonnull(p);
    p += strlen(needle);
    const char *end = strchr(p, '"');
    return strndup(p, (size_t)(end - p));
}

static char *enc(const char *s) { return mcp_url_encode(s); }

/* ---- flow helpers ----------------------------------------------------------------------- */

static char *register_client(eng *x, const char *redirect, const char *name) {
    char body[1024];
    snprintf(body, sizeof body, "{\"redirect_uris\":[\"%s\"],\"client_name\":\"%s\"}", redirect,
             name);
    json_t *r = send_req(x, "POST", "/register", NULL, "application/json", body, NULL, NULL);
    ck_assert_int_eq(status_of(r), 201);
    json_t *b = body_json(r);
    char *cid = strdup(pget(b, "client_id"));
    json_decref(b);
    json_decref(r);
    return cid;
}

static char *authorize_query(const char *cid, const char *redirect, const char *extra) {
    char *ec = enc(cid), *er = enc(redirect);
    size_t n = strlen(ec) + strlen(er) + 512 + (extra ? strlen(extra) : 0);
    char *q = malloc(n);
    snprintf(q, n,
             "response_type=code&client_id=%s&redirect_uri=%s&code_challenge=" CHALLENGE
             "&code_challenge_method=S256&state=client-state-1&scope=openid%%20email%s%s",
             ec, er, extra ? "&" : "", extra ? extra : "");
    free(ec);
    free(er);
    return q;
}

/* GET /authorize -> consent page -> approve. Returns the 302 to the upstream. */
static json_t *authorize_and_approve(eng *x, const char *cid, const char *redirect, jar *j) {
    char *q = authorize_query(cid, redirect, NULL);
    json_t *page = send_req(x, "GET", "/authorize", q, NULL, NULL, j, NULL);
    free(q);
    ck_assert_int_eq(status_of(page), 200);
    jar_take(j, page);
    char *tx = form_value(body_of(page), "tx");
    char *csrf = form_value(body_of(page), "csrf_token");
    json_decref(page);
    char body[8192];
    char *etx = enc(tx), *ecs = enc(csrf);
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    free(etx);
    free(ecs);
    free(tx);
    free(csrf);
    json_t *r =
        send_req(x, "POST", "/authorize", NULL, "application/x-www-form-urlencoded", body, j, BASE);
    ck_assert_int_eq(status_of(r), 302);
    jar_take(j, r);
    return r;
}

/* GET /oauth/callback?code=<uc>&state=<state>. */
static json_t *callback(eng *x, const char *uc, const char *state, const jar *j) {
    char *es = enc(state);
    size_t n = strlen(es) + strlen(uc) + 64;
    char *q = malloc(n);
    snprintf(q, n, "code=%s&state=%s", uc, es);
    json_t *r = send_req(x, "GET", "/oauth/callback", q, NULL, NULL, j, NULL);
    free(q);
    free(es);
    return r;
}

static json_t *token_req(eng *x, const char *body) {
    return send_req(x, "POST", "/token", NULL, "application/x-www-form-urlencoded", body, NULL,
                    NULL);
}

static char *code_body(const char *cid, const char *code, const char *redirect,
                       const char *verifier) {
    char *ec = enc(cid), *eo = enc(code), *er = enc(redirect);
    size_t n = strlen(ec) + strlen(eo) + strlen(er) + 256;
    char *b = malloc(n);
    snprintf(b, n,
             "grant_type=authorization_code&client_id=%s&code=%s&redirect_uri=%s&code_verifier=%s",
             ec, eo, er, verifier);
    free(ec);
    free(eo);
    free(er);
    return b;
}

/* Runs register -> authorize -> approve -> callback; returns the client's code. */
static char *full_code(eng *x, char **cid_out, jar *j, char **upstream_challenge) {
    char *cid = register_client(x, CLIENT_CB, "Flow Client");
    json_t *up = authorize_and_approve(x, cid, CLIENT_CB, j);
    json_t *upq = url_params(header_of(up, "Location"));
    if (upstream_challenge) *upstream_challenge = strdup(pget(upq, "code_challenge"));
    json_t *cb = callback(x, "UPSTREAM-CODE-1", pget(upq, "state"), j);
    ck_assert_int_eq(status_of(cb), 302);
    json_t *cq = url_params(header_of(cb, "Location"));
    char *code = strdup(pget(cq, "code"));
    json_decref(cq);
    json_decref(cb);
    json_decref(upq);
    json_decref(up);
    *cid_out = cid;
    return code;
}

/* ---- configuration ---------------------------------------------------------------------- */

START_TEST(config_errors) {
    char msg[300];
    const char *head = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://"
                       "idp.example.com/jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":";
    struct {
        const char *proxy;
        const char *needle;
    } cases[] = {
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"sealingSecret\":\"" SECRET "\"}",
         "clientId"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"short\"}",
         "32"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\",\"bogus\":1}",
         "proxy.bogus"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET
         "\",\"extraAuthorizeParams\":{\"redirect_uri\":\"https://evil\"}}",
         "redirect_uri"},
        {"{\"preset\":\"okta\",\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\"}", "domain"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET
         "\",\"clientMetadataProxy\":\"socks5://127.0.0.1:1080\"}",
         "clientMetadataProxy"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET
         "\",\"clientMetadataProxy\":\"http://user:pw@proxy.example:3128\"}",
         "clientMetadataProxy"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET
         "\",\"clientMetadataProxy\":\"http://proxy.example:3128/path\"}",
         "clientMetadataProxy"},
        {"{\"preset\":\"nope\",\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\"}", "nope"},
        {"{\"authEndpoint\":\"http://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\"}",
         "authEndpoint"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET
         "\",\"tokenEndpointAuthMethod\":\"private_key_jwt\"}",
         "tokenEndpointAuthMethod"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\",\"previousSecrets\":[\"x\"]}",
         "previousSecrets"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\",\"codeTtlSeconds\":86400}",
         "codeTtlSeconds"},
        {"{\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://a.example/t\","
         "\"clientId\":\"c\",\"sealingSecret\":\"" SECRET "\",\"grantTypes\":[\"implicit\"]}",
         "grantTypes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[2048];
        snprintf(json, sizeof json, "%s%s}", head, cases[i].proxy);
        ck_assert_int_eq(proxy_init_rc(json, msg, sizeof msg), MCPAUTH_E_CONFIG);
        if (!strstr(msg, cases[i].needle))
            ck_abort_msg("case %zu: '%s' not in '%s'", i, cases[i].needle, msg);
    }
    /* no base URL anywhere */
    const char *nobase = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://"
                         "idp.example.com/jwks\",\"proxy\":{\"preset\":\"github\",\"clientId\":"
                         "\"c\",\"sealingSecret\":\"" SECRET "\"}}";
    ck_assert_int_eq(proxy_init_rc(nobase, msg, sizeof msg), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(msg, "baseUrl"));
    /* no proxy: nothing to do */
    const char *none = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://"
                       "idp.example.com/jwks\"}";
    ck_assert_int_eq(proxy_init_rc(none, msg, sizeof msg), MCPAUTH_OK);
}
END_TEST

/* MCPAUTH_SEALING_SECRET is read through the engine's environment lookup: ignored under
 * MCPAUTH_ENGINE_NO_ENV like every other variable, used otherwise. */
START_TEST(sealing_secret_env_honours_no_env) {
    const char *json = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://"
                       "idp.example.com/jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":{"
                       "\"authEndpoint\":\"https://a.example/x\",\"tokenEndpoint\":\"https://"
                       "a.example/t\",\"clientId\":\"c\"}}";
    setenv("MCPAUTH_SEALING_SECRET", SECRET, 1);
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    ck_assert_int_eq(mcpauth_engine_new(json, strlen(json), MCPAUTH_ENGINE_NO_ENV, &e, &detail),
                     MCPAUTH_E_CONFIG);
    ck_assert_ptr_null(e);
    ck_assert_ptr_nonnull(strstr(detail, "sealingSecret"));
    mcpauth_free(detail);
    detail = NULL;
    /* a bare engine (no environment lookup) reads nothing either */
    char msg[300];
    ck_assert_int_eq(proxy_init_rc(json, msg, sizeof msg), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(msg, "sealingSecret"));
    /* with the environment: the variable is the secret */
    ck_assert_int_eq(mcpauth_engine_new(json, strlen(json), 0, &e, &detail), MCPAUTH_OK);
    ck_assert_ptr_nonnull(e->proxy_state);
    mcpauth_engine_free(e);
    unsetenv("MCPAUTH_SEALING_SECRET");
    ck_assert_int_eq(mcpauth_engine_new(json, strlen(json), 0, &e, &detail), MCPAUTH_E_CONFIG);
    mcpauth_free(detail);
}
END_TEST

/* An okta proxy with nothing but the preset: the engine verifies returned tokens against
 * Okta's issuer and JWKS (a token needs the remote key set: WOULD_BLOCK when non-blocking). */
START_TEST(jwt_preset_sets_up_verification) {
    const char *json = "{\"baseUrl\":\"" BASE "\",\"proxy\":{\"preset\":\"okta\",\"domain\":"
                       "\"dev-1.okta.com\",\"clientId\":\"ok\",\"sealingSecret\":\"" SECRET "\"}}";
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(json, strlen(json), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    ck_assert_msg(rc == MCPAUTH_OK, "%s", detail ? detail : "");
    ck_assert_ptr_nonnull(e->jwks);
    ck_assert_ptr_null(e->opaque_state);
    char *cfg = NULL;
    ck_assert_int_eq(mcpauth_engine_config(e, &cfg), MCPAUTH_OK);
    ck_assert_ptr_nonnull(strstr(cfg, "\"issuer\":\"https://dev-1.okta.com/oauth2/default\""));
    ck_assert_ptr_nonnull(
        strstr(cfg, "\"jwksUrl\":\"https://dev-1.okta.com/oauth2/default/v1/keys\""));
    mcpauth_free(cfg);
    const char *tok = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1In0.c2ln";
    ck_assert_int_eq(mcpauth_verify(e, tok, strlen(tok), MCPAUTH_VERIFY_NONBLOCK, NULL, &detail),
                     MCPAUTH_E_WOULD_BLOCK);
    mcpauth_free(detail);
    mcpauth_engine_free(e);
}
END_TEST

START_TEST(presets_fill_endpoints) {
    eng x = eng_new("\"preset\":\"okta\",\"domain\":\"dev-1.okta.com\"");
    /* explicit endpoints in config_with() override the preset's; check the preset alone */
    eng_free(&x);
    const char *cfg = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://"
                      "idp.example.com/jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":{\"preset\":"
                      "\"azure\",\"tenant\":\"contoso\",\"clientId\":\"az\",\"sealingSecret\":"
                      "\"" SECRET "\",\"consent\":false}}";
    x = eng_new_json(cfg);
    const mcp_proxy *p = x.e->proxy_state;
    ck_assert_str_eq(p->auth_endpoint,
                     "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize");
    ck_assert_str_eq(p->token_endpoint,
                     "https://login.microsoftonline.com/contoso/oauth2/v2.0/token");
    ck_assert_str_eq(p->upstream_issuer, "https://login.microsoftonline.com/contoso/v2.0");
    ck_assert(mcp_strv_contains(p->scopes, "offline_access"));
    eng_free(&x);

    cfg = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://idp.example.com/"
          "jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":{\"preset\":\"okta\",\"domain\":\"dev-1."
          "okta.com\",\"clientId\":\"ok\",\"sealingSecret\":\"" SECRET "\"}}";
    x = eng_new_json(cfg);
    p = x.e->proxy_state;
    ck_assert_str_eq(p->auth_endpoint, "https://dev-1.okta.com/oauth2/default/v1/authorize");
    ck_assert_str_eq(p->upstream_issuer, "https://dev-1.okta.com/oauth2/default");
    ck_assert_int_eq(p->basic_auth, 1);
    eng_free(&x);

    cfg = "{\"issuer\":\"https://idp.example.com\",\"jwksUrl\":\"https://idp.example.com/"
          "jwks\",\"baseUrl\":\"" BASE "\",\"proxy\":{\"preset\":\"github\",\"clientId\":"
          "\"gh\",\"clientSecret\":\"s\",\"sealingSecret\":\"" SECRET "\",\"consent\":false}}";
    x = eng_new_json(cfg);
    p = x.e->proxy_state;
    ck_assert_str_eq(p->auth_endpoint, "https://github.com/login/oauth/authorize");
    ck_assert_str_eq(p->token_endpoint, "https://github.com/login/oauth/access_token");
    ck_assert_ptr_null(p->upstream_issuer);
    ck_assert(mcp_strv_contains(p->scopes, "read:user"));
    /* authorize goes straight to GitHub with the preset's scopes when none are requested */
    char *cid = register_client(&x, CLIENT_CB, "GH");
    char *ec = enc(cid), q[4096];
    snprintf(q, sizeof q,
             "response_type=code&client_id=%s&redirect_uri=%s&code_challenge=" CHALLENGE
             "&code_challenge_method=S256",
             ec, "http%3A%2F%2F127.0.0.1%3A3000%2Fcallback");
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 302);
    const char *loc = header_of(r, "Location");
    ck_assert(strncmp(loc, "https://github.com/login/oauth/authorize?", 41) == 0);
    json_t *uq = url_params(loc);
    ck_assert_str_eq(pget(uq, "scope"), "read:user user:email");
    ck_assert_str_eq(pget(uq, "client_id"), "gh");
    json_decref(uq);
    json_decref(r);
    free(ec);
    free(cid);
    eng_free(&x);

    const mcp_idp_preset *gh = mcp_idp_preset_find("github");
    ck_assert_ptr_nonnull(gh);
    ck_assert_ptr_nonnull(strstr(gh->user_map, "\"username\":\"login\""));
    ck_assert_ptr_nonnull(strstr(gh->user_map, "\"picture\":\"avatar_url\""));
    ck_assert_ptr_null(mcp_idp_preset_find("unknown"));
}
END_TEST

START_TEST(metadata_document) {
    eng x = eng_new("\"scopes\":[\"openid\",\"mcp:read\"]");
    json_t *m = mcp_proxy_as_metadata(x.e);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(pget(m, "issuer"), BASE);
    ck_assert_str_eq(pget(m, "authorization_endpoint"), BASE "/authorize");
    ck_assert_str_eq(pget(m, "token_endpoint"), BASE "/token");
    ck_assert_str_eq(pget(m, "registration_endpoint"), BASE "/register");
    ck_assert_str_eq(json_string_value(
                         json_array_get(json_object_get(m, "code_challenge_methods_supported"), 0)),
                     "S256");
    ck_assert_int_eq(json_array_size(json_object_get(m, "code_challenge_methods_supported")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(m, "token_endpoint_auth_methods_supported"), 0)),
                     "none");
    ck_assert(json_is_true(json_object_get(m, "client_id_metadata_document_supported")));
    ck_assert(json_is_true(json_object_get(m, "authorization_response_iss_parameter_supported")));
    ck_assert_int_eq(json_array_size(json_object_get(m, "scopes_supported")), 2);
    ck_assert_int_eq(json_array_size(json_object_get(m, "grant_types_supported")), 2);
    ck_assert_str_eq(
        json_string_value(json_array_get(json_object_get(m, "response_types_supported"), 0)),
        "code");
    json_decref(m);
    eng_free(&x);
}
END_TEST

/* ---- /register -------------------------------------------------------------------------- */

START_TEST(register_ok) {
    eng x = eng_new("");
    const char *body = "{\"redirect_uris\":[\"" CLIENT_CB "\",\"cursor://anysphere.cursor-mcp/"
                       "oauth/callback\",\"https://app.example.com/cb?x=1\"],\"client_name\":"
                       "\"My App\",\"token_endpoint_auth_method\":\"none\"}";
    json_t *r = send_req(&x, "POST", "/register", NULL, "application/json", body, NULL, NULL);
    ck_assert_int_eq(status_of(r), 201);
    ck_assert_str_eq(header_of(r, "Cache-Control"), "no-store");
    json_t *b = body_json(r);
    ck_assert_str_eq(pget(b, "client_name"), "My App");
    ck_assert_str_eq(pget(b, "token_endpoint_auth_method"), "none");
    ck_assert_int_eq(json_array_size(json_object_get(b, "redirect_uris")), 3);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(b, "response_types"), 0)),
                     "code");
    ck_assert_ptr_null(json_object_get(b, "client_secret"));
    ck_assert_ptr_null(strstr(body_of(r), "upstream-secret"));
    ck_assert_ptr_null(strstr(body_of(r), "upstream-client"));
    const char *cid = pget(b, "client_id");
    ck_assert(strlen(cid) > 40);
    /* the client id is a sealed value that this proxy (and only it) opens */
    const mcp_proxy *p = x.e->proxy_state;
    json_t *d = NULL;
    ck_assert_int_eq(mcp_unseal(p->sealer, MCP_SEAL_CLIENT, cid, strlen(cid), mcp_now(), &d, NULL),
                     MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "ru"), 1)),
                     "cursor://anysphere.cursor-mcp/oauth/callback");
    json_decref(d);
    json_decref(b);
    json_decref(r);
    eng_free(&x);
}
END_TEST

START_TEST(register_refuses_bad_redirects) {
    eng x = eng_new("");
    const char *bad[] = {
        "javascript:alert(1)",
        "JavaScript://x.example/%0aalert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "vbscript:msgbox",
        "http://app.example.com/cb",
        "https://app.example.com/cb#frag",
        "https://user:pw@app.example.com/cb",
        "https://app.example.com/c b",
        "/relative/path",
        "https:///nohost",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *body = json_pack("{s:[s]}", "redirect_uris", bad[i]);
        char *text = json_dumps(body, JSON_COMPACT);
        json_t *r = send_req(&x, "POST", "/register", NULL, "application/json", text, NULL, NULL);
        if (status_of(r) != 400) ck_abort_msg("accepted %s", bad[i]);
        json_t *b = body_json(r);
        ck_assert_str_eq(pget(b, "error"), "invalid_redirect_uri");
        json_decref(b);
        json_decref(r);
        free(text);
        json_decref(body);
    }
    struct {
        const char *ctype, *body, *error;
    } cases[] = {
        {"application/json", "{}", "invalid_redirect_uri"},
        {"application/json", "{\"redirect_uris\":[]}", "invalid_redirect_uri"},
        {"application/json", "not json", "invalid_client_metadata"},
        {"application/json", "[1]", "invalid_client_metadata"},
        {"text/plain", "{\"redirect_uris\":[\"" CLIENT_CB "\"]}", "invalid_client_metadata"},
        {"application/json",
         "{\"redirect_uris\":[\"" CLIENT_CB "\"],\"response_types\":[\"token\"]}",
         "invalid_client_metadata"},
        {"application/json",
         "{\"redirect_uris\":[\"" CLIENT_CB "\"],\"grant_types\":[\"client_credentials\"]}",
         "invalid_client_metadata"},
        {"application/json", "{\"redirect_uris\":[\"" CLIENT_CB "\"],\"client_name\":7}",
         "invalid_client_metadata"},
        {"application/json",
         "{\"redirect_uris\":[\"" CLIENT_CB "\"],\"redirect_uris\":[\"" CLIENT_CB "\"]}",
         "invalid_client_metadata"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r =
            send_req(&x, "POST", "/register", NULL, cases[i].ctype, cases[i].body, NULL, NULL);
        ck_assert_int_eq(status_of(r), 400);
        json_t *b = body_json(r);
        ck_assert_str_eq(pget(b, "error"), cases[i].error);
        json_decref(b);
        json_decref(r);
    }
    /* more than 10 redirect URIs, an oversized name and body */
    char big[4096] = "{\"redirect_uris\":[";
    for (int i = 0; i < 11; i++) strcat(big, i ? ",\"" CLIENT_CB "\"" : "\"" CLIENT_CB "\"");
    strcat(big, "]}");
    json_t *r = send_req(&x, "POST", "/register", NULL, "application/json", big, NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    char *huge = malloc(MCP_PX_MAX_REGISTER_BODY + 100);
    memset(huge, ' ', MCP_PX_MAX_REGISTER_BODY + 99);
    huge[MCP_PX_MAX_REGISTER_BODY + 99] = '\0';
    huge[0] = '{';
    huge[MCP_PX_MAX_REGISTER_BODY + 98] = '}';
    r = send_req(&x, "POST", "/register", NULL, "application/json", huge, NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    ck_assert_ptr_nonnull(strstr(body_of(r), "too large"));
    json_decref(r);
    free(huge);
    /* method */
    r = send_req(&x, "GET", "/register", NULL, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 405);
    json_decref(r);
    eng_free(&x);
}
END_TEST

START_TEST(register_allowed_patterns) {
    eng x = eng_new("\"allowedRedirectUris\":[\"http://127.0.0.1:*/callback\","
                    "\"https://*.example.com/cb\"]");
    json_t *r = send_req(&x, "POST", "/register", NULL, "application/json",
                         "{\"redirect_uris\":[\"https://evil.test/cb\"]}", NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    r = send_req(&x, "POST", "/register", NULL, "application/json",
                 "{\"redirect_uris\":[\"http://127.0.0.1:4567/callback\",\"https://a.example.com/"
                 "cb\"]}",
                 NULL, NULL);
    ck_assert_int_eq(status_of(r), 201);
    json_decref(r);
    eng_free(&x);
}
END_TEST

START_TEST(redirect_pattern_rules) {
    static const struct {
        const char *pattern, *uri;
        int match;
    } cases[] = {
        {"https://*.example.com/callback", "https://app.example.com/callback", 1},
        {"https://*.example.com/callback", "https://APP.Example.COM/callback", 1},
        /* the issue's bypass: "*" used to match across '/', '?' and host boundaries */
        {"https://*.example.com/callback", "https://evil.test/?.example.com/callback", 0},
        {"https://*.example.com/callback", "https://evil.test/x.example.com/callback", 0},
        {"https://*.example.com/callback", "https://a.b.example.com/callback", 0},
        {"https://*.example.com/callback", "https://example.com/callback", 0},
        {"https://*.example.com/callback", "https://evil.example.com.evil.test/callback", 0},
        {"https://*.example.com/callback", "https://a.example.com/callback/x", 0},
        {"https://*.example.com/callback", "https://a.example.com/callback?x=1", 0},
        {"https://*.example.com/callback", "https://u@a.example.com/callback", 0},
        {"https://*.example.com/callback", "https://a.example.com:444/callback", 0},
        {"https://*.example.com/callback", "http://a.example.com/callback", 0},
        {"https://*.example.com/callback", "https://a.example.com/callback#f", 0},
        {"http://127.0.0.1:*/callback", "http://127.0.0.1:4567/callback", 1},
        {"http://127.0.0.1:*/callback", "http://127.0.0.1/callback", 0},
        {"http://127.0.0.1:*/callback", "http://127.0.0.1:4567/callback/../x", 0},
        {"http://127.0.0.1:*/callback", "http://127.0.0.1:4567@evil.test/callback", 0},
        {"http://127.0.0.1:*/callback", "http://127.0.0.1.evil.test:80/callback", 0},
        {"https://app.example/*/cb", "https://app.example/tenant/cb", 1},
        {"https://app.example/*/cb", "https://app.example/a/b/cb", 0},
        {"https://app.example/*/cb", "https://app.example//cb", 0},
        {"https://app.example/*/cb", "https://app.example/cb", 0},
        {"https://app.example/cb?x=1", "https://app.example/cb?x=1", 1},
        {"https://app.example/cb?x=1", "https://app.example/cb?x=2", 0},
        {"https://app.example/cb", "https://app.example/CB", 0},
        {"cursor://anysphere.cursor-mcp/oauth/*", "cursor://anysphere.cursor-mcp/oauth/callback",
         1},
        {"cursor://anysphere.cursor-mcp/oauth/*", "cursorx://anysphere.cursor-mcp/oauth/callback",
         0},
        {"com.example.app:/oauth/*", "com.example.app:/oauth/cb", 1},
        {"com.example.app:/oauth/*", "com.example.app://evil/oauth/cb", 0},
        {"http://[::1]:*/cb", "http://[::1]:80/cb", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(mcp_redirect_pattern_valid(cases[i].pattern), "%s", cases[i].pattern);
        ck_assert_msg(mcp_redirect_pattern_match(cases[i].pattern, cases[i].uri) == cases[i].match,
                      "%s vs %s", cases[i].pattern, cases[i].uri);
    }
    static const char *const invalid[] = {"https://app*.example.com/cb",
                                          "https://*example.com/cb",
                                          "http*://a.example/cb",
                                          "https://a.example/cb*",
                                          "https://a.example/cb?x=*",
                                          "https://a.example:8*/cb",
                                          "https://[::*]/cb",
                                          "*",
                                          "https://u@a.example/cb",
                                          "https://a.example/cb#x",
                                          "",
                                          "https:///cb"};
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        ck_assert_msg(!mcp_redirect_pattern_valid(invalid[i]), "%s", invalid[i]);
    /* a configuration with such a pattern is refused */
    char *json = config_with("\"allowedRedirectUris\":[\"https://app*.example.com/cb\"]");
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    ck_assert_int_eq(mcpauth_engine_new(json, strlen(json), 0, &e, &detail), MCPAUTH_E_CONFIG);
    ck_assert_ptr_nonnull(strstr(detail, "allowedRedirectUris"));
    mcpauth_free(detail);
    free(json);
}
END_TEST

/* ---- /authorize ------------------------------------------------------------------------- */

START_TEST(authorize_redirect_matching) {
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "Matcher");
    jar j = {0};
    struct {
        const char *redirect;
        int status;
    } cases[] = {
        {CLIENT_CB, 200},                         /* exact */
        {"http://127.0.0.1:49152/callback", 200}, /* loopback: any port (RFC 8252 7.3) */
        {"http://127.0.0.1/callback", 200},
        {"http://127.0.0.1:3000/callback/", 400}, /* not exact */
        {"http://127.0.0.1:3000/other", 400},
        {"http://localhost:3000/callback", 400}, /* another host */
        {"https://127.0.0.1:3000/callback", 400},
        {"http://127.0.0.1:3000/callback?x=1", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *q = authorize_query(cid, cases[i].redirect, NULL);
        json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
        if (status_of(r) != cases[i].status)
            ck_abort_msg("%s: status %d", cases[i].redirect, status_of(r));
        if (cases[i].status == 400) {
            ck_assert_ptr_null(header_of(r, "Location"));
            ck_assert_ptr_nonnull(strstr(header_of(r, "Content-Type"), "text/html"));
        }
        json_decref(r);
        free(q);
    }
    /* https registrations do not get port variance */
    char *c2 = register_client(&x, "https://app.example.com:8443/cb", "Https");
    char *q = authorize_query(c2, "https://app.example.com:9443/cb", NULL);
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    free(q);
    /* unknown or forged client */
    q = authorize_query("not-a-client", CLIENT_CB, NULL);
    r = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    ck_assert_ptr_nonnull(strstr(body_of(r), "unknown client_id"));
    json_decref(r);
    free(q);
    free(c2);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(authorize_pkce_and_params) {
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "Pkce");
    char *ec = enc(cid);
    const char *er = "http%3A%2F%2F127.0.0.1%3A3000%2Fcallback";
    struct {
        const char *tail;
        const char *error;
    } cases[] = {
        {"response_type=code&code_challenge=" CHALLENGE "&code_challenge_method=plain",
         "invalid_request"},
        {"response_type=code&code_challenge=" CHALLENGE, "invalid_request"},
        {"response_type=code&code_challenge_method=S256", "invalid_request"},
        {"response_type=code&code_challenge=short&code_challenge_method=S256", "invalid_request"},
        {"response_type=token&code_challenge=" CHALLENGE "&code_challenge_method=S256",
         "unsupported_response_type"},
        {"response_type=code&code_challenge=" CHALLENGE
         "&code_challenge_method=S256&scope=a%20%20b",
         "invalid_scope"},
        {"response_type=code&code_challenge=" CHALLENGE
         "&code_challenge_method=S256&resource=https%3A%2F%2Fother.example.com%2Fmcp",
         "invalid_target"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char q[4096];
        snprintf(q, sizeof q, "client_id=%s&redirect_uri=%s&state=st%zu&%s", ec, er, i,
                 cases[i].tail);
        json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
        ck_assert_int_eq(status_of(r), 302);
        const char *loc = header_of(r, "Location");
        ck_assert(strncmp(loc, CLIENT_CB "?", strlen(CLIENT_CB) + 1) == 0);
        json_t *p = url_params(loc);
        if (strcmp(pget(p, "error"), cases[i].error) != 0)
            ck_abort_msg("case %zu: %s", i, pget(p, "error"));
        char st[16];
        snprintf(st, sizeof st, "st%zu", i);
        ck_assert_str_eq(pget(p, "state"), st);
        ck_assert_str_eq(pget(p, "iss"), BASE);
        json_decref(p);
        json_decref(r);
    }
    /* a parameter given twice */
    char q[4096];
    snprintf(q, sizeof q, "client_id=%s&client_id=%s&redirect_uri=%s", ec, ec, er);
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    free(ec);
    free(cid);
    eng_free(&x);
}
END_TEST

/* ---- consent ---------------------------------------------------------------------------- */

START_TEST(consent_page_headers_and_escaping) {
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "<script>alert('x')</script> & Co");
    char *q = authorize_query(cid, CLIENT_CB, NULL);
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    free(q);
    ck_assert_int_eq(status_of(r), 200);
    const char *csp = header_of(r, "Content-Security-Policy");
    ck_assert_ptr_nonnull(csp);
    ck_assert_ptr_nonnull(strstr(csp, "frame-ancestors 'none'"));
    ck_assert_ptr_nonnull(strstr(csp, "default-src 'none'"));
    ck_assert_str_eq(header_of(r, "X-Frame-Options"), "DENY");
    ck_assert_str_eq(header_of(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(header_of(r, "Content-Type"), "text/html; charset=utf-8");
    const char *cookie = header_of(r, "Set-Cookie");
    ck_assert(strncmp(cookie, "__Host-mcpauth-csrf=", 20) == 0);
    ck_assert_ptr_nonnull(strstr(cookie, "; Secure"));
    ck_assert_ptr_nonnull(strstr(cookie, "; HttpOnly"));
    ck_assert_ptr_nonnull(strstr(cookie, "; SameSite=Lax"));
    ck_assert_ptr_nonnull(strstr(cookie, "; Path=/"));
    ck_assert_ptr_null(strstr(cookie, "Domain"));
    const char *html = body_of(r);
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
    ck_assert_ptr_nonnull(strstr(html, "id=\"approve\""));
    ck_assert_ptr_nonnull(strstr(html, "id=\"deny\""));
    ck_assert_ptr_nonnull(strstr(html, "id=\"consent-form\""));
    ck_assert_ptr_nonnull(
        strstr(html, "<span class=\"value\" id=\"redirect-host\">127.0.0.1:3000"));
    ck_assert_ptr_nonnull(strstr(html, "unverified"));
    ck_assert_ptr_nonnull(strstr(html, "localhost")); /* the all-loopback warning */
    ck_assert_ptr_nonnull(strstr(html, "See your email address"));
    /* no external resources, no script */
    ck_assert_ptr_null(strstr(html, "<link"));
    ck_assert_ptr_null(strstr(html, "<img"));
    ck_assert_ptr_null(strstr(html, "src="));
    ck_assert_ptr_null(strstr(html, "<script"));
    /* the CSS is allowed by the nonce in the CSP only */
    const char *n = strstr(csp, "'nonce-");
    ck_assert_ptr_nonnull(n);
    char nonce_attr[64];
    snprintf(nonce_attr, sizeof nonce_attr, "<style nonce=\"%.22s\">", n + 7);
    ck_assert_ptr_nonnull(strstr(html, nonce_attr));
    json_decref(r);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(consent_csrf) {
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "Csrf");
    char *q = authorize_query(cid, CLIENT_CB, NULL);
    jar j = {0};
    json_t *page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    free(q);
    jar_take(&j, page);
    char *tx = form_value(body_of(page), "tx");
    char *csrf = form_value(body_of(page), "csrf_token");
    json_decref(page);
    char *etx = enc(tx), *ecs = enc(csrf);
    char body[8192];
    const char *ft = "application/x-www-form-urlencoded";

    /* no CSRF cookie (a cross-site POST under SameSite=Lax) */
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    json_t *r = send_req(&x, "POST", "/authorize", NULL, ft, body, NULL, NULL);
    ck_assert_int_eq(status_of(r), 403);
    ck_assert_ptr_null(header_of(r, "Location"));
    json_decref(r);
    /* the attacker's own cookie */
    jar other = {0};
    snprintf(other.names[0], sizeof other.names[0], "__Host-mcpauth-csrf");
    snprintf(other.values[0], sizeof other.values[0], "AAAAAAAAAAAAAAAAAAAAAA");
    other.n = 1;
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &other, NULL);
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    /* missing csrf_token */
    snprintf(body, sizeof body, "tx=%s&decision=approve", etx);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* csrf_token of another request */
    char *q2 = authorize_query(cid, CLIENT_CB, "x=2");
    json_t *page2 = send_req(&x, "GET", "/authorize", q2, NULL, NULL, &j, NULL);
    char *csrf2 = form_value(body_of(page2), "csrf_token");
    char *ecs2 = enc(csrf2);
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs2);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, NULL);
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    /* tampered tx */
    char *ttx = strdup(tx);
    ttx[10] = ttx[10] == 'A' ? 'B' : 'A';
    char *ettx = enc(ttx);
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", ettx, ecs);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* cross-origin POST */
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, "https://evil.example");
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    /* wrong content type */
    r = send_req(&x, "POST", "/authorize", NULL, "application/json", body, &j, BASE);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* deny: back to the client with access_denied */
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=deny", etx, ecs);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, BASE);
    ck_assert_int_eq(status_of(r), 302);
    json_t *p = url_params(header_of(r, "Location"));
    ck_assert(strncmp(header_of(r, "Location"), CLIENT_CB "?", strlen(CLIENT_CB) + 1) == 0);
    ck_assert_str_eq(pget(p, "error"), "access_denied");
    ck_assert_str_eq(pget(p, "state"), "client-state-1");
    ck_assert_str_eq(pget(p, "iss"), BASE);
    json_decref(p);
    json_decref(r);
    /* expired tx */
    mcp_time_set_override(mcp_now() + 601);
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    r = send_req(&x, "POST", "/authorize", NULL, ft, body, &j, BASE);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    mcp_time_set_override(0);
    free(ttx);
    free(ettx);
    free(q2);
    free(csrf2);
    free(ecs2);
    json_decref(page2);
    free(etx);
    free(ecs);
    free(tx);
    free(csrf);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(approve_redirects_upstream) {
    eng x = eng_new("\"extraAuthorizeParams\":{\"prompt\":\"login\"}");
    char *cid = register_client(&x, CLIENT_CB, "Approver");
    jar j = {0};
    char *q = authorize_query(cid, CLIENT_CB, "resource=https%3A%2F%2Fmcp.example.com%2Fmcp");
    json_t *page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    free(q);
    ck_assert_int_eq(status_of(page), 200);
    jar_take(&j, page);
    char *tx = form_value(body_of(page), "tx"), *csrf = form_value(body_of(page), "csrf_token");
    char *etx = enc(tx), *ecs = enc(csrf), body[8192];
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    json_t *r = send_req(&x, "POST", "/authorize", NULL, "application/x-www-form-urlencoded", body,
                         &j, BASE);
    ck_assert_int_eq(status_of(r), 302);
    const char *loc = header_of(r, "Location");
    ck_assert(strncmp(loc, "https://idp.example.com/authorize?", 34) == 0);
    json_t *p = url_params(loc);
    ck_assert_str_eq(pget(p, "response_type"), "code");
    ck_assert_str_eq(pget(p, "client_id"), "upstream-client");
    ck_assert_str_eq(pget(p, "redirect_uri"), BASE "/oauth/callback");
    ck_assert_str_eq(pget(p, "code_challenge_method"), "S256");
    ck_assert_str_ne(pget(p, "code_challenge"), CHALLENGE); /* the proxy's own pair */
    ck_assert_int_eq(strlen(pget(p, "code_challenge")), 43);
    ck_assert_str_eq(pget(p, "scope"), "openid email");
    ck_assert_str_eq(pget(p, "resource"), "https://mcp.example.com/mcp");
    ck_assert_str_eq(pget(p, "prompt"), "login");
    ck_assert_str_ne(pget(p, "state"), "client-state-1");
    ck_assert_ptr_null(strstr(loc, "client-state-1")); /* sealed, not readable */
    ck_assert_ptr_null(strstr(loc, "upstream-secret"));
    /* the binding cookie and the remembered consent */
    ck_assert_int_eq(count_header(r, "Set-Cookie"), 2);
    jar_take(&j, r);
    ck_assert(jar_has_prefix(&j, "__Host-mcpauth-bind-"));
    ck_assert(jar_has_prefix(&j, "__Host-mcpauth-consent-"));
    ck_assert_str_eq(header_of(r, "Cache-Control"), "no-store");
    json_decref(p);
    json_decref(r);

    /* a second authorization of the same client in this browser skips the page */
    q = authorize_query(cid, CLIENT_CB, NULL);
    r = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 302);
    ck_assert(strncmp(header_of(r, "Location"), "https://idp.example.com/authorize?", 34) == 0);
    json_decref(r);
    free(q);
    /* ... but not for more scopes than approved */
    q = authorize_query(cid, CLIENT_CB, "x=1");
    char *more = strstr(q, "scope=openid%20email");
    ck_assert_ptr_nonnull(more);
    char q2[8192];
    snprintf(q2, sizeof q2, "%.*sscope=openid%%20email%%20profile%s", (int)(more - q), q,
             more + strlen("scope=openid%20email"));
    r = send_req(&x, "GET", "/authorize", q2, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 200);
    json_decref(r);
    free(q);
    /* ... nor for another client */
    char *cid2 = register_client(&x, CLIENT_CB, "Other");
    q = authorize_query(cid2, CLIENT_CB, NULL);
    r = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 200);
    json_decref(r);
    free(q);
    free(cid2);
    json_decref(page);
    free(tx);
    free(csrf);
    free(etx);
    free(ecs);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(consent_disabled) {
    eng x = eng_new("\"consent\":false");
    char *cid = register_client(&x, CLIENT_CB, "NoConsent");
    char *q = authorize_query(cid, CLIENT_CB, NULL);
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 302);
    ck_assert_int_eq(count_header(r, "Set-Cookie"), 1); /* binding only */
    ck_assert(strncmp(header_of(r, "Set-Cookie"), "__Host-mcpauth-bind-", 20) == 0);
    json_decref(r);
    free(q);
    free(cid);
    eng_free(&x);
}
END_TEST

/* ---- callback --------------------------------------------------------------------------- */

START_TEST(callback_binding_and_state) {
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "Binder");
    jar j = {0};
    json_t *up = authorize_and_approve(&x, cid, CLIENT_CB, &j);
    json_t *upq = url_params(header_of(up, "Location"));
    const char *state = pget(upq, "state");

    /* another browser (no binding cookie): 403 */
    jar other = {0};
    json_t *r = callback(&x, "UC", state, &other);
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    /* binding cookie of another flow: 403 */
    jar j2 = {0};
    json_t *up2 = authorize_and_approve(&x, cid, CLIENT_CB, &j2);
    jar mixed = j2;
    jar_drop_prefix(&mixed, "__Host-mcpauth-consent-");
    r = callback(&x, "UC", state, &mixed);
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    json_decref(up2);
    /* tampered or missing state: 400 */
    char *bad = strdup(state);
    bad[5] = bad[5] == 'x' ? 'y' : 'x';
    r = callback(&x, "UC", bad, &j);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    free(bad);
    r = send_req(&x, "GET", "/oauth/callback", "code=UC", NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* a sealed value of another purpose as state */
    r = callback(&x, "UC", cid, &j);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* upstream issuer mismatch (RFC 9207) when the upstream issuer is known */
    /* (config_with has no proxy.issuer: covered in callback_upstream_error) */

    /* the right browser: 302 to the client with code, state, iss; binding cookie cleared */
    r = callback(&x, "UPSTREAM-CODE", state, &j);
    ck_assert_int_eq(status_of(r), 302);
    const char *loc = header_of(r, "Location");
    ck_assert(strncmp(loc, CLIENT_CB "?code=", strlen(CLIENT_CB) + 6) == 0);
    json_t *cq = url_params(loc);
    ck_assert_str_eq(pget(cq, "state"), "client-state-1");
    ck_assert_str_eq(pget(cq, "iss"), BASE);
    ck_assert_ptr_null(strstr(loc, "UPSTREAM-CODE")); /* wrapped in the proxy's code */
    ck_assert_ptr_nonnull(strstr(header_of(r, "Set-Cookie"), "Max-Age=0"));
    jar_take(&j, r);
    ck_assert(!jar_has_prefix(&j, "__Host-mcpauth-bind-"));
    json_decref(cq);
    json_decref(r);
    /* replay in the same browser: the binding cookie is gone */
    r = callback(&x, "UPSTREAM-CODE", state, &j);
    ck_assert_int_eq(status_of(r), 403);
    json_decref(r);
    /* state expiry */
    jar j3 = {0};
    json_t *up3 = authorize_and_approve(&x, cid, CLIENT_CB, &j3);
    json_t *upq3 = url_params(header_of(up3, "Location"));
    mcp_time_set_override(mcp_now() + 601);
    r = callback(&x, "UC", pget(upq3, "state"), &j3);
    ck_assert_int_eq(status_of(r), 400);
    ck_assert_ptr_nonnull(strstr(body_of(r), "expired"));
    json_decref(r);
    mcp_time_set_override(0);
    json_decref(upq3);
    json_decref(up3);
    json_decref(upq);
    json_decref(up);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(callback_upstream_error) {
    eng x = eng_new("\"issuer\":\"https://idp.example.com\"");
    char *cid = register_client(&x, CLIENT_CB, "Errors");
    jar j = {0};
    json_t *up = authorize_and_approve(&x, cid, CLIENT_CB, &j);
    json_t *upq = url_params(header_of(up, "Location"));
    char *es = enc(pget(upq, "state"));
    char q[8192];
    /* mix-up defence: an iss of another server */
    snprintf(q, sizeof q, "code=UC&state=%s&iss=https%%3A%%2F%%2Fevil.example", es);
    json_t *r = send_req(&x, "GET", "/oauth/callback", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    snprintf(q, sizeof q,
             "error=access_denied&error_description=User%%20said%%20no&state=%s&iss=https%%3A%%"
             "2F%%2Fidp.example.com",
             es);
    r = send_req(&x, "GET", "/oauth/callback", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 302);
    json_t *p = url_params(header_of(r, "Location"));
    ck_assert_str_eq(pget(p, "error"), "access_denied");
    ck_assert_str_eq(pget(p, "error_description"), "User said no");
    ck_assert_str_eq(pget(p, "state"), "client-state-1");
    ck_assert_str_eq(pget(p, "iss"), BASE);
    ck_assert_ptr_null(json_object_get(p, "code"));
    json_decref(p);
    json_decref(r);
    /* neither code nor error */
    jar j2 = {0};
    json_t *up2 = authorize_and_approve(&x, cid, CLIENT_CB, &j2);
    json_t *upq2 = url_params(header_of(up2, "Location"));
    char *es2 = enc(pget(upq2, "state"));
    snprintf(q, sizeof q, "state=%s", es2);
    r = send_req(&x, "GET", "/oauth/callback", q, NULL, NULL, &j2, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    free(es2);
    json_decref(upq2);
    json_decref(up2);
    free(es);
    json_decref(upq);
    json_decref(up);
    free(cid);
    eng_free(&x);
}
END_TEST

/* ---- /token ----------------------------------------------------------------------------- */

static void token_route(int status, const char *ctype, const char *body) {
    tu_route r = {.path = "/token", .status = status, .content_type = ctype, .body = body};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
}

/* A refresh token as the proxy hands it out: the upstream's `rt` sealed for client `cid`. */
static char *sealed_rt(const eng *x, const char *cid, const char *rt) {
    char *ch = mcp_sha256_b64url(cid, strlen(cid));
    ck_assert_ptr_nonnull(ch);
    json_t *d = json_pack("{s:s,s:s}", "rt", rt, "ch", ch);
    char *out = NULL;
    ck_assert_int_eq(mcp_seal(((const mcp_proxy *)x->e->proxy_state)->sealer, MCP_SEAL_REFRESH, d,
                              mcp_now() + 600, &out, NULL),
                     MCPAUTH_OK);
    json_decref(d);
    free(ch);
    return out;
}

START_TEST(token_exchange_ok) {
    token_route(200, "application/json",
                "{\"access_token\":\"AT-1\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
                "\"refresh_token\":\"RT-1\"}");
    eng x = eng_new("");
    jar j = {0};
    char *cid = NULL, *upc = NULL;
    char *code = full_code(&x, &cid, &j, &upc);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    json_t *r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 200);
    ck_assert_str_eq(header_of(r, "Cache-Control"), "no-store");
    ck_assert_str_eq(header_of(r, "Content-Type"), "application/json");
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "access_token"), "AT-1");
    /* the upstream refresh token is handed out sealed for this client only */
    const char *srt = pget(t, "refresh_token");
    ck_assert_ptr_null(strstr(srt, "RT-1"));
    json_t *sd = NULL;
    ck_assert_int_eq(mcp_unseal(((const mcp_proxy *)x.e->proxy_state)->sealer, MCP_SEAL_REFRESH,
                                srt, strlen(srt), mcp_now(), &sd, NULL),
                     MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(sd, "rt")), "RT-1");
    char *sch = mcp_sha256_b64url(cid, strlen(cid));
    ck_assert_str_eq(json_string_value(json_object_get(sd, "ch")), sch);
    free(sch);
    json_decref(sd);
    ck_assert_int_eq(json_integer_value(json_object_get(t, "expires_in")), 3600);
    json_decref(t);
    json_decref(r);
    /* what the upstream received */
    char *ub = tu_httpd_last_body(srv, "/token");
    json_t *u = NULL;
    ck_assert_int_eq(mcp_form_parse(ub, strlen(ub), &u), 0);
    ck_assert_str_eq(pget(u, "grant_type"), "authorization_code");
    ck_assert_str_eq(pget(u, "code"), "UPSTREAM-CODE-1");
    ck_assert_str_eq(pget(u, "redirect_uri"), BASE "/oauth/callback");
    ck_assert_str_eq(pget(u, "client_id"), "upstream-client");
    ck_assert_str_eq(pget(u, "client_secret"), "upstream-secret");
    ck_assert_str_ne(pget(u, "code_verifier"), VERIFIER);
    char *h = mcp_sha256_b64url(pget(u, "code_verifier"), strlen(pget(u, "code_verifier")));
    ck_assert_str_eq(h, upc); /* the proxy's verifier matches the challenge it sent upstream */
    free(h);
    char *accept = tu_httpd_last_header(srv, "/token", "Accept");
    ck_assert_str_eq(accept, "application/json");
    free(accept);
    ck_assert_ptr_null(tu_httpd_last_header(srv, "/token", "Authorization"));
    json_decref(u);
    free(ub);
    free(b);
    free(code);
    free(cid);
    free(upc);
    eng_free(&x);
}
END_TEST

START_TEST(token_code_checks) {
    token_route(200, "application/json", "{\"access_token\":\"AT\",\"token_type\":\"Bearer\"}");
    eng x = eng_new("");
    jar j = {0};
    char *cid = NULL;
    char *code = full_code(&x, &cid, &j, NULL);
    char *other = register_client(&x, CLIENT_CB, "Other client");
    struct {
        char *body;
        int status;
        const char *error;
    } cases[] = {
        /* bound to the client */
        {code_body(other, code, CLIENT_CB, VERIFIER), 400, "invalid_grant"},
        /* bound to the redirect URI */
        {code_body(cid, code, "http://127.0.0.1:3001/callback", VERIFIER), 400, "invalid_grant"},
        /* the client's PKCE verifier */
        {code_body(cid, code, CLIENT_CB, "wrong-verifier-wrong-verifier-wrong-verifier-xx"), 400,
         "invalid_grant"},
        {code_body(cid, code, CLIENT_CB, "short"), 400, "invalid_grant"},
        /* forged code */
        {code_body(cid, "AAAA", CLIENT_CB, VERIFIER), 400, "invalid_grant"},
        /* the client id sealed for another purpose used as a code */
        {code_body(cid, cid, CLIENT_CB, VERIFIER), 400, "invalid_grant"},
        /* unknown client */
        {code_body("forged-client", code, CLIENT_CB, VERIFIER), 401, "invalid_client"},
        {strdup("grant_type=authorization_code&code=x"), 400, "invalid_request"},
        {strdup("grant_type=password&client_id=x"), 400, "unsupported_grant_type"},
        {strdup("client_id=x"), 400, "invalid_request"},
        {strdup("grant_type=authorization_code&grant_type=authorization_code"), 400,
         "invalid_request"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *r = token_req(&x, cases[i].body);
        if (status_of(r) != cases[i].status)
            ck_abort_msg("case %zu: status %d %s", i, status_of(r), body_of(r));
        json_t *t = body_json(r);
        ck_assert_str_eq(pget(t, "error"), cases[i].error);
        json_decref(t);
        json_decref(r);
        free(cases[i].body);
    }
    ck_assert_uint_eq(tu_httpd_hits(srv, "/token"), 0); /* nothing reached the upstream */
    /* content type and method */
    json_t *r = send_req(&x, "POST", "/token", NULL, "application/json", "{}", NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    r = send_req(&x, "GET", "/token", NULL, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 405);
    ck_assert_str_eq(header_of(r, "Allow"), "POST, OPTIONS");
    json_decref(r);
    /* code expiry */
    mcp_time_set_override(mcp_now() + 301);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    mcp_time_set_override(0);
    /* and the good one still works */
    r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 200);
    json_decref(r);
    free(b);
    free(other);
    free(code);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(token_basic_auth_and_form_reply) {
    /* GitHub answers form-encoded */
    token_route(200, "application/x-www-form-urlencoded",
                "access_token=gho_abc&scope=read%3Auser&token_type=bearer&expires_in=28800");
    eng x = eng_new("\"tokenEndpointAuthMethod\":\"client_secret_basic\"");
    jar j = {0};
    char *cid = NULL;
    char *code = full_code(&x, &cid, &j, NULL);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    json_t *r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 200);
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "access_token"), "gho_abc");
    ck_assert_str_eq(pget(t, "scope"), "read:user");
    ck_assert_int_eq(json_integer_value(json_object_get(t, "expires_in")), 28800);
    json_decref(t);
    json_decref(r);
    char *auth = tu_httpd_last_header(srv, "/token", "Authorization");
    /* base64("upstream-client:upstream-secret") */
    ck_assert_str_eq(auth, "Basic dXBzdHJlYW0tY2xpZW50OnVwc3RyZWFtLXNlY3JldA==");
    free(auth);
    char *ub = tu_httpd_last_body(srv, "/token");
    ck_assert_ptr_null(strstr(ub, "client_secret"));
    free(ub);
    free(b);
    free(code);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(token_error_forwarding) {
    eng x = eng_new("");
    jar j = {0};
    char *cid = NULL;
    char *code = full_code(&x, &cid, &j, NULL);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    struct {
        int up_status;
        const char *ctype, *body;
        int status;
        const char *error;
    } cases[] = {
        {400, "application/json", "{\"error\":\"invalid_grant\",\"error_description\":\"used\"}",
         400, "invalid_grant"},
        {401, "application/json", "{\"error\":\"invalid_client\"}", 401, "invalid_client"},
        /* GitHub: 200 with an error in a form */
        {200, "application/x-www-form-urlencoded",
         "error=bad_verification_code&error_description=The+code+is+incorrect", 400,
         "bad_verification_code"},
        {502, "text/html", "<html>bad gateway</html>", 503, "temporarily_unavailable"},
        {500, "application/json", "{\"error\":\"server_error\"}", 500, "server_error"},
        {200, "application/json", "{\"token_type\":\"Bearer\"}", 502, "server_error"},
        {200, "text/html", "<html>", 502, "server_error"},
        {404, "text/html", "nope", 502, "server_error"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        token_route(cases[i].up_status, cases[i].ctype, cases[i].body);
        json_t *r = token_req(&x, b);
        if (status_of(r) != cases[i].status)
            ck_abort_msg("case %zu: status %d %s", i, status_of(r), body_of(r));
        json_t *t = body_json(r);
        ck_assert_str_eq(pget(t, "error"), cases[i].error);
        ck_assert_str_eq(header_of(r, "Cache-Control"), "no-store");
        json_decref(t);
        json_decref(r);
    }
    token_route(400, "application/json",
                "{\"error\":\"invalid_grant\",\"error_description\":\"used\"}");
    json_t *r = token_req(&x, b);
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "error_description"), "used");
    json_decref(t);
    json_decref(r);
    free(b);
    free(code);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(token_upstream_outage) {
    char *json = config_with("");
    /* point the token endpoint at a closed port */
    char *at = strstr(json, tu_httpd_url(srv, "/token"));
    ck_assert_ptr_nonnull(at);
    char fixed[4096];
    snprintf(fixed, sizeof fixed, "%.*shttp://127.0.0.1:1/token%s", (int)(at - json), json,
             at + strlen(tu_httpd_url(srv, "/token")));
    eng x = eng_new_json(fixed);
    jar j = {0};
    char *cid = NULL;
    char *code = full_code(&x, &cid, &j, NULL);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    json_t *r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 503);
    ck_assert_str_eq(header_of(r, "Retry-After"), "30");
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "error"), "temporarily_unavailable");
    json_decref(t);
    json_decref(r);
    /* refresh too */
    char rb[4096];
    char *ec = enc(cid);
    char *srt = sealed_rt(&x, cid, "RT");
    char *esrt = enc(srt);
    snprintf(rb, sizeof rb, "grant_type=refresh_token&client_id=%s&refresh_token=%s", ec, esrt);
    free(srt);
    free(esrt);
    r = token_req(&x, rb);
    ck_assert_int_eq(status_of(r), 503);
    json_decref(r);
    free(ec);
    free(b);
    free(code);
    free(cid);
    free(json);
    eng_free(&x);
}
END_TEST

START_TEST(token_refresh_passthrough) {
    token_route(200, "application/json",
                "{\"access_token\":\"AT-2\",\"token_type\":\"Bearer\",\"refresh_token\":\"RT-2\"}");
    eng x = eng_new("");
    char *cid = register_client(&x, CLIENT_CB, "Refresher");
    char *ec = enc(cid), b[4096];
    char *srt = sealed_rt(&x, cid, "RT-1");
    char *esrt = enc(srt);
    snprintf(b, sizeof b,
             "grant_type=refresh_token&client_id=%s&refresh_token=%s&scope=openid&resource="
             "https%%3A%%2F%%2Fmcp.example.com%%2Fmcp",
             ec, esrt);
    json_t *r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 200);
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "access_token"), "AT-2");
    /* rotation: the new upstream refresh token is sealed for the same client */
    const char *nrt = pget(t, "refresh_token");
    json_t *nd = NULL;
    ck_assert_int_eq(mcp_unseal(((const mcp_proxy *)x.e->proxy_state)->sealer, MCP_SEAL_REFRESH,
                                nrt, strlen(nrt), mcp_now(), &nd, NULL),
                     MCPAUTH_OK);
    ck_assert_str_eq(json_string_value(json_object_get(nd, "rt")), "RT-2");
    json_decref(nd);
    json_decref(t);
    json_decref(r);
    char *ub = tu_httpd_last_body(srv, "/token");
    json_t *u = NULL;
    ck_assert_int_eq(mcp_form_parse(ub, strlen(ub), &u), 0);
    ck_assert_str_eq(pget(u, "grant_type"), "refresh_token");
    ck_assert_str_eq(pget(u, "refresh_token"), "RT-1");
    ck_assert_str_eq(pget(u, "client_id"), "upstream-client");
    ck_assert_str_eq(pget(u, "client_secret"), "upstream-secret");
    ck_assert_str_eq(pget(u, "scope"), "openid");
    ck_assert_str_eq(pget(u, "resource"), "https://mcp.example.com/mcp");
    json_decref(u);
    free(ub);
    /* the upstream's refresh token presented as it is, another client's, and a CIMD URL
     * client that does not resolve: refused before the upstream is asked */
    char *other = register_client(&x, CLIENT_CB, "Other");
    char *eo = enc(other);
    const char *bodies[3][2] = {
        {ec, "RT-1"}, {eo, esrt}, {"https%3A%2F%2Fcimd.invalid%2Fc.json", esrt}};
    const char *errs[3] = {"invalid_grant", "invalid_grant", "invalid_client"};
    for (int i = 0; i < 3; i++) {
        tu_httpd_reset_hits(srv, "/token");
        snprintf(b, sizeof b, "grant_type=refresh_token&client_id=%s&refresh_token=%s",
                 bodies[i][0], bodies[i][1]);
        r = token_req(&x, b);
        ck_assert_int_eq(status_of(r), strcmp(errs[i], "invalid_client") == 0 ? 401 : 400);
        t = body_json(r);
        ck_assert_str_eq(pget(t, "error"), errs[i]);
        json_decref(t);
        json_decref(r);
        ck_assert_int_eq(tu_httpd_hits(srv, "/token"), 0);
    }
    free(eo);
    free(other);
    free(srt);
    free(esrt);
    /* a resource of another server */
    snprintf(b, sizeof b,
             "grant_type=refresh_token&client_id=%s&refresh_token=RT-1&resource=https%%3A%%2F%%"
             "2Fother.example%%2Fmcp",
             ec);
    r = token_req(&x, b);
    ck_assert_int_eq(status_of(r), 400);
    t = body_json(r);
    ck_assert_str_eq(pget(t, "error"), "invalid_target");
    json_decref(t);
    json_decref(r);
    /* refresh disabled on the server */
    eng y = eng_new("\"grantTypes\":[\"authorization_code\"]");
    snprintf(b, sizeof b, "grant_type=refresh_token&client_id=%s&refresh_token=RT-1", ec);
    r = token_req(&y, b);
    ck_assert_int_eq(status_of(r), 400);
    t = body_json(r);
    ck_assert_str_eq(pget(t, "error"), "unsupported_grant_type");
    json_decref(t);
    json_decref(r);
    eng_free(&y);
    free(ec);
    free(cid);
    eng_free(&x);
}
END_TEST

START_TEST(nonblock_would_block) {
    eng x = eng_new("");
    jar j = {0};
    char *cid = NULL;
    char *code = full_code(&x, &cid, &j, NULL);
    char *b = code_body(cid, code, CLIENT_CB, VERIFIER);
    json_t *req = json_pack("{s:s,s:s,s:{s:s},s:s}", "method", "POST", "path", "/token", "headers",
                            "content-type", "application/x-www-form-urlencoded", "body", b);
    json_t *resp = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(proxy_handle_json(x.e, req, 1, &resp, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_ptr_null(resp);
    json_decref(req);
    /* not a proxy route */
    req = json_pack("{s:s,s:s}", "method", "GET", "path", "/mcp");
    ck_assert_int_eq(proxy_handle_json(x.e, req, 0, &resp, &err), 0);
    ck_assert_ptr_null(resp);
    json_decref(req);
    free(b);
    free(code);
    free(cid);
    eng_free(&x);
}
END_TEST

/* ---- statelessness ---------------------------------------------------------------------- */

START_TEST(three_engines_one_flow) {
    token_route(200, "application/json", "{\"access_token\":\"AT-3\",\"token_type\":\"Bearer\"}");
    char *json = config_with("");
    eng a = eng_new_json(json), b = eng_new_json(json), c = eng_new_json(json);
    /* register on A, authorize + consent on A, callback on B, token on C */
    char *cid = register_client(&a, CLIENT_CB, "Replicated");
    jar j = {0};
    json_t *up = authorize_and_approve(&a, cid, CLIENT_CB, &j);
    json_t *upq = url_params(header_of(up, "Location"));
    json_t *cb = callback(&b, "UPSTREAM-CODE-3", pget(upq, "state"), &j);
    ck_assert_int_eq(status_of(cb), 302);
    json_t *cq = url_params(header_of(cb, "Location"));
    char *tb = code_body(cid, pget(cq, "code"), CLIENT_CB, VERIFIER);
    json_t *r = token_req(&c, tb);
    ck_assert_int_eq(status_of(r), 200);
    json_t *t = body_json(r);
    ck_assert_str_eq(pget(t, "access_token"), "AT-3");
    char *ub = tu_httpd_last_body(srv, "/token");
    ck_assert_ptr_nonnull(strstr(ub, "code=UPSTREAM-CODE-3"));
    free(ub);
    json_decref(t);
    json_decref(r);
    /* the consent page of one replica is accepted by another */
    char *q = authorize_query(cid, CLIENT_CB, "scope2=x");
    jar k = {0};
    json_t *page = send_req(&b, "GET", "/authorize", q, NULL, NULL, &k, NULL);
    ck_assert_int_eq(status_of(page), 200);
    jar_take(&k, page);
    char *tx = form_value(body_of(page), "tx"), *cs = form_value(body_of(page), "csrf_token");
    char *etx = enc(tx), *ecs = enc(cs), body[8192];
    snprintf(body, sizeof body, "tx=%s&csrf_token=%s&decision=approve", etx, ecs);
    r = send_req(&c, "POST", "/authorize", NULL, "application/x-www-form-urlencoded", body, &k,
                 BASE);
    ck_assert_int_eq(status_of(r), 302);
    json_decref(r);
    /* a replica with another secret refuses everything */
    char *json2 = strdup(json);
    char *sp = strstr(json2, SECRET);
    sp[0] = 'X';
    eng d = eng_new_json(json2);
    r = token_req(&d, tb);
    ck_assert_int_eq(status_of(r), 401); /* the client id does not open */
    json_decref(r);
    /* rotation: new secret with the old one as previous */
    char rot[64 + sizeof SECRET];
    snprintf(rot, sizeof rot, "\"previousSecrets\":[\"%s\"]", SECRET);
    char *json3 = config_with(rot);
    char *sp3 = strstr(json3, "\"sealingSecret\":\"" SECRET);
    sp3[strlen("\"sealingSecret\":\"")] = 'Y';
    eng e3 = eng_new_json(json3);
    char *q3 = authorize_query(cid, CLIENT_CB, NULL);
    jar none = {0};
    r = send_req(&e3, "GET", "/authorize", q3, NULL, NULL, &none, NULL);
    ck_assert_int_eq(status_of(r), 200); /* the old client id still opens */
    json_decref(r);
    free(q3);
    free(json3);
    eng_free(&e3);
    eng_free(&d);
    free(json2);
    free(q);
    free(tx);
    free(cs);
    free(etx);
    free(ecs);
    json_decref(page);
    free(tb);
    json_decref(cq);
    json_decref(cb);
    json_decref(upq);
    json_decref(up);
    free(cid);
    free(json);
    eng_free(&a);
    eng_free(&b);
    eng_free(&c);
}
END_TEST

/* ---- client ID metadata documents ------------------------------------------------------- */

START_TEST(cimd_flow) {
    const char *doc_url = tu_httpd_url(srv, "/client.json");
    char doc[1024];
    snprintf(
        doc, sizeof doc,
        "{\"client_id\":\"%s\",\"client_name\":\"Metadata Client\",\"redirect_uris\":[\"" CLIENT_CB
        "\"],\"token_endpoint_auth_method\":\"none\"}",
        doc_url);
    tu_route route = {.path = "/client.json", .body = doc, .cache_control = "max-age=600"};
    ck_assert_int_eq(tu_httpd_set(srv, &route), 0);
    token_route(200, "application/json", "{\"access_token\":\"AT-C\",\"token_type\":\"Bearer\"}");
    eng x = eng_new("\"allowLoopbackClientMetadata\":true");
    char *q = authorize_query(doc_url, CLIENT_CB, NULL);
    jar j = {0};
    json_t *page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(page), 200);
    ck_assert_ptr_nonnull(strstr(body_of(page), "Metadata Client"));
    ck_assert_ptr_null(strstr(body_of(page), "unverified"));
    json_decref(page);
    /* cached: a second authorization does not fetch again */
    page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(page), 200);
    json_decref(page);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/client.json"), 1);
    /* the whole flow */
    json_t *up = authorize_and_approve(&x, doc_url, CLIENT_CB, &j);
    json_t *upq = url_params(header_of(up, "Location"));
    json_t *cb = callback(&x, "UC-CIMD", pget(upq, "state"), &j);
    json_t *cq = url_params(header_of(cb, "Location"));
    char *tb = code_body(doc_url, pget(cq, "code"), CLIENT_CB, VERIFIER);
    json_t *r = token_req(&x, tb);
    ck_assert_int_eq(status_of(r), 200);
    json_decref(r);
    /* a redirect URI not in the document */
    char *q2 = authorize_query(doc_url, "http://127.0.0.1:3000/elsewhere", NULL);
    r = send_req(&x, "GET", "/authorize", q2, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    /* nonblocking with an uncached document */
    const char *u2 = tu_httpd_url(srv, "/client2.json");
    json_t *req = json_pack("{s:s,s:s,s:s}", "method", "GET", "path", "/authorize", "query", "");
    char *q3 = authorize_query(u2, CLIENT_CB, NULL);
    json_object_set_new(req, "query", json_string(q3));
    json_t *resp = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(proxy_handle_json(x.e, req, 1, &resp, &err), MCPAUTH_E_WOULD_BLOCK);
    json_decref(req);
    free(q3);
    free(q2);
    free(tb);
    json_decref(cq);
    json_decref(cb);
    json_decref(upq);
    json_decref(up);
    free(q);
    eng_free(&x);
}
END_TEST

/* tmpl with "@URL@" replaced by url */
static void subst(char *out, size_t cap, const char *tmpl, const char *url) {
    const char *at = strstr(tmpl, "@URL@");
    if (!at)
        snprintf(out, cap, "%s", tmpl);
    else
        snprintf(out, cap, "%.*s%s%s", (int)(at - tmpl), tmpl, url, at + 5);
}

/* Client metadata documents are fetched directly, never through a proxy from the environment
 * (the address check is about the connection this host opens); with clientMetadataProxy they go
 * through that proxy and only that one. The stand-in proxy is a second loopback server that
 * answers the absolute-form request an HTTP proxy receives. */
START_TEST(cimd_proxy_only_when_configured) {
    const char *doc_url = tu_httpd_url(srv, "/client-px.json");
    char doc[1024];
    snprintf(
        doc, sizeof doc,
        "{\"client_id\":\"%s\",\"client_name\":\"Proxied Client\",\"redirect_uris\":[\"" CLIENT_CB
        "\"],\"token_endpoint_auth_method\":\"none\"}",
        doc_url);
    tu_route route = {.path = "/client-px.json", .body = doc, .cache_control = "no-store"};
    ck_assert_int_eq(tu_httpd_set(srv, &route), 0);
    tu_httpd *px = tu_httpd_start();
    ck_assert_ptr_nonnull(px);
    tu_route via = {.path = doc_url, .body = doc, .cache_control = "no-store"};
    ck_assert_int_eq(tu_httpd_set(px, &via), 0);
    char px_url[64];
    snprintf(px_url, sizeof px_url, "http://127.0.0.1:%u", tu_httpd_port(px));
    char *q = authorize_query(doc_url, CLIENT_CB, NULL);
    jar j = {0};

    /* not configured: the environment's proxy is ignored (a loopback document never goes
     * through a proxy anyway; this pins that the environment cannot reroute it) */
    setenv("http_proxy", px_url, 1);
    setenv("HTTP_PROXY", px_url, 1);
    setenv("ALL_PROXY", px_url, 1);
    eng x = eng_new("\"allowLoopbackClientMetadata\":true");
    json_t *page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(page), 200);
    ck_assert_ptr_nonnull(strstr(body_of(page), "Proxied Client"));
    json_decref(page);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/client-px.json"), 1);
    ck_assert_uint_eq(tu_httpd_hits(px, doc_url), 0);
    eng_free(&x);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("ALL_PROXY");

    /* configured: through that proxy */
    char members[160];
    snprintf(members, sizeof members,
             "\"allowLoopbackClientMetadata\":true,\"clientMetadataProxy\":\"%s\"", px_url);
    x = eng_new(members);
    page = send_req(&x, "GET", "/authorize", q, NULL, NULL, &j, NULL);
    ck_assert_int_eq(status_of(page), 200);
    ck_assert_ptr_nonnull(strstr(body_of(page), "Proxied Client"));
    json_decref(page);
    ck_assert_uint_eq(tu_httpd_hits(px, doc_url), 1);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/client-px.json"), 1);
    eng_free(&x);
    free(q);
    tu_httpd_stop(px);
}
END_TEST

START_TEST(cimd_invalid_documents) {
    eng x = eng_new("\"allowLoopbackClientMetadata\":true");
    const char *url = tu_httpd_url(srv, "/c.json");
    char doc[1024];
    const char *bodies[] = {
        /* client_id differs from the URL */
        "{\"client_id\":\"https://other.example/c.json\",\"client_name\":\"X\",\"redirect_uris\":"
        "[\"" CLIENT_CB "\"]}",
        /* no client_name */
        "{\"client_id\":\"@URL@\",\"redirect_uris\":[\"" CLIENT_CB "\"]}",
        /* a javascript: redirect */
        "{\"client_id\":\"@URL@\",\"client_name\":\"X\",\"redirect_uris\":[\"javascript:x\"]}",
        /* confidential client */
        "{\"client_id\":\"@URL@\",\"client_name\":\"X\",\"redirect_uris\":[\"" CLIENT_CB
        "\"],\"token_endpoint_auth_method\":\"private_key_jwt\"}",
        "not json",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        subst(doc, sizeof doc, bodies[i], url);
        tu_route route = {.path = "/c.json", .body = doc, .cache_control = "no-store"};
        ck_assert_int_eq(tu_httpd_set(srv, &route), 0);
        char *q = authorize_query(url, CLIENT_CB, NULL);
        json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
        if (status_of(r) != 400) ck_abort_msg("document %zu accepted", i);
        json_decref(r);
        free(q);
    }
    /* 404 and a down server */
    char *q = authorize_query(tu_httpd_url(srv, "/missing.json"), CLIENT_CB, NULL);
    json_t *r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 400);
    json_decref(r);
    free(q);
    q = authorize_query("http://127.0.0.1:1/c.json", CLIENT_CB, NULL);
    r = send_req(&x, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(status_of(r), 503);
    json_decref(r);
    free(q);
    eng_free(&x);

    /* without the test option: private and loopback addresses are refused before any fetch */
    eng y = eng_new("");
    const char *urls[] = {"https://127.0.0.1/c.json",
                          "https://10.1.2.3/c.json",
                          "https://192.168.1.1/c.json",
                          "https://[::1]/c.json",
                          "https://169.254.169.254/latest/meta-data",
                          "https://example.com/",
                          "https://example.com/a/../c.json"};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        q = authorize_query(urls[i], CLIENT_CB, NULL);
        r = send_req(&y, "GET", "/authorize", q, NULL, NULL, NULL, NULL);
        if (status_of(r) != 400) ck_abort_msg("%s: status %d", urls[i], status_of(r));
        json_decref(r);
        free(q);
    }
    /* http loopback URLs are not metadata URLs here at all */
    ck_assert(!mcp_cimd_is_url(url, 0));
    ck_assert(mcp_cimd_is_url(url, 1));
    ck_assert(!mcp_cimd_is_url("http://example.com/c.json", 1));
    eng_free(&y);
}
END_TEST

/* ---- helpers ---------------------------------------------------------------------------- */

START_TEST(redirect_rules) {
    ck_assert_ptr_null(mcp_redirect_uri_problem("cursor://anysphere.cursor-mcp/oauth/callback"));
    ck_assert_ptr_null(mcp_redirect_uri_problem("com.example.app:/oauth2redirect"));
    ck_assert_ptr_null(mcp_redirect_uri_problem("http://[::1]:8080/cb"));
    ck_assert_ptr_null(mcp_redirect_uri_problem("http://localhost/cb"));
    ck_assert_ptr_nonnull(mcp_redirect_uri_problem("http://127.0.0.1.evil.com/cb"));
    ck_assert_ptr_nonnull(mcp_redirect_uri_problem("DATA:text/html,x"));
    ck_assert_ptr_nonnull(mcp_redirect_uri_problem("cursor:"));
    ck_assert_ptr_nonnull(mcp_redirect_uri_problem("https://a.example/\\evil"));
    const char *reg[] = {"http://localhost:3000/cb", "cursor://x/cb", NULL};
    ck_assert(mcp_redirect_uri_match((mcp_strv)reg, "http://localhost:9999/cb"));
    ck_assert(mcp_redirect_uri_match((mcp_strv)reg, "cursor://x/cb"));
    ck_assert(!mcp_redirect_uri_match((mcp_strv)reg, "cursor://x/cb2"));
    ck_assert(!mcp_redirect_uri_match((mcp_strv)reg, "http://localhost:9999/cb/"));
    ck_assert(mcp_scope_valid("openid mcp:read"));
    ck_assert(!mcp_scope_valid("openid  x"));
    ck_assert(!mcp_scope_valid(" openid"));
    ck_assert(!mcp_scope_valid("a\"b"));
    json_t *o = NULL;
    ck_assert_int_eq(mcp_form_parse("a=1&b=%zz", 9, &o), -1);
    ck_assert_int_eq(mcp_form_parse("a=%00", 5, &o), -1);
    ck_assert_int_eq(mcp_form_parse("a=%ff", 5, &o), -1);
    ck_assert_int_eq(mcp_form_parse("a=1&a=2", 7, &o), -3);
    ck_assert_int_eq(mcp_form_parse("a=x+y%2B&&b", 11, &o), 0);
    ck_assert_str_eq(pget(o, "a"), "x y+");
    ck_assert_str_eq(pget(o, "b"), "");
    json_decref(o);
    char *h = mcp_uri_display_host("cursor://anysphere.cursor-mcp/oauth/callback");
    ck_assert_str_eq(h, "cursor://anysphere.cursor-mcp");
    free(h);
    h = mcp_uri_display_host("https://app.example.com:8443/cb?x");
    ck_assert_str_eq(h, "app.example.com:8443");
    free(h);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("proxy");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, config_errors);
    tcase_add_test(tc, sealing_secret_env_honours_no_env);
    tcase_add_test(tc, jwt_preset_sets_up_verification);
    tcase_add_test(tc, presets_fill_endpoints);
    tcase_add_test(tc, metadata_document);
    tcase_add_test(tc, register_ok);
    tcase_add_test(tc, register_refuses_bad_redirects);
    tcase_add_test(tc, register_allowed_patterns);
    tcase_add_test(tc, redirect_pattern_rules);
    tcase_add_test(tc, authorize_redirect_matching);
    tcase_add_test(tc, authorize_pkce_and_params);
    tcase_add_test(tc, consent_page_headers_and_escaping);
    tcase_add_test(tc, consent_csrf);
    tcase_add_test(tc, approve_redirects_upstream);
    tcase_add_test(tc, consent_disabled);
    tcase_add_test(tc, callback_binding_and_state);
    tcase_add_test(tc, callback_upstream_error);
    tcase_add_test(tc, token_exchange_ok);
    tcase_add_test(tc, token_code_checks);
    tcase_add_test(tc, token_basic_auth_and_form_reply);
    tcase_add_test(tc, token_error_forwarding);
    tcase_add_test(tc, token_upstream_outage);
    tcase_add_test(tc, token_refresh_passthrough);
    tcase_add_test(tc, nonblock_would_block);
    tcase_add_test(tc, three_engines_one_flow);
    tcase_add_test(tc, cimd_flow);
    tcase_add_test(tc, cimd_proxy_only_when_configured);
    tcase_add_test(tc, cimd_invalid_documents);
    tcase_add_test(tc, redirect_rules);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
