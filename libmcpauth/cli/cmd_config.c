/* cmd_config.c - `mcpauth config --config FILE [--no-env]`: the resolved configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#include "commands.h"

int mcpauth_cmd_config(int argc, char **argv) {
    const char *path = NULL;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            path = argv[i] + 9;
        else if (strcmp(argv[i], "--no-env") == 0)
            flags |= MCPAUTH_ENGINE_NO_ENV;
        else {
            fprintf(stderr, "usage: mcpauth config --config FILE [--no-env]\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: mcpauth config --config FILE [--no-env]\n");
        return 2;
    }
    size_t len;
    char *text = mcpauth_cli_read_file(path, &len);
    if (!text) return 2;
    mcpauth_engine *e = NULL;
    char *detail = NULL;
    int rc = mcpauth_engine_new(text, len, flags, &e, &detail);
    free(text);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth config: %s: %s\n", mcpauth_code_name(rc),
                detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 2;
    }
    char *out = NULL;
    rc = mcpauth_engine_config(e, &out);
    mcpauth_engine_free(e);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth config: %s\n", mcpauth_strerror(rc));
        return 2;
    }
    mcpauth_cli_print_json(out);
    return 0;
}
