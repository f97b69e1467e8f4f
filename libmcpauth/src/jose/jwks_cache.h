/* jwks_cache.h - a remote JWKS: fetched with TTL from Cache-Control, single-flight refresh,
 * at most one unknown-kid refresh per cooldown, last good keys kept on failure. */
#ifndef MCP_JWKS_CACHE_H
#define MCP_JWKS_CACHE_H

#include <stdint.h>

#include "util/common.h"
#include "util/http_client.h"
#include "jose/jwk.h"

typedef struct mcp_jwks_opts {
    int64_t ttl_default; /* seconds when no Cache-Control; default 600 */
    int64_t ttl_min;     /* clamp; default 60 */
    int64_t ttl_max;     /* clamp; default 86400 */
    int64_t cooldown;    /* min seconds between refreshes caused by unknown kid; default 30 */
    size_t max_keys;     /* default 64 */
    mcp_http_opts http;
} mcp_jwks_opts;

typedef struct mcp_jwks_source mcp_jwks_source;

/* Creates a source for `url` (already checked). Does no I/O. NULL on no memory. */
mcp_jwks_source *mcp_jwks_source_new(const char *url, const mcp_jwks_opts *opts);
void mcp_jwks_source_free(mcp_jwks_source *src);

/*
 * Returns (with a new reference in *out) the keyset to verify a token whose header has `kid`
 * (may be NULL):
 *  - no keys yet, or TTL expired: fetch (single-flight: one thread fetches, others wait);
 *  - kid given but unknown in the current set: refresh at most once per cooldown, then
 *    return whatever set is current (the caller then reports KEY_NOT_FOUND);
 *  - a failed fetch keeps the last good set; with no set at all: MCPAUTH_E_KEYS_UNAVAILABLE.
 * With nonblock, any case that needs I/O (no set, TTL expired, unknown kid past cooldown)
 * returns MCPAUTH_E_WOULD_BLOCK instead; an unknown kid inside the cooldown returns the
 * current set without I/O.
 */
int mcp_jwks_source_get(mcp_jwks_source *src, const char *kid, int nonblock, mcp_keyset **out,
                        mcp_err *err);

/* Number of HTTP fetches performed so far (tests and stats). */
uint64_t mcp_jwks_source_fetch_count(const mcp_jwks_source *src);

#endif
