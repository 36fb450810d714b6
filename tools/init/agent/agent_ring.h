/* The output ring of one background process (init-protocol.md,
 * "Processes"): stdout and stderr in the order they were read, every byte
 * numbered by its offset over both streams. The buffer grows as output
 * arrives, up to HB_PROC_RING, while a budget shared by all rings allows;
 * past that the ring overwrites its own oldest bytes. Which stream a byte
 * came from is kept as runs (segments) of bytes of one fd, at most
 * RING_SEG_MAX of them: a switch past that drops the oldest run.
 *
 * Pure data structure, no locking: the caller (agent_proc.c) holds the
 * table lock. tests/unit/test_ring.c tests it alone. */
#ifndef HB_AGENT_RING_H
#define HB_AGENT_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RING_MIN     (16u * 1024)   /* first allocation */
#define RING_SEG_MAX 4096           /* fd runs kept per ring */

/* Bytes all rings hold, against limit. */
typedef struct {
    atomic_size_t used;
    size_t limit;
} ring_budget_t;

typedef struct {
    uint64_t off;                   /* the run's first byte */
    int fd;
} ring_seg_t;

/* Zero-initialised is an empty ring. Owned by its process entry:
 * ring_free releases the buffer and its share of the budget. */
typedef struct {
    char *buf;
    size_t cap;                     /* 0 until output arrives */
    size_t max;                     /* the most cap may grow to */
    uint64_t first, off;            /* oldest byte kept; the next byte's offset */
    ring_seg_t *seg;                /* runs seg[lo..n), ascending off */
    size_t seg_lo, seg_n, seg_cap;
} ring_t;

/* Append n bytes read from fd (1 or 2). Never fails: what does not fit is
 * dropped from the oldest end (so with no memory at all, everything). */
void ring_write(ring_t *r, ring_budget_t *b, int fd, const void *p, size_t n);

/* Copy up to max bytes starting at *from (raised to first when below it)
 * into dst, all of one fd (*fd). Returns the count (0: nothing at *from
 * yet) and leaves *from at the first byte copied. */
size_t ring_read(const ring_t *r, uint64_t *from, void *dst, size_t max, int *fd);

/* Grow the buffer now towards need bytes (as ring_write would, within max
 * and the budget) and return its capacity: what a holding follower lets
 * the ring keep. */
size_t ring_reserve(ring_t *r, ring_budget_t *b, size_t need);

void ring_free(ring_t *r, ring_budget_t *b);

#endif
