/* jwks_cache.c - a remote JWKS with TTL, single-flight refresh, unknown-kid cooldown and
 * failure backoff; the last good keyset is kept when a refresh fails.
 *
 * Rules (times from mcp_now(), so tests can move the clock):
 *  - current set valid (now < expires_at) and kid known or absent: returned, no I/O;
 *  - unknown kid: a refresh only when the last fetch (of any kind, success or failure) ended at
 *    least `cooldown` seconds ago; otherwise the current set is returned as is;
 *  - TTL expired: refresh, unless the last fetch failed less than `cooldown` seconds ago, in
 *    which case the stale set keeps being served (no hammering of a failing server);
 *  - no set at all: fetch, unless the last fetch failed less than min(cooldown, 5) seconds ago,
 *    then MCPAUTH_E_KEYS_UNAVAILABLE;
 *  - one fetch at a time: other threads that need I/O wait on the condition variable for that
 *    fetch and then take its result (they never start a second fetch right after it);
 *  - nonblock: whenever a blocking call would fetch or wait for a fetch, MCPAUTH_E_WOULD_BLOCK.
 * Options <= 0 take their defaults (ttl_default 600, ttl_min 60, ttl_max 86400, cooldown 30,
 * max_keys 64). */
#include "jose/jwks_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define JWKS_DEFAULT_TTL 600
#define JWKS_DEFAULT_TTL_MIN 60
#define JWKS_DEFAULT_TTL_MAX 86400
#define JWKS_DEFAULT_COOLDOWN 30
#define JWKS_DEFAULT_MAX_KEYS 64
#define JWKS_EMPTY_RETRY_MAX 5 /* a set-less source retries after min(cooldown, this) */

struct mcp_jwks_source {
    char *url;
    mcp_jwks_opts opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mcp_keyset *keys;    /* current set or NULL */
    int64_t expires_at;  /* of `keys` */
    int64_t last_fetch;  /* when the last fetch ended */
    int have_fetched;    /* a fetch has ended at least once */
    int last_ok;         /* result of the last fetch */
    int fetching;        /* a thread is fetching (the lock is released meanwhile) */
    uint64_t generation; /* fetches ended */
    mcp_err last_err;    /* why the last fetch failed */
    _Atomic uint64_t fetches;
};

mcp_jwks_source *mcp_jwks_source_new(const char *url, const mcp_jwks_opts *opts) {
    if (!url) return NULL;
    mcp_jwks_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->url = mcp_strdup(url);
    if (!s->url) {
        free(s);
        return NULL;
    }
    if (opts) s->opts = *opts;
    mcp_jwks_opts *o = &s->opts;
    if (o->ttl_default <= 0) o->ttl_default = JWKS_DEFAULT_TTL;
    if (o->ttl_min <= 0) o->ttl_min = JWKS_DEFAULT_TTL_MIN;
    if (o->ttl_max <= 0) o->ttl_max = JWKS_DEFAULT_TTL_MAX;
    if (o->ttl_min > o->ttl_max) o->ttl_min = o->ttl_max;
    if (o->cooldown <= 0) o->cooldown = JWKS_DEFAULT_COOLDOWN;
    if (o->max_keys == 0) o->max_keys = JWKS_DEFAULT_MAX_KEYS;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        free(s->url);
        free(s);
        return NULL;
    }
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        free(s->url);
        free(s);
        return NULL;
    }
    atomic_init(&s->fetches, 0);
    return s;
}

void mcp_jwks_source_free(mcp_jwks_source *s) {
    if (!s) return;
    mcp_keyset_unref(s->keys);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->url);
    free(s);
}

uint64_t mcp_jwks_source_fetch_count(const mcp_jwks_source *s) {
    return s ? atomic_load(&((mcp_jwks_source *)s)->fetches) : 0;
}

static int64_t clamp_ttl(const mcp_jwks_opts *o, int64_t ttl) {
    if (ttl < o->ttl_min) return o->ttl_min;
    if (ttl > o->ttl_max) return o->ttl_max;
    return ttl;
}

/* The HTTP fetch and import, without the lock. On success *ks holds one reference and *ttl
 * the lifetime to use. */
static int fetch_keys(mcp_jwks_source *s, mcp_keyset **ks, int64_t *ttl, mcp_err *err) {
    mcp_http_response r;
    static const char *const hdrs[] = {"Accept: application/jwk-set+json, application/json", NULL};
    *ks = NULL;
    atomic_fetch_add(&s->fetches, 1);
    mcp_err e = {0, {0}};
    int rc = mcp_http_get(s->url, &s->opts.http, hdrs, &r, &e);
    if (rc != MCPAUTH_OK)
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "JWKS fetch failed: %s", e.msg);
    if (r.status != 200) {
        long st = r.status;
        mcp_http_response_clear(&r);
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "JWKS fetch failed: HTTP status %ld", st);
    }
    mcp_keyset *set = NULL;
    rc = mcp_keyset_from_jwks_text(r.body, r.body_len, 0 /* never oct keys from a URL */,
                                   s->opts.max_keys, &set, &e);
    int64_t max_age = r.max_age;
    int no_store = r.no_store;
    mcp_http_response_clear(&r);
    if (rc != MCPAUTH_OK) {
        if (rc == MCPAUTH_E_NOMEM) return mcp_err_set(err, rc, "out of memory");
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "JWKS document refused: %s", e.msg);
    }
    if (!set || set->n == 0) {
        mcp_keyset_unref(set);
        return mcp_err_set(err, MCPAUTH_E_UPSTREAM, "JWKS document has no signature keys");
    }
    if (no_store)
        *ttl = s->opts.ttl_min;
    else if (max_age >= 0)
        *ttl = clamp_ttl(&s->opts, max_age);
    else
        *ttl = clamp_ttl(&s->opts, s->opts.ttl_default);
    *ks = set;
    return MCPAUTH_OK;
}

static int give(mcp_keyset *ks, mcp_keyset **out) {
    mcp_keyset_ref(ks);
    *out = ks;
    return MCPAUTH_OK;
}

/* Result when no fetch is going to happen: the current set, or KEYS_UNAVAILABLE. */
static int current_or_unavailable(mcp_jwks_source *s, mcp_keyset **out, mcp_err *err) {
    if (s->keys) return give(s->keys, out);
    if (s->have_fetched && !s->last_ok)
        return mcp_err_set(err, MCPAUTH_E_KEYS_UNAVAILABLE, "JWKS unavailable: %s",
                           s->last_err.msg);
    return mcp_err_set(err, MCPAUTH_E_KEYS_UNAVAILABLE, "JWKS unavailable");
}

int mcp_jwks_source_get(mcp_jwks_source *s, const char *kid, int nonblock, mcp_keyset **out,
                        mcp_err *err) {
    if (out) *out = NULL;
    if (!s || !out) return mcp_err_set(err, MCPAUTH_E_INVALID_ARGUMENT, "invalid argument");
    int rc;
    pthread_mutex_lock(&s->mu);
    int64_t now = mcp_now();
    int need_io;
    if (s->keys && now < s->expires_at) {
        if (!kid || mcp_keyset_has_kid(s->keys, kid))
            need_io = 0;
        else /* unknown kid: at most one refresh per cooldown */
            need_io = !s->have_fetched || now - s->last_fetch >= s->opts.cooldown;
    } else if (s->keys) { /* TTL expired: refresh unless a failure is still backing off */
        need_io = s->last_ok || !s->have_fetched || now - s->last_fetch >= s->opts.cooldown;
    } else {
        int64_t retry =
            s->opts.cooldown < JWKS_EMPTY_RETRY_MAX ? s->opts.cooldown : JWKS_EMPTY_RETRY_MAX;
        need_io = !s->have_fetched || s->last_ok || now - s->last_fetch >= retry;
    }
    if (!need_io) {
        rc = current_or_unavailable(s, out, err);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    if (nonblock) {
        pthread_mutex_unlock(&s->mu);
        return mcp_err_set(err, MCPAUTH_E_WOULD_BLOCK, "JWKS refresh needs network I/O");
    }
    if (s->fetching) { /* single flight: wait for the running fetch and take its result */
        uint64_t gen = s->generation;
        while (s->fetching && s->generation == gen) pthread_cond_wait(&s->cv, &s->mu);
        rc = current_or_unavailable(s, out, err);
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    s->fetching = 1;
    pthread_mutex_unlock(&s->mu);

    mcp_keyset *fresh = NULL;
    int64_t ttl = 0;
    mcp_err ferr = {0, {0}};
    int frc = fetch_keys(s, &fresh, &ttl, &ferr);

    pthread_mutex_lock(&s->mu);
    int64_t done = mcp_now();
    mcp_keyset *old = NULL;
    s->have_fetched = 1;
    s->last_fetch = done;
    if (frc == MCPAUTH_OK) {
        old = s->keys;
        s->keys = fresh;
        s->expires_at = done + ttl;
        s->last_ok = 1;
        s->last_err.code = 0;
        s->last_err.msg[0] = '\0';
    } else {
        s->last_ok = 0;
        s->last_err = ferr;
    }
    s->fetching = 0;
    s->generation++;
    pthread_cond_broadcast(&s->cv);
    rc = current_or_unavailable(s, out, err);
    pthread_mutex_unlock(&s->mu);
    mcp_keyset_unref(old);
    return rc;
}
