/* One webhook URL's queue and retry state, owned by the webhook actor.
 *
 * Per URL, events go out one at a time in the order they happened: the
 * queue's head is attempted, and only a 2xx (or giving up on it) lets the
 * next one go. A failure backs off the URL, not just the event: 1 s, 2 s,
 * 4 s ... 60 s between attempts; a 2xx resets it. An event is failed (not
 * retried again) once HB_WEBHOOK_GIVE_UP_MS passed since it was queued and
 * the URL still fails; the next one in the queue is attempted after the
 * backoff, unless it is that old too: while the URL fails, an event past
 * its time fails without another attempt (a receiver that was down for an
 * hour gets nothing older than 10 minutes). The queue is bounded in events and bytes:
 * past either, the oldest waiting event is dropped (counted).
 *
 * Times are passed in (hb_now_ms() in the actor), so the policy is unit
 * tested without waiting. */
#ifndef HB_WEBHOOK_TARGET_H
#define HB_WEBHOOK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webhook_payload.h"
#include "webhook_stats.h"
#include "webhook_url.h"

#define HB_WEBHOOK_QUEUE_MAX       1024        /* events waiting per URL */
#define HB_WEBHOOK_QUEUE_BYTES     (4u << 20)  /* and their bodies' bytes */
#define HB_WEBHOOK_BACKOFF_MIN_MS  1000
#define HB_WEBHOOK_BACKOFF_MAX_MS  60000
#define HB_WEBHOOK_GIVE_UP_MS      (10 * 60 * 1000)

/* One event's body, shared by every URL's queue (the actor's thread only:
 * a plain count). */
typedef struct {
    int     ref;
    int64_t queued_ms;
    size_t  len;
    char    id[HB_WEBHOOK_ID_MAX];
    char    type[32];
    char    body[];
} hb_wh_event_t;

/* A new event with one reference, owning a copy of body; NULL on OOM. */
hb_wh_event_t *hb_wh_event_new(const char *id, const char *type, const char *body, size_t len,
                               int64_t now);
void           hb_wh_event_unref(hb_wh_event_t *ev);

typedef struct {
    char           *url;                         /* owned */
    char            origin[HB_WEBHOOK_ORIGIN_MAX];   /* for logs */
    hb_wh_event_t  *q[HB_WEBHOOK_QUEUE_MAX];     /* a ring: q[head] ... n of them */
    size_t          head, n, bytes;
    bool            busy;       /* q[head] is in flight */
    int             attempts;   /* of q[head] so far */
    int             failures;   /* in a row, for the backoff */
    int64_t         next_ms;    /* no attempt before */
    int64_t         log_ms;     /* the last failure logged */
    uint64_t        unlogged;   /* failures since */
    int64_t         drop_log_ms;
    uint64_t        drops_unlogged;
} hb_wh_target_t;

/* t for url (copied); -1 on OOM. */
int  hb_wh_target_init(hb_wh_target_t *t, const char *url);
/* Releases every queued event; the caller has ended an attempt in flight. */
void hb_wh_target_free(hb_wh_target_t *t);

/* Queue ev (takes a reference); full: the oldest waiting one goes
 * (st->dropped). Returns how many were dropped. */
int hb_wh_target_push(hb_wh_target_t *t, hb_wh_event_t *ev, hb_webhook_stats_t *st);

/* The event to attempt now (t becomes busy), or NULL: empty, busy, or
 * backing off. Events past their time while the URL fails are failed here. */
hb_wh_event_t *hb_wh_target_next(hb_wh_target_t *t, hb_webhook_stats_t *st, int64_t now);

/* How long until hb_wh_target_next may give an event: 0 now, -1 never
 * (empty or busy). */
int64_t hb_wh_target_wait(const hb_wh_target_t *t, int64_t now);

/* The attempt in flight ended: ok (a 2xx) or not. */
void hb_wh_target_done(hb_wh_target_t *t, bool ok, hb_webhook_stats_t *st, int64_t now);

/* Rate limit of log lines (one per HB_WEBHOOK_LOG_EVERY_MS per URL and
 * kind): true when this one may be logged; *since is how many were not. */
#define HB_WEBHOOK_LOG_EVERY_MS 30000
bool hb_wh_target_log_failure(hb_wh_target_t *t, int64_t now, uint64_t *since);
bool hb_wh_target_log_drops(hb_wh_target_t *t, int dropped, int64_t now, uint64_t *since);

#endif
