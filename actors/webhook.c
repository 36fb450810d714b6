/* The webhook actor's loop: events in from the SUB socket, attempts out
 * through webhook_http, METRICS_TEXT answered from its inbox (see
 * webhook.h). */
#include "webhook.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "webhook_http.h"
#include "webhook_payload.h"
#include "webhook_sign.h"
#include "webhook_stats.h"
#include "webhook_target.h"

#define SUB_HWM        10000   /* events the SUB socket holds in a burst */
#define SUB_BATCH      256     /* events taken per wake-up, so the rest is served too */
#define POLL_ITEMS_MAX (3 + HB_WEBHOOK_SOCKS_MAX)
#define SUB_JOIN_MS    50      /* ZeroMQ's slow joiner: see subscribe() */

typedef struct {
    zsock_t            *pipe, *inbox, *sub;
    char               *secret;
    hb_wh_target_t     *targets;
    int                 ntargets;
    hb_wh_http_t       *http;
    hb_webhook_stats_t  st;
    bool                stop;
} wh_t;

/* ---- attempts ---- */

static void log_failure(hb_wh_target_t *t, const hb_wh_event_t *ev, const char *why,
                        bool gave_up, int attempts)
{
    uint64_t since = 0;
    if (!hb_wh_target_log_failure(t, hb_now_ms(), &since))
        return;
    char more[64] = "";
    if (since)
        snprintf(more, sizeof more, "; %" PRIu64 " more failures since the last line", since);
    if (gave_up)
        HB_LOG_WARN("webhook %s: %s %s: %s; gave up after %d attempts%s", t->origin, ev->type,
                    ev->id, why, attempts, more);
    else
        HB_LOG_WARN("webhook %s: %s %s: %s; retrying in %" PRId64 " s%s", t->origin, ev->type,
                    ev->id, why, (t->next_ms - hb_now_ms() + 999) / 1000, more);
}

/* An attempt ended (webhook_http's callback; tag is the target). */
static void on_done(void *ctx, void *tag, long status, const char *why)
{
    wh_t *w = ctx;
    hb_wh_target_t *t = tag;
    if (!t->busy || !t->n)
        return;
    hb_wh_event_t *ev = t->q[t->head];
    ev->ref++;   /* done may drop it from the queue: keep it for the log line */
    int attempts = t->attempts;
    uint64_t failed = w->st.failed;
    bool ok = status >= 200 && status <= 299;
    hb_wh_target_done(t, ok, &w->st, hb_now_ms());
    if (!ok)
        log_failure(t, ev, why, w->st.failed != failed, attempts);
    hb_wh_event_unref(ev);
}

static void attempt(wh_t *w, hb_wh_target_t *t, hb_wh_event_t *ev)
{
    char sig[HB_WEBHOOK_SIG_MAX];
    hb_wh_post_t p = {.url = t->url, .body = ev->body, .len = ev->len, .type = ev->type,
                      .id = ev->id, .signature = sig, .user_agent = HB_WEBHOOK_USER_AGENT};
    if (hb_webhook_sign(w->secret, (int64_t)time(NULL), ev->body, ev->len, sig, sizeof sig) < 0 ||
        hb_wh_http_post(w->http, &p, t) < 0)
        on_done(w, t, 0, "cannot start the request (out of memory?)");
}

/* Starts what is due; the ms until the next target is (-1: none). */
static int64_t start_due(wh_t *w)
{
    int64_t now = hb_now_ms(), wait = -1;
    for (int i = 0; i < w->ntargets; i++) {
        hb_wh_target_t *t = &w->targets[i];
        hb_wh_event_t *ev = hb_wh_target_next(t, &w->st, now);
        if (ev)
            attempt(w, t, ev);
        int64_t tw = hb_wh_target_wait(t, now);
        if (tw >= 0 && (wait < 0 || tw < wait))
            wait = tw;
    }
    return wait;
}

/* ---- events in ---- */

static void enqueue(wh_t *w, hb_wh_event_t *ev)
{
    for (int i = 0; i < w->ntargets; i++) {
        hb_wh_target_t *t = &w->targets[i];
        uint64_t since = 0;
        int dropped = hb_wh_target_push(t, ev, &w->st);
        if (dropped && hb_wh_target_log_drops(t, dropped, hb_now_ms(), &since))
            HB_LOG_WARN("webhook %s: its queue is full (%d events): dropped %" PRIu64
                        " oldest since the last line", t->origin, HB_WEBHOOK_QUEUE_MAX, since);
    }
}

/* [topic, map] from the feed: one of the events we deliver, to every URL. */
static void on_event(wh_t *w, zmsg_t *msg)
{
    zframe_t *topic = zmsg_first(msg), *map = zmsg_next(msg);
    hb_msg_t m = {0};
    if (zmsg_size(msg) != 2 || hb_msg_decode(zframe_data(map), zframe_size(map), &m) < 0)
        return;
    const char *type = hb_msg_name(m.type);
    char id[HB_WEBHOOK_ID_MAX];
    hb_err_t e = {0};
    size_t len = 0;
    char *body = NULL;
    if (hb_webhook_wanted(m.type) && zframe_streq(topic, type) && hb_webhook_new_id(id) == 0)
        body = hb_webhook_body(id, type, m.timestamp ? m.timestamp : (int64_t)time(NULL),
                               zframe_data(map), zframe_size(map), &len, &e);
    if (e.msg[0])
        HB_LOG_WARN("webhook: %s not sent: %s", type, e.msg);
    hb_wh_event_t *ev = body ? hb_wh_event_new(id, type, body, len, hb_now_ms()) : NULL;
    if (ev) {
        enqueue(w, ev);
        hb_wh_event_unref(ev);
    }
    free(body);
    hb_msg_clear(&m);
}

static void take_events(wh_t *w)
{
    for (int i = 0; i < SUB_BATCH; i++) {
        zmsg_t *msg = zmsg_recv(w->sub);   /* receive timeout 0: NULL when drained */
        if (!msg)
            return;
        on_event(w, msg);
        zmsg_destroy(&msg);
    }
}

/* ---- requests ---- */

static void on_metrics_text(wh_t *w, const hb_msg_t *q)
{
    hb_webhook_stats_t st = w->st;
    st.queued = 0;
    for (int i = 0; i < w->ntargets; i++)
        st.queued += w->targets[i].n;
    st.endpoints = w->ntargets;
    char *text = hb_webhook_stats_text(&st);
    hb_msg_t rep = {.type = HB_MSG_R_TEXT, .text = {.data = text, .len = text ? strlen(text) : 0}};
    if (!text)
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
    else if (q->reply_to)
        hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
}

static void take_request(wh_t *w)
{
    hb_msg_t q = {0};
    if (hb_bus_recv(w->inbox, &q) < 0)
        return;
    if (q.type == HB_MSG_METRICS_TEXT) {
        on_metrics_text(w, &q);
    } else {
        HB_LOG_WARN("webhook: unexpected %s", hb_msg_name(q.type));
        hb_bus_reply_error(q.reply_to, HB_E_INTERNAL, "unexpected request");
    }
    hb_msg_clear(&q);
}

static void take_pipe(wh_t *w)
{
    char *cmd = zstr_recv(w->pipe);
    if (!cmd || strcmp(cmd, "$TERM") == 0)
        w->stop = true;
    else
        HB_LOG_WARN("webhook: unexpected %s on its pipe", cmd);
    zstr_free(&cmd);
}

/* ---- the loop ---- */

static int64_t earlier(int64_t a, int64_t b)
{
    return a < 0 ? b : b < 0 ? a : (a < b ? a : b);
}

static void run(wh_t *w)
{
    zmq_pollitem_t it[POLL_ITEMS_MAX];
    while (!w->stop) {
        int64_t due = start_due(w);   /* first: a new attempt sets curl's timer */
        int64_t wait = earlier(due, hb_wh_http_wait(w->http));
        int n = 0;
        it[n++] = (zmq_pollitem_t){.socket = zsock_resolve(w->pipe), .events = ZMQ_POLLIN};
        it[n++] = (zmq_pollitem_t){.socket = zsock_resolve(w->inbox), .events = ZMQ_POLLIN};
        if (w->sub)
            it[n++] = (zmq_pollitem_t){.socket = zsock_resolve(w->sub), .events = ZMQ_POLLIN};
        int base = n;
        n += hb_wh_http_items(w->http, it + n, POLL_ITEMS_MAX - n);
        if (zmq_poll(it, n, wait > INT_MAX ? INT_MAX : (long)wait) < 0 && zmq_errno() != EINTR)
            break;   /* the context ended */
        if (it[0].revents & ZMQ_POLLIN)
            take_pipe(w);
        if (it[1].revents & ZMQ_POLLIN)
            take_request(w);
        if (w->sub && (it[2].revents & ZMQ_POLLIN))
            take_events(w);
        hb_wh_http_run(w->http, it + base, n - base);
    }
}

/* ---- set up ---- */

/* A PUB bound on every interface is reached on the loopback. */
static void connect_addr(const char *endpoint, char *out, size_t cap)
{
    const char *star = strstr(endpoint, "://*:");
    if (star)
        snprintf(out, cap, "%.*s://127.0.0.1:%s", (int)(star - endpoint), endpoint, star + 5);
    else
        snprintf(out, cap, "%s", endpoint);
}

static int subscribe(wh_t *w, const char *events, hb_err_t *e)
{
    char addr[512];
    connect_addr(events, addr, sizeof addr);
    if (!(w->sub = zsock_new(ZMQ_SUB)))
        return hb_fail(e, HB_E_INTERNAL, 0, "no socket");
    zsock_set_rcvhwm(w->sub, SUB_HWM);
    zsock_set_rcvtimeo(w->sub, 0);
    zsock_set_subscribe(w->sub, "sandbox.");
    zsock_set_subscribe(w->sub, "process.exited");
    if (zsock_connect(w->sub, "%s", addr) < 0)
        return hb_fail(e, HB_E_INTERNAL, zmq_errno(), "cannot subscribe to %s", events);
    /* The subscription reaches the PUB a moment after the connect (a
     * loopback handshake: well under a millisecond); what is published
     * before that is not ours. The actors that publish start after this
     * one reports ready: waiting a little here makes sure they find it
     * subscribed (the manager's re-attach may report sandbox.failed). */
    zclock_sleep(SUB_JOIN_MS);
    return 0;
}

static int setup(wh_t *w, const hb_webhook_args_t *a, hb_err_t *e)
{
    static const hb_cfg_LIST none;
    const hb_cfg_LIST *urls = a->urls ? a->urls : &none;
    int n = urls->n;
    if (!(w->http = hb_wh_http_new(on_done, w)) ||
        (n && !(w->targets = calloc((size_t)n, sizeof *w->targets))) ||
        (a->secret && !(w->secret = strdup(a->secret))))
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    for (; w->ntargets < n; w->ntargets++)
        if (hb_wh_target_init(&w->targets[w->ntargets], urls->item[w->ntargets]) < 0)
            return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (!(w->inbox = hb_actor_inbox(a->ep.webhook, e)))
        return -1;
    if (n && (!w->secret || subscribe(w, a->events, e) < 0))
        return e->msg[0] ? -1 : hb_fail(e, HB_E_INVALID, 0, "--webhook without a secret");
    for (int i = 0; i < w->ntargets; i++)
        HB_LOG_INFO("webhook: delivering lifecycle events to %s", w->targets[i].origin);
    if (!n && a->secret)
        HB_LOG_WARN("webhook: --webhook-secret is set but no --webhook: nothing is sent");
    return 0;
}

static void teardown(wh_t *w)
{
    hb_wh_http_free(w->http);   /* attempts in flight end first: they point into targets */
    for (int i = 0; i < w->ntargets; i++)
        hb_wh_target_free(&w->targets[i]);
    free(w->targets);
    if (w->secret)
        explicit_bzero(w->secret, strlen(w->secret));
    free(w->secret);
    zsock_destroy(&w->sub);
    zsock_destroy(&w->inbox);
}

static void wh_actor(zsock_t *pipe, void *arg)
{
    hb_webhook_args_t *a = arg;
    wh_t w = {.pipe = pipe};
    hb_err_t e = {0};
    int rc = setup(&w, a, &e);
    free(a);
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    if (rc == 0)
        run(&w);
    teardown(&w);
}

zactor_t *hb_webhook_new(const hb_webhook_args_t *args, hb_err_t *e)
{
    return hb_actor_start_copy("webhook", wh_actor, args, sizeof *args, e);
}
