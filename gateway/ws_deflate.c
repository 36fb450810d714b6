#include "ws_deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define IN_STEP     (1u << 20)   /* input handed to zlib at a time */
#define DEFLATE_MAX (1u << 20)   /* longer messages go out as they are */

struct hb_wsd {
    int      wbits;       /* our window: server_max_window_bits, else 15 */
    z_stream zd, zi;
    bool     zd_on, zi_on;
    bool     skip;        /* the rest of this incoming message is ignored */
    uint8_t *out;         /* a compressed message (hb_wsd_deflate) */
    size_t   out_cap;
    uint8_t  buf[HB_WSD_OUT_CHUNK];
};

/* ---- the offer (RFC 7692 5, RFC 6455 9.1 grammar) ---- */

typedef struct {
    const char *s;
    bool        bad;    /* the list is malformed: all of it is declined */
    bool        long_;  /* a word past our buffer: only its element is declined */
} lex_t;

typedef struct {
    int  server_bits;   /* 0: not given */
    bool server_nct, client_nct, client_bits;
    bool bad;           /* a parameter we cannot honour */
} offer_t;

static bool tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void ows(lex_t *x)
{
    while (*x->s == ' ' || *x->s == '\t')
        x->s++;
}

/* A token, or a quoted string without escapes (a value): into out, cut to
 * fit (no word of ours is that long: its element is declined). */
static void word(lex_t *x, char *out, size_t cap, bool quoted_ok)
{
    size_t n = 0;
    bool q = quoted_ok && *x->s == '"';
    x->s += q;
    while (q ? *x->s && *x->s != '"' && *x->s != '\\' : tchar(*x->s)) {
        if (n + 1 < cap)
            out[n++] = *x->s;
        else
            x->long_ = true;
        x->s++;
    }
    out[n] = '\0';
    if (q && *x->s == '"')
        x->s++;
    else if (q)
        x->bad = true;   /* unterminated, or an escape (no value of ours has one) */
    if (n == 0)
        x->bad = true;
}

/* A window size, 8..15, as RFC 7692 7.1.2 writes it (no leading zero). */
static int bits(const char *v)
{
    if (!v[0] || v[0] == '0' || strlen(v) > 2 || strspn(v, "0123456789") != strlen(v))
        return -1;
    int b = atoi(v);
    return b >= 8 && b <= 15 ? b : -1;
}

static void param(offer_t *o, const char *name, const char *val, bool has_val)
{
    bool dup = false;
    if (strcasecmp(name, "server_no_context_takeover") == 0 && !has_val) {
        dup = o->server_nct;
        o->server_nct = true;
    } else if (strcasecmp(name, "client_no_context_takeover") == 0 && !has_val) {
        dup = o->client_nct;
        o->client_nct = true;
    } else if (strcasecmp(name, "server_max_window_bits") == 0 && has_val) {
        dup = o->server_bits != 0;
        o->server_bits = bits(val);
        /* zlib cannot keep a raw stream to 8 bits (it uses 9) */
        o->bad |= o->server_bits < 9;
    } else if (strcasecmp(name, "client_max_window_bits") == 0) {
        dup = o->client_bits;
        o->client_bits = true;   /* we inflate any window: nothing to answer */
        o->bad |= has_val && bits(val) < 0;
    } else {
        o->bad = true;
    }
    o->bad |= dup;
}

/* One element of the list, up to its ',': true when it is an offer of
 * permessage-deflate we can honour (*o). */
static bool element(lex_t *x, offer_t *o)
{
    char name[64], pname[64], val[16];
    memset(o, 0, sizeof *o);
    x->long_ = false;
    ows(x);
    word(x, name, sizeof name, false);
    for (ows(x); !x->bad && *x->s == ';'; ows(x)) {
        x->s++;
        ows(x);
        word(x, pname, sizeof pname, false);
        ows(x);
        bool has_val = *x->s == '=';
        val[0] = '\0';
        if (has_val) {
            x->s++;
            ows(x);
            word(x, val, sizeof val, true);
        }
        param(o, pname, val, has_val);
    }
    if (*x->s && *x->s != ',')
        x->bad = true;
    return !x->bad && !x->long_ && !o->bad && strcasecmp(name, "permessage-deflate") == 0;
}

hb_wsd_t *hb_wsd_negotiate(const char *offer, char *resp, size_t cap)
{
    resp[0] = '\0';
    if (!offer)
        return NULL;
    lex_t x = {.s = offer};
    offer_t o;
    bool agreed = false;
    for (ows(&x); !agreed && !x.bad && *x.s; ows(&x)) {
        if (*x.s != ',')   /* an empty element is allowed (RFC 9110 5.6.1) */
            agreed = element(&x, &o);
        if (*x.s == ',')
            x.s++;
    }
    if (!agreed)
        return NULL;   /* a malformed list is declined whole */
    int n = snprintf(resp, cap, "permessage-deflate; server_no_context_takeover; "
                     "client_no_context_takeover");
    if (o.server_bits && n > 0 && (size_t)n < cap)
        n += snprintf(resp + n, cap - (size_t)n, "; server_max_window_bits=%d", o.server_bits);
    hb_wsd_t *d = n > 0 && (size_t)n < cap ? calloc(1, sizeof *d) : NULL;
    if (!d) {
        resp[0] = '\0';
        return NULL;
    }
    d->wbits = o.server_bits ? o.server_bits : 15;
    return d;
}

void hb_wsd_free(hb_wsd_t *d)
{
    if (!d)
        return;
    if (d->zd_on)
        deflateEnd(&d->zd);
    if (d->zi_on)
        inflateEnd(&d->zi);
    free(d->out);
    free(d);
}

/* ---- out ---- */

static bool grow_out(hb_wsd_t *d, size_t need)
{
    if (need <= d->out_cap)
        return true;
    uint8_t *b = realloc(d->out, need);
    if (!b)
        return false;
    d->out = b;
    d->out_cap = need;
    return true;
}

int hb_wsd_deflate(hb_wsd_t *d, const void *p, size_t n, const uint8_t **out, size_t *outn)
{
    if (n < HB_WSD_MIN_LEN || n > DEFLATE_MAX)
        return 0;
    /* level 1: terminal output is repetitive, and the pump should not wait;
     * memLevel 6: ~160 KiB of state at most (the default 8 costs ~100 KiB
     * more: `seq` and `ls -lR` output went to 0.25 of its bytes, not 0.26) */
    if (!d->zd_on && deflateInit2(&d->zd, Z_BEST_SPEED, Z_DEFLATED, -d->wbits, 6,
                                  Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    d->zd_on = true;
    size_t cap = deflateBound(&d->zd, (uLong)n) + 16;   /* + the sync flush's empty block */
    if (!grow_out(d, cap))
        return 0;
    d->zd.next_in = (Bytef *)(uintptr_t)p;
    d->zd.avail_in = (uInt)n;
    d->zd.next_out = d->out;
    d->zd.avail_out = (uInt)cap;
    int rc = deflate(&d->zd, Z_SYNC_FLUSH);
    size_t got = cap - d->zd.avail_out;
    bool whole = rc == Z_OK && d->zd.avail_in == 0 && got >= 4 &&
                 memcmp(d->out + got - 4, "\0\0\xff\xff", 4) == 0;
    deflateReset(&d->zd);   /* no context takeover */
    if (!whole || got - 4 >= n)
        return 0;
    *out = d->out;
    *outn = got - 4;   /* RFC 7692 7.2.1: the flush's tail is left off */
    return 1;
}

/* ---- in ---- */

static int feed(hb_wsd_t *d, const uint8_t *p, size_t n, hb_wsd_emit_fn emit, void *ud)
{
    while (n && !d->skip) {
        uInt step = n > IN_STEP ? IN_STEP : (uInt)n;
        d->zi.next_in = (Bytef *)(uintptr_t)p;
        d->zi.avail_in = step;
        for (;;) {
            d->zi.next_out = d->buf;
            d->zi.avail_out = sizeof d->buf;
            uInt in_before = d->zi.avail_in;
            int rc = inflate(&d->zi, Z_SYNC_FLUSH);
            size_t got = sizeof d->buf - d->zi.avail_out;
            bool stuck = got == 0 && d->zi.avail_in == in_before;
            /* what came before a fault is handed on, wherever the pieces
             * were cut */
            if (got && emit(ud, d->buf, got))
                d->skip = true;
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                return -1;
            /* a final block ends the message's data: what follows is
             * ignored (the tail we append, or a sender's padding) */
            if (rc == Z_STREAM_END)
                d->skip = true;
            if (d->skip || (d->zi.avail_out != 0 && d->zi.avail_in == 0) || rc == Z_BUF_ERROR ||
                stuck)
                break;
        }
        p += step;
        n -= step;
    }
    return 0;
}

int hb_wsd_inflate(hb_wsd_t *d, const uint8_t *p, size_t n, bool last, hb_wsd_emit_fn emit,
                   void *ud)
{
    if (!d->zi_on && inflateInit2(&d->zi, -15) != Z_OK)
        return -1;
    d->zi_on = true;
    int rc = feed(d, p, n, emit, ud);
    if (rc == 0 && last)
        rc = feed(d, (const uint8_t *)"\0\0\xff\xff", 4, emit, ud);   /* RFC 7692 7.2.2 */
    if (last || rc < 0) {
        inflateReset(&d->zi);   /* no context takeover */
        d->skip = false;
    }
    return rc;
}
