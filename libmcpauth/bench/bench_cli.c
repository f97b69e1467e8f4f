/*
 * bench_cli.c - `mcpauth verify` in stdin mode against the library on the same tokens.
 *
 * Signs N distinct RS256 tokens (every third payload pretty-printed, with spaces and
 * newlines, as some issuers do), then measures in interleaved rounds:
 *   library  mcpauth_verify(..., MCPAUTH_VERIFY_NO_CACHE) over the N tokens in memory (the
 *            tokens are distinct: a fresh CLI process verifies each once, a cache miss);
 *   library, cache on  the same with the verified-token cache, as the CLI runs (a fresh
 *            engine each round, so every token is a miss that is then stored);
 *   cli      the mcpauth binary reading the N tokens from a file on stdin, its answers read
 *            from a pipe (lines counted: there must be exactly one per token).
 * Each figure is tokens per CPU second (the library loop's thread CPU time; the CLI process's
 * user + system time from wait4), so a loaded machine skews it less than wall time; the best
 * round of each is reported, with the ratio.
 * Several binaries (e.g. before and after a change) are measured in the same rounds.
 *
 * Usage: mcpauth_bench_cli [-n tokens, default 20000] [-r rounds, default 3] MCPAUTH...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "mcpauth.h"
#include "tokens.h"

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "mcpauth_bench_cli: %s\n", what);
    exit(2);
}

static char *json_string_of(const char *s) {
    /* the PEM text as a JSON string: only '\n' needs escaping */
    size_t n = strlen(s), o = 0;
    char *out = malloc(2 * n + 3);
    if (!out) die("out of memory");
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = s[i];
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Runs BIN verify --config CFG < TOKENS; returns its CPU seconds (user + system), *lines the
 * output lines. */
static double run_cli(const char *bin, const char *cfg, const char *tokens, long *lines) {
    int p[2];
    if (pipe(p) != 0) die("pipe");
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int in = open(tokens, O_RDONLY);
        if (in < 0) _exit(126);
        dup2(in, 0);
        dup2(p[1], 1);
        close(p[0]);
        close(p[1]);
        execl(bin, bin, "verify", "--config", cfg, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    static char buf[1 << 16];
    ssize_t r;
    *lines = 0;
    while ((r = read(p[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < r; i++) *lines += buf[i] == '\n';
    close(p[0]);
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) die("wait4");
    double t = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("the mcpauth binary failed");
    return t;
}

int main(int argc, char **argv) {
    long n = 20000;
    int rounds = 3, a = 1;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        if (strcmp(argv[a], "-n") == 0)
            n = atol(argv[a + 1]);
        else if (strcmp(argv[a], "-r") == 0)
            rounds = atoi(argv[a + 1]);
        else
            break;
    }
    if (a >= argc || argc - a > 8)
        die("usage: mcpauth_bench_cli [-n tokens] [-r rounds] MCPAUTH...");
    if (n <= 0 || rounds <= 0) die("tokens and rounds must be positive");
    int nbin = argc - a;
    char **bins = argv + a;

    tu_key k;
    if (tu_key_gen(&k, "RS256", "r1") != 0) die("key generation failed");
    char *pem = tu_key_pem_public(&k), *pem_json = json_string_of(pem);
    char cfg_text[4096];
    int cl = snprintf(cfg_text, sizeof cfg_text,
                      "{\"issuer\":\"https://issuer.example\",\"audience\":\"api\","
                      "\"publicKey\":%s}",
                      pem_json);
    if (cl < 0 || (size_t)cl >= sizeof cfg_text) die("config too long");

    char dir[] = "/tmp/mcpauth-bench-cli.XXXXXX";
    if (!mkdtemp(dir)) die("mkdtemp");
    char cfg_path[64], tok_path[64];
    snprintf(cfg_path, sizeof cfg_path, "%s/cfg.json", dir);
    snprintf(tok_path, sizeof tok_path, "%s/tokens.txt", dir);
    FILE *f = fopen(cfg_path, "w");
    if (!f || fputs(cfg_text, f) < 0 || fclose(f) != 0) die("cannot write the config");

    char **tok = calloc((size_t)n, sizeof *tok);
    if (!tok) die("out of memory");
    f = fopen(tok_path, "w");
    if (!f) die("cannot write the tokens");
    long exp = (long)time(NULL) + 3600;
    for (long i = 0; i < n; i++) {
        char claims[512];
        if (i % 3 == 0)
            snprintf(claims, sizeof claims,
                     "{\n  \"iss\": \"https://issuer.example\",\n  \"aud\": \"api\",\n"
                     "  \"sub\": \"user-%ld\",\n  \"exp\": %ld,\n  \"scope\": \"a b\"\n}",
                     i, exp);
        else
            snprintf(claims, sizeof claims,
                     "{\"iss\":\"https://issuer.example\",\"aud\":\"api\",\"sub\":\"user-%ld\","
                     "\"exp\":%ld,\"scope\":\"a b\"}",
                     i, exp);
        tok[i] = tu_sign(&k, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims);
        if (!tok[i]) die("signing failed");
        fprintf(f, "%s\n", tok[i]);
    }
    if (fclose(f) != 0) die("cannot write the tokens");

    mcpauth_engine *e = NULL;
    char *detail = NULL;
    if (mcpauth_engine_new(cfg_text, strlen(cfg_text), 0, &e, &detail) != MCPAUTH_OK) die(detail);

    double best_lib = 0, best_lib_cache = 0, best_cli[8] = {0};
    long lines = 0, bad_lines = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_s();
        for (long i = 0; i < n; i++) {
            char *auth = NULL;
            if (mcpauth_verify(e, tok[i], strlen(tok[i]), MCPAUTH_VERIFY_NO_CACHE, &auth, NULL) !=
                MCPAUTH_OK)
                die("a token did not verify in the library");
            mcpauth_free(auth);
        }
        double lib = (double)n / (cpu_s() - t0);
        if (lib > best_lib) best_lib = lib;
        mcpauth_engine *fresh = NULL;
        if (mcpauth_engine_new(cfg_text, strlen(cfg_text), 0, &fresh, NULL) != MCPAUTH_OK)
            die("engine");
        t0 = cpu_s();
        for (long i = 0; i < n; i++) {
            char *auth = NULL;
            if (mcpauth_verify(fresh, tok[i], strlen(tok[i]), 0, &auth, NULL) != MCPAUTH_OK)
                die("a token did not verify in the library");
            mcpauth_free(auth);
        }
        double libc = (double)n / (cpu_s() - t0);
        mcpauth_engine_free(fresh);
        if (libc > best_lib_cache) best_lib_cache = libc;
        for (int b = 0; b < nbin; b++) {
            double cli = (double)n / run_cli(bins[b], cfg_path, tok_path, &lines);
            if (lines != n) {
                fprintf(stderr, "mcpauth_bench_cli: WRONG: %s: %ld output lines for %ld tokens\n",
                        bins[b], lines, n);
                bad_lines = 1;
            }
            if (cli > best_cli[b]) best_cli[b] = cli;
        }
    }
    printf("| RS256, %ld distinct tokens, best of %d | tokens per CPU second |\n|---|---:|\n", n,
           rounds);
    printf("| library `mcpauth_verify` (no cache) | %.0f |\n", best_lib);
    printf("| library `mcpauth_verify` (cache on, every token new) | %.0f |\n", best_lib_cache);
    for (int b = 0; b < nbin; b++)
        printf("| `%s verify` stdin -> pipe | %.0f (%.2fx the library) |\n", bins[b], best_cli[b],
               best_cli[b] / best_lib);

    mcpauth_engine_free(e);
    for (long i = 0; i < n; i++) free(tok[i]);
    free(tok);
    free(pem);
    free(pem_json);
    tu_key_free(&k);
    unlink(cfg_path);
    unlink(tok_path);
    rmdir(dir);
    return bad_lines ? 1 : 0;
}
