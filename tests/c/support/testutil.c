/* testutil.c - file reading and shared test-data lookup for the Check suites. */
#include "tokens.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MCPAUTH_SHARED_DIR
#define MCPAUTH_SHARED_DIR "../shared"
#endif

char *tu_read_file(const char *path, size_t *len) {
    if (len) *len = 0;
    if (!path) return NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return NULL;
    }
    for (;;) {
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

const char *tu_shared(const char *rel) {
    static char path[4096];
    static int warned;
    struct stat st;
    const char *dir = MCPAUTH_SHARED_DIR "/testdata";
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (!warned) {
            printf("shared test data not found at %s\n", dir);
            warned = 1;
        }
        return NULL;
    }
    if (!rel) rel = "";
    size_t dl = strlen(dir), rl = strlen(rel);
    if (dl + 1 + rl + 1 > sizeof path) return NULL;
    memcpy(path, dir, dl);
    path[dl] = '/';
    memcpy(path + dl + 1, rel, rl + 1);
    return path;
}
