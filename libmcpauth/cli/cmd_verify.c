/* cmd_verify.c - `mcpauth verify --config FILE [--signature-only] [TOKEN]`.
 *
 * With TOKEN: prints one JSON object and exits 0 when valid, 1 when not.
 * Without TOKEN: reads tokens from stdin, one per line (a trailing \r is removed), and prints
 * one JSON object per input line, in order; exits 0. A line longer than the token size limit
 * is an invalid token (it is skipped without being buffered whole).
 * Output: {"valid":true,"auth":{...}} or
 *         {"valid":false,"error":"invalid_token"|"insufficient_scope"|...,"detail":"..."}.
 * Usage and configuration errors exit 2. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#include "commands.h"

/* Bytes accepted on one stdin line beyond maxTokenBytes before it is called too large. */
#define LINE_SLACK 256

static int usage(void) {
    fprintf(stderr, "usage: mcpauth verify --config FILE [--signature-only] [TOKEN]\n");
    return 2;
}

/* Prints the result line. Returns 0 when the output stream is still good. */
static int print_result(int rc, const char *auth, const char *detail) {
    if (rc == MCPAUTH_OK) {
        printf("{\"valid\":true,\"auth\":%s}\n", auth ? auth : "null");
    } else {
        const char *err = mcpauth_oauth_error(rc);
        json_t *o = json_pack("{s:b,s:s,s:s}", "valid", 0, "error", err ? err : "invalid_token",
                              "detail", detail ? detail : mcpauth_strerror(rc));
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (s)
            printf("%s\n", s);
        else
            printf("{\"valid\":false,\"error\":\"invalid_token\",\"detail\":\"\"}\n");
        free(s);
        json_decref(o);
    }
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

static int verify_one(const mcpauth_engine *e, const char *tok, size_t len, unsigned flags) {
    char *auth = NULL, *detail = NULL;
    int rc = mcpauth_verify(e, tok, len, flags, &auth, &detail);
    print_result(rc, auth, detail);
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

static int verify_stdin(const mcpauth_engine *e, unsigned flags) {
    size_t bound = max_token_bytes(e) + LINE_SLACK;
    char *line = malloc(bound + 1);
    if (!line) {
        fprintf(stderr, "mcpauth verify: out of memory\n");
        return 2;
    }
    size_t n = 0;
    int overlong = 0, c, any = 0;
    for (;;) {
        c = getchar();
        if (c != EOF && c != '\n') {
            any = 1;
            if (n < bound)
                line[n++] = (char)c;
            else
                overlong = 1;
            continue;
        }
        if (c == EOF && !any) break; /* no partial last line */
        if (overlong) {
            if (print_result(MCPAUTH_E_TOKEN_TOO_LARGE, NULL,
                             "token exceeds the size limit (line too long)") != 0)
                break;
        } else {
            if (n > 0 && line[n - 1] == '\r') n--;
            char *detail = NULL, *auth = NULL;
            int rc = mcpauth_verify(e, line, n, flags, &auth, &detail);
            int bad = print_result(rc, auth, detail);
            mcpauth_free(auth);
            mcpauth_free(detail);
            if (bad) break;
        }
        n = 0;
        overlong = 0;
        any = 0;
        if (c == EOF) break;
    }
    free(line);
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
    int rc = mcpauth_engine_new(text, len, 0, &e, &detail);
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
