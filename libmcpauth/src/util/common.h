/* common.h - internal definitions shared by every module of libmcpauth (not installed). */
#ifndef MCP_COMMON_H
#define MCP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mcpauth.h"

/* A failure with its stable code and a message for logs. Never holds a token. */
typedef struct mcp_err {
    int code;
    char msg[256];
} mcp_err;

/* Sets err (if non-NULL) and returns `code`. printf-style; internal only (the ABI has no
 * variadic function). */
int mcp_err_set(mcp_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Hands err->msg to a public `char **detail` (NULL-safe). Returns err->code. */
int mcp_err_export(const mcp_err *err, char **detail);

/* strdup / strndup that return NULL on allocation failure (callers check). */
char *mcp_strdup(const char *s);
char *mcp_strndup(const char *s, size_t n);

/* Sets err to MCPAUTH_E_NOMEM "out of memory" and returns MCPAUTH_E_NOMEM. */
int mcp_err_nomem(mcp_err *err);

/* a + b, malloc'd, or NULL on no memory. */
char *mcp_concat(const char *a, const char *b);

/* Constant-time equality of n bytes (no data-dependent branch or early exit), over 8-byte
 * words: OpenSSL's CRYPTO_memcmp works byte by byte and costs ~650 ns for an 800-byte token,
 * most of a token-cache hit; this does the same job about 8x faster. 1 when equal. */
static inline int mcp_ct_memeq(const void *a, const void *b, size_t n) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    uint64_t acc = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        __builtin_memcpy(&u, x + i, 8);
        __builtin_memcpy(&v, y + i, 8);
        acc |= u ^ v;
    }
    for (; i < n; i++) acc |= (uint64_t)(x[i] ^ y[i]);
    return acc == 0;
}

/* Constant-time equality of two secret strings: 1 when both are non-NULL, non-empty and equal.
 * The time depends only on the lengths. */
int mcp_ct_streq(const char *a, const char *b);

/* 1 when s is one of the strings of a NULL-terminated list (exact compare). */
int mcp_list_contains(const char *const *list, const char *s);

/* 1 when s[0..n) equals the lower-case literal lit, ASCII case-insensitively. */
int mcp_eq_ci_n(const char *s, size_t n, const char *lit);

/* 1 when s is non-NULL and begins with prefix, ASCII case-insensitively. */
int mcp_starts_ci(const char *s, const char *prefix);

/* 1 when s holds 1 to max bytes, all printable ASCII (%x20-7E). */
int mcp_printable(const char *s, size_t max);

/* Seconds since the epoch. Tests may override the clock with mcp_time_set_override(). */
int64_t mcp_now(void);
void mcp_time_set_override(int64_t t); /* 0 restores the real clock */

/* JWS algorithms. Numbers are internal only. */
typedef enum mcp_alg {
    MCP_ALG_UNKNOWN = 0,
    MCP_ALG_RS256,
    MCP_ALG_RS384,
    MCP_ALG_RS512,
    MCP_ALG_PS256,
    MCP_ALG_PS384,
    MCP_ALG_PS512,
    MCP_ALG_ES256,
    MCP_ALG_ES384,
    MCP_ALG_ES512,
    MCP_ALG_EDDSA,
    MCP_ALG_HS256,
    MCP_ALG_HS384,
    MCP_ALG_HS512,
    MCP_ALG_COUNT
} mcp_alg;

#define MCP_ALG_BIT(a) (1u << (unsigned)(a))
#define MCP_ALG_MASK_ASYMMETRIC                                                                    \
    (MCP_ALG_BIT(MCP_ALG_RS256) | MCP_ALG_BIT(MCP_ALG_RS384) | MCP_ALG_BIT(MCP_ALG_RS512) |        \
     MCP_ALG_BIT(MCP_ALG_PS256) | MCP_ALG_BIT(MCP_ALG_PS384) | MCP_ALG_BIT(MCP_ALG_PS512) |        \
     MCP_ALG_BIT(MCP_ALG_ES256) | MCP_ALG_BIT(MCP_ALG_ES384) | MCP_ALG_BIT(MCP_ALG_ES512) |        \
     MCP_ALG_BIT(MCP_ALG_EDDSA))
#define MCP_ALG_MASK_HMAC                                                                          \
    (MCP_ALG_BIT(MCP_ALG_HS256) | MCP_ALG_BIT(MCP_ALG_HS384) | MCP_ALG_BIT(MCP_ALG_HS512))

/* Exact, case-sensitive name -> alg. "none" and anything unknown give MCP_ALG_UNKNOWN. */
mcp_alg mcp_alg_from_name(const char *name);
const char *mcp_alg_name(mcp_alg alg);

#endif
