/* The supervisor hosts' due-time heap (sup_dueheap.h): after any mix of
 * pushes, moves and removals the top is the earliest item, and every
 * item's pos says where it is. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "sup_dueheap.h"

#define N 500

static void check(const hb_dueheap_t *h)
{
    for (size_t i = 0; i < h->n; i++) {
        cr_assert_eq(h->v[i]->pos, i, "item %zu records pos %zu", i, h->v[i]->pos);
        if (i)
            cr_assert_geq(h->v[i]->at, h->v[(i - 1) / 2]->at, "heap order broken at %zu", i);
    }
}

Test(dueheap, top_is_the_earliest_through_pushes_moves_and_removals)
{
    static hb_due_t d[N];
    hb_dueheap_t h = {0};
    srand(7);
    for (int i = 0; i < N; i++) {
        d[i].at = rand() % 100000;
        cr_assert_eq(hb_dueheap_push(&h, &d[i]), 0);
    }
    check(&h);
    for (int i = 0; i < N; i += 3)
        hb_dueheap_update(&h, &d[i], rand() % 100000);
    hb_dueheap_update(&h, &d[1], INT64_MAX);   /* never due */
    check(&h);
    for (int i = 2; i < N; i += 5)
        hb_dueheap_remove(&h, &d[i]);
    check(&h);
    int64_t last = -1;
    size_t popped = 0;
    hb_due_t *top;
    while ((top = hb_dueheap_top(&h))) {
        cr_assert_geq(top->at, last, "not in order");
        last = top->at;
        hb_dueheap_remove(&h, top);
        popped++;
    }
    cr_assert_eq(popped, N - (N - 2 + 4) / 5);
    cr_assert_eq(last, INT64_MAX, "the never-due item comes last");
    hb_dueheap_free(&h);
}
