/* The webhook actor: POSTs lifecycle events, signed, to the --webhook URLs.
 *
 * Fed by a ZeroMQ SUB on the daemon's own event feed (the metrics actor's
 * PUB, schemas/events.md), the way the gateway's SSE relay is: no other
 * actor sends it anything or waits for it, and PUB never blocks the metrics
 * actor, so a slow or dead receiver can hold up nothing but its own queue.
 * (A forward from the metrics actor would have put a second send, and this
 * actor's queue bound, on the path every event takes.)
 *
 * One thread: its poll loop waits on its pipe, its inbox, the SUB socket
 * and libcurl's sockets (webhook_http.h). Each URL has its own bounded
 * queue and backoff (webhook_target.h): a dead receiver never delays a live
 * one. The body, headers and signature: webhook_payload.h, webhook_sign.h,
 * docs/observability.md "Webhooks".
 *
 * Always started, also without URLs (then it only answers METRICS_TEXT,
 * with its counters: webhook_stats.h), so /metrics always gets its section.
 * Events still queued when the daemon stops are lost. */
#ifndef HB_WEBHOOK_H
#define HB_WEBHOOK_H

#include "actor.h"
#include "config.h"

#include "version.h"
#define HB_WEBHOOK_USER_AGENT "HiveBox/" HB_VERSION

typedef struct {
    hb_endpoints_t     ep;       /* its inbox: ep.webhook */
    const char        *events;   /* the PUB endpoint it subscribes to */
    const hb_cfg_LIST *urls;     /* checked (webhook_url.h); copied at start */
    const char        *secret;   /* required with urls; copied at start */
} hb_webhook_args_t;

/* args is copied. NULL with *e when it could not set up. */
zactor_t *hb_webhook_new(const hb_webhook_args_t *args, hb_err_t *e);

#endif
