/* token_cache.h - the verified-token cache: keyed by a keyed hash of the token, the full
 * token compared in constant time, bounded size, entries never outliving exp. */
#ifndef MCP_TOKEN_CACHE_H
#define MCP_TOKEN_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mcp_token_cache mcp_token_cache;

/* capacity 0 disables caching (get always misses, put is a no-op). NULL on no memory. */
mcp_token_cache *mcp_token_cache_new(size_t capacity);
void mcp_token_cache_free(mcp_token_cache *c);

/* On a hit whose entry is still valid at `now` (nbf <= now + leeway, exp > now - leeway)
 * returns 1 and a malloc'd copy of the stored auth JSON in *auth_json; 0 on miss; -1 on
 * no memory. */
int mcp_token_cache_get(mcp_token_cache *c, const char *token, size_t len, int64_t now,
                        char **auth_json);

/* Stores auth_json for the token, valid while `not_before <= now` and `now < expires_at`
 * (the caller folds leeway into these). */
void mcp_token_cache_put(mcp_token_cache *c, const char *token, size_t len, int64_t not_before,
                         int64_t expires_at, const char *auth_json, size_t auth_json_len);

/* mcp_token_cache_get for callers that write around the result: on a hit, *buf is a malloc'd
 * buffer of head + *auth_len + tail + 1 bytes with the auth JSON at buf + head (the rest
 * uninitialized but the final NUL); with blob non-NULL, *blob receives a malloc'd copy of the
 * entry's blob (*blob_len bytes, NUL-terminated). Same returns. */
int mcp_token_cache_get_ex(mcp_token_cache *c, const char *token, size_t len, int64_t now,
                           size_t head, size_t tail, char **buf, size_t *auth_len, char **blob,
                           size_t *blob_len);

/* mcp_token_cache_put with a blob kept beside the result (may be NULL). */
void mcp_token_cache_put_ex(mcp_token_cache *c, const char *token, size_t len, int64_t not_before,
                            int64_t expires_at, const char *auth_json, size_t auth_json_len,
                            const char *blob, size_t blob_len);

#endif
