/* The event relay behind GET /api/v1/events: one thread SUBscribes to the
 * daemon's own ZeroMQ PUB feed (schemas/events.md), converts each event to
 * its SSE record once (ev_json.h) and fans it out to the open streams. Each
 * stream has a bounded queue: a client that does not read loses its oldest
 * events (counted, reported as `dropped` when it reads again), never grows
 * the daemon. Each stream holds a civetweb worker, so at most
 * HB_EV_STREAMS_MAX are open at once; past it a new one answers 429. */
#ifndef HB_EV_HUB_H
#define HB_EV_HUB_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ev_topics.h"
#include "hberr.h"

#define HB_EV_STREAMS_MAX 64
#define HB_EV_QUEUE_MAX   256          /* events queued per stream */
#define HB_EV_QUEUE_BYTES (1u << 20)   /* and their bytes (one bigger event still fits) */

typedef struct hb_ev_hub hb_ev_hub_t;
typedef struct hb_ev_client hb_ev_client_t;

/* One event as its SSE record, shared by the queues that hold it. */
typedef struct {
    atomic_int ref;
    size_t     len;
    char       text[];   /* "id: N\nevent: <topic>\ndata: <json>\n\n" */
} hb_ev_t;

/* Connects to the PUB endpoint (a bind address on every interface, "*", is
 * connected on the loopback) and starts the relay. NULL with *e set. */
hb_ev_hub_t *hb_ev_hub_start(const char *endpoint, hb_err_t *e);
/* Ends the relay and wakes every stream (hb_ev_next returns -1 from now). */
void hb_ev_hub_stop(hb_ev_hub_t *h);
/* Events dropped for slow clients since start, all clients together. */
uint64_t hb_ev_hub_dropped(hb_ev_hub_t *h);
/* Frees; every stream must have left (after mg_stop). NULL is fine. */
void hb_ev_hub_free(hb_ev_hub_t *h);

/* A new stream receiving the topics t matches; NULL with *e set (HB_E_LIMIT
 * when HB_EV_STREAMS_MAX are open, HB_E_UNAVAIL when stopping). */
hb_ev_client_t *hb_ev_join(hb_ev_hub_t *h, const hb_ev_topics_t *t, hb_err_t *e);
/* The next event, waiting up to ms: 1 with *ev (release it with
 * hb_ev_unref) and *dropped, how many were lost just before it; 0 when
 * nothing came; -1 when the hub stops. */
int  hb_ev_next(hb_ev_client_t *c, int ms, hb_ev_t **ev, uint64_t *dropped);
void hb_ev_leave(hb_ev_client_t *c);
void hb_ev_unref(hb_ev_t *ev);
/* Streams open now (tests). */
int  hb_ev_streams(hb_ev_hub_t *h);

#endif
