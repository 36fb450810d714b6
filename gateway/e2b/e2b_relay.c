/* A process's output read ahead into a bounded queue (e2b_relay.h). One
 * reader thread per relay owns the init stream (hb_proc_next, then
 * hb_proc_stream_close); the worker pops. The queue holds copies, so an
 * event stays valid for the worker after the reader moves on. */
#include "e2b_relay.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_TICK_MS 1000

typedef struct item {
    struct item     *next;
    hb_proc_event_t  ev;       /* data points at bytes[]; info.command NULL */
    int              rc;       /* -1: the error below ends the stream */
    hb_err_t         err;
    unsigned char    bytes[];
} item_t;

struct hb_e2b_relay {
    pthread_mutex_t   mu;
    pthread_cond_t    cv;          /* items pushed, popped, or stop */
    pthread_t         reader;
    hb_proc_stream_t *st;
    item_t           *head, *tail, *cur;   /* cur: popped, the worker's */
    size_t            bytes;
    bool              stop;
};

static atomic_size_t g_budget_used;

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void item_free(hb_e2b_relay_t *r, item_t *it)
{
    if (!it)
        return;
    atomic_fetch_sub(&g_budget_used, it->ev.len);
    free(it);
}

/* Room for n more bytes; false when stopping. With the lock held. */
static bool wait_room(hb_e2b_relay_t *r, size_t n)
{
    while (!r->stop && r->bytes > 0 &&
           (r->bytes + n > HB_RELAY_MAX || atomic_load(&g_budget_used) + n > HB_RELAY_BUDGET)) {
        struct timespec ts;
        deadline_in(&ts, READ_TICK_MS);
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    return !r->stop;
}

/* Copy an event (or the error) into the queue; false to stop reading. */
static bool push(hb_e2b_relay_t *r, const hb_proc_event_t *ev, int rc, const hb_err_t *e)
{
    size_t n = rc == 0 && ev->kind == HB_PEV_OUT ? ev->len : 0;
    pthread_mutex_lock(&r->mu);
    bool go = wait_room(r, n);
    pthread_mutex_unlock(&r->mu);
    item_t *it = go ? calloc(1, sizeof *it + n) : NULL;
    if (!it)
        return false;
    it->rc = rc;
    if (rc == 0) {
        it->ev = *ev;
        it->ev.info.command = NULL;   /* the stream's; nobody here needs it */
        it->ev.data = it->bytes;
        if (n)
            memcpy(it->bytes, ev->data, n);
    } else {
        it->err = *e;
    }
    atomic_fetch_add(&g_budget_used, n);
    bool last = rc != 0 || ev->kind != HB_PEV_OUT;
    pthread_mutex_lock(&r->mu);
    if (r->tail)
        r->tail->next = it;
    else
        r->head = it;
    r->tail = it;
    r->bytes += n;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return !last;
}

static void *reader(void *arg)
{
    hb_e2b_relay_t *r = arg;
    for (;;) {
        hb_proc_event_t ev;
        hb_err_t e = {0};
        pthread_mutex_lock(&r->mu);
        bool stop = r->stop;
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
        int rc = hb_proc_next(r->st, &ev, READ_TICK_MS, &e);
        if (rc == 1)
            continue;
        if (!push(r, &ev, rc, &e))
            break;
    }
    hb_proc_stream_close(r->st);
    r->st = NULL;
    return NULL;
}

hb_e2b_relay_t *hb_e2b_relay_start(hb_proc_stream_t *st, hb_err_t *e)
{
    hb_e2b_relay_t *r = calloc(1, sizeof *r);
    pthread_condattr_t ca;
    if (!r) {
        hb_proc_stream_close(st);
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->st = st;
    int err = pthread_create(&r->reader, NULL, reader, r);
    if (err != 0) {
        hb_proc_stream_close(st);
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        free(r);
        hb_fail_sys(e, HB_E_INTERNAL, err, "process output: cannot start its reader");
        return NULL;
    }
    return r;
}

int hb_e2b_relay_next(hb_e2b_relay_t *r, hb_proc_event_t *ev, int timeout_ms, hb_err_t *e)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&r->mu);
    item_free(r, r->cur);
    r->cur = NULL;
    while (!r->head) {
        if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT && !r->head) {
            pthread_mutex_unlock(&r->mu);
            return 1;
        }
    }
    item_t *it = r->head;
    r->head = it->next;
    if (!r->head)
        r->tail = NULL;
    r->bytes -= it->ev.len;
    r->cur = it;
    pthread_cond_broadcast(&r->cv);   /* room for the reader */
    pthread_mutex_unlock(&r->mu);
    if (it->rc < 0) {
        *e = it->err;
        return -1;
    }
    *ev = it->ev;
    return 0;
}

void hb_e2b_relay_stop(hb_e2b_relay_t *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->reader, NULL);
    item_free(r, r->cur);
    for (item_t *it = r->head, *next; it; it = next) {
        next = it->next;
        item_free(r, it);
    }
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
