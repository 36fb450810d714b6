/* libFuzzer target: permessage-deflate for the terminals
 * (gateway/ws_deflate.c), fed what a client may send: an extension offer
 * and a compressed message. The first byte says how long the offer is; the
 * rest is inflated whole and cut in two, which must agree, and compressed
 * and inflated back, which must give it again. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_deflate.h"

#define CAP (8u << 20)   /* inflated bytes looked at: a bomb stops here */

typedef struct {
    uint64_t hash;
    size_t   n;
    uint8_t *copy;   /* for the round trip (NULL: not kept) */
    size_t   cap;
} trace_t;

static int emit(void *ud, const uint8_t *p, size_t n)
{
    trace_t *t = ud;
    assert(n > 0 && n <= HB_WSD_OUT_CHUNK);
    for (size_t i = 0; i < n; i++)
        t->hash = (t->hash ^ p[i]) * 0x100000001b3ULL;
    if (t->copy && t->n + n <= t->cap)
        memcpy(t->copy + t->n, p, n);
    t->n += n;
    return t->n >= CAP;
}

static void offer(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1), resp[160];
    memcpy(s, p, n);
    s[n] = '\0';
    hb_wsd_t *d = hb_wsd_negotiate(s, resp, sizeof resp);
    assert(d ? strncmp(resp, "permessage-deflate; server_no_context_takeover; "
                             "client_no_context_takeover", 74) == 0
             : resp[0] == '\0');
    hb_wsd_free(d);
    free(s);
}

static hb_wsd_t *agreed(void)
{
    char resp[160];
    hb_wsd_t *d = hb_wsd_negotiate("permessage-deflate; client_max_window_bits", resp,
                                   sizeof resp);
    assert(d);
    return d;
}

static void inflate_both_ways(hb_wsd_t *d, const uint8_t *p, size_t n, size_t cut)
{
    trace_t whole = {0}, split = {0};
    int a = hb_wsd_inflate(d, p, n, true, emit, &whole);
    int b = hb_wsd_inflate(d, p, cut, false, emit, &split);
    if (b == 0)
        b = hb_wsd_inflate(d, p + cut, n - cut, true, emit, &split);
    if (whole.n < CAP && split.n < CAP) {
        assert(a == b);
        assert(whole.hash == split.hash && whole.n == split.n);
    }
}

static void round_trip(hb_wsd_t *d, const uint8_t *p, size_t n)
{
    const uint8_t *z;
    size_t zn;
    if (hb_wsd_deflate(d, p, n, &z, &zn) != 1)
        return;
    assert(zn < n);
    uint8_t *zc = malloc(zn), *back = malloc(n);
    memcpy(zc, z, zn);
    trace_t t = {.copy = back, .cap = n};
    assert(hb_wsd_inflate(d, zc, zn, true, emit, &t) == 0);
    assert(t.n == n && memcmp(back, p, n) == 0);
    free(zc);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t on = data[0] % 96 < size - 2 ? data[0] % 96 : size - 2;
    offer(data + 2, on);
    const uint8_t *msg = data + 2 + on;
    size_t n = size - 2 - on;
    hb_wsd_t *d = agreed();
    inflate_both_ways(d, msg, n, n ? data[1] % (n + 1) : 0);
    round_trip(d, msg, n);
    hb_wsd_free(d);
    return 0;
}
