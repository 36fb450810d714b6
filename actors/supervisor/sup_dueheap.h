/* A min-heap of due times (issue 19): a supervisor host sleeps until its
 * earliest unit is due, and finds it in O(1), re-files one in O(log n),
 * instead of asking every unit after every message. Each item records its
 * own position (pos) so it can be moved or removed where it is. */
#ifndef HB_SUP_DUEHEAP_H
#define HB_SUP_DUEHEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t at;    /* due, hb_now_ms() time; INT64_MAX: never */
    size_t  pos;   /* its index in the heap (maintained by the heap) */
} hb_due_t;

typedef struct {
    hb_due_t **v;   /* the items, not owned */
    size_t     n, cap;
} hb_dueheap_t;

int  hb_dueheap_push(hb_dueheap_t *h, hb_due_t *d);   /* -1: out of memory */
void hb_dueheap_update(hb_dueheap_t *h, hb_due_t *d, int64_t at);
void hb_dueheap_remove(hb_dueheap_t *h, hb_due_t *d);
hb_due_t *hb_dueheap_top(const hb_dueheap_t *h);     /* NULL: empty */
void hb_dueheap_free(hb_dueheap_t *h);               /* the array only */

#endif
