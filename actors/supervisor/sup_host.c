/* Supervisor hosts (see sup_host.h).
 *
 * A host's thread waits in zmq_poll on three things: its pipe ($TERM), its
 * inbox (keyed messages: key 0 is a spawn carrying the unit's start
 * arguments, any other key a unit's generation) and one epoll descriptor
 * holding every unit's init pidfd. It sleeps until the earliest due time
 * of its units (a min-heap), so 10,000 idle sandboxes cost the wake-ups of
 * their own periodic work and nothing per message or per unit besides. */
#include "sup_host.h"

#include "actor.h"
#include "sup_dueheap.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HOSTS_MAX     64
#define QUEUE_MAX     40000   /* messages queued for one host: > 2 per sandbox at 16,384 */
#define BATCH         256     /* inbox messages per wake before timers and pidfds get a turn */
#define FD_EVENTS     64
#define TERM_GRACE_MS 1000    /* the gateway already gave requests their grace */
#define SPAWN_KEY     0       /* generations start at 1 */

typedef struct {
    hb_due_t     due;    /* first: the heap hands back &due */
    uint64_t     gen;
    void        *self;
    int          wfd;    /* the descriptor registered in the epoll set; -1: none */
    hb_sup_env_t env;
} unit_t;

typedef struct {
    char                ep[96];
    const hb_sup_ops_t *ops;
    hb_endpoints_t      eps;
    _Atomic int         units;   /* the manager adds at spawn, the host subtracts at close */
    zactor_t           *actor;
    zsock_t            *push;    /* the manager's way in (its thread only) */
} host_t;

struct hb_sup_hosts {
    int     n;
    host_t *h;   /* owned; each host's thread borrows its own */
};

/* The host thread's state. */
typedef struct {
    host_t      *cfg;
    zsock_t     *pipe, *inbox, *mgr, *met;
    int          epfd;
    zhashx_t    *units;   /* "<gen>" -> unit_t*, owned */
    hb_dueheap_t heap;
    bool         term;
} run_t;

static zsock_t *pusher(const char *ep, int timeout_ms)
{
    zsock_t *s = zsock_new(ZMQ_PUSH);
    if (!s)
        return NULL;
    /* before connect: inproc takes the HWMs then, and queues their sum */
    zsock_set_sndhwm(s, QUEUE_MAX / 2);
    zsock_set_sndtimeo(s, timeout_ms);
    zsock_set_linger(s, 5000);
    if (zsock_connect(s, "%s", ep) < 0)
        zsock_destroy(&s);
    return s;
}

/* ---- units ---- */

static void gen_key(char *buf, size_t len, uint64_t gen)
{
    snprintf(buf, len, "%llu", (unsigned long long)gen);
}

static void unit_close(run_t *r, unit_t *u)
{
    char key[24];
    gen_key(key, sizeof key, u->gen);
    hb_dueheap_remove(&r->heap, &u->due);
    /* Out of the set before the close: a copy of the pidfd in a child that
     * posix_spawn has not exec'd yet would keep the entry alive. */
    if (u->wfd >= 0)
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, u->wfd, NULL);
    r->cfg->ops->close(u->self);
    zhashx_delete(r->units, key);
    atomic_fetch_sub(&r->cfg->units, 1);
}

/* After anything ran for u: its periodic work, then gone or re-filed. A
 * descriptor is added again every time (EEXIST when it is known): a new
 * init after a restore may get the number of the old pidfd. */
static void touch(run_t *r, unit_t *u)
{
    const hb_sup_ops_t *o = r->cfg->ops;
    int64_t at = INT64_MAX;
    if (!r->term && o->due) {
        int64_t w = o->due(u->self);
        if (w >= 0)
            at = hb_now_ms() + (w < 1 ? 1 : w);
    }
    if (o->gone(u->self)) {
        unit_close(r, u);
        return;
    }
    hb_dueheap_update(&r->heap, &u->due, at);
    int fd = o->watch_fd ? o->watch_fd(u->self) : -1;
    if (fd != u->wfd && u->wfd >= 0)
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, u->wfd, NULL);   /* ENOENT if closed: fine */
    u->wfd = fd;
    /* The generation, not a pointer: an event of an entry that outlived its
     * unit (see unit_close) finds nothing instead of freed memory. */
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = u->gen};
    if (fd >= 0 && epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
        HB_LOG_WARN("supervisor host %s: cannot watch a pidfd: %s", r->cfg->ep, strerror(errno));
}

static void unit_free(void **item)
{
    free(*item);
    *item = NULL;
}

static void spawn_unit(run_t *r, hb_sup_args_t *a)
{
    unit_t *u = calloc(1, sizeof *u);
    char key[24];
    if (!u) {
        HB_LOG_ERROR("supervisor host: out of memory for sandbox %s", a->id);
        hb_sup_args_free(a);
        atomic_fetch_sub(&r->cfg->units, 1);
        return;
    }
    u->gen = a->gen;
    u->wfd = -1;
    u->due.at = INT64_MAX;
    u->env.mgr = r->mgr;
    u->env.met = r->met;
    snprintf(u->env.inbox, sizeof u->env.inbox, "%s#%llu", r->cfg->ep, (unsigned long long)u->gen);
    gen_key(key, sizeof key, u->gen);
    u->self = r->cfg->ops->open(a, &u->env);   /* owns a */
    if (!u->self || hb_dueheap_push(&r->heap, &u->due) < 0) {
        if (u->self)
            r->cfg->ops->close(u->self);
        free(u);
        atomic_fetch_sub(&r->cfg->units, 1);
        return;
    }
    zhashx_insert(r->units, key, u);
    touch(r, u);
}

/* ---- messages ---- */

/* For a generation no unit has (an earlier sandbox of the name, or one
 * gone meanwhile): dropped, and a request is answered. */
static void orphan(const run_t *r, uint64_t gen, const hb_msg_t *m)
{
    HB_LOG_DEBUG("supervisor host %s: %s for generation %llu dropped (no such sandbox)",
                 r->cfg->ep, hb_msg_name(m->type), (unsigned long long)gen);
    hb_bus_reply_error(m->reply_to, HB_E_NOTFOUND, "sandbox '%s' not found", m->id ? m->id : "");
}

static void deliver(run_t *r, uint64_t key, const zframe_t *f)
{
    if (key == SPAWN_KEY) {   /* the start arguments' address, as hb_sup_spawn sent it */
        uintptr_t a = 0;
        if (zframe_size((zframe_t *)f) == sizeof a) {
            memcpy(&a, zframe_data((zframe_t *)f), sizeof a);
            spawn_unit(r, (hb_sup_args_t *)a);
        }
        return;
    }
    hb_msg_t m = {0};
    if (hb_msg_decode(zframe_data((zframe_t *)f), zframe_size((zframe_t *)f), &m) < 0) {
        HB_LOG_ERROR("supervisor host %s: dropped a malformed message", r->cfg->ep);
        return;
    }
    char k[24];
    gen_key(k, sizeof k, key);
    unit_t *u = zhashx_lookup(r->units, k);
    if (u) {
        r->cfg->ops->on_msg(u->self, &m);
        touch(r, u);
    } else {
        orphan(r, key, &m);
    }
    hb_msg_clear(&m);
}

/* One keyed message: false when the inbox has nothing (more). */
static bool read_one(run_t *r)
{
    if (!(zsock_events(r->inbox) & ZMQ_POLLIN))
        return false;
    zframe_t *k = zframe_recv(r->inbox);
    zframe_t *f = k && zsock_rcvmore(r->inbox) ? zframe_recv(r->inbox) : NULL;
    while (zsock_rcvmore(r->inbox)) {   /* never sent: two frames exactly */
        zframe_t *extra = zframe_recv(r->inbox);
        zframe_destroy(&extra);
    }
    bool got = k != NULL;
    uint64_t key = 0;
    if (f && zframe_size(k) == sizeof key) {
        memcpy(&key, zframe_data(k), sizeof key);
        deliver(r, key, f);
    } else if (k) {
        HB_LOG_ERROR("supervisor host %s: dropped a message without a key", r->cfg->ep);
    }
    zframe_destroy(&k);
    zframe_destroy(&f);
    return got;
}

static void read_inbox(run_t *r)
{
    for (int i = 0; i < BATCH && read_one(r); i++)
        ;
}

/* An event is the unit's only if its current pidfd says so: an entry of an
 * earlier pidfd (a restore's old init) whose number came back must not
 * make a live init look dead. */
static bool pidfd_readable(const run_t *r, unit_t *u)
{
    int fd = r->cfg->ops->watch_fd ? r->cfg->ops->watch_fd(u->self) : -1;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return fd >= 0 && poll(&p, 1, 0) > 0;
}

static void read_fds(run_t *r)
{
    struct epoll_event ev[FD_EVENTS];
    int n = epoll_wait(r->epfd, ev, FD_EVENTS, 0);
    for (int i = 0; i < n; i++) {
        char key[24];
        gen_key(key, sizeof key, ev[i].data.u64);
        unit_t *u = zhashx_lookup(r->units, key);
        if (u && pidfd_readable(r, u)) {
            r->cfg->ops->on_fd(u->self);
            touch(r, u);
        }
    }
}

/* The units that are due: their work, then re-filed. The ms until the
 * next one (-1: none). */
static int run_due(run_t *r)
{
    int64_t now = hb_now_ms();
    hb_due_t *top;
    while ((top = hb_dueheap_top(&r->heap)) && top->at <= now + HB_SUP_DUE_SLACK_MS)
        touch(r, (unit_t *)top);
    if (!top || top->at == INT64_MAX)
        return -1;
    int64_t w = top->at - now;
    return w > INT32_MAX ? INT32_MAX : (int)w;
}

/* ---- the loop ---- */

/* false: $TERM or the pipe broke. */
static bool read_pipe(run_t *r)
{
    zframe_t *f = zframe_recv(r->pipe);
    bool go_on = f && !zframe_streq(f, "$TERM");
    zframe_destroy(&f);
    return go_on;
}

/* Wait up to timeout_ms for the pipe, the inbox and the pidfds; false when
 * the loop should end (the context ended, or $TERM before the stop). */
static bool wait_once(run_t *r, int timeout_ms)
{
    zmq_pollitem_t it[3] = {
        {.socket = zsock_resolve(r->pipe), .events = ZMQ_POLLIN},
        {.socket = zsock_resolve(r->inbox), .events = ZMQ_POLLIN},
        {.socket = NULL, .fd = r->epfd, .events = ZMQ_POLLIN},
    };
    if (zmq_poll(it, 3, timeout_ms) < 0)
        return zmq_errno() != ETERM;
    if (it[0].revents && !read_pipe(r) && !r->term)
        return false;
    if (it[1].revents)
        read_inbox(r);
    if (it[2].revents)
        read_fds(r);
    return true;
}

static bool any_busy(run_t *r)
{
    for (unit_t *u = zhashx_first(r->units); u; u = zhashx_next(r->units))
        if (r->cfg->ops->busy(u->self))
            return true;
    return false;
}

/* The daemon stops: every unit refuses new work, what is in flight gets
 * the grace period, then every unit is closed (sandboxes keep running). */
static void stop_units(run_t *r)
{
    r->term = true;
    for (unit_t *u = zhashx_first(r->units); u; u = zhashx_next(r->units))
        r->cfg->ops->term(u->self);
    int64_t end = hb_now_ms() + TERM_GRACE_MS;
    while (any_busy(r) && hb_now_ms() < end && wait_once(r, (int)(end - hb_now_ms())))
        ;
    unit_t *u;
    while ((u = zhashx_first(r->units)))
        unit_close(r, u);
}

static int setup(run_t *r, hb_err_t *e)
{
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    r->units = zhashx_new();
    if (r->epfd < 0 || !r->units)
        return hb_fail(e, HB_E_INTERNAL, errno, "supervisor host: no epoll or table");
    zhashx_set_destructor(r->units, unit_free);
    r->inbox = zsock_new(ZMQ_PULL);
    if (!r->inbox)
        return hb_fail(e, HB_E_INTERNAL, 0, "supervisor host: no socket");
    zsock_set_rcvhwm(r->inbox, QUEUE_MAX / 2);
    if (zsock_bind(r->inbox, "%s", r->cfg->ep) < 0)
        return hb_fail(e, HB_E_INTERNAL, zmq_errno(), "cannot bind %s", r->cfg->ep);
    if (!(r->mgr = pusher(r->cfg->eps.manager, 1000)) ||
        !(r->met = pusher(r->cfg->eps.metrics, 1000)))
        return hb_fail(e, HB_E_INTERNAL, 0, "supervisor host: cannot reach the manager or metrics");
    return 0;
}

/* arg: the host_t the hosts object owns and keeps until this thread ended. */
static void host_actor(zsock_t *pipe, void *arg)
{
    run_t r = {.cfg = arg, .pipe = pipe, .epfd = -1};
    hb_err_t e = {0};
    int rc = setup(&r, &e);
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    while (rc == 0 && wait_once(&r, run_due(&r)) && !r.term)
        ;
    if (rc == 0)
        stop_units(&r);
    zhashx_destroy(&r.units);
    hb_dueheap_free(&r.heap);
    if (r.epfd >= 0)
        close(r.epfd);
    zsock_destroy(&r.inbox);
    zsock_destroy(&r.mgr);
    zsock_destroy(&r.met);
}

/* ---- the manager's side ---- */

static int default_hosts(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cpus > 0 ? 2 * cpus : 4;
    return (int)(n < 4 ? 4 : n > HOSTS_MAX ? HOSTS_MAX : n);
}

static int host_start(hb_sup_hosts_t *h, int i, const hb_endpoints_t *ep, const hb_sup_ops_t *ops,
                      hb_err_t *e)
{
    host_t *x = &h->h[i];
    snprintf(x->ep, sizeof x->ep, "inproc://hb-suphost-%p-%d", (void *)h, i);
    x->ops = ops;
    x->eps = *ep;
    char name[32];
    snprintf(name, sizeof name, "sup host %d", i);   /* also its thread's name: 15 bytes */
    if (!(x->actor = hb_actor_start(name, host_actor, x, e)))
        return -1;
    if (!(x->push = pusher(x->ep, 0)))
        return hb_fail(e, HB_E_INTERNAL, 0, "cannot connect to %s", x->ep);
    return 0;
}

hb_sup_hosts_t *hb_sup_hosts_new(int n, const hb_endpoints_t *ep, const hb_sup_ops_t *ops,
                                 hb_err_t *e)
{
    hb_sup_hosts_t *h = calloc(1, sizeof *h);
    n = n < 1 ? default_hosts() : n > HOSTS_MAX ? HOSTS_MAX : n;
    if (!h || !(h->h = calloc((size_t)n, sizeof *h->h))) {
        free(h);
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    h->n = n;
    for (int i = 0; i < n; i++)
        if (host_start(h, i, ep, ops ? ops : hb_supervisor_ops(), e) < 0) {
            hb_sup_hosts_destroy(&h);
            return NULL;
        }
    HB_LOG_INFO("supervisors: %d host threads", n);
    return h;
}

int hb_sup_spawn(hb_sup_hosts_t *h, hb_sup_args_t *args, hb_sup_ref_t *out, hb_err_t *e)
{
    int best = 0;
    for (int i = 1; i < h->n; i++)
        if (atomic_load(&h->h[i].units) < atomic_load(&h->h[best].units))
            best = i;
    uint64_t key = SPAWN_KEY;
    uintptr_t addr = (uintptr_t)args;   /* the host's thread takes it over */
    void *s = zsock_resolve(h->h[best].push);
    *out = (hb_sup_ref_t){.host = best, .gen = args->gen};
    atomic_fetch_add(&h->h[best].units, 1);
    if (zmq_send(s, &key, sizeof key, ZMQ_SNDMORE) < 0 ||
        zmq_send(s, &addr, sizeof addr, 0) < 0) {
        atomic_fetch_sub(&h->h[best].units, 1);
        hb_sup_args_free(args);
        return hb_fail(e, HB_E_UNAVAIL, zmq_errno(), "supervisor host %d: its queue is full",
                       best);
    }
    return 0;
}

int hb_sup_send(hb_sup_hosts_t *h, const hb_sup_ref_t *r, const hb_msg_t *m)
{
    if (!h || r->host < 0 || r->host >= h->n)
        return -1;
    return hb_bus_send_keyed(h->h[r->host].push, r->gen, m);
}

void hb_sup_hosts_destroy(hb_sup_hosts_t **hp)
{
    hb_sup_hosts_t *h = *hp;
    if (!h)
        return;
    /* $TERM to all first: their grace periods run side by side */
    for (int i = 0; i < h->n; i++)
        if (h->h[i].actor)
            zstr_send(h->h[i].actor, "$TERM");
    for (int i = 0; i < h->n; i++) {
        zactor_destroy(&h->h[i].actor);
        zsock_destroy(&h->h[i].push);
    }
    free(h->h);
    free(h);
    *hp = NULL;
}

int hb_sup_hosts_count(const hb_sup_hosts_t *h) { return h ? h->n : 0; }

int hb_sup_host_units(const hb_sup_hosts_t *h, int host)
{
    return h && host >= 0 && host < h->n ? atomic_load(&h->h[host].units) : 0;
}
