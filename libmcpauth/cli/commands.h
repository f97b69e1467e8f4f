/* commands.h - the subcommands of the mcpauth tool, each in its own file (cmd_*.c). */
#ifndef MCPAUTH_CLI_COMMANDS_H
#define MCPAUTH_CLI_COMMANDS_H

#include <stddef.h>

/* Each returns the process exit code. argv[0] is the subcommand name. */
int mcpauth_cmd_verify(int argc, char **argv); /* cmd_verify.c */
int mcpauth_cmd_decode(int argc, char **argv); /* cmd_decode.c */
int mcpauth_cmd_config(int argc, char **argv); /* cmd_config.c */
int mcpauth_cmd_mint(int argc, char **argv);   /* cmd_mint.c */
int mcpauth_cmd_serve(int argc, char **argv);  /* cmd_serve.c (libmicrohttpd) */

/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL + message on stderr. */
char *mcpauth_cli_read_file(const char *path, size_t *len);

/* Prints a JSON text from the library on stdout, indented by 2 (as it is when it does not
 * parse), then frees it with mcpauth_free. */
void mcpauth_cli_print_json(char *out);

#endif
