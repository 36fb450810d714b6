/* The per-sandbox stream counts (gw_streams.h): a small table under one
 * mutex. Entries exist only while a sandbox has streams, so the table is
 * as long as the number of sandboxes being streamed from; a linear scan. */
#include "gw_streams.h"

#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"   /* HB_ID_MAX */

typedef struct {
    char id[HB_ID_MAX];
    int  n;
} slot_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static slot_t *g_slots;
static size_t  g_len, g_cap;

static slot_t *find(const char *id)
{
    for (size_t i = 0; i < g_len; i++)
        if (strcmp(g_slots[i].id, id) == 0)
            return &g_slots[i];
    return NULL;
}

static slot_t *add(const char *id)
{
    if (g_len == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 16;
        slot_t *v = realloc(g_slots, cap * sizeof *v);
        if (!v)
            return NULL;
        g_slots = v;
        g_cap = cap;
    }
    slot_t *s = &g_slots[g_len++];
    snprintf(s->id, sizeof s->id, "%s", id);
    s->n = 0;
    return s;
}

int hb_streams_enter(const char *id, hb_err_t *e)
{
    pthread_mutex_lock(&g_mu);
    slot_t *s = find(id);
    if (!s)
        s = add(id);
    int rc = 0;
    if (!s)
        rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    else if (s->n >= HB_STREAMS_PER_SANDBOX)
        rc = hb_fail(e, HB_E_LIMIT, 0, "sandbox '%s' already has %d streams open (outputs "
                     "followed, terminals attached, streamed commands); close one first",
                     id, HB_STREAMS_PER_SANDBOX);
    else
        s->n++;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

void hb_streams_leave(const char *id)
{
    pthread_mutex_lock(&g_mu);
    slot_t *s = find(id);
    if (s && --s->n <= 0)
        *s = g_slots[--g_len];   /* the last one takes its place */
    pthread_mutex_unlock(&g_mu);
}

int hb_streams_count(const char *id)
{
    pthread_mutex_lock(&g_mu);
    const slot_t *s = find(id);
    int n = s ? s->n : 0;
    pthread_mutex_unlock(&g_mu);
    return n;
}
