/* main.c - the mcpauth command-line tool: subcommand dispatch, usage and --version. */
#include <stdio.h>
#include <string.h>

#include <mcpauth.h>

#include "commands.h"

static void usage(FILE *f) {
    fputs("usage: mcpauth <command> [options]\n"
          "\n"
          "commands:\n"
          "  verify --config FILE [--signature-only] [TOKEN]\n"
          "      Verify TOKEN (exit 0 valid, 1 invalid, 2 usage or configuration error), or\n"
          "      without TOKEN one token per stdin line, one JSON result per line (exit 0).\n"
          "  decode TOKEN|-\n"
          "      Show header and payload WITHOUT verifying anything (\"verified\":false).\n"
          "  config --config FILE [--no-env]\n"
          "      Print the resolved configuration (presets and environment applied).\n"
          "  mint --alg ALG --key FILE [--kid KID] --claims JSON|@FILE [--exp-in SECONDS]\n"
          "       [--header JSON|@FILE]\n"
          "      Sign a token for tests (HS256/384/512, RS256/384/512, ES256/384/512).\n"
          "  serve --config FILE --upstream URL [--listen HOST:PORT] ...\n"
          "      Run an authenticating reverse proxy in front of an MCP server.\n"
          "  --version\n"
          "      Print the version.\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("mcpauth %s (libmcpauth %s)\n", MCPAUTH_VERSION_STR, mcpauth_version());
        return 0;
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "verify") == 0) return mcpauth_cmd_verify(argc - 1, argv + 1);
    if (strcmp(cmd, "decode") == 0) return mcpauth_cmd_decode(argc - 1, argv + 1);
    if (strcmp(cmd, "config") == 0) return mcpauth_cmd_config(argc - 1, argv + 1);
    if (strcmp(cmd, "mint") == 0) return mcpauth_cmd_mint(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0) return mcpauth_cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "mcpauth: unknown command '%.60s'\n\n", cmd);
    usage(stderr);
    return 2;
}
