/* A webhook URL's queue and retry policy (see webhook_target.h). */
#include "webhook_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hb_wh_event_t *hb_wh_event_new(const char *id, const char *type, const char *body, size_t len,
                               int64_t now)
{
    hb_wh_event_t *ev = malloc(sizeof *ev + len + 1);
    if (!ev)
        return NULL;
    ev->ref = 1;
    ev->queued_ms = now;
    ev->len = len;
    snprintf(ev->id, sizeof ev->id, "%s", id);
    snprintf(ev->type, sizeof ev->type, "%s", type);
    memcpy(ev->body, body, len);
    ev->body[len] = '\0';
    return ev;
}

void hb_wh_event_unref(hb_wh_event_t *ev)
{
    if (ev && --ev->ref == 0)
        free(ev);
}

int hb_wh_target_init(hb_wh_target_t *t, const char *url)
{
    memset(t, 0, sizeof *t);
    if (!(t->url = strdup(url)))
        return -1;
    hb_webhook_url_origin(url, t->origin, sizeof t->origin);
    return 0;
}

/* ---- the ring ---- */

static hb_wh_event_t *pop(hb_wh_target_t *t)
{
    hb_wh_event_t *ev = t->q[t->head];
    t->q[t->head] = NULL;
    t->head = (t->head + 1) % HB_WEBHOOK_QUEUE_MAX;
    t->n--;
    t->bytes -= ev->len;
    return ev;
}

static void unpop(hb_wh_target_t *t, hb_wh_event_t *ev)
{
    t->head = (t->head + HB_WEBHOOK_QUEUE_MAX - 1) % HB_WEBHOOK_QUEUE_MAX;
    t->q[t->head] = ev;
    t->n++;
    t->bytes += ev->len;
}

void hb_wh_target_free(hb_wh_target_t *t)
{
    while (t->n)
        hb_wh_event_unref(pop(t));
    free(t->url);
    t->url = NULL;
}

/* The oldest event not in flight leaves the queue; false if there is none. */
static bool drop_oldest(hb_wh_target_t *t)
{
    if (t->n <= (t->busy ? 1u : 0u))
        return false;
    hb_wh_event_t *in_flight = t->busy ? pop(t) : NULL;
    hb_wh_event_unref(pop(t));
    if (in_flight)
        unpop(t, in_flight);
    else
        t->attempts = 0;   /* a new head: its own first attempt */
    return true;
}

int hb_wh_target_push(hb_wh_target_t *t, hb_wh_event_t *ev, hb_webhook_stats_t *st)
{
    int dropped = 0;
    while (t->n == HB_WEBHOOK_QUEUE_MAX ||
           (t->n > 0 && t->bytes + ev->len > HB_WEBHOOK_QUEUE_BYTES)) {
        if (!drop_oldest(t))
            break;
        dropped++;
    }
    st->dropped += (uint64_t)dropped;
    if (t->n == HB_WEBHOOK_QUEUE_MAX) {   /* only the one in flight and it is full: cannot be */
        st->dropped++;
        return dropped + 1;
    }
    ev->ref++;
    t->q[(t->head + t->n) % HB_WEBHOOK_QUEUE_MAX] = ev;
    t->n++;
    t->bytes += ev->len;
    return dropped;
}

/* ---- attempts ---- */

static bool too_old(const hb_wh_event_t *ev, int64_t now)
{
    return now - ev->queued_ms >= HB_WEBHOOK_GIVE_UP_MS;
}

hb_wh_event_t *hb_wh_target_next(hb_wh_target_t *t, hb_webhook_stats_t *st, int64_t now)
{
    if (t->busy || now < t->next_ms)
        return NULL;
    /* while the URL fails, what is past its time fails without an attempt */
    while (t->n && t->failures > 0 && t->attempts == 0 && too_old(t->q[t->head], now)) {
        hb_wh_event_unref(pop(t));
        st->failed++;
    }
    if (!t->n)
        return NULL;
    if (t->attempts++ > 0)
        st->retries++;
    t->busy = true;
    return t->q[t->head];
}

int64_t hb_wh_target_wait(const hb_wh_target_t *t, int64_t now)
{
    if (t->busy || !t->n)
        return -1;
    return t->next_ms > now ? t->next_ms - now : 0;
}

static int64_t backoff_ms(int failures)
{
    int64_t ms = HB_WEBHOOK_BACKOFF_MIN_MS;
    for (int i = 1; i < failures && ms < HB_WEBHOOK_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < HB_WEBHOOK_BACKOFF_MAX_MS ? ms : HB_WEBHOOK_BACKOFF_MAX_MS;
}

void hb_wh_target_done(hb_wh_target_t *t, bool ok, hb_webhook_stats_t *st, int64_t now)
{
    if (!t->busy || !t->n)
        return;
    t->busy = false;
    if (ok) {
        hb_wh_event_unref(pop(t));
        st->delivered++;
        t->attempts = t->failures = 0;
        t->next_ms = 0;
        return;
    }
    t->failures++;
    t->next_ms = now + backoff_ms(t->failures);
    if (too_old(t->q[t->head], now)) {
        hb_wh_event_unref(pop(t));
        st->failed++;
        t->attempts = 0;
    }
}

/* ---- log rate limits ---- */

bool hb_wh_target_log_failure(hb_wh_target_t *t, int64_t now, uint64_t *since)
{
    if (t->log_ms && now - t->log_ms < HB_WEBHOOK_LOG_EVERY_MS) {
        t->unlogged++;
        return false;
    }
    *since = t->unlogged;
    t->unlogged = 0;
    t->log_ms = now;
    return true;
}

bool hb_wh_target_log_drops(hb_wh_target_t *t, int dropped, int64_t now, uint64_t *since)
{
    t->drops_unlogged += (uint64_t)dropped;
    if (t->drop_log_ms && now - t->drop_log_ms < HB_WEBHOOK_LOG_EVERY_MS)
        return false;
    *since = t->drops_unlogged;
    t->drops_unlogged = 0;
    t->drop_log_ms = now;
    return true;
}
