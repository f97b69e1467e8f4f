/* util.c - helpers shared by the mcpauth subcommands. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#include "commands.h"

/* Files larger than this are refused (configurations, keys and claims are small). */
#define CLI_MAX_FILE (16u * 1024u * 1024u)

char *mcpauth_cli_read_file(const char *path, size_t *len) {
    if (len) *len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mcpauth: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) goto oom;
    for (;;) {
        if (cap - n < 2) {
            if (cap >= CLI_MAX_FILE) {
                fprintf(stderr, "mcpauth: %s is larger than %u bytes\n", path, CLI_MAX_FILE);
                goto fail;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) goto oom;
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        fprintf(stderr, "mcpauth: cannot read %s\n", path);
        goto fail;
    }
    if (f != stdin) fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
oom:
    fprintf(stderr, "mcpauth: out of memory reading %s\n", path);
fail:
    free(buf);
    if (f != stdin) fclose(f);
    return NULL;
}

void mcpauth_cli_print_json(char *out) {
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    char *pretty = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
    puts(pretty ? pretty : out);
    free(pretty);
    json_decref(j);
    mcpauth_free(out);
}
