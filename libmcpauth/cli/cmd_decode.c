/* cmd_decode.c - `mcpauth decode TOKEN|-`: header and payload WITHOUT verification. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mcpauth.h>

#include "commands.h"

int mcpauth_cmd_decode(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: mcpauth decode TOKEN|-\n");
        return 2;
    }
    char *owned = NULL;
    const char *tok = argv[1];
    size_t len;
    if (strcmp(tok, "-") == 0) {
        owned = mcpauth_cli_read_file("-", &len);
        if (!owned) return 2;
        while (len > 0 && (owned[len - 1] == '\n' || owned[len - 1] == '\r')) owned[--len] = 0;
        tok = owned;
    } else {
        len = strlen(tok);
    }
    char *out = NULL, *detail = NULL;
    int rc = mcpauth_decode_unverified(tok, len, &out, &detail);
    free(owned);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth decode: %s\n", detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 1;
    }
    mcpauth_cli_print_json(out);
    return 0;
}
