/* The output ring (agent_ring.h). Offsets are absolute; byte o lives at
 * buf[o % cap], so growing the buffer moves each byte to its new index. */
#include "agent_ring.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void put(char *buf, size_t cap, uint64_t o, const char *src, size_t n)
{
    size_t i = (size_t)(o % cap), k = cap - i < n ? cap - i : n;
    memcpy(buf + i, src, k);
    memcpy(buf, src + k, n - k);
}

static void get(const char *buf, size_t cap, uint64_t o, char *dst, size_t n)
{
    size_t i = (size_t)(o % cap), k = cap - i < n ? cap - i : n;
    memcpy(dst, buf + i, k);
    memcpy(dst + k, buf, n - k);
}

static bool budget_take(ring_budget_t *b, size_t n)
{
    size_t cur = atomic_load(&b->used);
    do {
        if (cur > b->limit || b->limit - cur < n)
            return false;
    } while (!atomic_compare_exchange_weak(&b->used, &cur, cur + n));
    return true;
}

/* Grow towards need bytes (at most r->max) as the budget allows: doubling,
 * then, short of budget, whatever is left of it. */
static void grow(ring_t *r, ring_budget_t *b, size_t need)
{
    size_t want = r->cap ? r->cap : RING_MIN;
    while (want < need && want < r->max)
        want *= 2;
    if (want > r->max)
        want = r->max;
    if (want <= r->cap)
        return;
    if (!budget_take(b, want - r->cap)) {
        size_t used = atomic_load(&b->used);
        size_t left = used < b->limit ? b->limit - used : 0;
        want = r->cap + left;
        if (want <= r->cap || !budget_take(b, left))
            return;
    }
    char *nb = malloc(want);
    if (!nb) {
        atomic_fetch_sub(&b->used, want - r->cap);
        return;
    }
    /* Live bytes are at most two contiguous pieces of the old buffer. */
    for (uint64_t o = r->first; r->cap && o < r->off;) {
        size_t i = (size_t)(o % r->cap), k = r->cap - i;
        if ((uint64_t)k > r->off - o)
            k = (size_t)(r->off - o);
        put(nb, want, o, r->buf + i, k);
        o += k;
    }
    free(r->buf);
    r->buf = nb;
    r->cap = want;
}

/* Runs that now lie wholly before first are gone. */
static void trim_segs(ring_t *r)
{
    while (r->seg_n - r->seg_lo >= 2 && r->seg[r->seg_lo + 1].off <= r->first)
        r->seg_lo++;
    if (r->seg_lo > 0 && r->seg_lo * 2 >= r->seg_n) {
        memmove(r->seg, r->seg + r->seg_lo, (r->seg_n - r->seg_lo) * sizeof *r->seg);
        r->seg_n -= r->seg_lo;
        r->seg_lo = 0;
    }
}

/* A new run starting at r->off for fd. false when no room was made. */
static bool add_seg(ring_t *r, int fd)
{
    if (r->seg_n > r->seg_lo && r->seg[r->seg_n - 1].fd == fd)
        return true;
    if (r->seg_n - r->seg_lo >= RING_SEG_MAX) {
        r->first = r->seg[r->seg_lo + 1].off;   /* drop the oldest run */
        trim_segs(r);
    }
    if (r->seg_n == r->seg_cap) {
        size_t nc = r->seg_cap ? r->seg_cap * 2 : 16;
        ring_seg_t *ns = realloc(r->seg, nc * sizeof *ns);
        if (!ns)
            return false;
        r->seg = ns;
        r->seg_cap = nc;
    }
    r->seg[r->seg_n++] = (ring_seg_t){r->off, fd};
    return true;
}

void ring_write(ring_t *r, ring_budget_t *b, int fd, const void *p, size_t n)
{
    if (n == 0)
        return;
    if ((r->off - r->first) + n > r->cap && r->cap < r->max)
        grow(r, b, (size_t)(r->off - r->first) + n);
    if (r->cap == 0 || !add_seg(r, fd)) {
        r->off += n;            /* no memory: the bytes are counted, not kept */
        r->first = r->off;
        trim_segs(r);
        return;
    }
    const char *s = p;
    if (n > r->cap) {           /* only the newest cap bytes can stay */
        s += n - r->cap;
        r->off += n - r->cap;
        n = r->cap;
    }
    put(r->buf, r->cap, r->off, s, n);
    r->off += n;
    if (r->off - r->first > r->cap)
        r->first = r->off - r->cap;
    trim_segs(r);
}

/* The run holding offset o (o within [first, off)): binary search. */
static size_t seg_at(const ring_t *r, uint64_t o)
{
    size_t lo = r->seg_lo, hi = r->seg_n;   /* seg[lo].off <= o < seg[hi].off */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->seg[mid].off <= o)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t ring_read(const ring_t *r, uint64_t *from, void *dst, size_t max, int *fd)
{
    if (*from < r->first)
        *from = r->first;
    if (*from >= r->off || r->cap == 0 || r->seg_n == r->seg_lo)
        return 0;
    size_t s = seg_at(r, *from);
    uint64_t end = s + 1 < r->seg_n ? r->seg[s + 1].off : r->off;
    uint64_t n = end - *from;
    if (n > max)
        n = max;
    *fd = r->seg[s].fd;
    get(r->buf, r->cap, *from, dst, (size_t)n);
    return (size_t)n;
}

size_t ring_reserve(ring_t *r, ring_budget_t *b, size_t need)
{
    if (need > r->cap && r->cap < r->max)
        grow(r, b, need);
    return r->cap;
}

void ring_free(ring_t *r, ring_budget_t *b)
{
    if (r->cap)
        atomic_fetch_sub(&b->used, r->cap);
    free(r->buf);
    free(r->seg);
    size_t max = r->max;
    *r = (ring_t){.max = max};
}
