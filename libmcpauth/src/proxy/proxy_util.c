/* proxy_util.c - helpers of the OAuth proxy: cookies, the client record, OAuth scope and
 * error-text rules. The request model and the response builder are the HTTP surface's
 * (http/request.h, http/response.h); forms, URL encoding and redirect URI rules are
 * util/url.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proxy/proxy_impl.h"

void mcp_proxy_client_clear(mcp_proxy_client *c) {
    if (!c) return;
    free(c->client_id);
    free(c->name);
    mcp_strv_free(c->redirect_uris);
    mcp_strv_free(c->grant_types);
    memset(c, 0, sizeof *c);
}

/* ---- cookies ----------------------------------------------------------------------------- */

char *mcp_cookie_header(const char *name, const char *value, int64_t max_age) {
    size_t n = strlen(name) + strlen(value) + 128;
    char *s = malloc(n);
    if (!s) return NULL;
    snprintf(s, n, "%s=%s; Path=/; Max-Age=%lld; Secure; HttpOnly; SameSite=Lax", name, value,
             (long long)(max_age > 0 ? max_age : 0));
    return s;
}

char *mcp_cookie_name_hashed(const char *prefix, const char *key) {
    char *h = mcp_sha256_b64url(key, strlen(key));
    if (!h) return NULL;
    size_t pl = strlen(prefix);
    char *name = malloc(pl + 16 + 1);
    if (name) {
        memcpy(name, prefix, pl);
        memcpy(name + pl, h, 16);
        name[pl + 16] = '\0';
    }
    free(h);
    return name;
}

const char *mcp_proxy_scope_refused(const mcp_proxy *p, const char *s, size_t *len) {
    while (*s) {
        while (*s == ' ') s++;
        size_t n = strcspn(s, " ");
        if (n == 0) break;
        int ok = 0;
        for (size_t i = 0; !ok && p->allowed_scopes && p->allowed_scopes[i]; i++)
            ok = strlen(p->allowed_scopes[i]) == n && memcmp(p->allowed_scopes[i], s, n) == 0;
        if (!ok) {
            *len = n;
            return s;
        }
        s += n;
    }
    return NULL;
}

static int scope_char(int c) {
    return c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int mcp_scope_valid(const char *s) {
    if (!s || !*s) return 0;
    size_t n = strlen(s);
    if (n > MCP_PX_MAX_SCOPE) return 0;
    int prev_space = 1;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == ' ') {
            if (prev_space) return 0;
            prev_space = 1;
        } else if (scope_char(c)) {
            prev_space = 0;
        } else {
            return 0;
        }
    }
    return !prev_space;
}

int mcp_oauth_text_valid(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return 0;
    }
    return 1;
}
