/* The background-process output ring (tools/init/agent/agent_ring.c):
 * offsets over both streams, lazy growth, overwrite of the oldest bytes,
 * the shared budget, and runs of one fd. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ring.h"

#define MAX (64u * 1024)

static ring_budget_t budget(size_t limit)
{
    ring_budget_t b = {.limit = limit};
    atomic_init(&b.used, 0);
    return b;
}

/* Everything from offset `from` on, checking fd runs against want_fd(o). */
static size_t read_all(const ring_t *r, uint64_t from, char *dst, size_t max)
{
    size_t got = 0;
    for (;;) {
        int fd = 0;
        uint64_t at = from + got;
        size_t n = ring_read(r, &at, dst + got, max - got, &fd);
        if (n == 0)
            return got;
        cr_assert(fd == 1 || fd == 2);
        got += n;
    }
}

Test(ring, empty_until_written_then_grows_lazily)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = MAX};
    char buf[8];
    uint64_t from = 0;
    int fd;
    cr_assert_eq(ring_read(&r, &from, buf, sizeof buf, &fd), 0);
    cr_assert_eq(r.cap, 0, "nothing allocated before output");
    ring_write(&r, &b, 1, "hello", 5);
    cr_assert_eq(r.cap, RING_MIN);
    cr_assert_eq(atomic_load(&b.used), RING_MIN);
    cr_assert_eq(ring_read(&r, &from, buf, sizeof buf, &fd), 5);
    cr_assert_eq(fd, 1);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    ring_free(&r, &b);
    cr_assert_eq(atomic_load(&b.used), 0, "budget given back");
}

Test(ring, offsets_count_both_streams_and_reads_stop_at_a_switch)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = MAX};
    ring_write(&r, &b, 1, "out1", 4);
    ring_write(&r, &b, 2, "err", 3);
    ring_write(&r, &b, 1, "out2", 4);
    cr_assert_eq(r.off, 11);
    char buf[32];
    int fd;
    uint64_t from = 0;
    cr_assert_eq(ring_read(&r, &from, buf, sizeof buf, &fd), 4);
    cr_assert_eq(fd, 1);
    from = 4;
    cr_assert_eq(ring_read(&r, &from, buf, sizeof buf, &fd), 3);
    cr_assert_eq(fd, 2);
    cr_assert_eq(memcmp(buf, "err", 3), 0);
    from = 5;   /* inside a run */
    cr_assert_eq(ring_read(&r, &from, buf, sizeof buf, &fd), 2);
    cr_assert_eq(memcmp(buf, "rr", 2), 0);
    ring_free(&r, &b);
}

Test(ring, overflow_keeps_the_newest_max_bytes_in_order)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = MAX};
    static char all[5 * MAX], got[MAX];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (char)(i * 7 + i / 251);
    for (size_t o = 0; o < sizeof all;) {   /* odd write sizes, wrap often */
        size_t n = 1 + (o * 13) % 9000;
        if (n > sizeof all - o)
            n = sizeof all - o;
        ring_write(&r, &b, 1, all + o, n);
        o += n;
    }
    cr_assert_eq(r.cap, MAX, "grew to max, no further");
    cr_assert_eq(r.off, sizeof all);
    cr_assert_eq(r.first, sizeof all - MAX);
    uint64_t from = 0;   /* below first: raised to it */
    int fd;
    size_t n = ring_read(&r, &from, got, sizeof got, &fd);
    cr_assert_eq(from, r.first);
    cr_assert_eq(n, MAX);
    cr_assert_eq(memcmp(got, all + r.first, MAX), 0);
    ring_free(&r, &b);
}

Test(ring, a_write_larger_than_the_ring_keeps_its_tail)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = MAX};
    static char big[3 * MAX], got[MAX];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i % 253);
    ring_write(&r, &b, 2, big, sizeof big);
    cr_assert_eq(r.off, sizeof big);
    cr_assert_eq(r.first, sizeof big - MAX);
    cr_assert_eq(read_all(&r, 0, got, sizeof got), MAX);
    cr_assert_eq(memcmp(got, big + 2 * MAX, MAX), 0);
    ring_free(&r, &b);
}

Test(ring, growth_preserves_wrapped_contents)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = 4 * RING_MIN};
    static char all[3 * RING_MIN], got[3 * RING_MIN];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (char)(i % 241);
    for (size_t o = 0; o < sizeof all; o += 1000)
        ring_write(&r, &b, 1, all + o, sizeof all - o < 1000 ? sizeof all - o : 1000);
    cr_assert_eq(r.first, 0, "nothing dropped while it could grow");
    cr_assert_eq(read_all(&r, 0, got, sizeof got), sizeof all);
    cr_assert_eq(memcmp(got, all, sizeof all), 0);
    ring_free(&r, &b);
}

Test(ring, the_budget_caps_all_rings_and_a_full_one_overwrites_itself)
{
    ring_budget_t b = budget(3 * RING_MIN);
    ring_t r1 = {.max = MAX}, r2 = {.max = MAX}, r3 = {.max = MAX};
    static char blk[MAX];
    memset(blk, 'x', sizeof blk);
    ring_write(&r1, &b, 1, blk, 2 * RING_MIN);   /* takes 2 of 3 */
    ring_write(&r2, &b, 1, blk, 2 * RING_MIN);   /* gets what is left: 1 */
    cr_assert_eq(r1.cap, 2 * RING_MIN);
    cr_assert_eq(r2.cap, RING_MIN);
    cr_assert_eq(r2.first, RING_MIN, "keeps the newest of what it cannot hold");
    cr_assert_leq(atomic_load(&b.used), b.limit);
    ring_write(&r3, &b, 1, "lost", 4);           /* none left */
    cr_assert_eq(r3.cap, 0);
    cr_assert_eq(r3.off, 4, "counted, not kept");
    cr_assert_eq(r3.first, 4);
    ring_free(&r1, &b);
    ring_write(&r3, &b, 1, "kept", 4);           /* budget came back */
    cr_assert_eq(r3.cap, RING_MIN);
    char got[8];
    uint64_t from = 0;
    int fd;
    cr_assert_eq(ring_read(&r3, &from, got, sizeof got, &fd), 4);
    cr_assert_eq(from, 4);
    cr_assert_eq(memcmp(got, "kept", 4), 0);
    ring_free(&r2, &b);
    ring_free(&r3, &b);
    cr_assert_eq(atomic_load(&b.used), 0);
}

Test(ring, fd_runs_are_bounded_by_dropping_the_oldest)
{
    ring_budget_t b = budget(1 << 20);
    ring_t r = {.max = MAX};
    for (int i = 0; i < RING_SEG_MAX + 10; i++)
        ring_write(&r, &b, 1 + (i & 1), "a", 1);
    cr_assert_leq(r.seg_n - r.seg_lo, RING_SEG_MAX);
    cr_assert_eq(r.off, RING_SEG_MAX + 10);
    cr_assert_eq(r.first, 10, "the first 10 one-byte runs were dropped");
    uint64_t from = 0;
    int fd;
    char c;
    cr_assert_eq(ring_read(&r, &from, &c, 1, &fd), 1);
    cr_assert_eq(from, 10);
    cr_assert_eq(fd, 1, "byte 10 came from fd 1");
    ring_free(&r, &b);
}

/* A holding follower's keeper asks for room before reading: the buffer
 * grows now (within max and the budget), keeping what it holds. */
Test(ring, reserve_grows_now_within_max_and_budget)
{
    ring_budget_t b = budget(MAX + RING_MIN);
    ring_t r = {.max = MAX}, small = {.max = MAX};
    char buf[8];
    cr_assert_eq(ring_reserve(&r, &b, 100), RING_MIN, "the first allocation");
    ring_write(&r, &b, 2, "kept", 4);
    cr_assert_eq(ring_reserve(&r, &b, 3 * RING_MIN), 4 * RING_MIN, "doubling up to the need");
    cr_assert_eq(ring_reserve(&r, &b, 10 * MAX), MAX, "never past max");
    cr_assert_eq(read_all(&r, 0, buf, sizeof buf), 4);
    cr_assert_eq(memcmp(buf, "kept", 4), 0);
    cr_assert_eq(ring_reserve(&small, &b, MAX), RING_MIN, "what the budget has left");
    ring_free(&r, &b);
    ring_free(&small, &b);
    cr_assert_eq(atomic_load(&b.used), 0);
}
