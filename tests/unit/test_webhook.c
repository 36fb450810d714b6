/* Webhooks (actors/webhook*.c): the signature against a known vector, the
 * URL and settings checks, the body, the per-URL retry and drop policy with
 * injected times, the /metrics section, and the actor answering
 * METRICS_TEXT on its own thread. Deliveries themselves are end-to-end
 * tested (tests/e2e/test_webhooks.py). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <msgpack.h>
#include <string.h>

#include "webhook.h"
#include "webhook_payload.h"
#include "webhook_sign.h"
#include "webhook_stats.h"
#include "webhook_target.h"
#include "webhook_url.h"

/* ---- signature ---- */

Test(webhook, signature_is_hmac_sha256_of_t_dot_body)
{
    char sig[HB_WEBHOOK_SIG_MAX];
    const char *body = "{\"a\":1}";
    cr_assert_eq(hb_webhook_sign("whsec_test", 1700000000, body, strlen(body), sig, sizeof sig),
                 0);
    /* python3: hmac.new(b"whsec_test", b"1700000000." + b'{"a":1}', hashlib.sha256) */
    cr_assert_str_eq(sig, "t=1700000000,v1="
                          "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
    char other[HB_WEBHOOK_SIG_MAX];
    hb_webhook_sign("whsec_tesT", 1700000000, body, strlen(body), other, sizeof other);
    cr_assert_str_neq(sig, other, "another secret, the same signature");
    hb_webhook_sign("whsec_test", 1700000001, body, strlen(body), other, sizeof other);
    cr_assert_str_neq(sig + 13, other + 13, "the time is not signed");
    cr_assert_eq(hb_webhook_sign("k", 1, body, 7, other, 10), -1, "a short buffer is refused");
}

/* ---- URLs and settings ---- */

Test(webhook, url_check)
{
    static const char *const good[] = {"http://127.0.0.1:8080/hook?token=x",
                                       "https://example.com", "HTTPS://Example.com/a/b#frag",
                                       "http://[::1]:9/x"};
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"", "empty"},
        {"ftp://example.com/x", "scheme"},
        {"gopher://example.com/", "scheme"},
        {"http://exa mple.com/", "blank"},
        {"http://example.com/\t", "blank"},
        {"not a url", "blank"},
        {"example.com/hook", "not a URL"},
        {"https://", "not a URL"},
        {"http://:80/x", "not a URL"},
    };
    char why[128];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        cr_assert_eq(hb_webhook_url_check(good[i], why, sizeof why), 0, "%s: %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(hb_webhook_url_check(bad[i].url, why, sizeof why), -1, "%s", bad[i].url);
        cr_assert(strstr(why, bad[i].why), "%s: %s", bad[i].url, why);
    }
    char longer[HB_WEBHOOK_URL_MAX + 16] = "http://example.com/";
    memset(longer + strlen(longer), 'a', sizeof longer - strlen(longer) - 1);
    longer[sizeof longer - 1] = '\0';
    cr_assert_eq(hb_webhook_url_check(longer, why, sizeof why), -1);
    cr_assert(strstr(why, "longer than 2048"), "%s", why);
}

Test(webhook, origin_keeps_no_user_path_or_query)
{
    char o[HB_WEBHOOK_ORIGIN_MAX];
    hb_webhook_url_origin("https://user:pw@Example.com:8443/p/q?token=s3cret#f", o, sizeof o);
    cr_assert_str_eq(o, "https://Example.com:8443");
    hb_webhook_url_origin("http://127.0.0.1/x?k=v", o, sizeof o);
    cr_assert_str_eq(o, "http://127.0.0.1");
}

Test(webhook, settings_check_names_the_flag)
{
    hb_cfg_LIST l = {.n = 2, .item = {"http://a.example/", "ftp://b.example/?token=zz"}};
    char err[256];
    cr_assert_eq(hb_webhook_settings_check(&l, "s", err, sizeof err), -1);
    cr_assert(strstr(err, "--webhook (HIVEBOX_WEBHOOK): URL 2 of 2: the scheme"), "%s", err);
    cr_assert_null(strstr(err, "zz"), "the URL (and its token) is not echoed: %s", err);
    l.n = 1;
    cr_assert_eq(hb_webhook_settings_check(&l, "s", err, sizeof err), 0, "%s", err);
    cr_assert_eq(hb_webhook_settings_check(&l, NULL, err, sizeof err), -1);
    cr_assert(strstr(err, "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): required"), "%s", err);
    cr_assert_eq(hb_webhook_settings_check(&l, "", err, sizeof err), -1);
    cr_assert(strstr(err, "--webhook-secret (HIVEBOX_WEBHOOK_SECRET): empty"), "%s", err);
    l.n = 0;
    cr_assert_eq(hb_webhook_settings_check(&l, "s", err, sizeof err), 0, "secret alone: a warning");
    cr_assert_eq(hb_webhook_settings_check(&l, NULL, err, sizeof err), 0);
}

/* ---- the body ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

Test(webhook, body_wraps_the_event_map)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    pack_str(&pk, "t");
    pack_str(&pk, "sandbox.destroyed");
    pack_str(&pk, "id");
    pack_str(&pk, "demo");
    pack_str(&pk, "reason");
    pack_str(&pk, "deleted");
    char id[HB_WEBHOOK_ID_MAX], id2[HB_WEBHOOK_ID_MAX];
    cr_assert_eq(hb_webhook_new_id(id), 0);
    cr_assert_eq(hb_webhook_new_id(id2), 0);
    cr_assert_eq(strlen(id), 28);
    cr_assert_eq(strncmp(id, "evt_", 4), 0);
    cr_assert_str_neq(id, id2);
    hb_err_t e = {0};
    size_t len = 0;
    char *body = hb_webhook_body(id, "sandbox.destroyed", 1700000000, sb.data, sb.size, &len, &e);
    cr_assert_not_null(body, "%s", e.msg);
    cr_assert_eq(len, strlen(body));
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    cr_assert_not_null(j, "%s: %s", body, je.text);
    cr_assert_str_eq(json_string_value(json_object_get(j, "id")), id);
    cr_assert_str_eq(json_string_value(json_object_get(j, "type")), "sandbox.destroyed");
    cr_assert_eq(json_integer_value(json_object_get(j, "timestamp")), 1700000000);
    json_t *data = json_object_get(j, "data");
    cr_assert_str_eq(json_string_value(json_object_get(data, "id")), "demo");
    cr_assert_str_eq(json_string_value(json_object_get(data, "reason")), "deleted");
    cr_assert_eq(json_object_size(j), 4);
    json_decref(j);
    free(body);
    cr_assert_null(hb_webhook_body(id, "x", 1, "\x01", 1, &len, &e), "not a map");
    msgpack_sbuffer_destroy(&sb);
    cr_assert(hb_webhook_wanted(HB_MSG_EV_CREATED) && hb_webhook_wanted(HB_MSG_EV_PROC_EXITED) &&
              hb_webhook_wanted(HB_MSG_EV_OOM) && hb_webhook_wanted(HB_MSG_EV_FAILED));
    cr_assert(!hb_webhook_wanted(HB_MSG_EV_EXEC) && !hb_webhook_wanted(HB_MSG_EV_PROC_STARTED));
}

/* ---- the retry and drop policy ---- */

static hb_wh_event_t *event(const char *id, int64_t now)
{
    hb_wh_event_t *ev = hb_wh_event_new(id, "sandbox.created", "{}", 2, now);
    cr_assert_not_null(ev);
    return ev;
}

static void push(hb_wh_target_t *t, hb_webhook_stats_t *st, const char *id, int64_t now)
{
    hb_wh_event_t *ev = event(id, now);
    hb_wh_target_push(t, ev, st);
    hb_wh_event_unref(ev);
}

Test(webhook, in_order_with_backoff_per_url)
{
    hb_wh_target_t t;
    hb_webhook_stats_t st = {0};
    cr_assert_eq(hb_wh_target_init(&t, "http://127.0.0.1/x?token=1"), 0);
    cr_assert_str_eq(t.origin, "http://127.0.0.1");
    int64_t now = 1000000;
    cr_assert_eq(hb_wh_target_wait(&t, now), -1, "empty");
    push(&t, &st, "a", now);
    push(&t, &st, "b", now);
    hb_wh_event_t *ev = hb_wh_target_next(&t, &st, now);
    cr_assert_str_eq(ev->id, "a");
    cr_assert_null(hb_wh_target_next(&t, &st, now), "one in flight per URL");
    cr_assert_eq(hb_wh_target_wait(&t, now), -1, "busy");
    /* failures: 1 s, 2 s, 4 s ... 60 s; the same event each time, first */
    int64_t expect[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++) {
        hb_wh_target_done(&t, false, &st, now);
        cr_assert_eq(hb_wh_target_wait(&t, now), expect[i], "failure %zu", i + 1);
        cr_assert_null(hb_wh_target_next(&t, &st, now + expect[i] - 1));
        now += expect[i];
        ev = hb_wh_target_next(&t, &st, now);
        cr_assert_str_eq(ev->id, "a");
    }
    cr_assert_eq(st.retries, 8);
    hb_wh_target_done(&t, true, &st, now);
    cr_assert_eq(st.delivered, 1);
    cr_assert_eq(hb_wh_target_wait(&t, now), 0, "a 2xx resets the backoff");
    ev = hb_wh_target_next(&t, &st, now);
    cr_assert_str_eq(ev->id, "b");
    hb_wh_target_done(&t, true, &st, now);
    cr_assert_eq(st.delivered, 2);
    cr_assert_eq(st.retries, 8, "b went first time");
    cr_assert_eq(t.n, 0);
    hb_wh_target_free(&t);
}

Test(webhook, gives_up_after_ten_minutes)
{
    hb_wh_target_t t;
    hb_webhook_stats_t st = {0};
    hb_wh_target_init(&t, "http://127.0.0.1/");
    int64_t now = 5000;
    push(&t, &st, "old", now);
    push(&t, &st, "old2", now + 1000);
    push(&t, &st, "young", now + HB_WEBHOOK_GIVE_UP_MS - 1000);
    while (st.failed == 0) {
        hb_wh_event_t *ev = hb_wh_target_next(&t, &st, now);
        cr_assert_not_null(ev);
        cr_assert_str_eq(ev->id, "old");
        hb_wh_target_done(&t, false, &st, now);
        now = t.next_ms;
    }
    cr_assert_geq(now - 5000, HB_WEBHOOK_GIVE_UP_MS, "not before its time");
    cr_assert_lt(now - 5000, HB_WEBHOOK_GIVE_UP_MS + 2 * HB_WEBHOOK_BACKOFF_MAX_MS);
    /* the URL still fails: old2 is past its time too, and fails unattempted */
    hb_wh_event_t *ev = hb_wh_target_next(&t, &st, now);
    cr_assert_eq(st.failed, 2);
    cr_assert_str_eq(ev->id, "young");
    hb_wh_target_done(&t, true, &st, now);
    cr_assert_eq(st.delivered, 1);
    hb_wh_target_free(&t);
}

Test(webhook, a_full_queue_drops_the_oldest_waiting)
{
    hb_wh_target_t t;
    hb_webhook_stats_t st = {0};
    hb_wh_target_init(&t, "http://127.0.0.1/");
    char id[16];
    for (int i = 0; i < HB_WEBHOOK_QUEUE_MAX; i++) {
        snprintf(id, sizeof id, "e%d", i);
        push(&t, &st, id, 0);
    }
    hb_wh_event_t *first = hb_wh_target_next(&t, &st, 0);
    cr_assert_str_eq(first->id, "e0");
    hb_wh_event_t *ev = event("new", 0);
    cr_assert_eq(hb_wh_target_push(&t, ev, &st), 1);
    hb_wh_event_unref(ev);
    cr_assert_eq(st.dropped, 1);
    cr_assert_eq(t.n, HB_WEBHOOK_QUEUE_MAX);
    cr_assert_str_eq(t.q[t.head]->id, "e0", "the one in flight stays");
    hb_wh_target_done(&t, true, &st, 0);
    cr_assert_str_eq(hb_wh_target_next(&t, &st, 0)->id, "e2", "e1 was dropped");
    hb_wh_target_done(&t, true, &st, 0);
    uint64_t since = 0;
    cr_assert(hb_wh_target_log_drops(&t, 1, 1000, &since));
    cr_assert_eq(since, 1);
    cr_assert_not(hb_wh_target_log_drops(&t, 3, 2000, &since), "rate limited");
    cr_assert(hb_wh_target_log_drops(&t, 1, 1000 + HB_WEBHOOK_LOG_EVERY_MS, &since));
    cr_assert_eq(since, 4);
    hb_wh_target_free(&t);
}

/* ---- /metrics ---- */

Test(webhook, stats_text)
{
    hb_webhook_stats_t st = {.delivered = 5, .failed = 2, .dropped = 1, .retries = 9,
                             .queued = 3, .endpoints = 2};
    char *text = hb_webhook_stats_text(&st);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "# TYPE hivebox_webhook_deliveries_total counter\n"));
    cr_assert(strstr(text, "hivebox_webhook_deliveries_total{outcome=\"delivered\"} 5\n"));
    cr_assert(strstr(text, "hivebox_webhook_deliveries_total{outcome=\"failed\"} 2\n"));
    cr_assert(strstr(text, "hivebox_webhook_deliveries_total{outcome=\"dropped\"} 1\n"));
    cr_assert(strstr(text, "hivebox_webhook_retries_total 9\n"));
    cr_assert(strstr(text, "# TYPE hivebox_webhook_queue_length gauge\nhivebox_webhook_queue_length"
                           " 3\n"));
    cr_assert(strstr(text, "hivebox_webhook_endpoints 2\n"));
    free(text);
}

Test(webhook, the_actor_answers_metrics_text_without_urls, .timeout = 10)
{
    hb_cfg_LIST none = {0};
    hb_webhook_args_t a = {.ep = {.webhook = "inproc://t-webhook"}, .events = "inproc://t-ev",
                           .urls = &none};
    hb_err_t e = {0};
    zactor_t *w = hb_webhook_new(&a, &e);
    cr_assert_not_null(w, "%s", e.msg);
    hb_msg_t q = {.type = HB_MSG_METRICS_TEXT}, rep = {0};
    cr_assert_eq(hb_bus_call("inproc://t-webhook", &q, &rep, 5000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep.type, HB_MSG_R_TEXT);
    char *text = strndup(rep.text.data, rep.text.len);
    cr_assert_not_null(text);
    cr_assert(strstr(text, "hivebox_webhook_endpoints 0\n"), "%s", text);
    cr_assert(strstr(text, "hivebox_webhook_queue_length 0\n"), "%s", text);
    free(text);
    hb_msg_clear(&rep);
    hb_msg_clear(&q);
    zactor_destroy(&w);
}
