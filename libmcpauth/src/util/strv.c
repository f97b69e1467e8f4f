/* strv.c - NULL-terminated lists of malloc'd strings (strv.h). */
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>

void mcp_strv_free(mcp_strv v) {
    if (!v) return;
    for (char **p = v; *p; p++) free(*p);
    free(v);
}

size_t mcp_strv_len(const mcp_strv v) {
    size_t n = 0;
    if (v)
        while (v[n]) n++;
    return n;
}

int mcp_strv_contains(const mcp_strv v, const char *s) {
    if (!v || !s) return 0;
    for (char *const *p = v; *p; p++)
        if (strcmp(*p, s) == 0) return 1;
    return 0;
}

int mcp_strv_push(mcp_strv *v, const char *s, size_t n) {
    size_t len = mcp_strv_len(*v);
    char *copy = mcp_strndup(s, n);
    if (!copy) return -1;
    char **nv = realloc(*v, (len + 2) * sizeof *nv);
    if (!nv) {
        free(copy);
        return -1;
    }
    nv[len] = copy;
    nv[len + 1] = NULL;
    *v = nv;
    return 0;
}

int mcp_strv_add(mcp_strv *v, const char *s) { return s ? mcp_strv_push(v, s, strlen(s)) : -1; }

char *mcp_strv_join(const mcp_strv v) {
    size_t n = 1;
    for (size_t i = 0; v && v[i]; i++) n += strlen(v[i]) + 1;
    char *s = malloc(n), *w = s;
    if (!s) return NULL;
    for (size_t i = 0; v && v[i]; i++) {
        if (i) *w++ = ' ';
        size_t l = strlen(v[i]);
        memcpy(w, v[i], l);
        w += l;
    }
    *w = '\0';
    return s;
}

json_t *mcp_strv_to_json(const mcp_strv v) {
    json_t *a = json_array();
    for (size_t i = 0; a && v && v[i]; i++)
        if (json_array_append_new(a, json_string(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

mcp_strv mcp_strv_from_list(const char *const *list) {
    mcp_strv v = calloc(1, sizeof *v);
    if (!v) return NULL;
    for (; list && *list; list++) {
        if (mcp_strv_push(&v, *list, strlen(*list)) != 0) {
            mcp_strv_free(v);
            return NULL;
        }
    }
    return v;
}
