/* Buffered command output and the one budget it is charged to (runtime.h).
 *
 * Why a global budget: a command may print up to its per-stream cap on each
 * stream, and every exec in flight holds that in the daemon until its answer
 * is written; without a bound across execs, a handful of concurrent
 * commands printing NULs took the daemon to gigabytes. Capacity, not length,
 * is charged, so the budget bounds what malloc really holds.
 *
 * Each exec reserves HB_OUT_RESERVE before its command runs, or is refused
 * (503: nothing ran, safe to retry); so an exec that runs is sure of that
 * much output. Past its reserve, an exec that finds the budget used up stops
 * reading from init (back-pressure: its command blocks on a full pipe) until
 * others give budget back; after HB_OUT_WAIT_MS it drops the rest of that
 * stream and flags it truncated, so execs waiting on each other never
 * deadlock. */
#include "log.h"
#include "monotime.h"
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SMALL_STEP  (4u * 1024)      /* first allocation */
#define LINEAR_FROM (256u * 1024)    /* doubling up to here, then 256 KiB steps */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static uint64_t g_limit = HB_DEFAULT_OUT_BUDGET;
static uint64_t g_used;

void hb_outbudget_set(uint64_t bytes)
{
    pthread_mutex_lock(&g_mu);
    g_limit = bytes;
    pthread_mutex_unlock(&g_mu);
}

uint64_t hb_outbudget_limit(void)
{
    pthread_mutex_lock(&g_mu);
    uint64_t v = g_limit;
    pthread_mutex_unlock(&g_mu);
    return v;
}

uint64_t hb_outbudget_used(void)
{
    pthread_mutex_lock(&g_mu);
    uint64_t v = g_used;
    pthread_mutex_unlock(&g_mu);
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to wait_ms for n bytes of budget. */
static int take(uint64_t n, int wait_ms)
{
    struct timespec dl;
    hb_deadline_in(&dl, wait_ms > 0 ? wait_ms : 0);
    int rc = 0;
    pthread_mutex_lock(&g_mu);
    while (g_used + n > g_limit && rc == 0)
        rc = pthread_cond_clockwait(&g_cv, &g_mu, CLOCK_MONOTONIC, &dl);
    bool ok = g_used + n <= g_limit;
    if (ok)
        g_used += n;
    pthread_mutex_unlock(&g_mu);
    return ok ? 0 : -1;
}

static void give(uint64_t n)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&g_mu);
    g_used = n > g_used ? 0 : g_used - n;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

void hb_outbuf_init(hb_outbuf_t *ob, uint64_t per_stream)
{
    memset(ob, 0, sizeof *ob);
    ob->limit = per_stream ? per_stream : HB_DEFAULT_OUT_CAP;
}

int hb_outbuf_reserve(hb_outbuf_t *ob, hb_err_t *e)
{
    if (ob->charge >= HB_OUT_RESERVE)
        return 0;
    if (take(HB_OUT_RESERVE - ob->charge, 0) == 0) {
        ob->charge = HB_OUT_RESERVE;
        return 0;
    }
    return hb_fail(e, HB_E_UNAVAIL, EAGAIN,
                   "exec: the daemon's output budget (%llu MiB, --exec-output-budget) is held by "
                   "the output of running commands; the command was not started, retry shortly",
                   (unsigned long long)(hb_outbudget_limit() >> 20));
}

/* Charge for the buffers' capacity once stream fd has nc bytes, waiting
 * no more than what is left of the buffer's wait_ms in all. */
static int charge_for(hb_outbuf_t *ob, int fd, size_t nc, int wait_ms)
{
    uint64_t total = (uint64_t)ob->cap[1] + ob->cap[2] - ob->cap[fd] + nc;
    if (total <= ob->charge)
        return 0;
    int64_t t0 = now_ms();
    int rc = take(total - ob->charge, wait_ms - (int)ob->waited_ms);
    ob->waited_ms += now_ms() - t0;
    if (rc < 0)
        return -1;
    ob->charge = total;
    return 0;
}

static size_t grown(size_t cap, size_t need, uint64_t limit)
{
    size_t nc = cap ? cap : SMALL_STEP;
    while (nc < need && nc < LINEAR_FROM)
        nc *= 2;
    if (nc < need)
        nc = (need + LINEAR_FROM - 1) / LINEAR_FROM * LINEAR_FROM;
    if (nc > limit + 1)
        nc = (size_t)limit + 1;   /* +1: the NUL after the last byte */
    return nc;
}

/* The capacity stream fd may have: what it needs if the budget gives it,
 * else what the charge already held covers (the reserve, at least). */
static size_t capacity_for(hb_outbuf_t *ob, int fd, size_t need, int wait_ms)
{
    size_t nc = grown(ob->cap[fd], need, ob->limit);
    if (nc <= ob->cap[fd] || charge_for(ob, fd, nc, wait_ms) == 0)
        return nc > ob->cap[fd] ? nc : ob->cap[fd];
    HB_LOG_WARN("exec: output budget exhausted for %d ms; dropping the rest of a stream",
             HB_OUT_WAIT_MS);
    ob->cut[fd] = true;
    uint64_t others = (uint64_t)ob->cap[1] + ob->cap[2] - ob->cap[fd];
    return ob->charge > others + ob->cap[fd] ? (size_t)(ob->charge - others) : ob->cap[fd];
}

int hb_outbuf_add(hb_outbuf_t *ob, int fd, const void *data, size_t len, int wait_ms)
{
    if ((fd != 1 && fd != 2) || ob->cut[fd] || len == 0)
        return 0;
    size_t need = ob->len[fd] + len + 1;
    if (need > ob->cap[fd]) {
        size_t nc = capacity_for(ob, fd, need, wait_ms);
        if (nc > ob->cap[fd]) {
            char *nb = realloc(ob->data[fd], nc);
            if (!nb)
                return -1;   /* the charge goes back with the rest at hb_outbuf_free */
            ob->data[fd] = nb;
            ob->cap[fd] = nc;
        }
    }
    size_t room = ob->cap[fd] ? ob->cap[fd] - 1 - ob->len[fd] : 0;
    size_t n = len < room ? len : room;
    if (n < len)
        ob->cut[fd] = true;
    if (n == 0)
        return 0;
    memcpy(ob->data[fd] + ob->len[fd], data, n);
    ob->len[fd] += n;
    ob->data[fd][ob->len[fd]] = '\0';
    return 0;
}

const char *hb_outbuf_text(const hb_outbuf_t *ob, int fd, size_t *len)
{
    *len = ob->data[fd] ? ob->len[fd] : 0;
    return ob->data[fd] ? ob->data[fd] : "";
}

void hb_outbuf_free(hb_outbuf_t *ob)
{
    if (!ob)
        return;
    for (int fd = 1; fd <= 2; fd++) {
        free(ob->data[fd]);
        ob->data[fd] = NULL;
        ob->len[fd] = ob->cap[fd] = 0;
    }
    give(ob->charge);
    ob->charge = 0;
}
