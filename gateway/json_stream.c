/* The streaming JSON writer (see json_stream.h). */
#include "json_stream.h"

#include <string.h>

#include "textutil.h"

void hb_jw_init(hb_jw_t *w, hb_jw_sink_fn sink, void *ud, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->ud = ud;
    w->buf = buf;
    w->cap = cap;
}

static void drain(hb_jw_t *w)
{
    if (w->len && !w->failed && w->sink(w->ud, w->buf, w->len) < 0)
        w->failed = true;
    w->len = 0;
}

void hb_jw_raw(hb_jw_t *w, const char *s, size_t n)
{
    w->total += n;
    if (!w->sink)
        return;
    while (n && !w->failed) {
        if (w->len == w->cap)
            drain(w);
        size_t k = w->cap - w->len < n ? w->cap - w->len : n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
}

void hb_jw_rawz(hb_jw_t *w, const char *s)
{
    hb_jw_raw(w, s, strlen(s));
}

/* jansson's escapes: the two mandatory ones, the short forms, and \u00XX
 * (upper-case hex) for the other control characters. */
static size_t escape_ascii(unsigned char c, char out[6])
{
    static const char hex[] = "0123456789ABCDEF";
    const char *two = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b"
                    : c == '\f' ? "\\f" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                    : c == '\t' ? "\\t" : NULL;
    if (two) {
        memcpy(out, two, 2);
        return 2;
    }
    if (c >= 0x20) {
        out[0] = (char)c;
        return 1;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
}

void hb_jw_escaped(hb_jw_t *w, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i = 0;
    while (i < len && !w->failed) {
        /* A run that needs no change goes out in one piece. */
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        while (run < len && p[run] >= 0x80) {
            size_t k = hb_utf8_seq(p + run, len - run);
            if (k == 0)
                break;
            run += k;
        }
        if (run > i) {
            hb_jw_raw(w, (const char *)p + i, run - i);
            i = run;
            continue;
        }
        if (p[i] >= 0x80) {   /* not valid UTF-8 */
            hb_jw_raw(w, "\xef\xbf\xbd", 3);
        } else {
            char esc[6];
            hb_jw_raw(w, esc, escape_ascii(p[i], esc));
        }
        i++;
    }
}

int hb_jw_flush(hb_jw_t *w)
{
    if (w->sink)
        drain(w);
    return w->failed ? -1 : 0;
}
