/* The event relay and the per-stream queues (see ev_hub.h). One mutex
 * guards the client table: a fan-out only moves pointers under it, and the
 * workers write to their sockets outside it. */
#include "ev_hub.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ev_json.h"
#include "log.h"
#include "monotime.h"

#define RELAY_POLL_MS 200    /* how soon the relay sees a stop */
#define RELAY_HWM     10000  /* events the SUB socket holds in a burst before ZeroMQ drops */

struct hb_ev_client {
    hb_ev_hub_t   *hub;
    bool           used;
    hb_ev_topics_t topics;
    pthread_cond_t cv;
    hb_ev_t       *q[HB_EV_QUEUE_MAX];   /* a ring: q[head], ... n of them */
    size_t         head, n, bytes;
    uint64_t       dropped;              /* lost since the client last read */
};

struct hb_ev_hub {
    pthread_mutex_t mu;
    zsock_t        *sub;
    pthread_t       relay;
    atomic_bool     stop;
    uint64_t        seq;       /* the id: of the next event (relay thread only) */
    int             open;
    uint64_t        dropped;   /* by every slow client since start (GET /metrics) */
    hb_ev_client_t  clients[HB_EV_STREAMS_MAX];
};

void hb_ev_unref(hb_ev_t *ev)
{
    if (ev && atomic_fetch_sub(&ev->ref, 1) == 1)
        free(ev);
}

/* ---- queues (hub mutex held) ---- */

static hb_ev_t *q_pop(hb_ev_client_t *c)
{
    hb_ev_t *ev = c->q[c->head];
    c->q[c->head] = NULL;
    c->head = (c->head + 1) % HB_EV_QUEUE_MAX;
    c->n--;
    c->bytes -= ev->len;
    return ev;
}

static void q_push(hb_ev_client_t *c, hb_ev_t *ev)
{
    /* full: the oldest go, counted for the client's `dropped` */
    while (c->n == HB_EV_QUEUE_MAX || (c->n > 0 && c->bytes + ev->len > HB_EV_QUEUE_BYTES)) {
        hb_ev_unref(q_pop(c));
        c->dropped++;
        c->hub->dropped++;
    }
    atomic_fetch_add(&ev->ref, 1);
    c->q[(c->head + c->n) % HB_EV_QUEUE_MAX] = ev;
    c->n++;
    c->bytes += ev->len;
    pthread_cond_signal(&c->cv);
}

static void q_clear(hb_ev_client_t *c)
{
    while (c->n)
        hb_ev_unref(q_pop(c));
    c->head = c->bytes = c->dropped = 0;
}

/* ---- the relay ---- */

/* The SSE record of [topic, map]; NULL (logged) for one that cannot be sent. */
static hb_ev_t *render(hb_ev_hub_t *h, const char *topic, zframe_t *body)
{
    hb_err_t e = {0};
    size_t jlen = 0;
    char *json = hb_ev_json(zframe_data(body), zframe_size(body), &jlen, &e);
    if (!json) {
        HB_LOG_WARN("events: %s not relayed: %s", topic, e.msg);
        return NULL;
    }
    size_t cap = jlen + strlen(topic) + 64;
    hb_ev_t *ev = malloc(sizeof *ev + cap);
    if (ev) {
        atomic_init(&ev->ref, 1);
        int n = snprintf(ev->text, cap, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", ++h->seq,
                         topic, json);
        ev->len = n > 0 ? (size_t)n : 0;
    }
    free(json);
    return ev;
}

/* A topic goes on an `event:` line: printable ASCII, bounded. */
static bool topic_ok(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > HB_EV_TOPIC_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (t[i] <= ' ' || t[i] > '~')
            return false;
    return true;
}

/* Whether a stream wants topic: rendered only then (issue 19: a metrics
 * sample of 10,000 sandboxes every 10 s was rendered to JSON for nobody). */
static bool wanted(hb_ev_hub_t *h, const char *topic)
{
    bool any = false;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HB_EV_STREAMS_MAX && !any; i++)
        any = h->clients[i].used && hb_ev_topics_match(&h->clients[i].topics, topic);
    pthread_mutex_unlock(&h->mu);
    return any;
}

static void fan_out(hb_ev_hub_t *h, zmsg_t *m)
{
    if (zmsg_size(m) != 2)
        return;
    char *topic = zframe_strdup(zmsg_first(m));
    hb_ev_t *ev = topic && topic_ok(topic) && wanted(h, topic) ? render(h, topic, zmsg_next(m))
                                                               : NULL;
    if (ev) {
        pthread_mutex_lock(&h->mu);
        for (int i = 0; i < HB_EV_STREAMS_MAX; i++) {
            hb_ev_client_t *c = &h->clients[i];
            if (c->used && hb_ev_topics_match(&c->topics, topic))
                q_push(c, ev);
        }
        pthread_mutex_unlock(&h->mu);
        hb_ev_unref(ev);
    }
    free(topic);
}

static void *relay(void *arg)
{
    hb_ev_hub_t *h = arg;
    while (!atomic_load(&h->stop)) {
        zmsg_t *m = zmsg_recv(h->sub);   /* NULL every RELAY_POLL_MS while quiet */
        if (!m) {
            if (zmq_errno() == ETERM)
                break;
            continue;
        }
        fan_out(h, m);
        zmsg_destroy(&m);
    }
    return NULL;
}

/* A PUB bound on every interface is reached on the loopback. */
static void connect_addr(const char *endpoint, char *out, size_t cap)
{
    const char *star = strstr(endpoint, "://*:");
    if (star)
        snprintf(out, cap, ">%.*s://127.0.0.1:%s", (int)(star - endpoint), endpoint, star + 5);
    else
        snprintf(out, cap, ">%s", endpoint);
}

hb_ev_hub_t *hb_ev_hub_start(const char *endpoint, hb_err_t *e)
{
    char addr[512];
    hb_ev_hub_t *h = calloc(1, sizeof *h);
    if (!h) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    for (int i = 0; i < HB_EV_STREAMS_MAX; i++) {
        h->clients[i].hub = h;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&h->clients[i].cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    connect_addr(endpoint, addr, sizeof addr);
    h->sub = zsock_new(ZMQ_SUB);
    if (h->sub) {
        zsock_set_rcvhwm(h->sub, RELAY_HWM);
        zsock_set_rcvtimeo(h->sub, RELAY_POLL_MS);
        zsock_set_subscribe(h->sub, "");
    }
    if (!h->sub || zsock_attach(h->sub, addr, false) < 0 ||
        pthread_create(&h->relay, NULL, relay, h) != 0) {
        hb_fail(e, HB_E_INTERNAL, 0, "events: cannot subscribe to %s", endpoint);
        zsock_destroy(&h->sub);
        hb_ev_hub_free(h);
        return NULL;
    }
    return h;
}

void hb_ev_hub_stop(hb_ev_hub_t *h)
{
    if (!h || atomic_exchange(&h->stop, true))
        return;
    pthread_join(h->relay, NULL);
    zsock_destroy(&h->sub);
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HB_EV_STREAMS_MAX; i++)
        pthread_cond_broadcast(&h->clients[i].cv);
    pthread_mutex_unlock(&h->mu);
}

void hb_ev_hub_free(hb_ev_hub_t *h)
{
    if (!h)
        return;
    for (int i = 0; i < HB_EV_STREAMS_MAX; i++) {
        q_clear(&h->clients[i]);
        pthread_cond_destroy(&h->clients[i].cv);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* ---- streams ---- */

hb_ev_client_t *hb_ev_join(hb_ev_hub_t *h, const hb_ev_topics_t *t, hb_err_t *e)
{
    hb_ev_client_t *c = NULL;
    pthread_mutex_lock(&h->mu);
    for (int i = 0; i < HB_EV_STREAMS_MAX && !c; i++)
        if (!h->clients[i].used)
            c = &h->clients[i];
    if (atomic_load(&h->stop)) {
        c = NULL;
        hb_fail(e, HB_E_UNAVAIL, 0, "the daemon is shutting down");
    } else if (!c) {
        hb_fail(e, HB_E_LIMIT, 0, "%d event streams are open already (GET /api/v1/events); "
                "close one first", HB_EV_STREAMS_MAX);
    } else {
        c->used = true;
        c->topics = *t;
        h->open++;
    }
    pthread_mutex_unlock(&h->mu);
    return c;
}

uint64_t hb_ev_hub_dropped(hb_ev_hub_t *h)
{
    pthread_mutex_lock(&h->mu);
    uint64_t n = h->dropped;
    pthread_mutex_unlock(&h->mu);
    return n;
}

int hb_ev_next(hb_ev_client_t *c, int ms, hb_ev_t **ev, uint64_t *dropped)
{
    hb_ev_hub_t *h = c->hub;
    struct timespec until;
    hb_deadline_in(&until, ms);
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!c->n && !atomic_load(&h->stop))
        if (pthread_cond_timedwait(&c->cv, &h->mu, &until) == ETIMEDOUT)
            break;
    if (atomic_load(&h->stop)) {
        rc = -1;
    } else if (c->n) {
        *ev = q_pop(c);
        *dropped = c->dropped;
        c->dropped = 0;
        rc = 1;
    }
    pthread_mutex_unlock(&h->mu);
    return rc;
}

void hb_ev_leave(hb_ev_client_t *c)
{
    hb_ev_hub_t *h = c->hub;
    pthread_mutex_lock(&h->mu);
    q_clear(c);
    c->used = false;
    h->open--;
    pthread_mutex_unlock(&h->mu);
}

int hb_ev_streams(hb_ev_hub_t *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->open;
    pthread_mutex_unlock(&h->mu);
    return n;
}
