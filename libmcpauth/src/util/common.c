/* common.c - error codes, versions, clock, algorithm names, small string helpers. */
#include "util/common.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *mcpauth_version(void) { return MCPAUTH_VERSION_STR; }

unsigned mcpauth_version_num(void) { return MCPAUTH_VERSION_NUM; }

typedef struct code_info {
    int code;
    const char *name;
    const char *text;
    const char *oauth;
    int status;
    const char *cls; /* the error class bindings map to their error types (mcpauth_constants) */
} code_info;

static const code_info codes[] = {
    {MCPAUTH_OK, "MCPAUTH_OK", "success", NULL, 200, "ok"},
    {MCPAUTH_E_INVALID_ARGUMENT, "MCPAUTH_E_INVALID_ARGUMENT", "invalid argument", "server_error",
     500, "internal"},
    {MCPAUTH_E_NOMEM, "MCPAUTH_E_NOMEM", "out of memory", "server_error", 500, "internal"},
    {MCPAUTH_E_CONFIG, "MCPAUTH_E_CONFIG", "invalid configuration", "server_error", 500, "config"},
    {MCPAUTH_E_INTERNAL, "MCPAUTH_E_INTERNAL", "internal error", "server_error", 500, "internal"},
    /* RFC 6750 section 3.1: a request without credentials gets a challenge with no error code. */
    {MCPAUTH_E_TOKEN_MISSING, "MCPAUTH_E_TOKEN_MISSING", "no access token was presented", NULL, 401,
     "token"},
    {MCPAUTH_E_TOKEN_TOO_LARGE, "MCPAUTH_E_TOKEN_TOO_LARGE", "token exceeds the size limit",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_TOKEN_MALFORMED, "MCPAUTH_E_TOKEN_MALFORMED", "token is not a valid compact JWS",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_TOKEN_HEADER, "MCPAUTH_E_TOKEN_HEADER", "token header is not acceptable",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_ALG_NOT_ALLOWED, "MCPAUTH_E_ALG_NOT_ALLOWED", "signature algorithm not allowed",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_KEY_NOT_FOUND, "MCPAUTH_E_KEY_NOT_FOUND", "no matching verification key",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_BAD_SIGNATURE, "MCPAUTH_E_BAD_SIGNATURE", "signature verification failed",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_EXPIRED, "MCPAUTH_E_EXPIRED", "token has expired", "invalid_token", 401, "token"},
    {MCPAUTH_E_NOT_YET_VALID, "MCPAUTH_E_NOT_YET_VALID", "token is not yet valid", "invalid_token",
     401, "token"},
    {MCPAUTH_E_ISSUER_MISMATCH, "MCPAUTH_E_ISSUER_MISMATCH", "token issuer mismatch",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_AUDIENCE_MISMATCH, "MCPAUTH_E_AUDIENCE_MISMATCH",
     "token audience or resource mismatch", "invalid_token", 401, "token"},
    {MCPAUTH_E_CLAIM_INVALID, "MCPAUTH_E_CLAIM_INVALID", "token claim missing or invalid",
     "invalid_token", 401, "token"},
    {MCPAUTH_E_TOKEN_INACTIVE, "MCPAUTH_E_TOKEN_INACTIVE", "token is not active", "invalid_token",
     401, "token"},
    {MCPAUTH_E_MALFORMED_HEADER, "MCPAUTH_E_MALFORMED_HEADER", "malformed Authorization header",
     "invalid_request", 400, "request"},
    {MCPAUTH_E_INSUFFICIENT_SCOPE, "MCPAUTH_E_INSUFFICIENT_SCOPE", "insufficient scope",
     "insufficient_scope", 403, "scope"},
    {MCPAUTH_E_WOULD_BLOCK, "MCPAUTH_E_WOULD_BLOCK", "operation would block",
     "temporarily_unavailable", 503, "unavailable"},
    {MCPAUTH_E_KEYS_UNAVAILABLE, "MCPAUTH_E_KEYS_UNAVAILABLE", "verification keys are unavailable",
     "temporarily_unavailable", 503, "unavailable"},
    {MCPAUTH_E_UPSTREAM, "MCPAUTH_E_UPSTREAM", "upstream server failure", "temporarily_unavailable",
     503, "upstream"},
    {MCPAUTH_E_TOKEN_IN_QUERY, "MCPAUTH_E_TOKEN_IN_QUERY",
     "access token in the query string is refused", "invalid_request", 400, "request"},
};

static const code_info *find_code(int code) {
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code) return &codes[i];
    return NULL;
}

const char *mcpauth_strerror(int code) {
    const code_info *c = find_code(code);
    return c ? c->text : "unknown error code";
}

const char *mcpauth_code_name(int code) {
    const code_info *c = find_code(code);
    return c ? c->name : "UNKNOWN";
}

const char *mcpauth_oauth_error(int code) {
    const code_info *c = find_code(code);
    return c ? c->oauth : "server_error";
}

int mcpauth_http_status(int code) {
    const code_info *c = find_code(code);
    return c ? c->status : 500;
}

void mcpauth_free(void *ptr) { free(ptr); }

int mcpauth_constants(char **json) {
    if (!json) return MCPAUTH_E_INVALID_ARGUMENT;
    *json = NULL;
    static const struct {
        const char *name;
        unsigned value;
    } flags[] = {
        {"MCPAUTH_ENGINE_NO_ENV", MCPAUTH_ENGINE_NO_ENV},
        {"MCPAUTH_ENGINE_PREFETCH", MCPAUTH_ENGINE_PREFETCH},
        {"MCPAUTH_ENGINE_SIGNATURE_ONLY", MCPAUTH_ENGINE_SIGNATURE_ONLY},
        {"MCPAUTH_VERIFY_NONBLOCK", MCPAUTH_VERIFY_NONBLOCK},
        {"MCPAUTH_VERIFY_SIGNATURE_ONLY", MCPAUTH_VERIFY_SIGNATURE_ONLY},
        {"MCPAUTH_VERIFY_NO_CACHE", MCPAUTH_VERIFY_NO_CACHE},
        {"MCPAUTH_REQUEST_NONBLOCK", MCPAUTH_REQUEST_NONBLOCK},
        {"MCPAUTH_ROUTE_NONBLOCK", MCPAUTH_ROUTE_NONBLOCK},
        {"MCPAUTH_ROUTE_WITH_TOKEN", MCPAUTH_ROUTE_WITH_TOKEN},
    };
    /* names are identifiers and values numbers: no escaping needed */
    size_t cap = 256;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        cap += 2 * strlen(codes[i].name) + strlen(codes[i].cls) + 32;
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) cap += strlen(flags[i].name) + 16;
    char *s = malloc(cap);
    if (!s) return MCPAUTH_E_NOMEM;
    size_t n = (size_t)snprintf(s, cap, "{\"version\":\"%s\",\"versionNum\":%u,\"codes\":{",
                                MCPAUTH_VERSION_STR, (unsigned)MCPAUTH_VERSION_NUM);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s\"%s\":%d", i ? "," : "", codes[i].name,
                              codes[i].code);
    n += (size_t)snprintf(s + n, cap - n, "},\"classes\":{");
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s\"%s\":\"%s\"", i ? "," : "", codes[i].name,
                              codes[i].cls);
    n += (size_t)snprintf(s + n, cap - n, "},\"flags\":{");
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s\"%s\":%u", i ? "," : "", flags[i].name,
                              flags[i].value);
    snprintf(s + n, cap - n, "}}");
    *json = s;
    return MCPAUTH_OK;
}

int mcp_err_set(mcp_err *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int mcp_err_export(const mcp_err *err, char **detail) {
    if (detail) *detail = mcp_strdup(err->msg[0] ? err->msg : mcpauth_strerror(err->code));
    return err->code;
}

char *mcp_strdup(const char *s) { return s ? mcp_strndup(s, strlen(s)) : NULL; }

char *mcp_strndup(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static _Atomic int64_t time_override;

int64_t mcp_now(void) {
    int64_t t = atomic_load_explicit(&time_override, memory_order_relaxed);
    return t ? t : (int64_t)time(NULL);
}

void mcp_time_set_override(int64_t t) { atomic_store(&time_override, t); }

static const char *const alg_names[MCP_ALG_COUNT] = {
    [MCP_ALG_RS256] = "RS256", [MCP_ALG_RS384] = "RS384", [MCP_ALG_RS512] = "RS512",
    [MCP_ALG_PS256] = "PS256", [MCP_ALG_PS384] = "PS384", [MCP_ALG_PS512] = "PS512",
    [MCP_ALG_ES256] = "ES256", [MCP_ALG_ES384] = "ES384", [MCP_ALG_ES512] = "ES512",
    [MCP_ALG_EDDSA] = "EdDSA", [MCP_ALG_HS256] = "HS256", [MCP_ALG_HS384] = "HS384",
    [MCP_ALG_HS512] = "HS512",
};

mcp_alg mcp_alg_from_name(const char *name) {
    if (!name) return MCP_ALG_UNKNOWN;
    for (int a = 1; a < MCP_ALG_COUNT; a++)
        if (strcmp(alg_names[a], name) == 0) return (mcp_alg)a;
    return MCP_ALG_UNKNOWN;
}

const char *mcp_alg_name(mcp_alg alg) {
    return (alg > MCP_ALG_UNKNOWN && alg < MCP_ALG_COUNT) ? alg_names[alg] : "unknown";
}

int mcp_err_nomem(mcp_err *err) { return mcp_err_set(err, MCPAUTH_E_NOMEM, "out of memory"); }

char *mcp_concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (!s) return NULL;
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

int mcp_ct_streq(const char *a, const char *b) {
    if (!a || !b) return 0;
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && la > 0 && mcp_ct_memeq(a, b, la);
}

int mcp_list_contains(const char *const *list, const char *s) {
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0) return 1;
    return 0;
}

int mcp_eq_ci_n(const char *s, size_t n, const char *lit) {
    size_t l = strlen(lit);
    if (n != l) return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != lit[i]) return 0;
    }
    return 1;
}

int mcp_starts_ci(const char *s, const char *prefix) {
    return s && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int mcp_printable(const char *s, size_t max) {
    size_t n = strnlen(s, max + 1);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) return 0;
    return 1;
}
