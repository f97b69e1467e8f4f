/*
 * bench_verify.c - verifications per second through libmcpauth, beside the raw OpenSSL rate of
 * the same primitive measured in the same run.
 *
 * For each algorithm (RS256, PS256, ES256, EdDSA, HS256):
 *   raw    EVP_DigestVerify (or HMAC + CRYPTO_memcmp) on an already imported key, over the same
 *          signing input and signature as the token: the floor cost of the primitive;
 *   miss   mcpauth_verify(..., MCPAUTH_VERIFY_NO_CACHE): the whole path (size cap, base64url,
 *          strict JSON, alg/key binding, signature, claims, auth result JSON);
 *   hit    mcpauth_verify on a repeated token (verified-token cache);
 *   libjwt jwt_decode() of Debian's libjwt 1.10.2, what a C user would otherwise pick (it
 *          verifies the signature only, no claims; PS256 and EdDSA are not supported by it).
 * Each is run on 1 thread and on 2 threads (aggregate rate), in interleaved slices. Output is
 * a Markdown table.
 *
 * Then, on the HS256 token (when HS256 is measured):
 *   the router gate: mcpauth_route and mcpauth_handle_request on a protected POST /mcp carrying
 *          the repeated token, per request, next to mcpauth_verify on the same token;
 *   hit scaling: token-cache hits of one repeated token on 1 and 2 threads, and the ratio.
 *
 * Usage: mcpauth_bench [seconds-per-measurement, default 1.0] [ALG (only this algorithm)]
 */
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/b64url.h"
#include "mcpauth.h"
#include "tokens.h"

typedef struct bench_case {
    const char *alg;
    tu_key key;
    mcpauth_engine *engine;
    char *token;
    unsigned char *sig; /* decoded signature of token */
    size_t sig_len;
    size_t input_len;     /* signing input length within token */
    char *pem;            /* public key PEM for libjwt (NULL for HMAC) */
    mcpauth_engine *gate; /* the same keys with a resource (baseUrl) and requiredScopes */
    char *request;        /* a protected request carrying the token */
} bench_case;

typedef enum { MODE_RAW, MODE_MISS, MODE_HIT, MODE_LIBJWT, MODE_ROUTE, MODE_HANDLE } bench_mode;

typedef struct worker {
    bench_case *c;
    bench_mode mode;
    double seconds;
    unsigned long ops;
    double cpu; /* the thread's CPU time over the run */
    int failed;
} worker;

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const EVP_MD *md_for(const char *alg) {
    if (strcmp(alg, "EdDSA") == 0) return NULL;
    return EVP_sha256();
}

/* One raw verification of the token's signature with the primitive, no library code. */
static int raw_verify(const bench_case *c) {
    const unsigned char *in = (const unsigned char *)c->token;
    if (c->key.pkey == NULL) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mac_len = 0;
        if (!HMAC(EVP_sha256(), c->key.secret, (int)c->key.secret_len, in, c->input_len, mac,
                  &mac_len))
            return 0;
        return mac_len == c->sig_len && CRYPTO_memcmp(mac, c->sig, mac_len) == 0;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;
    if (!ctx) return 0;
    if (EVP_DigestVerifyInit(ctx, &pctx, md_for(c->alg), NULL, c->key.pkey) != 1) goto out;
    if (strcmp(c->alg, "PS256") == 0) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
    }
    if (strcmp(c->alg, "ES256") == 0) {
        /* JWS carries raw r||s; the primitive wants DER: convert as the library must. */
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(c->sig, 32, NULL), *s = BN_bin2bn(c->sig + 32, 32, NULL);
        unsigned char *der = NULL;
        int der_len;
        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(es);
            goto out;
        }
        der_len = i2d_ECDSA_SIG(es, &der);
        ECDSA_SIG_free(es);
        if (der_len > 0) ok = EVP_DigestVerify(ctx, der, (size_t)der_len, in, c->input_len) == 1;
        OPENSSL_free(der);
        goto out;
    }
    ok = EVP_DigestVerify(ctx, c->sig, c->sig_len, in, c->input_len) == 1;
out:
    EVP_MD_CTX_free(ctx);
    return ok;
}

static void *run_worker(void *arg) {
    worker *w = arg;
    size_t len = strlen(w->c->token);
    unsigned flags = w->mode == MODE_MISS ? MCPAUTH_VERIFY_NO_CACHE : 0;
    double end = now_s() + w->seconds, cpu0 = thread_cpu_s();
    unsigned long ops = 0;
    while (1) {
        for (int i = 0; i < 64; i++) {
            if (w->mode == MODE_RAW) {
                if (!raw_verify(w->c)) w->failed = 1;
            } else if (w->mode == MODE_LIBJWT) {
                jwt_t *jwt = NULL;
                const bench_case *c = w->c;
                const unsigned char *key = c->pem ? (const unsigned char *)c->pem : c->key.secret;
                int key_len = c->pem ? (int)strlen(c->pem) : (int)c->key.secret_len;
                if (jwt_decode(&jwt, c->token, key, key_len) != 0) w->failed = 1;
                jwt_free(jwt);
            } else if (w->mode == MODE_ROUTE) {
                char *out = NULL;
                const char *rq = w->c->request;
                if (mcpauth_route(w->c->gate, rq, strlen(rq), 0, &out, NULL) != MCPAUTH_OK ||
                    strncmp(out, "{\"action\":\"pass\",\"auth\":", 24) != 0)
                    w->failed = 1;
                mcpauth_free(out);
            } else if (w->mode == MODE_HANDLE) {
                char *out = NULL;
                const char *rq = w->c->request;
                if (mcpauth_handle_request(w->c->gate, rq, strlen(rq), 0, &out) != MCPAUTH_OK ||
                    !strstr(out, "\"auth\":"))
                    w->failed = 1;
                mcpauth_free(out);
            } else {
                char *out = NULL;
                if (mcpauth_verify(w->c->engine, w->c->token, len, flags, &out, NULL) != MCPAUTH_OK)
                    w->failed = 1;
                mcpauth_free(out);
            }
        }
        ops += 64;
        if (now_s() >= end) break;
    }
    w->ops = ops;
    w->cpu = thread_cpu_s() - cpu0;
    return NULL;
}

/* Operations per second of wall time; *cpu_per_op (if not NULL) receives the CPU time per
 * operation, which a busy machine does not inflate. */
static double measure_cpu(bench_case *c, bench_mode mode, int threads, double seconds, int *failed,
                          double *cpu_per_op) {
    pthread_t tid[2];
    worker w[2];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        w[i] = (worker){.c = c, .mode = mode, .seconds = seconds};
        if (pthread_create(&tid[i], NULL, run_worker, &w[i]) != 0) {
            *failed = 1;
            return 0;
        }
    }
    unsigned long total = 0;
    double cpu = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += w[i].ops;
        cpu += w[i].cpu;
        if (w[i].failed) *failed = 1;
    }
    if (cpu_per_op) *cpu_per_op = total ? cpu / (double)total : 0;
    return (double)total / (now_s() - t0);
}

static double measure(bench_case *c, bench_mode mode, int threads, double seconds, int *failed) {
    return measure_cpu(c, mode, threads, seconds, failed, NULL);
}

static char *json_string(const char *s) {
    /* PEM / JWKS text into a JSON string literal (escape newlines and quotes). */
    size_t n = strlen(s);
    char *out = malloc(n * 2 + 3), *p = out;
    if (!out) return NULL;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else if (s[i] == '"' || s[i] == '\\') {
            *p++ = '\\';
            *p++ = s[i];
        } else {
            *p++ = s[i];
        }
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

static int setup_case(bench_case *c, const char *alg) {
    char cfg[8192], claims[512], *detail = NULL;
    memset(c, 0, sizeof *c);
    c->alg = alg;
    if (tu_key_gen(&c->key, alg, "bench-key") != 0) return -1;
    long exp = (long)time(NULL) + 3600;
    snprintf(claims, sizeof claims,
             "{\"iss\":\"https://issuer.bench\",\"aud\":\"https://mcp.bench/mcp\","
             "\"sub\":\"user-123\",\"email\":\"u@example.com\",\"name\":\"Bench User\","
             "\"scope\":\"mcp:read mcp:write\",\"client_id\":\"bench-client\","
             "\"iat\":%ld,\"exp\":%ld}",
             exp - 3600, exp);
    c->token = tu_sign_claims(&c->key, claims);
    if (!c->token) return -1;
    if (c->key.pkey) {
        char *jwks;
        c->pem = tu_key_pem_public(&c->key);
        const tu_key *keys[1] = {&c->key};
        jwks = tu_jwks(keys, 1);
        if (!jwks) return -1;
        snprintf(cfg, sizeof cfg,
                 "{\"provider\":\"jwks\",\"issuer\":\"https://issuer.bench\","
                 "\"audience\":\"https://mcp.bench/mcp\",\"algorithms\":[\"%s\"],\"jwks\":%s}",
                 alg, jwks);
        free(jwks);
    } else {
        /* HMAC secrets are raw UTF-8 in config: use the hex of the random key. */
        char hex[129];
        for (size_t i = 0; i < c->key.secret_len; i++)
            snprintf(hex + 2 * i, 3, "%02x", c->key.secret[i]);
        memcpy(c->key.secret, hex, 2 * c->key.secret_len);
        c->key.secret_len *= 2;
        free(c->token);
        c->token = tu_sign_claims(&c->key, claims);
        if (!c->token) return -1;
        char *js = json_string(hex);
        if (!js) return -1;
        snprintf(cfg, sizeof cfg,
                 "{\"provider\":\"jwks\",\"issuer\":\"https://issuer.bench\","
                 "\"audience\":\"https://mcp.bench/mcp\",\"algorithms\":[\"HS256\"],\"secret\":%s}",
                 js);
        free(js);
    }
    if (mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &c->engine, &detail) !=
        MCPAUTH_OK) {
        fprintf(stderr, "engine (%s): %s\n", alg, detail ? detail : "?");
        mcpauth_free(detail);
        return -1;
    }
    /* the gate engine: the same configuration with a resource and a required scope */
    size_t cl = strlen(cfg);
    snprintf(cfg + cl - 1, sizeof cfg - cl + 1,
             ",\"baseUrl\":\"https://mcp.bench\",\"requiredScopes\":[\"mcp:read\"]}");
    if (mcpauth_engine_new(cfg, strlen(cfg), MCPAUTH_ENGINE_NO_ENV, &c->gate, &detail) !=
        MCPAUTH_OK) {
        fprintf(stderr, "gate engine (%s): %s\n", alg, detail ? detail : "?");
        mcpauth_free(detail);
        return -1;
    }
    size_t rl = strlen(c->token) + 512;
    c->request = malloc(rl);
    if (!c->request) return -1;
    snprintf(c->request, rl,
             "{\"method\":\"POST\",\"path\":\"/mcp\",\"query\":\"\",\"headers\":{\"host\":"
             "\"mcp.bench\",\"content-type\":\"application/json\",\"accept\":\"application/json, "
             "text/event-stream\",\"mcp-session-id\":\"3f1c9a0e6b2d4e8f\",\"authorization\":"
             "\"Bearer %s\"}}",
             c->token);
    const char *dot = strrchr(c->token, '.');
    c->input_len = (size_t)(dot - c->token);
    if (mcp_b64url_decode(dot + 1, strlen(dot + 1), &c->sig, &c->sig_len) != 0) return -1;
    return 0;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    const char *algs[] = {"RS256", "PS256", "ES256", "EdDSA", "HS256"};
    int failed = 0;
    if (seconds <= 0) seconds = 1.0;
    printf("libmcpauth %s, OpenSSL %s, %.1f s per measurement\n\n", mcpauth_version(),
           OpenSSL_version(OPENSSL_VERSION), seconds);
    printf("| alg | threads | raw OpenSSL verify/s | miss verify/s | miss / raw | hit verify/s "
           "| hit / raw | libjwt verify/s | miss / libjwt | hit / libjwt |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        bench_case c;
        if (argc > 2 && strcmp(argv[2], algs[i]) != 0) continue;
        if (setup_case(&c, algs[i]) != 0) {
            fprintf(stderr, "setup failed for %s\n", algs[i]);
            return 1;
        }
        for (int threads = 1; threads <= 2; threads++) {
            /* The modes are measured in interleaved slices (ROUNDS rounds of each), so that a
             * change of machine speed during the run (frequency, neighbours) hits them alike
             * and the ratios stay comparable. */
            enum { ROUNDS = 10 };
            int libjwt_ok = strcmp(algs[i], "PS256") != 0 && strcmp(algs[i], "EdDSA") != 0;
            double raw = 0, miss = 0, hit = 0, lj = 0, slice = seconds / ROUNDS;
            for (int r = 0; r < ROUNDS; r++) {
                raw += measure(&c, MODE_RAW, threads, slice, &failed) / ROUNDS;
                miss += measure(&c, MODE_MISS, threads, slice, &failed) / ROUNDS;
                hit += measure(&c, MODE_HIT, threads, slice, &failed) / ROUNDS;
                if (libjwt_ok) lj += measure(&c, MODE_LIBJWT, threads, slice, &failed) / ROUNDS;
            }
            printf("| %s | %d | %.0f | %.0f | %.2f | %.0f | %.1f |", algs[i], threads, raw, miss,
                   miss / raw, hit, hit / raw);
            if (libjwt_ok)
                printf(" %.0f | %.1f | %.0f |\n", lj, miss / lj, hit / lj);
            else
                printf(" n/a | n/a | n/a |\n");
            fflush(stdout);
        }
        if (strcmp(algs[i], "HS256") == 0) {
            enum { ROUNDS = 10 };
            double slice = seconds / ROUNDS, hit = 0, route = 0, handle = 0, hit1 = 0, hit2 = 0;
            double chit = 0, croute = 0, chandle = 0, x;
            for (int r = 0; r < ROUNDS; r++) {
                hit += measure_cpu(&c, MODE_HIT, 1, slice, &failed, &x) / ROUNDS;
                chit += x / ROUNDS;
                route += measure_cpu(&c, MODE_ROUTE, 1, slice, &failed, &x) / ROUNDS;
                croute += x / ROUNDS;
                handle += measure_cpu(&c, MODE_HANDLE, 1, slice, &failed, &x) / ROUNDS;
                chandle += x / ROUNDS;
            }
            printf("\nRouter gate, HS256, repeated token, 1 thread (a protected POST /mcp with "
                   "5 headers; requiredScopes checked)\n\n");
            printf("| call | per request (wall) | per request (thread CPU) | calls/s |\n"
                   "|---|---|---|---|\n");
            printf("| mcpauth_verify (cache hit) | %.2f us | %.2f us | %.0f |\n", 1e6 / hit,
                   1e6 * chit, hit);
            printf("| mcpauth_route | %.2f us | %.2f us | %.0f |\n", 1e6 / route, 1e6 * croute,
                   route);
            printf("| mcpauth_handle_request | %.2f us | %.2f us | %.0f |\n", 1e6 / handle,
                   1e6 * chandle, handle);
            double c1 = 0, c2 = 0;
            for (int r = 0; r < ROUNDS; r++) {
                hit1 += measure_cpu(&c, MODE_HIT, 1, slice, &failed, &x) / ROUNDS;
                c1 += x / ROUNDS;
                hit2 += measure_cpu(&c, MODE_HIT, 2, slice, &failed, &x) / ROUNDS;
                c2 += x / ROUNDS;
            }
            /* On a busy machine two threads may not get two cores; the CPU time per hit tells
             * whether they slow each other down (a shared lock or cache line does). */
            printf("\nToken-cache hits of one repeated token: 1 thread %.0f/s, 2 threads %.0f/s "
                   "(%.2fx wall); CPU per hit %.3f us on 1 thread, %.3f us on 2 threads "
                   "(%.2f: 1.00 when the threads do not slow each other down)\n",
                   hit1, hit2, hit2 / hit1, 1e6 * c1, 1e6 * c2, c2 / c1);
        }
        mcpauth_engine_free(c.engine);
        mcpauth_engine_free(c.gate);
        free(c.request);
        free(c.token);
        free(c.sig);
        free(c.pem);
        tu_key_free(&c.key);
    }
    if (failed) {
        fprintf(stderr, "a verification failed during the benchmark\n");
        return 1;
    }
    return 0;
}
