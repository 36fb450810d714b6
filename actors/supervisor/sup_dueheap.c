/* The due-time heap (see sup_dueheap.h). */
#include "sup_dueheap.h"

#include <stdlib.h>

static void put(hb_dueheap_t *h, size_t i, hb_due_t *d)
{
    h->v[i] = d;
    d->pos = i;
}

static void up(hb_dueheap_t *h, size_t i)
{
    hb_due_t *d = h->v[i];
    while (i > 0 && h->v[(i - 1) / 2]->at > d->at) {
        put(h, i, h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    put(h, i, d);
}

static void down(hb_dueheap_t *h, size_t i)
{
    hb_due_t *d = h->v[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1]->at < h->v[c]->at)
            c++;
        if (h->v[c]->at >= d->at)
            break;
        put(h, i, h->v[c]);
        i = c;
    }
    put(h, i, d);
}

int hb_dueheap_push(hb_dueheap_t *h, hb_due_t *d)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        hb_due_t **v = realloc(h->v, cap * sizeof(void *));   /* an array of pointers */
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    put(h, h->n++, d);
    up(h, d->pos);
    return 0;
}

void hb_dueheap_update(hb_dueheap_t *h, hb_due_t *d, int64_t at)
{
    int64_t old = d->at;
    d->at = at;
    if (at < old)
        up(h, d->pos);
    else if (at > old)
        down(h, d->pos);
}

void hb_dueheap_remove(hb_dueheap_t *h, hb_due_t *d)
{
    size_t i = d->pos;
    hb_due_t *last = h->v[--h->n];
    if (last == d)
        return;
    put(h, i, last);
    up(h, i);
    down(h, last->pos);
}

hb_due_t *hb_dueheap_top(const hb_dueheap_t *h)
{
    return h->n ? h->v[0] : NULL;
}

void hb_dueheap_free(hb_dueheap_t *h)
{
    free(h->v);
    *h = (hb_dueheap_t){0};
}
