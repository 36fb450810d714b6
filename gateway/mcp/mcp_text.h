/* Text helpers for MCP results: sandbox bytes made into valid UTF-8 JSON
 * strings, bounded string building, sizes, base64. Pure. */
#ifndef HB_MCP_TEXT_H
#define HB_MCP_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growing string with a hard cap: appends past cap are dropped and
 * `truncated` is set, so a tool can say so. Owner frees s with free(). */
typedef struct {
    char  *s;
    size_t len, size, cap;
    bool   truncated;
    bool   oom;
} mcp_buf_t;

void mcp_buf_init(mcp_buf_t *b, size_t cap);
void mcp_buf_add(mcp_buf_t *b, const char *data, size_t n);
void mcp_buf_puts(mcp_buf_t *b, const char *s);
void mcp_buf_printf(mcp_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mcp_buf_free(mcp_buf_t *b);

/* Largest n' <= max at a UTF-8 character boundary of s[0..n). */
size_t mcp_utf8_cut(const char *s, size_t n, size_t max);
/* A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD. New ref. */
json_t *mcp_json_text(const char *s, size_t n);
/* The same for output shown to a model, cut to max bytes: head and tail
 * kept with a note of what was left out in between. New ref. */
json_t *mcp_json_text_capped(const char *s, size_t n, size_t max);
/* True if the bytes look binary (a NUL in the first 8 KiB). */
bool mcp_looks_binary(const char *s, size_t n);

/* "1.5 KB", "12 B", "3.2 GB" */
void mcp_human_size(uint64_t n, char *buf, size_t len);
/* base64 of data; malloc'd, NUL-terminated, NULL on overflow/ENOMEM. */
char *mcp_base64(const void *data, size_t n);
/* Sandbox path for a tool argument: absolute as given, relative ones
 * resolved against /root (the working directory). 0, or -1 if too long. */
int mcp_abs_path(const char *in, char *out, size_t len);

#endif
