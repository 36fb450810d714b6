/* Query-string parsing (see query.h). */
#include "query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode src[0..n) into out; -1 on a bad escape or overflow. */
static int decode(const char *src, size_t n, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= n)   /* needs src[i+1] and src[i+2] */
                return -1;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    *len = o;
    return 0;
}

int hb_query_param(const char *qs, const char *key, char *out, size_t cap, size_t *len)
{
    size_t klen = strlen(key);
    if (!qs || cap == 0)
        return 0;
    const char *p = qs;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        size_t nlen = eq ? (size_t)(eq - p) : n;
        if (nlen == klen && memcmp(p, key, klen) == 0) {
            if (!eq) {
                out[0] = '\0';
                *len = 0;
                return 1;
            }
            return decode(eq + 1, n - nlen - 1, out, cap, len) < 0 ? -1 : 1;
        }
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

int hb_query_uint(const char *qs, const char *key, uint64_t lo, uint64_t hi, uint64_t def,
                  uint64_t *out, hb_err_t *e)
{
    char buf[24];
    size_t len = 0;
    int f = hb_query_param(qs, key, buf, sizeof buf, &len);
    *out = def;
    if (f == 0)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = f > 0 && len && len == strlen(buf) && buf[0] >= '0' && buf[0] <= '9'
                               ? strtoull(buf, &end, 10) : 0;
    if (f < 0 || !end || *end || errno || v < lo || v > hi)
        return hb_fail(e, HB_E_INVALID, 0, "%s: an integer %llu..%llu", key,
                       (unsigned long long)lo, (unsigned long long)hi);
    *out = v;
    return 0;
}

int hb_query_bool(const char *qs, const char *key, bool def, bool *out, hb_err_t *e)
{
    char buf[8];
    size_t len = 0;
    int f = hb_query_param(qs, key, buf, sizeof buf, &len);
    *out = def;
    if (f == 0 || (f == 1 && len == 0))
        return 0;
    if (f == 1 && (strcmp(buf, "true") == 0 || strcmp(buf, "1") == 0))
        *out = true;
    else if (f == 1 && (strcmp(buf, "false") == 0 || strcmp(buf, "0") == 0))
        *out = false;
    else
        return hb_fail(e, HB_E_INVALID, 0, "%s: true or false", key);
    return 0;
}
