/* GET /api/v1/events: the daemon's event feed as server-sent events
 * (schemas/events.md "Server-sent events"):
 *
 *   id: N  event: <topic>  data: <the event's map as JSON>
 *   event: dropped         data: {"count": n}  (this client's queue overflowed)
 *
 * The relay (ev_hub.h) queues events for this stream; this worker writes
 * them out. While quiet, a comment every TICK_MS probes the client, so one
 * that left frees its worker and its slot within a tick. */
#include "gw_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ev_hub.h"
#include "query.h"
#include "sse_out.h"

#define TICK_MS (15 * 1000)
/* The longest ?topics= value: every prefix at its longest, with commas. */
#define TOPICS_VALUE_MAX (HB_EV_TOPICS_MAX * (HB_EV_TOPIC_MAX + 1))

static int put(struct mg_connection *c, const char *text, size_t len)
{
    return mg_send_chunk(c, text, (unsigned)len) > 0 ? 0 : -1;
}

static int put_dropped(struct mg_connection *c, uint64_t count)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "event: dropped\ndata: {\"count\":%" PRIu64 "}\n\n", count);
    return put(c, buf, (size_t)n);
}

static int parse_topics(const hb_req_t *r, hb_ev_topics_t *t, hb_err_t *e)
{
    char val[TOPICS_VALUE_MAX + 2];
    size_t len = 0;
    int f = hb_query_param(r->ri->query_string, "topics", val, sizeof val, &len);
    if (f < 0)
        return hb_fail(e, HB_E_INVALID, 0, "topics: malformed or longer than %d bytes",
                       TOPICS_VALUE_MAX);
    if (f == 1 && strlen(val) != len)
        return hb_fail(e, HB_E_INVALID, 0, "topics: contains a NUL byte");
    return hb_ev_topics_parse(f == 1 ? val : NULL, t, e);
}

/* Writes events until the client is gone or the daemon stops. */
static void pump(struct mg_connection *c, hb_ev_client_t *cl)
{
    for (;;) {
        hb_ev_t *ev = NULL;
        uint64_t dropped = 0;
        int rc = hb_ev_next(cl, TICK_MS, &ev, &dropped);
        if (rc < 0)
            return;
        if (rc == 0) {
            if (put(c, ": tick\n\n", 8) < 0)
                return;
            continue;
        }
        int w = dropped ? put_dropped(c, dropped) : 0;
        if (w == 0)
            w = put(c, ev->text, ev->len);
        hb_ev_unref(ev);
        if (w < 0)
            return;
    }
}

int hb_h_events(hb_req_t *r)
{
    hb_err_t e = {0};
    hb_ev_topics_t topics;
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    if (parse_topics(r, &topics, &e) < 0)
        return hb_reply_err(r, &e);
    if (!r->events) {
        hb_fail(&e, HB_E_UNAVAIL, 0, "the event feed is not configured in this gateway");
        return hb_reply_err(r, &e);
    }
    hb_ev_client_t *cl = hb_ev_join(r->events, &topics, &e);
    if (!cl)
        return hb_reply_err(r, &e);
    hb_sse_head(r->c);
    /* a first chunk, so a client knows the stream is open before any event */
    if (put(r->c, ": open\n\n", 9) == 0)
        pump(r->c, cl);
    mg_send_chunk(r->c, "", 0);
    hb_ev_leave(cl);
    return 200;
}
