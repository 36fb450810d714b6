/* Buffered command output and the one budget it is charged to (runtime.h).
 *
 * Why a global budget: a command may print up to its per-stream cap on each
 * stream, and every exec in flight holds that in the daemon until its answer
 * is written; without a bound across execs, a handful of concurrent
 * commands printing NULs took the daemon to gigabytes. Capacity, not length,
 * is charged, so the budget bounds what malloc really holds.
 *
 * When the budget is used up, a new exec is refused before its command runs
 * (503: safe to retry), and an exec already running stops reading from init
 * (back-pressure: its command blocks on a full pipe) until others give
 * budget back; after HB_OUT_WAIT_MS it drops the rest of that stream and
 * flags it truncated, so execs waiting on each other never deadlock. */
#include "log.h"
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

int hb_outbudget_admit(hb_err_t *e)
{
    pthread_mutex_lock(&g_mu);
    uint64_t used = g_used, limit = g_limit;
    pthread_mutex_unlock(&g_mu);
    if (used + HB_OUT_ADMIT_MIN <= limit)
        return 0;
    return hb_fail(e, HB_E_UNAVAIL, EAGAIN,
                   "exec: the daemon's output budget (%llu MiB, --exec-output-budget) is held by "
                   "the output of running commands; the command was not started, retry shortly",
                   (unsigned long long)(limit >> 20));
}

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

/* Wait up to wait_ms for n bytes of budget. */
static int take(uint64_t n, int wait_ms)
{
    struct timespec dl;
    deadline_in(&dl, wait_ms);
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

int hb_outbuf_add(hb_outbuf_t *ob, int fd, const void *data, size_t len, int wait_ms)
{
    if (fd != 1 && fd != 2)
        return 0;
    if (ob->cut[fd])
        return 0;
    size_t need = ob->len[fd] + len + 1;
    if (need > ob->cap[fd]) {
        size_t nc = grown(ob->cap[fd], need, ob->limit);
        if (nc < need || take(nc - ob->cap[fd], wait_ms) < 0) {
            if (nc >= need)   /* the stream's own cap is the caller's business */
                LOG_WARN("exec: output budget exhausted for %d ms; dropping the rest of a "
                         "stream", wait_ms);
            ob->cut[fd] = true;
            return 0;
        }
        char *nb = realloc(ob->data[fd], nc);
        if (!nb) {
            give(nc - ob->cap[fd]);
            return -1;
        }
        ob->data[fd] = nb;
        ob->cap[fd] = nc;
    }
    memcpy(ob->data[fd] + ob->len[fd], data, len);
    ob->len[fd] += len;
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
        give(ob->cap[fd]);
        ob->data[fd] = NULL;
        ob->len[fd] = ob->cap[fd] = 0;
    }
}
