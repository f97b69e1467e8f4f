/* check_threads.c - one shared engine, 16 threads verifying different tokens (cached and
 * uncached), results checked per token; then a key rotation on a loopback JWKS server so that
 * every thread meets an unknown kid at once and the remote set is refreshed mid-run. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mcpauth.h>

#include "util/common.h"
#include "httpd.h"
#include "tokens.h"

#define ISS "https://issuer.example"
#define AUD "https://api.example"
#define NTHREADS 16
#define NTOKENS 24

typedef struct worker {
    const mcpauth_engine *e;
    int id;
    char *tok1[NTOKENS]; /* signed by k1 */
    char *tok2[NTOKENS]; /* signed by k2 (published only after the rotation) */
    pthread_barrier_t *barrier;
    atomic_int *errors;
} worker;

static char *make_token(const tu_key *k, int thread, int idx, int phase) {
    char c[256];
    long long now = (long long)time(NULL);
    snprintf(c, sizeof c,
             "{\"iss\":\"" ISS "\",\"aud\":\"" AUD
             "\",\"sub\":\"t%d-%d-p%d\",\"exp\":%lld,\"scope\":\"s%d\"}",
             thread, idx, phase, now + 600, idx);
    return tu_sign_claims(k, c);
}

/* Verifies tok and checks the userId is the expected one. Returns 0 on success. */
static int check_one(const mcpauth_engine *e, const char *tok, int thread, int idx, int phase,
                     unsigned flags) {
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, tok, strlen(tok), flags, &auth, &detail);
    int bad = 0;
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "thread %d token %d phase %d: %s (%s)\n", thread, idx, phase,
                mcpauth_code_name(rc), detail ? detail : "");
        bad = 1;
    } else {
        char want[64];
        snprintf(want, sizeof want, "\"userId\":\"t%d-%d-p%d\"", thread, idx, phase);
        if (!strstr(auth, want)) {
            fprintf(stderr, "thread %d token %d: wrong result\n", thread, idx);
            bad = 1;
        }
    }
    mcpauth_free(auth);
    mcpauth_free(detail);
    return bad;
}

static void *run(void *arg) {
    worker *w = arg;
    int bad = 0;
    /* phase 1: only k1 is published */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < NTOKENS; i++)
            bad +=
                check_one(w->e, w->tok1[i], w->id, i, 1, round == 2 ? MCPAUTH_VERIFY_NO_CACHE : 0);
    pthread_barrier_wait(w->barrier); /* main rotates the JWKS */
    pthread_barrier_wait(w->barrier);
    /* phase 2: every thread meets the new kid at about the same time */
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < NTOKENS; i++) {
            bad += check_one(w->e, w->tok2[i], w->id, i, 2, 0);
            bad += check_one(w->e, w->tok1[i], w->id, i, 1, round ? MCPAUTH_VERIFY_NO_CACHE : 0);
        }
    atomic_fetch_add(w->errors, bad);
    return NULL;
}

START_TEST(shared_engine_many_threads_with_rotation) {
    tu_key k1, k2;
    tu_key_gen(&k1, "ES256", "k1");
    tu_key_gen(&k2, "ES256", "k2");
    const tu_key *only1[] = {&k1};
    const tu_key *both[] = {&k1, &k2};
    char *jwks1 = tu_jwks(only1, 1);
    char *jwks2 = tu_jwks(both, 2);

    tu_httpd *srv = tu_httpd_start();
    ck_assert_ptr_nonnull(srv);
    ck_assert_int_eq(tu_httpd_route(srv, "/jwks", 200, jwks1), 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"jwksUrl\":\"%s\","
             "\"jwksCooldownSeconds\":1,"
             "\"algorithms\":[\"ES256\"]}",
             tu_httpd_url(srv, "/jwks"));
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail);
    ck_assert_msg(rc == MCPAUTH_OK, "engine: %s", detail ? detail : "");

    static worker w[NTHREADS];
    pthread_t th[NTHREADS];
    pthread_barrier_t barrier;
    atomic_int errors = 0;
    pthread_barrier_init(&barrier, NULL, NTHREADS + 1);
    for (int t = 0; t < NTHREADS; t++) {
        w[t].e = e;
        w[t].id = t;
        w[t].barrier = &barrier;
        w[t].errors = &errors;
        for (int i = 0; i < NTOKENS; i++) {
            w[t].tok1[i] = make_token(&k1, t, i, 1);
            w[t].tok2[i] = make_token(&k2, t, i, 2);
        }
    }
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, run, &w[t]), 0);
    pthread_barrier_wait(&barrier);
    unsigned hits_before = tu_httpd_hits(srv, "/jwks");
    ck_assert_uint_eq(hits_before, 1); /* single-flight: one fetch for 16 threads */
    ck_assert_int_eq(tu_httpd_set_body(srv, "/jwks", jwks2), 0);
    /* past the unknown-kid cooldown (1 s) without sleeping */
    mcp_time_set_override((int64_t)time(NULL) + 5);
    pthread_barrier_wait(&barrier);
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);

    ck_assert_int_eq(atomic_load(&errors), 0);
    unsigned hits = tu_httpd_hits(srv, "/jwks");
    ck_assert_msg(hits >= 2 && hits <= 1 + NTHREADS, "JWKS fetched %u times", hits);

    /* an unknown kid after the refresh is a fast KEY_NOT_FOUND */
    tu_key k3;
    tu_key_gen(&k3, "ES256", "k3");
    char *t3 = make_token(&k3, 0, 0, 3);
    ck_assert_int_eq(mcpauth_verify(e, t3, strlen(t3), 0, NULL, NULL), MCPAUTH_E_KEY_NOT_FOUND);
    ck_assert_uint_eq(tu_httpd_hits(srv, "/jwks"), hits); /* inside the cooldown: no fetch */
    mcp_time_set_override(0);
    free(t3);
    tu_key_free(&k3);

    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < NTOKENS; i++) {
            free(w[t].tok1[i]);
            free(w[t].tok2[i]);
        }
    pthread_barrier_destroy(&barrier);
    mcpauth_engine_free(e);
    tu_httpd_stop(srv);
    free(jwks1);
    free(jwks2);
    tu_key_free(&k1);
    tu_key_free(&k2);
}
END_TEST

/* Static keys, many different tokens per thread, no cache: pure verification concurrency. */
static void *run_static(void *arg) {
    worker *w = arg;
    int bad = 0;
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < NTOKENS; i++)
            bad +=
                check_one(w->e, w->tok1[i], w->id, i, 1, round & 1 ? MCPAUTH_VERIFY_NO_CACHE : 0);
    atomic_fetch_add(w->errors, bad);
    return NULL;
}

START_TEST(shared_engine_static_keys) {
    tu_key k;
    tu_key_gen(&k, "EdDSA", "k1");
    const tu_key *ks[] = {&k};
    char *jwks = tu_jwks(ks, 1);
    char *cfg = malloc(strlen(jwks) + 128);
    sprintf(cfg,
            "{\"issuer\":\"" ISS "\",\"audience\":\"" AUD "\",\"jwks\":%s,\"tokenCacheSize\":64}",
            jwks);
    mcpauth_engine *e = NULL;
    ck_assert_int_eq(mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, NULL),
                     MCPAUTH_OK);
    static worker w[NTHREADS];
    pthread_t th[NTHREADS];
    atomic_int errors = 0;
    for (int t = 0; t < NTHREADS; t++) {
        w[t].e = e;
        w[t].id = t;
        w[t].errors = &errors;
        for (int i = 0; i < NTOKENS; i++) w[t].tok1[i] = make_token(&k, t, i, 1);
    }
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, run_static, &w[t]), 0);
    for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
    ck_assert_int_eq(atomic_load(&errors), 0);
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < NTOKENS; i++) free(w[t].tok1[i]);
    mcpauth_engine_free(e);
    free(cfg);
    free(jwks);
    tu_key_free(&k);
}
END_TEST

/* The signature contexts each key keeps ready (jose/sig.c) are lent to one verification at a
 * time, with temporaries beyond the pool: more threads than pooled contexts, every algorithm
 * family, uncached, a valid token and the same token with a damaged signature in turn. A
 * refusal must not spoil the context the next verification borrows. */
typedef struct pool_worker {
    const mcpauth_engine *e;
    const char *good, *bad;
    atomic_int *errors;
} pool_worker;

static void *run_pool(void *arg) {
    pool_worker *w = arg;
    int bad = 0;
    for (int i = 0; i < 40; i++) {
        const char *t = i % 3 == 2 ? w->bad : w->good;
        int rc = mcpauth_verify(w->e, t, strlen(t), MCPAUTH_VERIFY_NO_CACHE, NULL, NULL);
        if (rc != (t == w->bad ? MCPAUTH_E_BAD_SIGNATURE : MCPAUTH_OK)) bad++;
    }
    atomic_fetch_add(w->errors, bad);
    return NULL;
}

START_TEST(pooled_signature_contexts) {
    static const char *const algs[] = {"RS256", "PS384", "ES256", "EdDSA", "HS256", "HS512"};
    for (size_t a = 0; a < sizeof algs / sizeof *algs; a++) {
        tu_key k;
        tu_key_gen(&k, algs[a], "k1");
        const tu_key *ks[] = {&k};
        char *jwks = tu_jwks(ks, 1);
        char *cfg = malloc(strlen(jwks) + 160);
        ck_assert_ptr_nonnull(cfg);
        sprintf(cfg,
                "{\"issuer\":\"" ISS "\",\"audience\":\"" AUD
                "\",\"jwks\":%s,\"algorithms\":[\"%s\"]}",
                jwks, algs[a]);
        mcpauth_engine *e = NULL;
        char *detail = NULL;
        ck_assert_msg(mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &e, &detail) ==
                          MCPAUTH_OK,
                      "%s: %s", algs[a], detail ? detail : "");
        char *good = make_token(&k, 0, 0, 1);
        char *bad = strdup(good);
        ck_assert_ptr_nonnull(bad);
        /* one character in the middle of the signature: still base64url, wrong signature */
        char *sig = strrchr(bad, '.') + 1;
        size_t mid = strlen(sig) / 2;
        sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
        atomic_int errors = 0;
        pool_worker w = {e, good, bad, &errors};
        pthread_t th[NTHREADS];
        for (int t = 0; t < NTHREADS; t++)
            ck_assert_int_eq(pthread_create(&th[t], NULL, run_pool, &w), 0);
        for (int t = 0; t < NTHREADS; t++) pthread_join(th[t], NULL);
        ck_assert_msg(atomic_load(&errors) == 0, "%s: %d wrong answers", algs[a],
                      atomic_load(&errors));
        free(good);
        free(bad);
        mcpauth_engine_free(e);
        free(cfg);
        free(jwks);
        tu_key_free(&k);
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("shared");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, shared_engine_static_keys);
    tcase_add_test(tc, pooled_signature_contexts);
    tcase_add_test(tc, shared_engine_many_threads_with_rotation);
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
