/* JSON string escaping for the log (log.h): bounded, never cutting an
 * escape or a UTF-8 character, invalid UTF-8 shown as U+FFFD, so a line
 * always parses whatever bytes a message carried. */
#include "log.h"

#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 character at s (n bytes left), 0 if it is
 * not one (a stray continuation, an overlong form, a surrogate, > U+10FFFF,
 * or cut short). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], min;
    size_t len;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    unsigned cp = c & (0x3fu >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* One ASCII byte as JSON wants it; the bytes written to tmp (at most 6). */
static size_t esc_ascii(unsigned char c, char tmp[8])
{
    static const char hex[] = "0123456789abcdef";
    const char *two = NULL;
    switch (c) {
    case '"': two = "\\\""; break;
    case '\\': two = "\\\\"; break;
    case '\n': two = "\\n"; break;
    case '\r': two = "\\r"; break;
    case '\t': two = "\\t"; break;
    case '\b': two = "\\b"; break;
    case '\f': two = "\\f"; break;
    default: break;
    }
    if (two) {
        memcpy(tmp, two, 2);
        return 2;
    }
    if (c < 0x20 || c == 0x7f) {
        memcpy(tmp, "\\u00", 4);
        tmp[4] = hex[c >> 4];
        tmp[5] = hex[c & 15];
        return 6;
    }
    tmp[0] = (char)c;
    return 1;
}

size_t hb_log_json_escape(char *out, size_t cap, const char *s, size_t n, int *cut)
{
    size_t o = 0, i = 0;
    if (cut)
        *cut = 0;
    if (cap == 0) {
        if (cut)
            *cut = n > 0;
        return 0;
    }
    while (i < n) {
        const unsigned char *u = (const unsigned char *)s + i;
        char tmp[8];
        size_t tl, adv = 1, ul = utf8_len(u, n - i);
        if (ul == 0) {
            memcpy(tmp, "\\ufffd", 6);
            tl = 6;
        } else if (ul > 1) {
            memcpy(tmp, u, ul);
            tl = adv = ul;
        } else {
            tl = esc_ascii(*u, tmp);
        }
        if (tl > cap - 1 - o) {
            if (cut)
                *cut = 1;
            break;
        }
        memcpy(out + o, tmp, tl);
        o += tl;
        i += adv;
    }
    out[o] = '\0';
    return o;
}
