/* gzip streams (see gzip.h). */
#include "gzip.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define GZIP_WINDOW (15 + 16)   /* zlib: a gzip wrapper, not zlib's own */

bool hb_gz_accepted(const char *h)
{
    for (const char *p = h; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",;"), tl = n;
        while (tl > 0 && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
            tl--;
        bool gzip = (tl == 4 && strncasecmp(p, "gzip", 4) == 0) ||
                    (tl == 6 && strncasecmp(p, "x-gzip", 6) == 0);
        const char *end = p + strcspn(p, ",");
        const char *q = p[n] == ';' ? strstr(p + n, "q=") : NULL;
        bool zero = false;
        if (q && q < end) {   /* q=0, q=0.0, q=0.000 */
            q += 2;
            zero = *q == '0';
            for (q++; zero && q < end && *q != ' ' && *q != ';'; q++)
                zero = *q == '.' || *q == '0';
        }
        if (gzip && !zero)
            return true;
        p = end;
    }
    return false;
}

/* ---- compressing ---- */

int hb_gz_deflate_init(hb_gz_deflate_t *g)
{
    memset(&g->z, 0, sizeof g->z);
    /* level 1: the archive goes out as fast as it comes in */
    return deflateInit2(&g->z, 1, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) == Z_OK ? 0 : -1;
}

int hb_gz_deflate(hb_gz_deflate_t *g, const void *p, size_t n, bool finish, hb_gz_out_fn out,
                  void *ud)
{
    g->z.next_in = (Bytef *)(uintptr_t)p;
    g->z.avail_in = (uInt)n;
    for (;;) {
        g->z.next_out = g->out;
        g->z.avail_out = sizeof g->out;
        int rc = deflate(&g->z, finish ? Z_FINISH : Z_NO_FLUSH);
        size_t made = sizeof g->out - g->z.avail_out;
        if (rc == Z_STREAM_ERROR || (made && out(ud, g->out, made) != 0))
            return -1;
        if (finish ? rc == Z_STREAM_END : g->z.avail_in == 0 && g->z.avail_out != 0)
            return 0;
    }
}

void hb_gz_deflate_end(hb_gz_deflate_t *g)
{
    deflateEnd(&g->z);
}

/* ---- decompressing ---- */

int hb_gz_inflate_init(hb_gz_inflate_t *g, hb_src_cb in, void *in_ud, uint64_t in_max)
{
    memset(g, 0, offsetof(hb_gz_inflate_t, buf));
    g->in = in;
    g->in_ud = in_ud;
    g->in_max = in_max;
    return inflateInit2(&g->z, GZIP_WINDOW) == Z_OK ? 0 : -1;
}

static int fail(hb_gz_inflate_t *g, const char *why)
{
    g->bad = why;
    return -1;
}

/* More compressed input when zlib has used all it had. */
static int refill(hb_gz_inflate_t *g)
{
    if (g->z.avail_in > 0 || g->in_eof)
        return 0;
    size_t n = 0;
    if (g->in(g->in_ud, g->buf, sizeof g->buf, &n) < 0)
        return fail(g, "the body was cut short");
    g->in_total += n;
    if (g->in_max && g->in_total > g->in_max)
        return fail(g, "the compressed body is over the upload limit");
    g->in_eof = n == 0;
    g->z.next_in = g->buf;
    g->z.avail_in = (uInt)n;
    return 0;
}

int hb_gz_read_src(void *ud, void *buf, size_t cap, size_t *got)
{
    hb_gz_inflate_t *g = ud;
    *got = 0;
    while (!g->done) {
        if (refill(g) < 0)
            return -1;
        g->z.next_out = buf;
        g->z.avail_out = (uInt)cap;
        int rc = inflate(&g->z, Z_NO_FLUSH);
        *got = cap - g->z.avail_out;
        if (rc == Z_STREAM_END) {   /* another member may follow */
            if (refill(g) < 0)
                return -1;
            g->done = g->z.avail_in == 0 && g->in_eof;
            if (!g->done && inflateReset(&g->z) != Z_OK)
                return fail(g, "gzip: cannot continue");
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return fail(g, "the body is not valid gzip");
        } else if (*got == 0 && g->in_eof && g->z.avail_in == 0) {
            return fail(g, "the gzip stream is cut short");
        }
        if (*got > 0)
            return 0;
    }
    return 0;
}

void hb_gz_inflate_end(hb_gz_inflate_t *g)
{
    inflateEnd(&g->z);
}
