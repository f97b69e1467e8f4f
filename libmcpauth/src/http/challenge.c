/* challenge.c - WWW-Authenticate rendering (RFC 6750 section 3, RFC 9728 section 5.1). */
#include "http/challenge.h"

#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "http/metadata.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static int printable(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e) return 0;
    return 1;
}

/* RFC 6750 error codes are *( %x20-21 / %x23-5B / %x5D-7E ); we only ever emit tokens. */
static int error_code_valid(const char *s) {
    if (!*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return 0;
    return 1;
}

int mcp_scope_token_valid(const char *s) {
    size_t n = 0;
    if (!s || !*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (*p < 0x21 || *p > 0x7e || *p == '"' || *p == '\\') return 0;
    return n <= 256;
}

static void put_param(sbuf *b, int *first, const char *name, const char *value) {
    if (!value || !*value) return;
    sb_puts(b, *first ? " " : ", ");
    *first = 0;
    sb_puts(b, name);
    sb_puts(b, "=\"");
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\') sb_put(b, "\\", 1);
        sb_put(b, p, 1);
    }
    sb_put(b, "\"", 1);
}

int mcp_challenge_render(const char *error, const char *description, const char *scope,
                         const char *resource_metadata, char **out) {
    if (!out) return MCPAUTH_E_INVALID_ARGUMENT;
    *out = NULL;
    if (error && !error_code_valid(error)) return MCPAUTH_E_INVALID_ARGUMENT;
    if ((description && !printable(description)) || (scope && !printable(scope)) ||
        (resource_metadata && !printable(resource_metadata)))
        return MCPAUTH_E_INVALID_ARGUMENT;

    sbuf b = {0};
    int first = 1;
    sb_puts(&b, "Bearer");
    if (!error) {
        put_param(&b, &first, "resource_metadata", resource_metadata);
        put_param(&b, &first, "scope", scope);
    } else if (strcmp(error, "insufficient_scope") == 0) {
        put_param(&b, &first, "error", error);
        put_param(&b, &first, "scope", scope);
        put_param(&b, &first, "resource_metadata", resource_metadata);
        put_param(&b, &first, "error_description", description);
    } else {
        put_param(&b, &first, "error", error);
        put_param(&b, &first, "error_description", description);
        put_param(&b, &first, "resource_metadata", resource_metadata);
        put_param(&b, &first, "scope", scope);
    }
    if (b.oom) {
        free(b.p);
        return MCPAUTH_E_NOMEM;
    }
    *out = b.p;
    return MCPAUTH_OK;
}

/* The OAuth error a challenge carries for `code`; NULL for the no-credentials challenge;
 * "" when the code has no challenge (success, server-side and temporary failures). */
static const char *challenge_error(int code) {
    if (code == MCPAUTH_E_TOKEN_MISSING) return NULL;
    if (code == MCPAUTH_E_INSUFFICIENT_SCOPE) return "insufficient_scope";
    if (code == MCPAUTH_E_MALFORMED_HEADER || code == MCPAUTH_E_TOKEN_IN_QUERY)
        return "invalid_request";
    if (code >= 10 && code <= 29 && strcmp(mcpauth_code_name(code), "UNKNOWN") != 0)
        return "invalid_token";
    return "";
}

int mcpauth_challenge(const mcpauth_engine *engine, int code, const char *scope,
                      const char *description, char **www_authenticate) {
    if (!www_authenticate) return MCPAUTH_E_INVALID_ARGUMENT;
    *www_authenticate = NULL;
    if (!engine) return MCPAUTH_E_INVALID_ARGUMENT;
    const char *error = challenge_error(code);
    if (error && !*error) return MCPAUTH_E_INVALID_ARGUMENT;
    const mcp_http_state *st = engine->http_state;
    if (!st) return MCPAUTH_E_INTERNAL;
    if (!st->prm_url) return MCPAUTH_E_CONFIG;

    char *scopes = NULL;
    if (!scope) {
        scopes = mcp_strv_join(engine->cfg ? engine->cfg->required_scopes : NULL);
        if (!scopes) return MCPAUTH_E_NOMEM;
        scope = scopes;
    }
    if (!description && error) description = mcpauth_strerror(code);
    int rc = mcp_challenge_render(error, description, scope, st->prm_url, www_authenticate);
    free(scopes);
    return rc;
}
