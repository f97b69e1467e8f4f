/* buf.c - the growable byte buffer (buf.h). */
#include "util/buf.h"

#include <stdlib.h>

int mcp_buf_grow(mcp_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (extra >= MCP_BUF_MAX - b->len) {
        b->oom = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *np = realloc(b->p, cap);
    if (!np) {
        b->oom = 1;
        return -1;
    }
    b->p = np;
    b->cap = cap;
    return 0;
}

void mcp_buf_adds(mcp_buf *b, const char *s) { mcp_buf_add(b, s, strlen(s)); }

void mcp_buf_html(mcp_buf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            mcp_buf_adds(b, "&amp;");
            break;
        case '<':
            mcp_buf_adds(b, "&lt;");
            break;
        case '>':
            mcp_buf_adds(b, "&gt;");
            break;
        case '"':
            mcp_buf_adds(b, "&quot;");
            break;
        case '\'':
            mcp_buf_adds(b, "&#39;");
            break;
        default:
            mcp_buf_add(b, s, 1);
        }
    }
}

char *mcp_buf_take(mcp_buf *b) {
    if (b->oom) {
        mcp_buf_free(b);
        return NULL;
    }
    if (!b->p) mcp_buf_add(b, "", 0);
    if (b->oom) return NULL;
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

void mcp_buf_free(mcp_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}
