/* token_cache.c - the verified-token cache.
 *
 * A fixed array of small set-associative buckets (up to 4 ways), allocated once; it never
 * grows beyond `capacity` entries. A token is located by a 64-bit keyed hash (random 128-bit
 * key per cache), then confirmed by comparing the full stored token in constant time, so a
 * hash collision can never return another token's result. Buckets are guarded by 16 lock
 * stripes, each a "big reader" lock: TC_READERS mutexes on cache lines of their own. A reader
 * (a hit) takes only the mutex of its thread's slot, so threads hitting the same token touch no
 * common cache line but the (read-only) entry itself and scale; a writer (put, drop, count)
 * takes every mutex of the stripe in order. When a bucket is full, the entry that expires first
 * (an expired one first of all) is overwritten. Entries are checked against `now` on every
 * hit; expired entries are dropped when seen.
 *
 * An entry stores the token, the auth result text, and a blob (the scopes the result holds,
 * for the router's checks without a parse). */
#include "verify/token_cache.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "util/common.h"

#define TC_WAYS 4
#define TC_LOCKS 16
#define TC_READERS 8 /* reader slots per stripe */
#define TC_CACHELINE 64

typedef struct tc_entry {
    uint64_t hash;
    int64_t not_before;
    int64_t expires_at;
    char *data; /* token bytes, the auth JSON, a NUL, then the blob; NULL when empty */
    size_t token_len;
    size_t auth_len;
    size_t blob_len;
} tc_entry;

typedef struct tc_lock {
    pthread_mutex_t mu;
    char pad[TC_CACHELINE > sizeof(pthread_mutex_t) ? TC_CACHELINE - sizeof(pthread_mutex_t) : 1];
} tc_lock;

struct mcp_token_cache {
    uint64_t k0, k1; /* hash key */
    size_t nbuckets; /* 0 when caching is disabled */
    size_t ways;     /* entries per bucket */
    tc_entry *slots; /* nbuckets * ways */
    int weak_hash;   /* test hook: every token hashes to the same value */
    tc_lock locks[TC_LOCKS][TC_READERS];
};

/* The reader slot of the calling thread: assigned round-robin on its first hit. */
static _Thread_local unsigned tc_slot = TC_READERS;
static atomic_uint tc_next_slot;

static unsigned reader_slot(void) {
    if (tc_slot >= TC_READERS)
        tc_slot = atomic_fetch_add_explicit(&tc_next_slot, 1, memory_order_relaxed) % TC_READERS;
    return tc_slot;
}

/* ---------------------------------------------------------------------------------------- */
/* Keyed hash: three independent multiply-mix lanes over 16-byte blocks. Both operands of every
 * 64x64->128 multiplication carry secret state, and the lane value is fed forward, so input
 * chosen without the key cannot zero a lane. Quality only affects speed: lookups always
 * compare the full token. */

#define P0 0xa0761d6478bd642fULL
#define P1 0xe7037ed1a0b428dbULL
#define P2 0x8ebc6af09c88c6e3ULL
#define P3 0x589965cc75374cc3ULL

static inline uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mix(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64 - r)); }

static uint64_t tc_hash(const mcp_token_cache *c, const unsigned char *p, size_t len) {
    uint64_t k0 = c->k0, k1 = c->k1;
    uint64_t s0 = k0 ^ mix(k1 ^ P0, (uint64_t)len ^ P1);
    uint64_t s1 = k1 ^ P2, s2 = k0 ^ P3;
    size_t n = len;
    while (n >= 48) {
        s0 = mix(rd64(p) ^ s0 ^ P1, rd64(p + 8) ^ k1) + rotl(s0, 29);
        s1 = mix(rd64(p + 16) ^ s1 ^ P2, rd64(p + 24) ^ k0) + rotl(s1, 29);
        s2 = mix(rd64(p + 32) ^ s2 ^ P3, rd64(p + 40) ^ k1 ^ P0) + rotl(s2, 29);
        p += 48;
        n -= 48;
    }
    s0 ^= rotl(s1, 17) ^ rotl(s2, 43);
    while (n >= 16) {
        s0 = mix(rd64(p) ^ s0 ^ P1, rd64(p + 8) ^ k1) + rotl(s0, 29);
        p += 16;
        n -= 16;
    }
    unsigned char tail[16] = {0};
    memcpy(tail, p, n);
    s0 = mix(rd64(tail) ^ s0 ^ P2, rd64(tail + 8) ^ k0 ^ (uint64_t)n) + rotl(s0, 29);
    return mix(s0 ^ P3, k1 ^ P0 ^ (uint64_t)len) ^ s0;
}

/* ---------------------------------------------------------------------------------------- */

mcp_token_cache *mcp_token_cache_new(size_t capacity) {
    mcp_token_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    unsigned char key[16];
    if (RAND_bytes(key, sizeof key) != 1) {
        free(c);
        return NULL;
    }
    memcpy(&c->k0, key, 8);
    memcpy(&c->k1, key + 8, 8);
    OPENSSL_cleanse(key, sizeof key);
    if (capacity > 0) {
        if (capacity > (SIZE_MAX / sizeof(tc_entry))) capacity = SIZE_MAX / sizeof(tc_entry);
        c->ways = capacity < TC_WAYS ? capacity : TC_WAYS;
        c->nbuckets = capacity / c->ways; /* nbuckets * ways <= capacity */
        c->slots = calloc(c->nbuckets * c->ways, sizeof(tc_entry));
        if (!c->slots) {
            free(c);
            return NULL;
        }
    }
    for (int i = 0; i < TC_LOCKS * TC_READERS; i++) {
        if (pthread_mutex_init(&c->locks[i / TC_READERS][i % TC_READERS].mu, NULL) != 0) {
            for (int j = 0; j < i; j++)
                pthread_mutex_destroy(&c->locks[j / TC_READERS][j % TC_READERS].mu);
            free(c->slots);
            free(c);
            return NULL;
        }
    }
    return c;
}

void mcp_token_cache_free(mcp_token_cache *c) {
    if (!c) return;
    size_t n = c->nbuckets * c->ways;
    for (size_t i = 0; i < n; i++) {
        if (c->slots[i].data) {
            OPENSSL_cleanse(c->slots[i].data, c->slots[i].token_len);
            free(c->slots[i].data);
        }
    }
    for (int i = 0; i < TC_LOCKS * TC_READERS; i++)
        pthread_mutex_destroy(&c->locks[i / TC_READERS][i % TC_READERS].mu);
    free(c->slots);
    free(c);
}

static inline size_t bucket_of(const mcp_token_cache *c, uint64_t h) {
    return (size_t)(((__uint128_t)h * c->nbuckets) >> 64);
}

static inline tc_lock *stripe_of(mcp_token_cache *c, size_t bucket) {
    return c->locks[bucket % TC_LOCKS];
}

static void write_lock(tc_lock *stripe) {
    for (int i = 0; i < TC_READERS; i++) pthread_mutex_lock(&stripe[i].mu);
}

static void write_unlock(tc_lock *stripe) {
    for (int i = TC_READERS - 1; i >= 0; i--) pthread_mutex_unlock(&stripe[i].mu);
}

static void entry_drop(tc_entry *e, char **to_free) {
    *to_free = e->data;
    e->data = NULL;
    e->token_len = 0;
    e->auth_len = 0;
    e->blob_len = 0;
}

static void data_free(char *data, size_t token_len) {
    if (!data) return;
    OPENSSL_cleanse(data, token_len);
    free(data);
}

/* The entry of `token` in its bucket set, or NULL (the whole token confirmed in constant time). */
static tc_entry *find(mcp_token_cache *c, tc_entry *set, uint64_t h, const char *token,
                      size_t len) {
    for (size_t i = 0; i < c->ways; i++) {
        tc_entry *e = &set[i];
        if (!e->data || e->hash != h || e->token_len != len) continue;
        if (mcp_ct_memeq(e->data, token, len)) return e;
    }
    return NULL;
}

/* Drops the entry of `token` when it has expired at `now` (a writer). */
static void drop_expired(mcp_token_cache *c, size_t b, uint64_t h, const char *token, size_t len,
                         int64_t now) {
    tc_lock *stripe = stripe_of(c, b);
    char *dead = NULL;
    size_t dead_len = 0;
    write_lock(stripe);
    tc_entry *e = find(c, &c->slots[b * c->ways], h, token, len);
    if (e && now >= e->expires_at) {
        dead_len = e->token_len;
        entry_drop(e, &dead);
    }
    write_unlock(stripe);
    data_free(dead, dead_len);
}

int mcp_token_cache_get_ex(mcp_token_cache *c, const char *token, size_t len, int64_t now,
                           size_t head, size_t tail, char **buf, size_t *auth_len, char **blob,
                           size_t *blob_len) {
    *buf = NULL;
    if (blob) *blob = NULL;
    if (!c || !c->nbuckets || !token || !len) return 0;
    if (head > SIZE_MAX / 4 || tail > SIZE_MAX / 4) return -1;
    uint64_t h = c->weak_hash ? 0 : tc_hash(c, (const unsigned char *)token, len);
    size_t b = bucket_of(c, h);
    pthread_mutex_t *mu = &stripe_of(c, b)[reader_slot()].mu;
    int rc = 0, expired = 0;

    pthread_mutex_lock(mu);
    tc_entry *e = find(c, &c->slots[b * c->ways], h, token, len);
    if (e && now >= e->expires_at) {
        expired = 1;
    } else if (e && now >= e->not_before) {
        const char *auth = e->data + e->token_len;
        char *out = malloc(head + e->auth_len + tail + 1);
        char *bl = blob ? malloc(e->blob_len + 1) : NULL;
        if (out && (!blob || bl)) {
            memcpy(out + head, auth, e->auth_len);
            out[head + e->auth_len + tail] = '\0';
            *buf = out;
            *auth_len = e->auth_len;
            if (blob) {
                memcpy(bl, auth + e->auth_len + 1, e->blob_len);
                bl[e->blob_len] = '\0';
                *blob = bl;
                *blob_len = e->blob_len;
            }
            rc = 1;
        } else {
            free(out);
            free(bl);
            rc = -1;
        }
    }
    pthread_mutex_unlock(mu);
    if (expired) drop_expired(c, b, h, token, len, now);
    return rc;
}

int mcp_token_cache_get(mcp_token_cache *c, const char *token, size_t len, int64_t now,
                        char **auth_json) {
    if (auth_json) *auth_json = NULL;
    if (!auth_json) return 0;
    size_t n;
    return mcp_token_cache_get_ex(c, token, len, now, 0, 0, auth_json, &n, NULL, NULL);
}

void mcp_token_cache_put_ex(mcp_token_cache *c, const char *token, size_t len, int64_t not_before,
                            int64_t expires_at, const char *auth_json, size_t auth_json_len,
                            const char *blob, size_t blob_len) {
    if (!c || !c->nbuckets || !token || !len || !auth_json) return;
    if (expires_at <= not_before) return;
    if (!blob) blob_len = 0;
    if (len > SIZE_MAX / 4 || auth_json_len > SIZE_MAX / 4 || blob_len > SIZE_MAX / 4) return;
    char *data = malloc(len + auth_json_len + 1 + blob_len);
    if (!data) return;
    memcpy(data, token, len);
    memcpy(data + len, auth_json, auth_json_len);
    data[len + auth_json_len] = '\0';
    if (blob_len) memcpy(data + len + auth_json_len + 1, blob, blob_len);

    uint64_t h = c->weak_hash ? 0 : tc_hash(c, (const unsigned char *)token, len);
    size_t b = bucket_of(c, h);
    tc_entry *set = &c->slots[b * c->ways];
    tc_lock *stripe = stripe_of(c, b);
    char *old = NULL;
    size_t old_len = 0;

    write_lock(stripe);
    tc_entry *slot = NULL, *empty = NULL, *victim = NULL;
    for (size_t i = 0; i < c->ways; i++) {
        tc_entry *e = &set[i];
        if (!e->data) {
            if (!empty) empty = e;
            continue;
        }
        if (e->hash == h && e->token_len == len && mcp_ct_memeq(e->data, token, len)) {
            slot = e;
            break;
        }
        if (!victim || e->expires_at < victim->expires_at) victim = e;
    }
    if (!slot) slot = empty ? empty : victim;
    if (slot->data) {
        old_len = slot->token_len;
        entry_drop(slot, &old);
    }
    slot->hash = h;
    slot->not_before = not_before;
    slot->expires_at = expires_at;
    slot->token_len = len;
    slot->auth_len = auth_json_len;
    slot->blob_len = blob_len;
    slot->data = data;
    write_unlock(stripe);
    data_free(old, old_len);
}

void mcp_token_cache_put(mcp_token_cache *c, const char *token, size_t len, int64_t not_before,
                         int64_t expires_at, const char *auth_json, size_t auth_json_len) {
    mcp_token_cache_put_ex(c, token, len, not_before, expires_at, auth_json, auth_json_len, NULL,
                           0);
}

/* Test hooks (not in token_cache.h; tests declare them themselves). */
size_t mcp_token_cache_count(mcp_token_cache *c);
void mcp_token_cache_test_weak_hash(mcp_token_cache *c, int on);

/* Number of occupied slots (takes every lock in turn; for tests and stats). */
size_t mcp_token_cache_count(mcp_token_cache *c) {
    if (!c) return 0;
    size_t n = 0;
    for (size_t b = 0; b < c->nbuckets; b++) {
        tc_lock *stripe = stripe_of(c, b);
        write_lock(stripe);
        for (size_t i = 0; i < c->ways; i++)
            if (c->slots[b * c->ways + i].data) n++;
        write_unlock(stripe);
    }
    return n;
}

/* Makes every token hash to the same value, so lookups rely on the full comparison only.
 * Call before any put (not thread-safe). */
void mcp_token_cache_test_weak_hash(mcp_token_cache *c, int on) {
    if (c) c->weak_hash = on ? 1 : 0;
}
