/* buf.h - the one growable byte buffer: appends never fail one by one; an allocation failure
 * (or growth past MCP_BUF_MAX) sets `oom` and later appends do nothing, so callers check once,
 * at mcp_buf_take(). The room check is inline: the JSON writer appends on the hot path. */
#ifndef MCP_BUF_H
#define MCP_BUF_H

#include <stddef.h>
#include <string.h>

#define MCP_BUF_MAX ((size_t)1 << 28) /* no buffer of this library grows past 256 MiB */

typedef struct mcp_buf {
    char *p; /* NUL-terminated once anything was appended */
    size_t len, cap;
    int oom;
} mcp_buf;

/* Makes room for `extra` more bytes plus the NUL (0), or sets oom (-1). */
int mcp_buf_grow(mcp_buf *b, size_t extra);

static inline int mcp_buf_reserve(mcp_buf *b, size_t extra) {
    if (extra < b->cap - b->len && !b->oom) return 0;
    return mcp_buf_grow(b, extra);
}

static inline void mcp_buf_add(mcp_buf *b, const char *s, size_t n) {
    if (mcp_buf_reserve(b, n) != 0) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void mcp_buf_addc(mcp_buf *b, char c) {
    if (mcp_buf_reserve(b, 1) != 0) return;
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

void mcp_buf_adds(mcp_buf *b, const char *s);
void mcp_buf_html(mcp_buf *b, const char *s); /* HTML-escaped (& < > " ') */
/* The NUL-terminated contents ("" when empty; the buffer is reset), or NULL on oom (the
 * buffer is freed). */
char *mcp_buf_take(mcp_buf *b);
void mcp_buf_free(mcp_buf *b);

#endif
