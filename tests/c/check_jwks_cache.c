/* check_jwks_cache.c - remote JWKS source against the loopback server: TTL, rotation,
 * unknown-kid cooldown, failure handling, non-blocking mode and single flight. The clock is
 * moved with mcp_time_set_override(). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "jose/jwks_cache.h"
#include "tokens.h"

#define T0 1700000000LL

static tu_httpd *srv;
static tu_key k1, k2, k3;
static char *jwks_1, *jwks_12, *jwks_123;

static void keys_once(void) {
    static int done;
    if (done) return;
    tu_key_gen(&k1, "ES256", "k1");
    tu_key_gen(&k2, "ES256", "k2");
    tu_key_gen(&k3, "EdDSA", "k3");
    const tu_key *a[] = {&k1, &k2, &k3};
    jwks_1 = tu_jwks(a, 1);
    jwks_12 = tu_jwks(a, 2);
    jwks_123 = tu_jwks(a, 3);
    done = 1;
}

static void setup(void) {
    keys_once();
    srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
    mcp_time_set_override(T0);
}

static void teardown(void) {
    mcp_time_set_override(0);
    tu_httpd_stop(srv);
    srv = NULL;
}

static mcp_jwks_opts test_opts(void) {
    mcp_jwks_opts o;
    memset(&o, 0, sizeof o);
    o.ttl_default = 600;
    o.ttl_min = 60;
    o.ttl_max = 86400;
    o.cooldown = 30;
    o.max_keys = 64;
    o.http.connect_timeout_ms = 500;
    o.http.total_timeout_ms = 1000;
    o.http.max_body = 1 << 20;
    return o;
}

static mcp_jwks_source *source(const char *path, const mcp_jwks_opts *o) {
    mcp_jwks_source *s = mcp_jwks_source_new(tu_httpd_url(srv, path), o);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* get() that must succeed; returns whether the set has `want_kid` (if given). */
static int get_ok(mcp_jwks_source *s, const char *kid, const char *want_kid) {
    mcp_keyset *ks = NULL;
    mcp_err err = {0, {0}};
    int rc = mcp_jwks_source_get(s, kid, 0, &ks, &err);
    ck_assert_msg(rc == MCPAUTH_OK, "get failed: %d %s", rc, err.msg);
    ck_assert_ptr_nonnull(ks);
    int has = want_kid ? mcp_keyset_has_kid(ks, want_kid) : 1;
    mcp_keyset_unref(ks);
    return has;
}

static int get_rc(mcp_jwks_source *s, const char *kid, int nonblock, mcp_err *err) {
    mcp_keyset *ks = (mcp_keyset *)1;
    int rc = mcp_jwks_source_get(s, kid, nonblock, &ks, err);
    if (rc == MCPAUTH_OK) {
        ck_assert_ptr_nonnull(ks);
        mcp_keyset_unref(ks);
    } else {
        ck_assert_ptr_null(ks);
    }
    return rc;
}

static double mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------------------------- */

START_TEST(first_fetch) {
    tu_httpd_route(srv, "/jwks", 200, jwks_12);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 0); /* no I/O at creation */
    ck_assert_uint_eq(tu_httpd_hits(srv, "/jwks"), 0);
    mcp_keyset *ks = NULL;
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_jwks_source_get(s, "k1", 0, &ks, &err), MCPAUTH_OK);
    ck_assert_uint_eq(ks->n, 2);
    ck_assert_int_eq(mcp_keyset_has_kid(ks, "k1"), 1);
    ck_assert_int_eq(mcp_keyset_has_kid(ks, "k2"), 1);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/jwks"), 1);
    /* the same set comes back without I/O, with its own reference */
    mcp_keyset *ks2 = NULL;
    ck_assert_int_eq(mcp_jwks_source_get(s, "k2", 0, &ks2, &err), MCPAUTH_OK);
    ck_assert_ptr_eq(ks, ks2);
    ck_assert_int_eq(mcp_jwks_source_get(s, NULL, 0, &ks2, &err), MCPAUTH_OK);
    mcp_keyset_unref(ks2);
    mcp_keyset_unref(ks2);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* the reference outlives the source */
    mcp_jwks_source_free(s);
    ck_assert_int_eq(mcp_keyset_has_kid(ks, "k1"), 1);
    mcp_keyset_unref(ks);
    char *accept = tu_httpd_last_header(srv, "/jwks", "Accept");
    ck_assert_ptr_nonnull(accept);
    ck_assert_ptr_nonnull(strstr(accept, "application/json"));
    free(accept);
}
END_TEST

/* Expiry of the first set: returns the first time at which a get() fetched again. */
static int64_t ttl_for(const char *cc) {
    mcp_time_set_override(T0);
    tu_route r = {.path = "/ttl", .body = jwks_1, .cache_control = cc};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/ttl", &o);
    get_ok(s, "k1", NULL);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* binary search is overkill: probe the candidate boundaries */
    const int64_t probes[] = {59, 60, 299, 300, 599, 600, 86399, 86400};
    int64_t ttl = -1;
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        mcp_time_set_override(T0 + probes[i]);
        get_ok(s, "k1", NULL);
        if (mcp_jwks_source_fetch_count(s) == 2) {
            ttl = probes[i];
            break;
        }
    }
    mcp_jwks_source_free(s);
    mcp_time_set_override(T0);
    return ttl;
}

START_TEST(ttl_from_cache_control) {
    ck_assert_int_eq(ttl_for("public, max-age=300"), 300);
    ck_assert_int_eq(ttl_for(NULL), 600);                /* default */
    ck_assert_int_eq(ttl_for("max-age=5"), 60);          /* clamped up to ttl_min */
    ck_assert_int_eq(ttl_for("max-age=0"), 60);          /* clamped up */
    ck_assert_int_eq(ttl_for("no-store"), 60);           /* no-store: shortest allowed */
    ck_assert_int_eq(ttl_for("max-age=9999999"), 86400); /* clamped down to ttl_max */
    ck_assert_int_eq(ttl_for("max-age=junk"), 600);      /* garbage ignored */
}
END_TEST

START_TEST(rotation_after_unknown_kid) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* the IdP rotates in k2 */
    ck_assert_int_eq(tu_httpd_set_body(srv, "/jwks", jwks_12), 0);
    /* inside the cooldown after the last fetch: no refresh, the current set comes back */
    mcp_time_set_override(T0 + 1);
    ck_assert(!get_ok(s, "k2", "k2"));
    mcp_time_set_override(T0 + 29);
    ck_assert(!get_ok(s, "k2", "k2"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* past the cooldown: one refresh picks up k2 */
    mcp_time_set_override(T0 + 30);
    ck_assert(get_ok(s, "k2", "k2"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    ck_assert(get_ok(s, "k2", "k2"));
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    /* a kid that never appears: once per cooldown */
    mcp_time_set_override(T0 + 31);
    ck_assert(!get_ok(s, "nope", "nope"));
    mcp_time_set_override(T0 + 59);
    ck_assert(!get_ok(s, "nope", "nope"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_time_set_override(T0 + 60);
    ck_assert(!get_ok(s, "nope", "nope"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 3);
    /* k1 retired by the IdP: gone after the next refresh */
    const tu_key *only2[] = {&k2};
    char *j2 = tu_jwks(only2, 1);
    tu_httpd_set_body(srv, "/jwks", j2);
    free(j2);
    mcp_time_set_override(T0 + 90);
    ck_assert(get_ok(s, "k2", "k2")); /* known kid: no refresh */
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 3);
    ck_assert(!get_ok(s, "k3", "k3")); /* unknown: refresh */
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 4);
    ck_assert(!get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(tu_httpd_hits(srv, "/jwks"), 4);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(unknown_kid_flood) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* 1000 lookups of random kids over 100 simulated seconds (cooldown 30): refreshes at
     * +30, +60 and +90 only. */
    unsigned seed = 12345;
    char kid[32];
    for (int i = 0; i < 1000; i++) {
        mcp_time_set_override(T0 + i / 10);
        seed = seed * 1103515245u + 12345u;
        snprintf(kid, sizeof kid, "rnd-%08x", seed);
        mcp_keyset *ks = NULL;
        mcp_err err = {0, {0}};
        ck_assert_int_eq(mcp_jwks_source_get(s, kid, 0, &ks, &err), MCPAUTH_OK);
        ck_assert_int_eq(mcp_keyset_has_kid(ks, kid), 0);
        mcp_keyset_unref(ks);
    }
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 4);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/jwks"), 4);
    /* and within one cooldown window, nothing at all */
    mcp_time_set_override(T0 + 100);
    for (int i = 0; i < 1000; i++) {
        snprintf(kid, sizeof kid, "again-%d", i);
        get_ok(s, kid, NULL);
    }
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 4);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(server_error_keeps_last_good) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    ck_assert(get_ok(s, "k1", "k1"));
    tu_httpd_set_status(srv, "/jwks", 500);
    tu_httpd_set_body(srv, "/jwks", jwks_12);
    /* TTL (600) expired, refresh fails: old keys still served */
    mcp_time_set_override(T0 + 600);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    /* backoff: no new attempt within the cooldown, whatever is asked */
    mcp_time_set_override(T0 + 601);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert(!get_ok(s, "k2", "k2"));
    mcp_time_set_override(T0 + 629);
    ck_assert(get_ok(s, NULL, "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    /* after it: one more attempt, still failing */
    mcp_time_set_override(T0 + 630);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 3);
    /* garbage with status 200 is a failure too */
    tu_httpd_set_status(srv, "/jwks", 200);
    tu_httpd_set_body(srv, "/jwks", "{\"keys\": \"not a list\"}");
    mcp_time_set_override(T0 + 660);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 4);
    tu_httpd_set_body(srv, "/jwks", "<html>hello</html>");
    mcp_time_set_override(T0 + 690);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 5);
    tu_httpd_set_body(srv, "/jwks", "{\"keys\":[]}");
    mcp_time_set_override(T0 + 720);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 6);
    /* recovery */
    tu_httpd_set_body(srv, "/jwks", jwks_12);
    mcp_time_set_override(T0 + 750);
    ck_assert(get_ok(s, "k2", "k2"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 7);
    /* fresh TTL from the recovery */
    mcp_time_set_override(T0 + 750 + 599);
    ck_assert(get_ok(s, "k2", "k2"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 7);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(server_hang_bounded) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_opts o = test_opts();
    o.http.connect_timeout_ms = 200;
    o.http.total_timeout_ms = 300;
    mcp_jwks_source *s = source("/jwks", &o);
    ck_assert(get_ok(s, "k1", "k1"));
    tu_httpd_set_delay(srv, "/jwks", 10000);
    mcp_time_set_override(T0 + 600);
    double t0 = mono_ms();
    ck_assert(get_ok(s, "k1", "k1"));
    double dt = mono_ms() - t0;
    ck_assert_msg(dt < 300 + 700, "hang not bounded: %.0f ms", dt);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    /* during the backoff no one waits on the hanging server */
    t0 = mono_ms();
    mcp_time_set_override(T0 + 610);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert(!get_ok(s, "k9", "k9"));
    ck_assert_msg(mono_ms() - t0 < 100, "waited during backoff");
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(no_keys_and_failure) {
    tu_httpd_route(srv, "/jwks", 503, "{\"error\":\"down\"}");
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_int_eq(err.code, MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err.msg, "503"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* a set-less source retries after min(cooldown, 5 s), not on every call */
    mcp_time_set_override(T0 + 4);
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_int_eq(get_rc(s, NULL, 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* non-blocking inside the backoff: no I/O would happen, so the real answer */
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    mcp_time_set_override(T0 + 5);
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    /* the server comes back */
    tu_httpd_set_status(srv, "/jwks", 200);
    tu_httpd_set_body(srv, "/jwks", jwks_1);
    mcp_time_set_override(T0 + 10);
    ck_assert(get_ok(s, "k1", "k1"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 3);
    mcp_jwks_source_free(s);

    /* nothing listening at all */
    mcp_time_set_override(T0);
    unsigned port = tu_httpd_port(srv);
    char url[80];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/none", port);
    tu_httpd_stop(srv);
    srv = tu_httpd_start();
    if (tu_httpd_port(srv) != port) {
        s = mcp_jwks_source_new(url, &o);
        ck_assert_int_eq(get_rc(s, NULL, 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
        ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
        mcp_jwks_source_free(s);
    }
}
END_TEST

START_TEST(nonblock_semantics) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    mcp_err err = {0, {0}};
    /* no set yet */
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(get_rc(s, NULL, 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 0);
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_OK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* valid set, known kid or no kid */
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_OK);
    ck_assert_int_eq(get_rc(s, NULL, 1, &err), MCPAUTH_OK);
    /* unknown kid inside the cooldown: the current set, no I/O */
    mcp_time_set_override(T0 + 29);
    ck_assert_int_eq(get_rc(s, "zz", 1, &err), MCPAUTH_OK);
    /* unknown kid past the cooldown: would need I/O */
    mcp_time_set_override(T0 + 30);
    ck_assert_int_eq(get_rc(s, "zz", 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_OK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* TTL expired: would need I/O even for a known kid */
    mcp_time_set_override(T0 + 600);
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_int_eq(get_rc(s, NULL, 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    /* a failing refresh: afterwards, during the backoff, stale keys without I/O */
    tu_httpd_set_status(srv, "/jwks", 500);
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_OK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_time_set_override(T0 + 610);
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_OK);
    ck_assert_int_eq(get_rc(s, "zz", 1, &err), MCPAUTH_OK);
    mcp_time_set_override(T0 + 630);
    ck_assert_int_eq(get_rc(s, "k1", 1, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_jwks_source_free(s);
}
END_TEST

typedef struct sf_arg {
    mcp_jwks_source *s;
    pthread_barrier_t *bar;
    int rc;
    int has_k1;
} sf_arg;

static void *sf_thread(void *p) {
    sf_arg *a = p;
    pthread_barrier_wait(a->bar);
    mcp_keyset *ks = NULL;
    mcp_err err = {0, {0}};
    a->rc = mcp_jwks_source_get(a->s, "k1", 0, &ks, &err);
    if (ks) {
        a->has_k1 = mcp_keyset_has_kid(ks, "k1");
        mcp_keyset_unref(ks);
    }
    return NULL;
}

START_TEST(single_flight) {
    tu_route r = {.path = "/slow", .body = jwks_1, .delay_ms = 200};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/slow", &o);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 8);
    pthread_t th[8];
    sf_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (sf_arg){s, &bar, -1, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, sf_thread, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, MCPAUTH_OK);
        ck_assert_int_eq(args[i].has_k1, 1);
    }
    pthread_barrier_destroy(&bar);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/slow"), 1);

    /* While a blocking refresh is running, a non-blocking caller does not wait for it. */
    mcp_time_set_override(T0 + 600);
    pthread_barrier_init(&bar, NULL, 2);
    sf_arg blk = {s, &bar, -1, 0};
    ck_assert_int_eq(pthread_create(&th[0], NULL, sf_thread, &blk), 0);
    pthread_barrier_wait(&bar);
    struct timespec ts = {0, 50 * 1000000L}; /* let the refresh start */
    nanosleep(&ts, NULL);
    mcp_keyset *ks = NULL;
    mcp_err err = {0, {0}};
    double t0 = mono_ms();
    ck_assert_int_eq(mcp_jwks_source_get(s, "k1", 1, &ks, &err), MCPAUTH_E_WOULD_BLOCK);
    ck_assert_msg(mono_ms() - t0 < 100, "non-blocking call waited");
    pthread_join(th[0], NULL);
    ck_assert_int_eq(blk.rc, MCPAUTH_OK);
    pthread_barrier_destroy(&bar);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(single_flight_failure) {
    /* 8 waiters on a failing fetch take its result; nobody starts a second one. */
    tu_route r = {.path = "/slowfail", .status = 500, .body = "{}", .delay_ms = 200};
    ck_assert_int_eq(tu_httpd_set(srv, &r), 0);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/slowfail", &o);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 8);
    pthread_t th[8];
    sf_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (sf_arg){s, &bar, -1, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, sf_thread, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].rc, MCPAUTH_E_KEYS_UNAVAILABLE);
    }
    pthread_barrier_destroy(&bar);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(body_over_max_refused) {
    tu_httpd_route(srv, "/jwks", 200, jwks_12);
    mcp_jwks_opts o = test_opts();
    o.http.max_body = strlen(jwks_12) - 1;
    mcp_jwks_source *s = source("/jwks", &o);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(err.msg, "too large"));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    mcp_jwks_source_free(s);
    o.http.max_body = strlen(jwks_12);
    s = source("/jwks", &o);
    ck_assert(get_ok(s, "k2", "k2"));
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(too_many_keys_refused) {
    tu_httpd_route(srv, "/jwks", 200, jwks_123);
    mcp_jwks_opts o = test_opts();
    o.max_keys = 2;
    mcp_jwks_source *s = source("/jwks", &o);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(get_rc(s, "k1", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    mcp_jwks_source_free(s);
    o.max_keys = 3;
    s = source("/jwks", &o);
    ck_assert(get_ok(s, "k3", "k3"));
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(oct_keys_from_url_refused) {
    tu_key h;
    tu_key_gen(&h, "HS256", "hk");
    const tu_key *a[] = {&h};
    char *j = tu_jwks(a, 1);
    tu_httpd_route(srv, "/jwks", 200, j);
    free(j);
    tu_key_free(&h);
    mcp_jwks_opts o = test_opts();
    mcp_jwks_source *s = source("/jwks", &o);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(get_rc(s, "hk", 0, &err), MCPAUTH_E_KEYS_UNAVAILABLE);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    mcp_jwks_source_free(s);
}
END_TEST

START_TEST(defaults_and_args) {
    tu_httpd_route(srv, "/jwks", 200, jwks_1);
    mcp_jwks_source *s = mcp_jwks_source_new(tu_httpd_url(srv, "/jwks"), NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert(get_ok(s, "k1", "k1"));
    /* default cooldown 30 and TTL 600 */
    mcp_time_set_override(T0 + 29);
    get_ok(s, "x", NULL);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 1);
    mcp_time_set_override(T0 + 30);
    get_ok(s, "x", NULL);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_time_set_override(T0 + 30 + 599);
    get_ok(s, "k1", NULL);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 2);
    mcp_time_set_override(T0 + 30 + 600);
    get_ok(s, "k1", NULL);
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(s), 3);
    mcp_err err = {0, {0}};
    ck_assert_int_eq(mcp_jwks_source_get(s, "k1", 0, NULL, &err), MCPAUTH_E_INVALID_ARGUMENT);
    mcp_keyset *ks = NULL;
    ck_assert_int_eq(mcp_jwks_source_get(NULL, "k1", 0, &ks, &err), MCPAUTH_E_INVALID_ARGUMENT);
    mcp_jwks_source_free(s);
    mcp_jwks_source_free(NULL);
    ck_assert_ptr_null(mcp_jwks_source_new(NULL, NULL));
    ck_assert_uint_eq(mcp_jwks_source_fetch_count(NULL), 0);
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("jwks_cache");
    TCase *tc = tcase_create("remote");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, first_fetch);
    tcase_add_test(tc, ttl_from_cache_control);
    tcase_add_test(tc, rotation_after_unknown_kid);
    tcase_add_test(tc, unknown_kid_flood);
    tcase_add_test(tc, server_error_keeps_last_good);
    tcase_add_test(tc, server_hang_bounded);
    tcase_add_test(tc, no_keys_and_failure);
    tcase_add_test(tc, nonblock_semantics);
    tcase_add_test(tc, single_flight);
    tcase_add_test(tc, single_flight_failure);
    tcase_add_test(tc, body_over_max_refused);
    tcase_add_test(tc, too_many_keys_refused);
    tcase_add_test(tc, oct_keys_from_url_refused);
    tcase_add_test(tc, defaults_and_args);
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
