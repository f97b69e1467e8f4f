/* check_token_cache.c - the verified-token cache: hits, validity window at hit time, bounded
 * size, collision safety and concurrency. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "verify/token_cache.h"

/* Test hooks defined in token_cache.c. */
size_t mcp_token_cache_count(mcp_token_cache *c);
void mcp_token_cache_test_weak_hash(mcp_token_cache *c, int on);

#define NOW 1700000000LL

static void put_s(mcp_token_cache *c, const char *tok, int64_t nbf, int64_t exp, const char *a) {
    mcp_token_cache_put(c, tok, strlen(tok), nbf, exp, a, strlen(a));
}

/* Returns the cached JSON (caller frees) or NULL on miss. */
static char *get_s(mcp_token_cache *c, const char *tok, int64_t now) {
    char *out = (char *)1;
    int rc = mcp_token_cache_get(c, tok, strlen(tok), now, &out);
    ck_assert_int_ge(rc, 0);
    if (rc == 0) {
        ck_assert_ptr_null(out);
        return NULL;
    }
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(out);
    return out;
}

static void make_token(char *buf, size_t len, unsigned i) {
    /* JWS-like filler of exactly len bytes with the index in the middle */
    memset(buf, 'A', len);
    char num[32];
    int n = snprintf(num, sizeof num, ".%u.", i);
    memcpy(buf + len / 2, num, (size_t)n);
    buf[len] = '\0';
}

START_TEST(hit_and_miss) {
    mcp_token_cache *c = mcp_token_cache_new(64);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_null(get_s(c, "tok-a", NOW));
    put_s(c, "tok-a", NOW - 10, NOW + 100, "{\"sub\":\"a\"}");
    char *a = get_s(c, "tok-a", NOW);
    ck_assert_str_eq(a, "{\"sub\":\"a\"}");
    free(a);
    ck_assert_ptr_null(get_s(c, "tok-b", NOW));
    ck_assert_ptr_null(get_s(c, "tok-", NOW));   /* prefix */
    ck_assert_ptr_null(get_s(c, "tok-aa", NOW)); /* extension */
    /* a copy was stored: the caller's buffers may change */
    char tok[] = "tok-c";
    char js[] = "{\"sub\":\"c\"}";
    mcp_token_cache_put(c, tok, 5, NOW, NOW + 10, js, strlen(js));
    tok[0] = 'X';
    js[2] = 'X';
    char *cc = get_s(c, "tok-c", NOW);
    ck_assert_str_eq(cc, "{\"sub\":\"c\"}");
    free(cc);
    /* length is honoured: the stored token is exactly `len` bytes */
    mcp_token_cache_put(c, "abcdef", 3, NOW, NOW + 10, "{\"n\":3}", 7);
    char *s3 = NULL;
    ck_assert_int_eq(mcp_token_cache_get(c, "abcxyz", 3, NOW, &s3), 1);
    ck_assert_str_eq(s3, "{\"n\":3}");
    free(s3);
    ck_assert_int_eq(mcp_token_cache_get(c, "abcdef", 6, NOW, &s3), 0);
    /* replacing keeps one entry and the newest value */
    size_t before = mcp_token_cache_count(c);
    put_s(c, "tok-a", NOW - 10, NOW + 100, "{\"sub\":\"a2\"}");
    ck_assert_uint_eq(mcp_token_cache_count(c), before);
    a = get_s(c, "tok-a", NOW);
    ck_assert_str_eq(a, "{\"sub\":\"a2\"}");
    free(a);
    /* auth JSON with length smaller than the string */
    mcp_token_cache_put(c, "tok-d", 5, NOW, NOW + 10, "{}garbage", 2);
    char *d = get_s(c, "tok-d", NOW);
    ck_assert_str_eq(d, "{}");
    free(d);
    mcp_token_cache_free(c);
}
END_TEST

START_TEST(expiry_at_hit_time) {
    mcp_token_cache *c = mcp_token_cache_new(16);
    put_s(c, "t", NOW - 100, NOW + 10, "{}");
    char *a = get_s(c, "t", NOW + 9);
    ck_assert_ptr_nonnull(a);
    free(a);
    ck_assert_uint_eq(mcp_token_cache_count(c), 1);
    ck_assert_ptr_null(get_s(c, "t", NOW + 10));    /* now == expires_at: expired */
    ck_assert_uint_eq(mcp_token_cache_count(c), 0); /* dropped */
    ck_assert_ptr_null(get_s(c, "t", NOW));         /* gone even for an earlier clock */
    /* empty or inverted windows are not stored */
    put_s(c, "u", NOW, NOW, "{}");
    put_s(c, "v", NOW + 5, NOW, "{}");
    ck_assert_uint_eq(mcp_token_cache_count(c), 0);
    mcp_token_cache_free(c);
}
END_TEST

START_TEST(nbf_honoured) {
    mcp_token_cache *c = mcp_token_cache_new(16);
    put_s(c, "t", NOW + 50, NOW + 100, "{\"x\":1}");
    ck_assert_ptr_null(get_s(c, "t", NOW));
    ck_assert_ptr_null(get_s(c, "t", NOW + 49));
    ck_assert_uint_eq(mcp_token_cache_count(c), 1); /* kept: valid later */
    char *a = get_s(c, "t", NOW + 50);
    ck_assert_str_eq(a, "{\"x\":1}");
    free(a);
    ck_assert_ptr_null(get_s(c, "t", NOW + 100));
    mcp_token_cache_free(c);
}
END_TEST

START_TEST(disabled_cache) {
    mcp_token_cache *c = mcp_token_cache_new(0);
    ck_assert_ptr_nonnull(c);
    put_s(c, "t", NOW, NOW + 100, "{}");
    ck_assert_ptr_null(get_s(c, "t", NOW));
    ck_assert_uint_eq(mcp_token_cache_count(c), 0);
    mcp_token_cache_free(c);
    mcp_token_cache_free(NULL);
    /* NULL arguments */
    c = mcp_token_cache_new(4);
    char *o = (char *)1;
    ck_assert_int_eq(mcp_token_cache_get(c, NULL, 3, NOW, &o), 0);
    ck_assert_ptr_null(o);
    ck_assert_int_eq(mcp_token_cache_get(c, "abc", 0, NOW, &o), 0);
    mcp_token_cache_put(c, NULL, 3, NOW, NOW + 5, "{}", 2);
    mcp_token_cache_put(c, "abc", 3, NOW, NOW + 5, NULL, 0);
    ck_assert_uint_eq(mcp_token_cache_count(c), 0);
    mcp_token_cache_free(c);
}
END_TEST

START_TEST(capacity_bound) {
    const size_t caps[] = {1, 2, 3, 5, 7, 100, 1000};
    for (size_t ci = 0; ci < sizeof caps / sizeof caps[0]; ci++) {
        size_t cap = caps[ci];
        mcp_token_cache *c = mcp_token_cache_new(cap);
        ck_assert_ptr_nonnull(c);
        char tok[128];
        for (unsigned i = 0; i < cap * 10; i++) {
            make_token(tok, 100, i);
            put_s(c, tok, NOW, NOW + 1000 + i, "{\"sub\":\"x\"}");
            ck_assert_uint_le(mcp_token_cache_count(c), cap);
        }
        size_t n = mcp_token_cache_count(c);
        ck_assert_uint_le(n, cap);
        ck_assert_uint_ge(n, (cap + 1) / 2);
        /* the last one inserted is always present; most of the oldest are gone */
        make_token(tok, 100, (unsigned)(cap * 10 - 1));
        char *a = get_s(c, tok, NOW);
        ck_assert_ptr_nonnull(a);
        free(a);
        unsigned old_hits = 0;
        for (unsigned i = 0; i < cap; i++) {
            make_token(tok, 100, i);
            char *h = get_s(c, tok, NOW);
            if (h) old_hits++;
            free(h);
        }
        ck_assert_uint_le(old_hits, cap / 2);
        mcp_token_cache_free(c);
    }
}
END_TEST

START_TEST(eviction_prefers_earliest_expiry) {
    /* capacity 4 and the weak hash: one bucket of 4 ways */
    mcp_token_cache *c = mcp_token_cache_new(4);
    mcp_token_cache_test_weak_hash(c, 1);
    put_s(c, "a", NOW, NOW + 400, "{\"a\":1}");
    put_s(c, "b", NOW, NOW + 100, "{\"b\":1}"); /* earliest expiry */
    put_s(c, "c", NOW, NOW + 300, "{\"c\":1}");
    put_s(c, "d", NOW, NOW + 200, "{\"d\":1}");
    ck_assert_uint_eq(mcp_token_cache_count(c), 4);
    put_s(c, "e", NOW, NOW + 500, "{\"e\":1}");
    ck_assert_uint_eq(mcp_token_cache_count(c), 4);
    ck_assert_ptr_null(get_s(c, "b", NOW));
    const char *keep[] = {"a", "c", "d", "e"};
    for (int i = 0; i < 4; i++) {
        char *v = get_s(c, keep[i], NOW);
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v[2], keep[i][0]);
        free(v);
    }
    mcp_token_cache_free(c);
}
END_TEST

START_TEST(collision_safety) {
    /* Every token has the same hash; tokens of the same length differ in one byte (first,
     * middle, last). The full comparison must keep them apart. */
    for (size_t cap = 1; cap <= 4; cap++) {
        mcp_token_cache *c = mcp_token_cache_new(cap);
        mcp_token_cache_test_weak_hash(c, 1);
        char t1[801], t2[801];
        make_token(t1, 800, 1);
        memcpy(t2, t1, sizeof t1);
        put_s(c, t1, NOW, NOW + 100, "{\"sub\":\"one\"}");
        size_t pos[] = {0, 400, 799};
        for (int p = 0; p < 3; p++) {
            memcpy(t2, t1, sizeof t1);
            t2[pos[p]] ^= 1;
            ck_assert_ptr_null(get_s(c, t2, NOW));
        }
        char *v = get_s(c, t1, NOW);
        ck_assert_str_eq(v, "{\"sub\":\"one\"}");
        free(v);
        /* insert the twin: with capacity 1 it replaces t1, never answers for it */
        memcpy(t2, t1, sizeof t1);
        t2[400] ^= 1;
        put_s(c, t2, NOW, NOW + 100, "{\"sub\":\"two\"}");
        v = get_s(c, t2, NOW);
        ck_assert_str_eq(v, "{\"sub\":\"two\"}");
        free(v);
        v = get_s(c, t1, NOW);
        if (cap == 1) {
            ck_assert_ptr_null(v);
        } else {
            ck_assert_ptr_nonnull(v);
            ck_assert_str_eq(v, "{\"sub\":\"one\"}");
        }
        free(v);
        mcp_token_cache_free(c);
    }
}
END_TEST

START_TEST(hash_spreads_keys) {
    /* With the real hash, similar tokens should mostly land in different buckets: fill to
     * capacity and expect most of them to survive. */
    mcp_token_cache *c = mcp_token_cache_new(4096);
    char tok[900];
    for (unsigned i = 0; i < 2048; i++) {
        make_token(tok, 800, i);
        put_s(c, tok, NOW, NOW + 100, "{}");
    }
    ck_assert_uint_ge(mcp_token_cache_count(c), 1900);
    mcp_token_cache_free(c);
}
END_TEST

typedef struct hammer_arg {
    mcp_token_cache *c;
    unsigned seed;
    unsigned hits, wrong;
} hammer_arg;

static void *hammer(void *p) {
    hammer_arg *a = p;
    char tok[300], want[64];
    for (unsigned n = 0; n < 50000; n++) {
        a->seed = a->seed * 1103515245u + 12345u;
        unsigned i = (a->seed >> 8) % 500;
        make_token(tok, 200 + i % 50, i);
        snprintf(want, sizeof want, "{\"i\":%u}", i);
        if ((a->seed >> 4) % 3 == 0) {
            mcp_token_cache_put(a->c, tok, strlen(tok), NOW, NOW + 100, want, strlen(want));
        } else {
            char *out = NULL;
            int rc = mcp_token_cache_get(a->c, tok, strlen(tok), NOW, &out);
            if (rc == 1) {
                a->hits++;
                if (strcmp(out, want) != 0) a->wrong++;
                free(out);
            } else if (rc != 0) {
                a->wrong++;
            }
        }
    }
    return NULL;
}

START_TEST(threads_hammer) {
    mcp_token_cache *c = mcp_token_cache_new(256);
    pthread_t th[8];
    hammer_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (hammer_arg){c, (unsigned)i * 7919u + 1u, 0, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
    }
    unsigned hits = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_uint_eq(args[i].wrong, 0);
        hits += args[i].hits;
    }
    ck_assert_uint_gt(hits, 0);
    ck_assert_uint_le(mcp_token_cache_count(c), 256);
    mcp_token_cache_free(c);
}
END_TEST

static double mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

START_TEST(hit_cost_report) {
    /* Informational: prints ns per hit for an 800-byte token (no assertion on speed, the
     * Debug build and valgrind runs would make any bound flaky). */
    mcp_token_cache *c = mcp_token_cache_new(1024);
    char tok[801];
    make_token(tok, 800, 42);
    const char *js = "{\"sub\":\"user-123\",\"scopes\":[\"read\",\"write\"],\"iss\":\"https://"
                     "idp.example.com/\",\"aud\":\"https://mcp.example.com\"}";
    put_s(c, tok, NOW, NOW + 100, js);
    const int iters = 200000;
    double t0 = mono_ns();
    for (int i = 0; i < iters; i++) {
        char *out = NULL;
        int rc = mcp_token_cache_get(c, tok, 800, NOW, &out);
        if (rc != 1) ck_abort_msg("miss in loop");
        free(out);
    }
    double dt = mono_ns() - t0;
    printf("token_cache: hit on an 800-byte token: %.0f ns/op\n", dt / iters);
    mcp_token_cache_free(c);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("token_cache");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, hit_and_miss);
    tcase_add_test(tc, expiry_at_hit_time);
    tcase_add_test(tc, nbf_honoured);
    tcase_add_test(tc, disabled_cache);
    tcase_add_test(tc, capacity_bound);
    tcase_add_test(tc, eviction_prefers_earliest_expiry);
    tcase_add_test(tc, collision_safety);
    tcase_add_test(tc, hash_spreads_keys);
    tcase_add_test(tc, threads_hammer);
    tcase_add_test(tc, hit_cost_report);
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
