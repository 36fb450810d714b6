/* The metrics actor on its own thread: a sandbox's USAGE shows in the next
 * sample, on the event feed and in the analytics answer; an event sent to
 * it goes out on the feed as it came; a taken events endpoint is a setup
 * error. */
#include <criterion/criterion.h>

#include "fake_peer.h"
#include "metrics.h"
#include "json_out.h"   /* issue 19: the answer as rendered before */

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};
#define EVENTS "inproc://t-events"

/* The next [topic, body] on the feed within timeout_ms; NULL if none. */
static zmsg_t *next_event(zsock_t *sub, int timeout_ms)
{
    zpoller_t *p = zpoller_new(sub, NULL);
    zmsg_t *m = zpoller_wait(p, timeout_ms) == sub ? zmsg_recv(sub) : NULL;
    zpoller_destroy(&p);
    return m;
}

static zmsg_t *expect_topic(zsock_t *sub, const char *topic, int timeout_ms)
{
    int64_t until = hb_now_ms() + timeout_ms;
    while (hb_now_ms() < until) {
        zmsg_t *m = next_event(sub, (int)(until - hb_now_ms()));
        if (!m)
            break;
        char *t = zmsg_popstr(m);
        bool match = t && strcmp(t, topic) == 0;
        free(t);
        if (match)
            return m;
        zmsg_destroy(&m);
    }
    cr_assert_fail("no %s event", topic);
    return NULL;
}

Test(metrics, usage_reaches_the_sample_the_feed_and_analytics, .timeout = 15)
{
    hb_metrics_args_t a = {.ep = EP, .events = EVENTS};
    hb_err_t e = {0};
    zactor_t *met = hb_metrics_new(&a, &e);
    cr_assert_not_null(met, "%s", e.msg);
    zsock_t *sub = zsock_new_sub(EVENTS, "");
    cr_assert_not_null(sub);
    zclock_sleep(100);   /* the subscription reaches the PUB */

    zsock_t *to = hb_bus_pusher(EP.metrics);
    hb_sample_sb_t one = {.id = "box", .memory_bytes = 42, .pids = 3};
    hb_msg_t u = {.type = HB_MSG_USAGE, .id = "box", .usage = &one, .usage_n = 1};
    cr_assert_eq(hb_bus_send(to, &u), 0);
    hb_msg_t ev = {.type = HB_MSG_EV_DESTROYED, .id = "gone", .reason = "deleted",
                   .timestamp = 7};
    cr_assert_eq(hb_bus_send(to, &ev), 0);

    zmsg_t *relayed = expect_topic(sub, "sandbox.destroyed", 2000);
    zframe_t *body = zmsg_first(relayed);
    hb_msg_t got;
    cr_assert_eq(hb_msg_decode(zframe_data(body), zframe_size(body), &got), 0);
    cr_assert_str_eq(got.id, "gone");
    cr_assert_eq(got.timestamp, 7);
    hb_msg_clear(&got);
    zmsg_destroy(&relayed);

    zmsg_t *sample = expect_topic(sub, "metrics.sample", 5000);   /* the first comes at 2 s */
    hb_sample_t s;
    body = zmsg_first(sample);
    cr_assert_eq(hb_sample_decode(zframe_data(body), zframe_size(body), &s), 0);
    cr_assert_eq(s.sandbox_count, 1);
    cr_assert_str_eq(s.sandboxes[0].id, "box");
    cr_assert_eq(s.sandboxes[0].memory_bytes, 42);
    cr_assert_gt(s.host_memory_total, 0);
    hb_sample_clear(&s);
    zmsg_destroy(&sample);

    hb_msg_t q = {.type = HB_MSG_ANALYTICS}, rep;
    cr_assert_eq(hb_bus_call(EP.metrics, &q, &rep, 2000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep.type, HB_MSG_R_SAMPLES);
    cr_assert_eq(rep.samples_n, 1);
    cr_assert_str_eq(rep.samples[0].sandboxes[0].id, "box");
    /* issue 19: the rendered answer is that one, byte for byte, asked twice
     * (the second from the kept text), and within a range too */
    json_t *ref = hb_json_samples(&rep, HB_METRICS_INTERVAL_S);
    char *want = hb_json_text(ref, NULL);
    json_decref(ref);
    hb_msg_clear(&rep);
    hb_msg_clear(&q);
    for (int i = 0; i < 3; i++) {
        hb_msg_t t = {.type = HB_MSG_ANALYTICS_TEXT, .range_s = i == 2 ? 3600 : 0};
        cr_assert_eq(hb_bus_call(EP.metrics, &t, &rep, 2000, &e), 0, "%s", e.msg);
        cr_assert_eq(rep.type, HB_MSG_R_TEXT);
        char *text = strndup(rep.text.data, rep.text.len);
        cr_assert_eq(rep.text.len, strlen(want), "%zu bytes, want %zu", rep.text.len, strlen(want));
        cr_assert_str_eq(text, want);
        free(text);
        hb_msg_clear(&rep);
        hb_msg_clear(&t);
    }
    free(want);

    zsock_destroy(&to);
    zsock_destroy(&sub);
    zactor_destroy(&met);
}

Test(metrics, a_taken_events_endpoint_is_a_setup_error, .timeout = 10)
{
    zsock_t *squatter = zsock_new_pub(EVENTS);
    cr_assert_not_null(squatter);
    hb_metrics_args_t a = {.ep = EP, .events = EVENTS};
    hb_err_t e = {0};
    cr_assert_null(hb_metrics_new(&a, &e));
    cr_assert(strstr(e.msg, "metrics: events: cannot bind " EVENTS), "%s", e.msg);
    zsock_destroy(&squatter);
}
