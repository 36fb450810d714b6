/* multipart/form-data, pulled from the connection (e2b_multipart.h). The
 * buffer starts with "\r\n" so that the first boundary line matches the
 * same delimiter ("\r\n--" boundary) as every later one. */
#include "e2b_multipart.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int hb_mp_boundary(const char *ctype, char *out, size_t n, hb_err_t *e)
{
    static const char mt[] = "multipart/form-data";
    if (!ctype || strncasecmp(ctype, mt, sizeof mt - 1) != 0)
        return hb_fail(e, HB_E_INVALID, 0, "Content-Type: not multipart/form-data");
    const char *b = strcasestr(ctype, "boundary=");
    if (!b)
        return hb_fail(e, HB_E_INVALID, 0, "Content-Type: no boundary");
    b += strlen("boundary=");
    bool quoted = *b == '"';
    b += quoted;
    size_t len = quoted ? strcspn(b, "\"") : strcspn(b, "; \t");
    if (len == 0 || len > HB_MP_BOUNDARY_MAX || len >= n || (quoted && b[len] != '"'))
        return hb_fail(e, HB_E_INVALID, 0, "Content-Type: boundary: 1 to %d characters",
                       HB_MP_BOUNDARY_MAX);
    for (size_t i = 0; i < len; i++)
        if (b[i] < 0x20 || b[i] > 0x7e)
            return hb_fail(e, HB_E_INVALID, 0, "Content-Type: boundary: not printable ASCII");
    memcpy(out, b, len);
    out[len] = '\0';
    return 0;
}

void hb_mp_init(hb_mp_t *m, const char *boundary, hb_mp_read_fn read, void *ud)
{
    m->read = read;
    m->ud = ud;
    int k = snprintf(m->delim, sizeof m->delim, "\r\n--%s", boundary);
    m->dlen = k < 0 ? 0 : (size_t)k < sizeof m->delim ? (size_t)k : sizeof m->delim - 1;
    memcpy(m->buf, "\r\n", 2);
    m->pos = 0;
    m->len = 2;
    m->eof = m->in_part = m->done = false;
}

/* More bytes after the ones kept: -1 with *e at the body's end or on error. */
static int fill(hb_mp_t *m, hb_err_t *e)
{
    if (m->eof)
        return hb_fail(e, HB_E_INVALID, 0, "body: ends before the closing multipart boundary");
    if (m->pos > 0) {
        memmove(m->buf, m->buf + m->pos, m->len - m->pos);
        m->len -= m->pos;
        m->pos = 0;
    }
    size_t got = 0;
    if (m->read(m->ud, m->buf + m->len, sizeof m->buf - m->len, &got) < 0)
        return hb_fail(e, HB_E_INVALID, EIO, "body: the upload broke off");
    if (got == 0)
        m->eof = true;
    m->len += got;
    return 0;
}

static int ensure(hb_mp_t *m, size_t k, hb_err_t *e)
{
    while (m->len - m->pos < k)
        if (fill(m, e) < 0)
            return -1;
    return 0;
}

/* The buffered bytes before the next delimiter (*avail): 1 when the
 * delimiter follows them, 0 when it may still come (the last dlen - 1
 * bytes are held back: they could be its start). As Go's reader (envd's)
 * does, "\r\n--boundary" followed by anything but '-', CR, LF, space or
 * tab is data, not a delimiter. */
static int scan(const hb_mp_t *m, size_t *avail)
{
    const char *at = m->buf + m->pos, *end = m->buf + m->len, *from = at;
    for (;;) {
        const char *d = memmem(from, (size_t)(end - from), m->delim, m->dlen);
        if (!d) {
            size_t have = (size_t)(end - at);
            *avail = have >= m->dlen ? have - (m->dlen - 1) : 0;
            if (*avail < (size_t)(from - at))
                *avail = (size_t)(from - at);
            return 0;
        }
        const char *after = d + m->dlen;
        *avail = (size_t)(d - at);
        if (after == end)
            return m->eof;   /* the next byte decides; at the end the caller fails */
        if (strchr("-\r\n \t", *after))
            return 1;
        from = d + 1;
    }
}

int hb_mp_read(hb_mp_t *m, void *buf, size_t cap, size_t *got, hb_err_t *e)
{
    *got = 0;
    while (m->in_part && cap > 0) {
        size_t avail;
        int delim = scan(m, &avail);
        if (delim && avail == 0) {
            m->in_part = false;
            break;
        }
        if (avail > 0) {
            *got = avail < cap ? avail : cap;
            memcpy(buf, m->buf + m->pos, *got);
            m->pos += *got;
            break;
        }
        if (fill(m, e) < 0)
            return -1;
    }
    return 0;
}

/* Up to the next delimiter, dropping what comes before it. */
static int skip_to_delim(hb_mp_t *m, hb_err_t *e)
{
    char sink[4096];
    size_t got;
    do {
        if (hb_mp_read(m, sink, sizeof sink, &got, e) < 0)
            return -1;
    } while (got > 0);
    for (;;) {
        size_t avail;
        int delim = scan(m, &avail);
        m->pos += avail;   /* preamble */
        if (delim)
            return 0;
        if (fill(m, e) < 0)
            return -1;
    }
}

/* Percent escapes browsers and undici write in a quoted filename. */
static char unescape(const char *s, size_t *used)
{
    static const struct { const char *esc; char c; } t[] = {
        {"%22", '"'}, {"%0A", '\n'}, {"%0D", '\r'}, {"%0a", '\n'}, {"%0d", '\r'}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strncmp(s, t[i].esc, 3) == 0) {
            *used = 3;
            return t[i].c;
        }
    *used = 1;
    return *s;
}

/* The filename parameter of a Content-Disposition value. */
static int disposition_name(const char *v, char *name, size_t n, hb_err_t *e)
{
    const char *p = v;
    while ((p = strchr(p, ';')) != NULL) {
        p++;
        p += strspn(p, " \t");
        bool is_name = strncasecmp(p, "filename=", 9) == 0;
        p += strcspn(p, "=;");
        if (*p != '=')
            continue;
        p++;
        bool quoted = *p == '"';
        p += quoted;
        size_t o = 0;
        while (*p && (quoted ? *p != '"' : (*p != ';' && *p != ' ' && *p != '\t'))) {
            size_t used = 1;
            char c = *p;
            if (quoted && c == '\\' && p[1])
                c = *++p;
            else if (c == '%')
                c = unescape(p, &used);
            p += used;
            if (is_name && o + 1 >= n)
                return hb_fail(e, HB_E_INVALID, 0, "filename: longer than %zu bytes", n - 1);
            if (is_name)
                name[o++] = c;
        }
        if (quoted && *p != '"')
            return hb_fail(e, HB_E_INVALID, 0, "Content-Disposition: unterminated quote");
        if (is_name) {
            name[o] = '\0';
            return 0;
        }
        p += quoted;
    }
    return 0;
}

/* The part's header lines, up to the empty one. */
static int headers(hb_mp_t *m, char *name, size_t n, hb_err_t *e)
{
    static const char cd[] = "content-disposition:";
    char line[HB_MP_LINE_MAX + 1];
    for (int count = 0;; count++) {
        const char *at = m->buf + m->pos, *eol;
        while ((eol = memmem(at, m->len - m->pos, "\r\n", 2)) == NULL) {
            if (m->len - m->pos > HB_MP_LINE_MAX)
                return hb_fail(e, HB_E_INVALID, 0, "body: a part's header line is over %d "
                               "bytes", HB_MP_LINE_MAX);
            if (fill(m, e) < 0)
                return -1;
            at = m->buf + m->pos;
        }
        size_t len = (size_t)(eol - at);
        if (len > HB_MP_LINE_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "body: a part's header line is over %d bytes",
                           HB_MP_LINE_MAX);
        if (count > HB_MP_HEADERS_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "body: a part has over %d headers",
                           HB_MP_HEADERS_MAX);
        memcpy(line, at, len);
        line[len] = '\0';
        m->pos += len + 2;
        if (len == 0)
            return 0;
        if (memchr(line, '\0', len))
            return hb_fail(e, HB_E_INVALID, 0, "body: a NUL in a part's headers");
        if (strncasecmp(line, cd, sizeof cd - 1) == 0 &&
            disposition_name(line + sizeof cd - 1, name, n, e) < 0)
            return -1;
    }
}

int hb_mp_next(hb_mp_t *m, char *name, size_t n, hb_err_t *e)
{
    if (n > 0)
        name[0] = '\0';
    if (m->done)
        return 0;
    if (skip_to_delim(m, e) < 0 || ensure(m, m->dlen + 2, e) < 0)
        return -1;
    m->pos += m->dlen;
    if (memcmp(m->buf + m->pos, "--", 2) == 0) {
        m->done = true;   /* what follows is the epilogue: ignored */
        return 0;
    }
    for (;;) {            /* transport padding, then the line's end */
        if (ensure(m, 2, e) < 0)
            return -1;
        char c = m->buf[m->pos];
        if (c != ' ' && c != '\t')
            break;
        m->pos++;
    }
    if (memcmp(m->buf + m->pos, "\r\n", 2) != 0)
        return hb_fail(e, HB_E_INVALID, 0, "body: junk after a multipart boundary");
    m->pos += 2;
    if (headers(m, name, n, e) < 0)
        return -1;
    m->in_part = true;
    return 1;
}
