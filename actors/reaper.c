/* The reaper actor (see reaper.h). A handful to a few thousand timers: a
 * linear scan for the earliest is cheaper than keeping a heap in order. */
#include "reaper.h"

#include <errno.h>
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

static void on_msg(void *self, hb_msg_t *m, zframe_t *raw)
{
    reaper_t *r = self;
    if (m->type == HB_MSG_REAP_SET && m->id) {
        int64_t *at = malloc(sizeof *at);
        if (at) {
            *at = m->expires_at * 1000;
            zhashx_update(r->due, m->id, at);
        }
    } else if (m->type == HB_MSG_REAP_CANCEL && m->id) {
        zhashx_delete(r->due, m->id);
    } else {
        HB_LOG_WARN("reaper: unexpected %s", hb_msg_name(m->type));
    }
}

/* Fire every timer that is due; return ms until the next one (-1: none). */
static int64_t fire_due(void *self)
{
    reaper_t *r = self;
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
    return next;
}

static int setup(reaper_t *r, const hb_endpoints_t *ep, hb_err_t *e)
{
    if (!(r->due = zhashx_new()))
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    zhashx_set_destructor(r->due, free_item);
    if (!(r->inbox = hb_actor_inbox(ep->reaper, e)) || !(r->mgr = hb_actor_pusher(ep->manager, e)))
        return -1;
    return 0;
}

static void reaper_actor(zsock_t *pipe, void *arg)
{
    hb_reaper_args_t *a = arg;
    reaper_t r = {0};
    hb_err_t e = {0};
    int rc = setup(&r, &a->ep, &e);
    free(a);
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    hb_loop_t loop = {.name = "reaper", .pipe = pipe, .inbox = r.inbox, .on_inbox = on_msg,
                      .due = fire_due};
    if (rc == 0)
        hb_loop_run(&loop, &r, -1);
    zhashx_destroy(&r.due);
    zsock_destroy(&r.inbox);
    zsock_destroy(&r.mgr);
}

zactor_t *hb_reaper_new(const hb_reaper_args_t *args, hb_err_t *e)
{
    return hb_actor_start_copy("reaper", reaper_actor, args, sizeof *args, e);
}
