/* The message bus between threads: one-frame msgpack messages (the codec in
 * schemas/messages.c) over in-process ZeroMQ sockets.
 *
 * Addressing: each actor binds a PULL "inbox" at a well-known inproc
 * endpoint; a request carries `reply_to`, the inproc endpoint of a PULL the
 * requester bound for this one call, and whoever finishes the work (the
 * manager, a supervisor or one of its operation threads) posts the reply
 * there. So a reply never has to travel back through the actor that routed
 * the request, and a slow sandbox holds up nobody but its own callers.
 */
#ifndef HB_BUS_H
#define HB_BUS_H

#include <czmq.h>
#include <stdint.h>

#include "log.h"

#include "hberr.h"
#include "messages.h"

/* Where the long-lived actors bind their inboxes: the default table. The
 * composition root hands it to every actor in its start arguments (actors
 * never name an endpoint themselves); the gateway's threads, which are not
 * actors, still post to these names directly. */
#define HB_EP_MANAGER "inproc://hb-manager"
#define HB_EP_METRICS "inproc://hb-metrics"
#define HB_EP_REAPER  "inproc://hb-reaper"
#define HB_EP_PROXY   "inproc://hb-proxy"
#define HB_EP_WEBHOOK "inproc://hb-webhook"

typedef struct {
    const char *manager, *metrics, *reaper, *proxy, *webhook;   /* static strings */
} hb_endpoints_t;

#define HB_ENDPOINTS_DEFAULT \
    ((hb_endpoints_t){HB_EP_MANAGER, HB_EP_METRICS, HB_EP_REAPER, HB_EP_PROXY, HB_EP_WEBHOOK})

/* Send m as one frame on s. 0, or -1 (logged). */
int hb_bus_send(zsock_t *s, const hb_msg_t *m);
/* Receive one frame from s into *m (caller clears). -1 on a malformed frame
 * (logged, dropped) or interruption. */
int hb_bus_recv(zsock_t *s, hb_msg_t *m);
/* A PUSH connected to endpoint for the calling thread's own use; the caller
 * destroys it. Lingers so a message sent just before destroy still arrives. */
zsock_t *hb_bus_pusher(const char *endpoint);
/* One-shot: connect, send, close. For replies and rare posts. An endpoint
 * "<endpoint>#<key>" (issue 19: a sandbox on a supervisor host, see
 * supervisor/sup_host.h) is sent as hb_bus_send_keyed(<endpoint>, key). */
int hb_bus_post(const char *endpoint, const hb_msg_t *m);
/* Many posts to one endpoint (keyed or not) from one thread, over one
 * socket: they arrive in the order sent. Separate hb_bus_posts do not
 * promise that (each is its own socket, and the receiver takes turns among
 * them). init copies endpoint; post connects on first use (-1, logged,
 * when it cannot); fini closes, lingering like hb_bus_pusher. */
typedef struct {
    char     endpoint[256];
    zsock_t *s;
} hb_bus_outbox_t;
void hb_bus_outbox_init(hb_bus_outbox_t *o, const char *endpoint);
int hb_bus_outbox_post(hb_bus_outbox_t *o, const hb_msg_t *m);
void hb_bus_outbox_fini(hb_bus_outbox_t *o);
/* Two frames: the 8-byte key (which of the receiver's units it is for),
 * then m. Only supervisor hosts read keyed messages. 0, or -1 (logged). */
int hb_bus_send_keyed(zsock_t *s, uint64_t key, const hb_msg_t *m);
/* Post an R_ERROR to reply_to (nothing if reply_to is NULL). */
void hb_bus_reply_error(const char *reply_to, hb_errcode_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hb_bus_reply_err(const char *reply_to, const hb_err_t *e);
/* Reply R_TEXT with text (malloc'd, freed here), or R_ERROR "out of memory"
 * when it is NULL (a renderer that ran out). */
void hb_bus_reply_text(const char *reply_to, char *text, size_t len);

/* Request/reply for threads that are not actors (civetweb workers): bind a
 * private PULL, set req->reply_to, post req to endpoint, wait for one reply.
 * timeout_ms < 0 waits until the shutdown deadline. An R_ERROR reply is
 * returned as -1 with *e filled; 0 with *rep filled otherwise. */
int hb_bus_call(const char *endpoint, hb_msg_t *req, hb_msg_t *rep, int64_t timeout_ms,
                hb_err_t *e);

/* issue 19: an R_TEXT reply read where it arrived: data points into frame
 * (owned), so an answer of megabytes is not copied out of the bus. */
typedef struct {
    zframe_t   *frame;
    const char *data;
    size_t      len;
} hb_bus_text_t;

/* hb_bus_call for a request answered with R_TEXT: 0 with *out filled
 * (free it with hb_bus_text_free), or -1 with e (R_ERROR, or a reply that
 * is not R_TEXT). */
int  hb_bus_call_text(const char *endpoint, hb_msg_t *req, hb_bus_text_t *out,
                      int64_t timeout_ms, hb_err_t *e);
void hb_bus_text_free(hb_bus_text_t *t);

/* After SIGTERM: calls still waiting at deadline_ms (CLOCK_MONOTONIC ms)
 * give up with HB_E_UNAVAIL, so civetweb can stop within a bound. This
 * deadline is the one piece of state threads share outside messages: an
 * atomic written once by the main thread. */
void    hb_bus_set_deadline(int64_t deadline_ms);
int64_t hb_bus_deadline(void);
int64_t hb_now_ms(void);   /* CLOCK_MONOTONIC */

#endif
