#include "mcp_text.h"
#include "path.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mcp_buf_init(mcp_buf_t *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->cap = cap;
}

void mcp_buf_add(mcp_buf_t *b, const char *data, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->len + n > b->cap) {
        b->truncated = true;
        n = b->cap - b->len;
        if (n == 0)
            return;
    }
    if (b->len + n + 1 > b->size) {
        size_t want = b->size ? b->size : 256;
        while (want < b->len + n + 1)
            want *= 2;
        char *p = realloc(b->s, want);
        if (!p) {
            b->oom = b->truncated = true;
            return;
        }
        b->s = p;
        b->size = want;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void mcp_buf_puts(mcp_buf_t *b, const char *s)
{
    mcp_buf_add(b, s, strlen(s));
}

void mcp_buf_printf(mcp_buf_t *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp) {
        char *big = malloc((size_t)n + 1);
        if (!big) {
            b->oom = b->truncated = true;
            return;
        }
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        mcp_buf_add(b, big, (size_t)n);
        free(big);
        return;
    }
    mcp_buf_add(b, tmp, (size_t)n);
}

void mcp_buf_free(mcp_buf_t *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t mcp_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t i = max;
    /* back over continuation bytes to the start of the cut character */
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80 && max - i < 4)
        i--;
    return i;
}

json_t *mcp_json_text(const char *s, size_t n)
{
    if (!s)
        return json_string("");
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    /* Invalid UTF-8: rebuild with U+FFFD for each bad byte. */
    char *out = malloc(n * 3 + 1);
    if (!out)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_seq((const unsigned char *)s + i, n - i);
        if (l == 0) {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        } else {
            memcpy(out + o, s + i, l);
            o += l;
            i += l;
        }
    }
    j = json_stringn(out, o);
    free(out);
    return j ? j : json_string("");
}

json_t *mcp_json_text_capped(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return mcp_json_text(s, n);
    size_t head = mcp_utf8_cut(s, n, max / 2);
    size_t tail_start = n - max / 2;
    while (tail_start < n && ((unsigned char)s[tail_start] & 0xC0) == 0x80)
        tail_start++;
    mcp_buf_t b;
    mcp_buf_init(&b, max + 256);
    mcp_buf_add(&b, s, head);
    mcp_buf_printf(&b, "\n[... %zu bytes omitted: output truncated, showing the first %zu and last %zu bytes ...]\n",
                   tail_start - head, head, n - tail_start);
    mcp_buf_add(&b, s + tail_start, n - tail_start);
    json_t *j = mcp_json_text(b.s, b.len);
    mcp_buf_free(&b);
    return j;
}

bool mcp_looks_binary(const char *s, size_t n)
{
    return memchr(s, '\0', n < 8192 ? n : 8192) != NULL;
}

void mcp_human_size(uint64_t n, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    if (n < 1024) {
        snprintf(buf, len, "%llu B", (unsigned long long)n);
        return;
    }
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, "%.1f %s", v, units[u]);
}

char *mcp_base64(const void *data, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (n > (SIZE_MAX / 4) * 3 - 3)
        return NULL;
    size_t olen = (n + 2) / 3 * 4;
    char *out = malloc(olen + 1);
    if (!out)
        return NULL;
    const unsigned char *p = data;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

int mcp_abs_path(const char *in, char *out, size_t len)
{
    char tmp[HB_PATH_MAX + 8];
    int n = snprintf(tmp, sizeof tmp, "%s%s", in[0] == '/' ? "" : "/root/", in);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    return hb_path_normalize(tmp, out, len);
}
