/* cmd_verify.c - `mcpauth verify --config FILE [--signature-only] [TOKEN]`.
 *
 * With TOKEN: prints one JSON object and exits 0 when valid, 1 when not.
 * Without TOKEN: reads tokens from stdin, one per line (a trailing \r is removed), and prints
 * one JSON object per input line, in order; exits 0. A line longer than the token size limit
 * is an invalid token (it is skipped without being buffered whole).
 * Output: {"valid":true,"auth":{...}} or
 *         {"valid":false,"error":"invalid_token"|"insufficient_scope"|...,"detail":"..."}.
 * Usage and configuration errors exit 2. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mcpauth.h>

#include "commands.h"

/* Bytes accepted on one stdin line beyond maxTokenBytes before it is called too large. */
#define LINE_SLACK 256

static int usage(void) {
    fprintf(stderr, "usage: mcpauth verify --config FILE [--signature-only] [TOKEN]\n");
    return 2;
}

/* Writes the auth JSON on the current line. The library keeps the token's own payload bytes
 * in "payload", so the text may hold the JSON whitespace the token's issuer put there; raw
 * CR and LF can only be such whitespace (JSON strings escape them), so dropping them keeps
 * the same JSON on one line. */
static void put_one_line(const char *s) {
    for (;;) {
        size_t n = strcspn(s, "\r\n");
        fwrite(s, 1, n, stdout);
        if (!s[n]) return;
        s += n + 1;
    }
}

/* Prints the result line (not flushed: the caller flushes before it waits for input).
 * Returns 0 when the output stream is still good. */
static int print_result(int rc, const char *auth, const char *detail) {
    if (rc == MCPAUTH_OK) {
        fputs("{\"valid\":true,\"auth\":", stdout);
        put_one_line(auth ? auth : "null");
        fputs("}\n", stdout);
    } else {
        const char *err = mcpauth_oauth_error(rc);
        json_t *o = json_pack("{s:b,s:s,s:s}", "valid", 0, "error", err ? err : "invalid_token",
                              "detail", detail ? detail : mcpauth_strerror(rc));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s) {
            fputs(s, stdout);
            fputc('\n', stdout);
        } else {
            fputs("{\"valid\":false,\"error\":\"invalid_token\",\"detail\":\"\"}\n", stdout);
        }
        free(s);
        json_decref(o);
    }
    return ferror(stdout) ? -1 : 0;
}

static int verify_one(const mcpauth_engine *e, const char *tok, size_t len, unsigned flags) {
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, tok, len, flags, &auth, &detail);
    print_result(rc, auth, detail);
    fflush(stdout);
    mcpauth_free(auth);
    mcpauth_free(detail);
    return rc;
}

static size_t max_token_bytes(const mcpauth_engine *e) {
    size_t max = 65536;
    char *cfg = NULL;
    if (mcpauth_engine_config(e, &cfg) == MCPAUTH_OK) {
        json_error_t je;
        json_t *j = json_loads(cfg, 0, &je);
        json_t *m = json_object_get(j, "maxTokenBytes");
        if (json_is_integer(m) && json_integer_value(m) > 0) max = (size_t)json_integer_value(m);
        json_decref(j);
    }
    mcpauth_free(cfg);
    return max;
}

/* Input is read with read(2) into our own buffer, so that stdout is flushed exactly when
 * no more input is at hand (before a read that may block): a batch is answered with large
 * writes, and a client that writes one token and waits still gets its answer at once. */
typedef struct in_buf {
    char data[65536];
    size_t pos, len;
    int eof;
} in_buf;

/* Makes input available: 1, or 0 at end of input (or on a read error). Flushes stdout
 * first, since the read may block. */
static int fill(in_buf *in) {
    if (in->pos < in->len) return 1;
    if (in->eof || fflush(stdout) != 0) return 0;
    ssize_t r;
    do r = read(STDIN_FILENO, in->data, sizeof in->data);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        in->eof = 1;
        return 0;
    }
    in->pos = 0;
    in->len = (size_t)r;
    return 1;
}

static int answer(const mcpauth_engine *e, unsigned flags, char *line, size_t n, int overlong) {
    if (overlong)
        return print_result(MCPAUTH_E_TOKEN_TOO_LARGE, NULL,
                            "token exceeds the size limit (line too long)");
    if (n > 0 && line[n - 1] == '\r') n--;
    char *detail = NULL, *auth = NULL;
    int rc = mcpauth_verify(e, line, n, flags, &auth, &detail);
    int bad = print_result(rc, auth, detail);
    mcpauth_free(auth);
    mcpauth_free(detail);
    return bad;
}

static int verify_stdin(const mcpauth_engine *e, unsigned flags) {
    size_t bound = max_token_bytes(e) + LINE_SLACK;
    char *line = malloc(bound + 1);
    in_buf *in = calloc(1, sizeof *in);
    if (!line || !in) {
        free(line);
        free(in);
        fprintf(stderr, "mcpauth verify: out of memory\n");
        return 2;
    }
    if (!isatty(STDOUT_FILENO)) setvbuf(stdout, NULL, _IOFBF, 1 << 16); /* before any output */
    size_t n = 0;
    int overlong = 0, any = 0;
    while (fill(in)) {
        const char *p = in->data + in->pos;
        size_t avail = in->len - in->pos;
        const char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (take) any = 1;
        if (take > bound - n) {
            overlong = 1; /* the rest of the line is skipped, never buffered */
            n = bound;
        } else {
            memcpy(line + n, p, take);
            n += take;
        }
        in->pos += take + (nl ? 1 : 0);
        if (!nl) continue;
        int bad = answer(e, flags, line, n, overlong);
        n = 0;
        overlong = any = 0;
        if (bad) break;
    }
    if (any && !ferror(stdout)) answer(e, flags, line, n, overlong); /* last line, no newline */
    fflush(stdout);
    free(line);
    free(in);
    return 0;
}

int mcpauth_cmd_verify(int argc, char **argv) {
    const char *path = NULL, *token = NULL;
    unsigned flags = 0;
    int opts_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = 1;
        } else if (!opts_done && strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) return usage();
            path = argv[++i];
        } else if (!opts_done && strncmp(a, "--config=", 9) == 0) {
            path = a + 9;
        } else if (!opts_done && strcmp(a, "--signature-only") == 0) {
            flags |= MCPAUTH_VERIFY_SIGNATURE_ONLY;
        } else if (!opts_done && a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "mcpauth verify: unknown option '%.40s'\n", a);
            return usage();
        } else if (!token) {
            token = a;
        } else {
            fprintf(stderr, "mcpauth verify: only one TOKEN may be given\n");
            return usage();
        }
    }
    if (!path) return usage();
    size_t len;
    char *text = mcpauth_cli_read_file(path, &len);
    if (!text) return 2;
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    /* signature checks need no audience: the engine is made for them alone */
    unsigned eflags = (flags & MCPAUTH_VERIFY_SIGNATURE_ONLY) ? MCPAUTH_ENGINE_SIGNATURE_ONLY : 0;
    int rc = mcpauth_engine_new(text, len, eflags, &e, &detail);
    free(text);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth verify: configuration error: %s\n",
                detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 2;
    }
    int exit_code;
    if (token)
        exit_code = verify_one(e, token, strlen(token), flags) == MCPAUTH_OK ? 0 : 1;
    else
        exit_code = verify_stdin(e, flags);
    mcpauth_engine_free(e);
    return exit_code;
}
