/* cmd_mint.c - `mcpauth mint --alg ALG --key FILE [--kid KID] --claims JSON|@FILE
 *              [--exp-in SECONDS] [--header JSON|@FILE]`: sign a token for tests.
 * For HMAC algorithms the key file holds the raw secret; one trailing newline is removed. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mcpauth.h>

#include "commands.h"

static int usage(void) {
    fprintf(stderr, "usage: mcpauth mint --alg ALG --key FILE [--kid KID] --claims JSON|@FILE "
                    "[--exp-in SECONDS] [--header JSON|@FILE]\n");
    return 2;
}

/* JSON text given inline or as @FILE -> an object, or NULL (message printed). */
static json_t *json_arg(const char *arg, const char *what) {
    char *owned = NULL;
    size_t len;
    const char *text = arg;
    if (arg[0] == '@') {
        owned = mcpauth_cli_read_file(arg + 1, &len);
        if (!owned) return NULL;
        text = owned;
    } else {
        len = strlen(arg);
    }
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(owned);
    if (!json_is_object(j)) {
        fprintf(stderr, "mcpauth mint: %s must be a JSON object (%s)\n", what,
                j ? "not an object" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

int mcpauth_cmd_mint(int argc, char **argv) {
    const char *alg = NULL, *keyfile = NULL, *kid = NULL, *claims_arg = NULL, *hdr_arg = NULL;
    long long exp_in = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "mcpauth mint: '%.40s' needs a value or is unknown\n", a);
            return usage();
        }
        if (strcmp(a, "--alg") == 0)
            alg = argv[++i];
        else if (strcmp(a, "--key") == 0)
            keyfile = argv[++i];
        else if (strcmp(a, "--kid") == 0)
            kid = argv[++i];
        else if (strcmp(a, "--claims") == 0)
            claims_arg = argv[++i];
        else if (strcmp(a, "--header") == 0)
            hdr_arg = argv[++i];
        else if (strcmp(a, "--exp-in") == 0) {
            char *end;
            errno = 0;
            exp_in = strtoll(argv[++i], &end, 10);
            if (errno || *end || exp_in < -315360000 || exp_in > 315360000) {
                fprintf(stderr, "mcpauth mint: --exp-in needs a number of seconds\n");
                return usage();
            }
        } else {
            fprintf(stderr, "mcpauth mint: unknown option '%.40s'\n", a);
            return usage();
        }
    }
    if (!alg || !keyfile || !claims_arg) return usage();
    json_t *claims = json_arg(claims_arg, "--claims");
    if (!claims) return 2;
    json_t *hdr = NULL;
    if (hdr_arg && !(hdr = json_arg(hdr_arg, "--header"))) {
        json_decref(claims);
        return 2;
    }
    size_t klen;
    char *key = mcpauth_cli_read_file(keyfile, &klen);
    if (!key) {
        json_decref(claims);
        json_decref(hdr);
        return 2;
    }
    if (alg[0] == 'H' && klen > 0 && key[klen - 1] == '\n') {
        klen--;
        if (klen > 0 && key[klen - 1] == '\r') klen--;
    }
    if (exp_in != -1) {
        long long now = (long long)time(NULL);
        json_object_set_new(claims, "iat", json_integer(now));
        json_object_set_new(claims, "exp", json_integer(now + exp_in));
    }
    json_t *req = json_pack("{s:s,s:s%,s:o}", "alg", alg, "key", key, klen, "claims", claims);
    free(key);
    if (req && kid) json_object_set_new(req, "kid", json_string(kid));
    if (req && hdr) json_object_set(req, "header", hdr);
    json_decref(hdr);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) {
        fprintf(stderr, "mcpauth mint: cannot build the request (is the key valid UTF-8?)\n");
        return 2;
    }
    char *token = NULL, *detail = NULL;
    int rc = mcpauth_mint(text, strlen(text), &token, &detail);
    free(text);
    if (rc != MCPAUTH_OK) {
        fprintf(stderr, "mcpauth mint: %s\n", detail ? detail : mcpauth_strerror(rc));
        mcpauth_free(detail);
        return 1;
    }
    printf("%s\n", token);
    mcpauth_free(token);
    return 0;
}
