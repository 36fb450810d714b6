/* Exec output sinks (see exec_sink.h): a registry of refcounted buffers.
 * A list under one mutex: there are at most as many as gateway threads. */
#include "exec_sink.h"

#include <pthread.h>
#include <stdlib.h>

struct hb_sink {
    uint64_t     id;
    int          refs;
    bool         listed;
    hb_outbuf_t  ob;
    hb_sink_t   *next;
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static hb_sink_t *g_head;
static uint64_t g_next_id = 1;
static size_t g_count;

hb_sink_t *hb_sink_open(uint64_t *id)
{
    hb_sink_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    hb_outbuf_init(&s->ob, 0);
    s->refs = 1;
    s->listed = true;
    pthread_mutex_lock(&g_mu);
    s->id = g_next_id++;
    s->next = g_head;
    g_head = s;
    g_count++;
    pthread_mutex_unlock(&g_mu);
    *id = s->id;
    return s;
}

static void unlist(hb_sink_t *s)
{
    for (hb_sink_t **p = &g_head; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            s->listed = false;
            g_count--;
            return;
        }
    }
}

static void destroy(hb_sink_t *s)
{
    hb_outbuf_free(&s->ob);
    free(s);
}

void hb_sink_close(hb_sink_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g_mu);
    if (s->listed)
        unlist(s);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&g_mu);
    if (last)
        destroy(s);
}

hb_sink_t *hb_sink_adopt(uint64_t id)
{
    pthread_mutex_lock(&g_mu);
    hb_sink_t *s = g_head;
    while (s && s->id != id)
        s = s->next;
    if (s)
        s->refs++;
    pthread_mutex_unlock(&g_mu);
    return s;
}

void hb_sink_put(hb_sink_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g_mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&g_mu);
    if (last)
        destroy(s);
}

hb_outbuf_t *hb_sink_buf(hb_sink_t *s)
{
    pthread_mutex_lock(&g_mu);   /* pairs with the writer's hb_sink_put */
    pthread_mutex_unlock(&g_mu);
    return &s->ob;
}

size_t hb_sink_count(void)
{
    pthread_mutex_lock(&g_mu);
    size_t n = g_count;
    pthread_mutex_unlock(&g_mu);
    return n;
}
