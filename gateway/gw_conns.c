/* Idle-connection limits (see gw_conns.h). One slot per civetweb worker,
 * one mutex. Workers only mark their slot; a small enforcer thread makes
 * the decisions in one pass over the slots (a few microseconds for a
 * thousand workers), woken by each new or newly idle connection and at
 * least once a second for the head timeout. */
#include "gw_conns.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"   /* hb_now_ms */
#include "log.h"

#define SWEEP_MS     1000    /* the enforcer's pass without news */
#define RESOLVE_MS   100     /* how long an address may stay unreadable (see resolve) */
#define REKICK_MS    1000    /* a signal that arrived outside the poll is sent again */
#define LOG_EVERY_MS 10000
#define SPARE        16      /* workers kept free for new connections (at most --threads/4) */
#define GRACE_MS     200     /* a connection this young may still be sending its head */
#define STOP_PASS_MS 20      /* the enforcer's pass while the daemon stops */

enum { S_FREE, S_IDLE, S_BUSY, S_KICKED };

static const char WHY_ADDR[] = "too many idle connections from this address",
                  WHY_TOTAL[] = "too many idle connections",
                  WHY_SLOW[] = "the request head did not arrive in time";
const char HB_GW_WHY_STOPPING[] = "the daemon is stopping";

typedef struct {
    pthread_t    tid;
    int          state;
    const struct mg_connection *conn;
    bool         known;       /* addr read (see resolve) */
    bool         check;       /* newly known or newly idle: count its address */
    bool         served;      /* a request went through: an HTTP client, kept longer */
    uint8_t      addr[16];    /* IPv4 as ::ffff:a.b.c.d, IPv6 cut to its /64 */
    int64_t      since;       /* idle since (monotonic ms) */
    uint64_t     seq;         /* order of becoming idle */
    int64_t      kicked_at;
    const char  *why;
    unsigned     sent;        /* signals sent to this worker */
    atomic_uint  got;         /* signals that arrived (the handler counts) */
} slot_t;

struct hb_gw_conns {
    pthread_mutex_t mu;
    pthread_cond_t  news;     /* a connection arrived or went idle */
    pthread_t       enforcer;
    bool            running, stop, pending;
    bool            stopping; /* hb_gw_conns_stopping: every idle connection goes */
    slot_t         *slots;
    slot_t        **scratch;  /* cap entries, for shed() */
    unsigned        n, cap;   /* slots taken by workers, allocated */
    unsigned        per_addr, total, spare;
    int             head_ms;
    uint64_t        seq;
    unsigned        kicked;   /* since the last log line */
    int64_t         logged_at;
};

static __thread slot_t *t_slot;

static void on_kick(int sig)
{
    (void)sig;
    if (t_slot)
        atomic_fetch_add(&t_slot->got, 1);
}

/* ---- decisions (the enforcer, under the lock) ---- */

static void addr_key(const char *text, uint8_t out[16])
{
    memset(out, 0, 16);
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
    } else if (inet_pton(AF_INET6, text, &a6) == 1) {
        memcpy(out, &a6, 16);
        if (!IN6_IS_ADDR_V4MAPPED(&a6))
            memset(out + 8, 0, 8);   /* one /64 is one client */
    }
}

/* civetweb fills in the peer's address before init_connection but lets
 * mg_get_request_info() read it only once the connection is typed a
 * request, which its worker does just after: so the enforcer reads it.
 * The address does not change while the slot is idle (it changes for the
 * next connection, after hb_gw_conns_closed, which takes the lock). */
static void resolve(slot_t *s)
{
    const struct mg_request_info *ri = mg_get_request_info(s->conn);
    if (!ri)
        return;
    char text[sizeof ri->remote_addr];
    memcpy(text, ri->remote_addr, sizeof text);
    text[sizeof text - 1] = '\0';
    addr_key(text, s->addr);
    s->known = s->check = true;
}

static void kick(hb_gw_conns_t *k, slot_t *s, const char *why, int64_t now)
{
    if (pthread_kill(s->tid, HB_GW_KICK_SIGNAL) != 0)
        return;   /* not queued: the next pass tries again */
    s->sent++;
    s->state = S_KICKED;
    s->why = why;
    s->kicked_at = now;
    k->kicked += why != HB_GW_WHY_STOPPING;   /* the log line is about the limits */
}

/* The order in which idle connections are closed: one that never sent a
 * whole request head before one waiting between keep-alive requests, then
 * the older first. */
static int closing_order(const void *pa, const void *pb)
{
    const slot_t *a = *(slot_t *const *)pa, *b = *(slot_t *const *)pb;
    if (a->served != b->served)
        return a->served ? 1 : -1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Close idle connections from addr (NULL: from anywhere) past the first
 * `keep`, in closing order, sparing those younger than GRACE_MS; true if
 * some of those are still over. One scan and one sort however many go. */
static bool shed(hb_gw_conns_t *k, const uint8_t *addr, unsigned keep, const char *why,
                 int64_t now)
{
    unsigned m = 0;
    for (unsigned i = 0; i < k->n; i++) {
        slot_t *s = &k->slots[i];
        if (s->state != S_IDLE || (addr && (!s->known || memcmp(s->addr, addr, 16) != 0)))
            continue;
        k->scratch[m++] = s;
    }
    unsigned over = m > keep ? m - keep : 0;
    if (over)
        qsort(k->scratch, m, sizeof(slot_t *), closing_order);
    for (unsigned i = 0; i < m && over; i++) {
        if (now - k->scratch[i]->since >= GRACE_MS) {
            kick(k, k->scratch[i], why, now);
            over--;
        }
    }
    for (unsigned i = 0; addr && i < m; i++)
        k->scratch[i]->check = over > 0;   /* counted; again next pass if still over */
    return over > 0;
}

/* Signals sent again, overdue heads closed, addresses read; true while a
 * young connection's address is still unreadable. *others counts the
 * workers neither free nor idle. */
static bool sweep(hb_gw_conns_t *k, int64_t now, unsigned *others)
{
    bool unread = false;
    *others = 0;
    for (unsigned i = 0; i < k->n; i++) {
        slot_t *s = &k->slots[i];
        if (s->state == S_KICKED && now - s->kicked_at > (k->stopping ? STOP_PASS_MS : REKICK_MS) &&
            atomic_load(&s->got) == s->sent)
            kick(k, s, s->why, now);   /* it arrived outside the poll */
        if (s->state == S_IDLE && now - s->since > k->head_ms)
            kick(k, s, WHY_SLOW, now);
        *others += s->state == S_BUSY || s->state == S_KICKED;
        if (s->state == S_IDLE && !s->known)
            resolve(s);
        unread |= s->state == S_IDLE && !s->known && now - s->since < RESOLVE_MS;
    }
    return unread;
}

/* Past the per-address caps, the total: also never so many idle ones that
 * the busy workers leave fewer than k->spare free for what arrives next.
 * The time (ms) until the next pass is due without news. */
static int enforce(hb_gw_conns_t *k, int64_t now)
{
    unsigned others;
    bool unread = sweep(k, now, &others), young = false;
    if (k->stopping) {   /* no grace: what arrives now is not served either */
        for (unsigned i = 0; i < k->n; i++)
            if (k->slots[i].state == S_IDLE)
                kick(k, &k->slots[i], HB_GW_WHY_STOPPING, now);
        return STOP_PASS_MS;
    }
    unsigned room = k->cap > others + k->spare ? k->cap - others - k->spare : 0;
    for (unsigned i = 0; i < k->n; i++) {
        slot_t *s = &k->slots[i];
        if (s->state == S_IDLE && s->check)
            young |= shed(k, s->addr, k->per_addr, WHY_ADDR, now);
    }
    young |= shed(k, NULL, k->total < room ? k->total : room, WHY_TOTAL, now);
    /* an address about to be typed by its worker; a young one over a cap */
    return unread ? 1 : young ? GRACE_MS / 4 : SWEEP_MS;
}

static void log_kicks(hb_gw_conns_t *k, int64_t now)
{
    if (!k->kicked || now - k->logged_at < LOG_EVERY_MS)
        return;
    unsigned n = k->kicked;
    k->kicked = 0;
    k->logged_at = now;
    pthread_mutex_unlock(&k->mu);
    HB_LOG_WARN("http: closed %u idle connection(s) (limits: %u per address, %u in all, request "
             "head within %d s)", n, k->per_addr, k->total, k->head_ms / 1000);
    pthread_mutex_lock(&k->mu);
}

static void *enforcer(void *arg)
{
    hb_gw_conns_t *k = arg;
    int wait_ms = SWEEP_MS;
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        if (!k->pending) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t ns = ts.tv_nsec + (int64_t)wait_ms * 1000000;
            ts.tv_sec += ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&k->news, &k->mu, &ts);
        }
        k->pending = false;
        int64_t now = hb_now_ms();
        wait_ms = enforce(k, now);
        log_kicks(k, now);
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

/* ---- life cycle ---- */

hb_gw_conns_t *hb_gw_conns_new(unsigned workers, unsigned per_addr, unsigned total, int head_ms)
{
    hb_gw_conns_t *k = calloc(1, sizeof *k);
    if (!k || !(k->slots = calloc(workers, sizeof *k->slots)) ||
        !(k->scratch = calloc(workers, sizeof(slot_t *)))) {
        if (k)
            free(k->slots);
        free(k);
        return NULL;
    }
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->news, &ca);
    pthread_condattr_destroy(&ca);
    k->cap = workers;
    k->per_addr = per_addr;
    k->total = total;
    k->spare = (workers - total) / 4 < SPARE ? (workers - total) / 4 : SPARE;
    k->head_ms = head_ms;
    /* No SA_RESTART: the point is that the idle worker's poll returns. */
    struct sigaction sa = {.sa_handler = on_kick};
    sigemptyset(&sa.sa_mask);
    sigaction(HB_GW_KICK_SIGNAL, &sa, NULL);
    k->running = pthread_create(&k->enforcer, NULL, enforcer, k) == 0;
    if (!k->running) {
        hb_gw_conns_free(k);
        return NULL;
    }
    return k;
}

void hb_gw_conns_stopping(hb_gw_conns_t *k)
{
    if (!k)
        return;
    pthread_mutex_lock(&k->mu);
    k->stopping = k->pending = true;
    pthread_cond_signal(&k->news);
    pthread_mutex_unlock(&k->mu);
}

void hb_gw_conns_free(hb_gw_conns_t *k)
{
    if (!k)
        return;
    if (k->running) {
        pthread_mutex_lock(&k->mu);
        k->stop = true;
        pthread_cond_signal(&k->news);
        pthread_mutex_unlock(&k->mu);
        pthread_join(k->enforcer, NULL);
    }
    pthread_cond_destroy(&k->news);
    pthread_mutex_destroy(&k->mu);
    free(k->scratch);
    free(k->slots);
    free(k);
}

/* ---- what the workers report ---- */

void hb_gw_conns_worker_start(hb_gw_conns_t *k)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, HB_GW_KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    pthread_mutex_lock(&k->mu);
    if (k->n < k->cap) {
        t_slot = &k->slots[k->n++];
        t_slot->tid = pthread_self();
    }
    pthread_mutex_unlock(&k->mu);
}

static void now_idle(hb_gw_conns_t *k, slot_t *me)
{
    me->state = S_IDLE;
    me->since = hb_now_ms();
    me->seq = ++k->seq;
    me->check = me->known;   /* counted among its address's idle ones again */
    k->pending = true;
    pthread_cond_signal(&k->news);
}

void hb_gw_conns_opened(hb_gw_conns_t *k, const struct mg_connection *c)
{
    slot_t *me = t_slot;
    if (!me)
        return;
    pthread_mutex_lock(&k->mu);
    me->conn = c;
    me->known = me->served = false;
    me->why = NULL;
    now_idle(k, me);
    pthread_mutex_unlock(&k->mu);
}

void hb_gw_conns_idle(hb_gw_conns_t *k)
{
    slot_t *me = t_slot;
    if (!me)
        return;
    pthread_mutex_lock(&k->mu);
    now_idle(k, me);
    pthread_mutex_unlock(&k->mu);
}

/* Leaving idle: wait until every signal sent to this thread has arrived
 * (one that is pending is delivered on the next return from the kernel),
 * so that none reaches a request handler or the next connection. */
static void leave_idle(hb_gw_conns_t *k, int state)
{
    slot_t *me = t_slot;
    if (!me)
        return;
    pthread_mutex_lock(&k->mu);
    me->state = state;
    me->served |= state == S_BUSY;
    unsigned sent = me->sent;
    pthread_mutex_unlock(&k->mu);
    while (atomic_load(&me->got) != sent)
        sched_yield();
}

void hb_gw_conns_busy(hb_gw_conns_t *k) { leave_idle(k, S_BUSY); }
void hb_gw_conns_closed(hb_gw_conns_t *k) { leave_idle(k, S_FREE); }

const char *hb_gw_conns_kicked_why(hb_gw_conns_t *k)
{
    slot_t *me = t_slot;
    if (!me)
        return NULL;
    pthread_mutex_lock(&k->mu);
    const char *why = me->state == S_KICKED ? me->why : NULL;
    pthread_mutex_unlock(&k->mu);
    return why;
}
