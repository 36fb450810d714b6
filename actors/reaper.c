/* The reaper actor (see reaper.h). A handful to a few thousand timers: a
 * linear scan for the earliest is cheaper than keeping a heap in order. */
#include "reaper.h"

#include <stdlib.h>
#include <time.h>

typedef struct {
    zsock_t  *inbox, *mgr;
    zhashx_t *due;   /* id -> int64_t* wall-clock deadline in ms */
} reaper_t;

static void free_item(void **item)
{
    free(*item);
    *item = NULL;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_msg(reaper_t *r)
{
    hb_msg_t m;
    if (hb_bus_recv(r->inbox, &m) < 0)
        return;
    if (m.type == HB_MSG_REAP_SET && m.id) {
        int64_t *at = malloc(sizeof *at);
        if (at) {
            *at = m.expires_at * 1000;
            zhashx_update(r->due, m.id, at);
        }
    } else if (m.type == HB_MSG_REAP_CANCEL && m.id) {
        zhashx_delete(r->due, m.id);
    } else {
        HB_LOG_WARN("reaper: unexpected %s", hb_msg_name(m.type));
    }
    hb_msg_clear(&m);
}

/* Fire every timer that is due; return ms until the next one (-1: none). */
static int fire_due(reaper_t *r)
{
    int64_t now = wall_ms(), next = -1;
    zlistx_t *fired = zlistx_new();
    zlistx_set_destructor(fired, free_item);
    for (int64_t *at = zhashx_first(r->due); at; at = zhashx_next(r->due)) {
        if (*at <= now)
            zlistx_add_end(fired, strdup(zhashx_cursor(r->due)));
        else if (next < 0 || *at - now < next)
            next = *at - now;
    }
    for (char *id = zlistx_first(fired); id; id = zlistx_next(fired)) {
        hb_msg_t m = {.type = HB_MSG_REAP_EXPIRE, .id = id};
        hb_bus_send(r->mgr, &m);   /* borrows */
        zhashx_delete(r->due, id);
    }
    zlistx_destroy(&fired);
    return next > INT32_MAX ? INT32_MAX : (int)next;
}

static void reaper_actor(zsock_t *pipe, void *arg)
{
    reaper_t r = {0};
    r.due = zhashx_new();
    zhashx_set_destructor(r.due, free_item);
    r.inbox = zsock_new(ZMQ_PULL);
    r.mgr = hb_bus_pusher(HB_EP_MANAGER);
    bool ok = r.due && r.inbox && r.mgr && zsock_bind(r.inbox, HB_EP_REAPER) == 0;
    zsock_signal(pipe, 0);
    if (!ok)
        HB_LOG_ERROR("reaper: cannot set up its sockets");
    zpoller_t *p = ok ? zpoller_new(pipe, r.inbox, NULL) : NULL;
    while (p) {
        int wait = fire_due(&r);
        void *which = zpoller_wait(p, wait);
        if (which == r.inbox)
            on_msg(&r);
        else if (which == pipe || zpoller_terminated(p))
            break;   /* only $TERM ever comes on the pipe */
    }
    zpoller_destroy(&p);
    zhashx_destroy(&r.due);
    zsock_destroy(&r.inbox);
    zsock_destroy(&r.mgr);
}

zactor_t *hb_reaper_new(void) { return zactor_new(reaper_actor, NULL); }
