/* consent.c - the proxy's consent page (per-client consent before any upstream redirect, as
 * the MCP security guidance requires of proxies with a static upstream client), its CSRF
 * protection, the remembered-approval cookie, and the HTML error pages.
 *
 * CSRF: the page carries `tx` (the validated authorization request, sealed for "consent" with
 * a nonce N) and `csrf_token` (sealed for "csrf": N and a hash of tx); the browser carries N
 * in the __Host-mcpauth-csrf cookie (SameSite=Lax, so a cross-site POST arrives without it).
 * The POST is accepted only when the three agree, and Origin / Sec-Fetch-Site, when present,
 * name this origin.
 *
 * Every dynamic value is HTML-escaped. The page loads nothing external: inline CSS with a
 * per-response nonce under Content-Security-Policy "default-src 'none'", no script at all;
 * framing is refused (frame-ancestors 'none' and X-Frame-Options: DENY). Stable element ids
 * for automation: #consent-form, #approve, #deny, #client-name, #redirect-host, #scopes. */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_impl.h"

#define CSRF_COOKIE "__Host-mcpauth-csrf"
#define CONSENT_COOKIE_PREFIX "__Host-mcpauth-consent-"
#define NONCE_B64_LEN 22 /* 16 random bytes */

static const char STYLE[] =
    ":root{--bg:#f4f5f7;--card:#fff;--text:#1c1e21;--muted:#5f6670;--line:#e3e6ea;"
    "--accent:#2f5bea;--accent-text:#fff;--warn-bg:#fff7e6;--warn-line:#f5c16c;"
    "--code:#f1f3f5}"
    "@media (prefers-color-scheme:dark){:root{--bg:#15171a;--card:#1e2125;--text:#eceef1;"
    "--muted:#a1a8b3;--line:#33383e;--accent:#5b7fff;--warn-bg:#2b2417;--warn-line:#8a6a2c;"
    "--code:#2a2e33}}"
    "*{box-sizing:border-box}"
    "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;"
    "background:var(--bg);color:var(--text);font:15px/1.5 -apple-system,BlinkMacSystemFont,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;padding:24px}"
    ".card{width:100%;max-width:460px;background:var(--card);border:1px solid var(--line);"
    "border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.08);padding:32px}"
    ".brand{display:flex;align-items:center;gap:10px;color:var(--muted);font-size:13px;"
    "margin-bottom:20px}"
    ".logo{width:32px;height:32px;border-radius:8px;background:var(--accent);"
    "color:var(--accent-text);display:flex;align-items:center;justify-content:center;"
    "font-weight:700;font-size:16px;text-transform:uppercase}"
    "h1{font-size:20px;line-height:1.35;margin:0 0 8px}"
    ".sub{color:var(--muted);margin:0 0 20px}"
    ".details{border:1px solid var(--line);border-radius:10px;margin:0 0 20px}"
    ".row{display:flex;justify-content:space-between;gap:16px;padding:10px 14px;"
    "border-top:1px solid var(--line)}"
    ".row:first-child{border-top:0}"
    ".label{color:var(--muted);white-space:nowrap}"
    ".value{font-weight:600;text-align:right;word-break:break-all}"
    "code{display:block;background:var(--code);border-radius:6px;padding:8px 10px;"
    "font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all;"
    "margin:-4px 14px 12px}"
    ".badge{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;"
    "padding:1px 8px;margin-left:6px;border:1px solid var(--line);color:var(--muted)}"
    "h2{font-size:14px;margin:0 0 8px}"
    "ul{margin:0 0 20px;padding:0;list-style:none}"
    "li{padding:8px 0 8px 26px;position:relative;border-bottom:1px solid var(--line)}"
    "li:last-child{border-bottom:0}"
    "li:before{content:'';position:absolute;left:4px;top:15px;width:8px;height:8px;"
    "border-radius:50%;background:var(--accent)}"
    ".scope{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;"
    "color:var(--muted);margin-left:6px}"
    ".warn{background:var(--warn-bg);border:1px solid var(--warn-line);border-radius:10px;"
    "padding:10px 14px;margin:0 0 20px;font-size:13px}"
    ".actions{display:flex;gap:12px}"
    ".btn{flex:1;font:inherit;font-weight:600;border-radius:9px;padding:11px 16px;"
    "cursor:pointer;border:1px solid var(--line);background:transparent;color:var(--text)}"
    ".btn.primary{background:var(--accent);border-color:var(--accent);"
    "color:var(--accent-text)}"
    ".btn:focus-visible{outline:3px solid var(--accent);outline-offset:2px}"
    ".foot{color:var(--muted);font-size:12px;margin:18px 0 0}"
    ".err h1{color:#c0362c}";

typedef struct scope_text {
    const char *scope;
    const char *text;
} scope_text;

static const scope_text SCOPE_TEXTS[] = {
    {"openid", "Confirm your identity"},
    {"email", "See your email address"},
    {"profile", "See your basic profile (name and picture)"},
    {"offline_access", "Stay connected when you are not using it"},
    {"read:user", "Read your profile information"},
    {"user:email", "See your email addresses"},
    {NULL, NULL},
};

static int b64url_token(const char *s, size_t want) {
    if (!s || strlen(s) != want) return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static json_t *html_response(int status, const char *html, const char *nonce) {
    char csp[256];
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'nonce-%s'; img-src 'none'; base-uri 'none'; "
             "frame-ancestors 'none'",
             nonce);
    json_t *r = mcp_resp_new(status, "text/html; charset=utf-8", html);
    mcp_resp_header(r, "Content-Security-Policy", csp);
    mcp_resp_header(r, "X-Frame-Options", "DENY");
    mcp_resp_header(r, "Cache-Control", "no-store");
    mcp_resp_header(r, "Pragma", "no-cache");
    mcp_resp_header(r, "X-Content-Type-Options", "nosniff");
    /* same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the
     * consent form's POST (Fetch, "append a request Origin header"), which the origin check
     * refuses; same-origin keeps the real Origin and still sends no Referer to other sites */
    mcp_resp_header(r, "Referrer-Policy", "same-origin");
    return r;
}

static void page_head(mcp_buf *b, const char *title, const char *nonce) {
    mcp_buf_adds(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<meta name=\"referrer\" content=\"same-origin\"><title>");
    mcp_buf_html(b, title);
    mcp_buf_adds(b, "</title><style nonce=\"");
    mcp_buf_adds(b, nonce);
    mcp_buf_adds(b, "\">");
    mcp_buf_adds(b, STYLE);
    mcp_buf_adds(b, "</style></head><body>");
}

static void brand(mcp_buf *b, const char *server) {
    char initial[2] = {server && server[0] ? server[0] : 'M', 0};
    if ((unsigned char)initial[0] >= 0x80 || initial[0] == '<' || initial[0] == '&')
        initial[0] = 'M';
    mcp_buf_adds(b, "<div class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">");
    mcp_buf_html(b, initial);
    mcp_buf_adds(b, "</span><span>");
    mcp_buf_html(b, server);
    mcp_buf_adds(b, "</span></div>");
}

json_t *mcp_error_page(int status, const char *title, const char *message) {
    char *nonce = mcp_random_b64url(16);
    if (!nonce) return NULL;
    mcp_buf b = {0};
    page_head(&b, title, nonce);
    mcp_buf_adds(&b, "<main class=\"card err\" role=\"main\"><h1 id=\"error-title\">");
    mcp_buf_html(&b, title);
    mcp_buf_adds(&b, "</h1><p class=\"sub\" id=\"error-message\">");
    mcp_buf_html(&b, message);
    mcp_buf_adds(&b, "</p><p class=\"foot\">Return to your application and start the sign-in "
                     "again.</p></main></body></html>");
    char *html = mcp_buf_take(&b);
    json_t *r = html ? html_response(status, html, nonce) : NULL;
    free(html);
    free(nonce);
    return r;
}

/* ---- cookies ----------------------------------------------------------------------------- */

/* The approved scope string of a valid consent cookie for client_id (malloc'd) or NULL. */
static char *approved_scopes(const mcp_proxy *p, const mcp_http_req *r, const char *client_id) {
    char *name = mcp_cookie_name_hashed(CONSENT_COOKIE_PREFIX, client_id);
    if (!name) return NULL;
    char *v = mcp_http_req_cookie(r, name);
    free(name);
    if (!v) return NULL;
    json_t *d = NULL;
    int rc = mcp_unseal(p->sealer, MCP_SEAL_CONSENT, v, strlen(v), mcp_now(), &d, NULL);
    free(v);
    if (rc != MCPAUTH_OK) return NULL;
    char *out = NULL;
    char *ch = mcp_sha256_b64url(client_id, strlen(client_id));
    json_t *k = json_object_get(d, "k"), *dch = json_object_get(d, "ch"),
           *sc = json_object_get(d, "sc");
    if (ch && json_is_string(k) && strcmp(json_string_value(k), "ok") == 0 && json_is_string(dch) &&
        mcp_ct_streq(json_string_value(dch), ch) && json_is_string(sc))
        out = mcp_strdup(json_string_value(sc));
    free(ch);
    json_decref(d);
    return out;
}

static int scope_in(const char *list, const char *tok, size_t tl) {
    const char *s = list;
    while (*s) {
        size_t l = strcspn(s, " ");
        if (l == tl && memcmp(s, tok, tl) == 0) return 1;
        s += l;
        while (*s == ' ') s++;
    }
    return 0;
}

int mcp_consent_remembered(const mcp_proxy *p, const mcp_http_req *r, const char *client_id,
                           const char *scope) {
    char *ok = approved_scopes(p, r, client_id);
    if (!ok) return 0;
    int all = 1;
    const char *s = scope ? scope : "";
    while (*s && all) {
        size_t l = strcspn(s, " ");
        if (l && !scope_in(ok, s, l)) all = 0;
        s += l;
        while (*s == ' ') s++;
    }
    free(ok);
    return all;
}

char *mcp_consent_cookie(const mcp_proxy *p, const mcp_http_req *r, const char *client_id,
                         const char *scope) {
    char *old = approved_scopes(p, r, client_id);
    mcp_buf b = {0};
    mcp_buf_adds(&b, scope ? scope : "");
    if (old) {
        const char *s = old;
        while (*s) {
            size_t l = strcspn(s, " ");
            if (l && !scope_in(scope ? scope : "", s, l) && b.len + l < MCP_PX_MAX_SCOPE) {
                if (b.len) mcp_buf_add(&b, " ", 1);
                mcp_buf_add(&b, s, l);
            }
            s += l;
            while (*s == ' ') s++;
        }
        free(old);
    }
    char *merged = mcp_buf_take(&b);
    char *ch = mcp_sha256_b64url(client_id, strlen(client_id));
    char *name = mcp_cookie_name_hashed(CONSENT_COOKIE_PREFIX, client_id);
    char *sealed = NULL, *cookie = NULL;
    json_t *d =
        (merged && ch) ? json_pack("{s:s,s:s,s:s}", "k", "ok", "ch", ch, "sc", merged) : NULL;
    if (d && name &&
        mcp_seal(p->sealer, MCP_SEAL_CONSENT, d, mcp_now() + p->consent_ttl, &sealed, NULL) ==
            MCPAUTH_OK)
        cookie = mcp_cookie_header(name, sealed, p->consent_ttl);
    json_decref(d);
    free(sealed);
    free(name);
    free(ch);
    free(merged);
    return cookie;
}

/* ---- the page ---------------------------------------------------------------------------- */

static void scope_items(mcp_buf *b, const char *scope) {
    const char *s = scope ? scope : "";
    int any = 0;
    while (*s) {
        size_t l = strcspn(s, " ");
        if (l) {
            char *tok = mcp_strndup(s, l);
            if (!tok) {
                b->oom = 1;
                return;
            }
            const char *text = NULL;
            for (const scope_text *t = SCOPE_TEXTS; t->scope; t++)
                if (strcmp(t->scope, tok) == 0) text = t->text;
            mcp_buf_adds(b, "<li>");
            if (text) {
                mcp_buf_html(b, text);
                mcp_buf_adds(b, "<span class=\"scope\">");
                mcp_buf_html(b, tok);
                mcp_buf_adds(b, "</span>");
            } else {
                mcp_buf_adds(b, "Permission <span class=\"scope\">");
                mcp_buf_html(b, tok);
                mcp_buf_adds(b, "</span>");
            }
            mcp_buf_adds(b, "</li>");
            free(tok);
            any = 1;
        }
        s += l;
        while (*s == ' ') s++;
    }
    if (!any) mcp_buf_adds(b, "<li>Basic access to your account</li>");
}

static int all_loopback(const mcp_proxy_client *c) {
    for (size_t i = 0; c->redirect_uris && c->redirect_uris[i]; i++) {
        int https;
        char *host = NULL;
        unsigned port;
        const char *rest;
        if (mcp_http_uri_split(c->redirect_uris[i], &https, &host, &port, &rest) != 0) return 0;
        int lb = strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
                 strncmp(host, "127.", 4) == 0;
        free(host);
        if (!lb) return 0;
    }
    return 1;
}

int mcp_consent_page(const mcp_proxy *p, const mcp_http_req *r, const mcp_proxy_client *c,
                     json_t *req, json_t **response, mcp_err *err) {
    *response = NULL;
    int64_t now = mcp_now();
    const char *ru = json_string_value(json_object_get(req, "ru"));
    const char *sc = json_string_value(json_object_get(req, "sc"));
    if (!ru) return mcp_err_set(err, MCPAUTH_E_INTERNAL, "consent request without redirect");

    /* reuse the browser's CSRF nonce so that parallel consent pages stay valid */
    char *n = mcp_http_req_cookie(r, CSRF_COOKIE);
    if (!b64url_token(n, NONCE_B64_LEN)) {
        free(n);
        n = mcp_random_b64url(16);
    }
    char *nonce = mcp_random_b64url(16);
    char *host = mcp_uri_display_host(ru);
    char *up_host = mcp_uri_display_host(p->auth_endpoint);
    char *cid_host = c->is_cimd ? mcp_uri_display_host(c->client_id) : NULL;
    char *tx = NULL, *csrf = NULL, *th = NULL, *cookie = NULL, *html = NULL;
    json_t *txd = NULL, *csd = NULL;
    int rc = MCPAUTH_E_NOMEM;
    if (!n || !nonce || !host || !up_host || (c->is_cimd && !cid_host)) goto done;
    txd = json_pack("{s:s,s:O,s:s}", "k", "tx", "r", req, "n", n);
    if (!txd) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_CONSENT, txd, now + p->state_ttl, &tx, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    th = mcp_sha256_b64url(tx, strlen(tx));
    if (!th) goto done;
    csd = json_pack("{s:s,s:s}", "n", n, "h", th);
    if (!csd) goto done;
    rc = mcp_seal(p->sealer, MCP_SEAL_CSRF, csd, now + p->state_ttl, &csrf, err);
    if (rc != MCPAUTH_OK) goto done;
    rc = MCPAUTH_E_NOMEM;
    cookie = mcp_cookie_header(CSRF_COOKIE, n, p->state_ttl);
    if (!cookie) goto done;

    const char *name = c->name && c->name[0] ? c->name : "MCP Client";
    const char *server = p->server_name;
    mcp_buf b = {0};
    mcp_buf_adds(&b, "Authorize ");
    mcp_buf_adds(&b, name);
    char *title = mcp_buf_take(&b);
    if (!title) goto done;
    page_head(&b, title, nonce);
    free(title);
    mcp_buf_adds(&b, "<main class=\"card\" role=\"main\">");
    brand(&b, server);
    mcp_buf_adds(&b, "<h1><span id=\"client-name\">");
    mcp_buf_html(&b, name);
    mcp_buf_adds(&b, "</span> wants to access ");
    mcp_buf_html(&b, server);
    mcp_buf_adds(&b, " on your behalf</h1><p class=\"sub\">Review the request below. If you "
                     "allow it, you will sign in with ");
    mcp_buf_html(&b, up_host);
    mcp_buf_adds(&b, " and the application will receive access to your account.</p>"
                     "<section class=\"details\" aria-label=\"Application details\">"
                     "<div class=\"row\"><span class=\"label\">Application</span>"
                     "<span class=\"value\">");
    mcp_buf_html(&b, name);
    if (c->is_cimd) {
        mcp_buf_adds(&b, "<span class=\"badge\" title=\"Client metadata published at this "
                         "address\">");
        mcp_buf_html(&b, cid_host);
        mcp_buf_adds(&b, "</span>");
    } else {
        mcp_buf_adds(&b, "<span class=\"badge\" title=\"The application registered itself; "
                         "its name is not verified\">unverified</span>");
    }
    mcp_buf_adds(&b, "</span></div><div class=\"row\"><span class=\"label\">Returns you "
                     "to</span><span class=\"value\" id=\"redirect-host\">");
    mcp_buf_html(&b, host);
    mcp_buf_adds(&b, "</span></div><code id=\"redirect-uri\">");
    mcp_buf_html(&b, ru);
    mcp_buf_adds(&b, "</code></section><h2>This will allow the application to</h2>"
                     "<ul id=\"scopes\">");
    scope_items(&b, sc);
    mcp_buf_adds(&b, "</ul>");
    if (all_loopback(c))
        mcp_buf_adds(&b, "<div class=\"warn\" role=\"note\">This application only returns to "
                         "your own computer (localhost). Make sure you started this sign-in "
                         "yourself.</div>");
    mcp_buf_adds(&b, "<form id=\"consent-form\" method=\"post\" action=\"");
    mcp_buf_html(&b, p->route_authorize);
    mcp_buf_adds(&b, "\"><input type=\"hidden\" name=\"tx\" value=\"");
    mcp_buf_html(&b, tx);
    mcp_buf_adds(&b, "\"><input type=\"hidden\" name=\"csrf_token\" value=\"");
    mcp_buf_html(&b, csrf);
    mcp_buf_adds(&b, "\"><div class=\"actions\"><button id=\"deny\" class=\"btn\" type=\"submit\" "
                     "name=\"decision\" value=\"deny\">Deny</button><button id=\"approve\" "
                     "class=\"btn primary\" type=\"submit\" name=\"decision\" value=\"approve\">"
                     "Allow access</button></div></form><p class=\"foot\">Only allow access if "
                     "you trust this application and started this request yourself. You can "
                     "revoke access at ");
    mcp_buf_html(&b, up_host);
    mcp_buf_adds(&b, ".</p></main></body></html>");
    html = mcp_buf_take(&b);
    if (!html) goto done;
    *response = html_response(200, html, nonce);
    mcp_resp_header(*response, "Set-Cookie", cookie);
    if (mcp_resp_broken(*response)) {
        json_decref(*response);
        *response = NULL;
        goto done;
    }
    rc = MCPAUTH_OK;
done:
    if (rc == MCPAUTH_E_NOMEM) mcp_err_set(err, rc, "out of memory");
    json_decref(txd);
    json_decref(csd);
    free(n);
    free(nonce);
    free(host);
    free(up_host);
    free(cid_host);
    free(tx);
    free(csrf);
    free(th);
    free(cookie);
    free(html);
    return rc;
}

/* ---- the POST ---------------------------------------------------------------------------- */

int mcp_consent_check_form(const mcp_proxy *p, const mcp_http_req *r, json_t *form, json_t **req,
                           const char **why) {
    *req = NULL;
    *why = NULL;
    const char *origin = mcp_http_req_header(r, "origin");
    if (origin && strcasecmp(origin, p->origin) != 0) {
        *why = "The request did not come from this site.";
        return 403;
    }
    const char *sfs = mcp_http_req_header(r, "sec-fetch-site");
    if (sfs && strcmp(sfs, "same-origin") != 0 && strcmp(sfs, "none") != 0) {
        *why = "The request did not come from this site.";
        return 403;
    }
    const char *tx = json_string_value(json_object_get(form, "tx"));
    const char *csrf = json_string_value(json_object_get(form, "csrf_token"));
    if (!tx || !csrf) {
        *why = "The consent form is incomplete.";
        return 400;
    }
    int64_t now = mcp_now();
    json_t *txd = NULL, *csd = NULL;
    if (mcp_unseal(p->sealer, MCP_SEAL_CONSENT, tx, strlen(tx), now, &txd, NULL) != MCPAUTH_OK) {
        *why = "This authorization request has expired or is invalid.";
        return 400;
    }
    int status = 403;
    *why = "The security check of the consent form failed (missing or mismatched CSRF token).";
    char *cookie = mcp_http_req_cookie(r, CSRF_COOKIE);
    char *th = mcp_sha256_b64url(tx, strlen(tx));
    json_t *k = json_object_get(txd, "k");
    json_t *rq = json_object_get(txd, "r");
    if (th && json_is_string(k) && strcmp(json_string_value(k), "tx") == 0 && json_is_object(rq) &&
        mcp_unseal(p->sealer, MCP_SEAL_CSRF, csrf, strlen(csrf), now, &csd, NULL) == MCPAUTH_OK) {
        const char *tn = json_string_value(json_object_get(txd, "n"));
        const char *cn = json_string_value(json_object_get(csd, "n"));
        const char *ch = json_string_value(json_object_get(csd, "h"));
        if (mcp_ct_streq(ch, th) && mcp_ct_streq(tn, cn) && mcp_ct_streq(cookie, tn)) {
            *req = json_incref(rq);
            status = 0;
            *why = NULL;
        }
    }
    free(cookie);
    free(th);
    json_decref(txd);
    json_decref(csd);
    return status;
}
