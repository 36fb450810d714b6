/* GET /api/v1/events pieces: msgpack -> JSON (gateway/ev_json.c), the
 * ?topics= filter (gateway/ev_topics.c) and the relay's bounded per-stream
 * queues (gateway/ev_hub.c) against a real PUB socket. */
#include <criterion/criterion.h>
#include <czmq.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev_hub.h"
#include "ev_json.h"
#include "ev_topics.h"

static void pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

Test(ev_json, a_map_keeps_its_keys_and_values)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    pack_str(&pk, "t");
    pack_str(&pk, "exec.finished");
    pack_str(&pk, "exit_code");
    msgpack_pack_int(&pk, -3);
    pack_str(&pk, "oom_killed");
    msgpack_pack_false(&pk);
    pack_str(&pk, "tag");
    msgpack_pack_nil(&pk);
    pack_str(&pk, "cpus");
    msgpack_pack_double(&pk, 1.5);
    pack_str(&pk, "list");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_uint64(&pk, 18446744073709551615ull);
    hb_err_t e = {0};
    size_t len = 0;
    char *j = hb_ev_json(sb.data, sb.size, &len, &e);
    cr_assert_not_null(j, "%s", e.msg);
    cr_assert_str_eq(j, "{\"t\":\"exec.finished\",\"exit_code\":-3,\"oom_killed\":false,"
                        "\"tag\":null,\"cpus\":1.5,\"list\":[1.8446744073709552e19]}");
    cr_assert_eq(len, strlen(j));
    free(j);
    msgpack_sbuffer_destroy(&sb);
}

static char *convert(const char *bytes, size_t n, hb_err_t *e)
{
    return hb_ev_json(bytes, n, NULL, e);
}

Test(ev_json, refuses_what_json_cannot_carry)
{
    hb_err_t e = {0};
    cr_assert_null(convert("\x91\x01", 2, &e));                 /* an array, not a map */
    cr_assert_null(convert("\x81\x01\x01", 3, &e));             /* an int key */
    cr_assert_null(convert("\x81\xa1k\xa2\xff\xfe", 6, &e));    /* not UTF-8 */
    cr_assert_null(convert("\x81\xa1k\xc4\x01x", 6, &e));       /* binary */
    cr_assert_null(convert("\x80\x80", 2, &e));                 /* two maps */
    cr_assert_null(convert("\x81\xa1k", 3, &e));                /* cut short */
    cr_assert_eq(e.code, HB_E_INVALID);
    char *j = convert("\x80", 1, &e);
    cr_assert_str_eq(j, "{}");
    free(j);
}

Test(ev_json, depth_is_bounded)
{
    char buf[64];
    size_t n = 0;
    for (int d = 0; d < HB_EV_DEPTH_MAX; d++) {   /* maps {"k": {"k": ...}} */
        buf[n++] = (char)0x81;
        buf[n++] = (char)0xa1;
        buf[n++] = 'k';
    }
    buf[n++] = 0x01;
    hb_err_t e = {0};
    char *j = convert(buf, n, &e);
    cr_assert_null(j, "%d levels are too deep", HB_EV_DEPTH_MAX + 1);
    cr_assert(strstr(e.msg, "deeper"), "%s", e.msg);
    j = convert(buf + 3, n - 3, &e);   /* one level less: fits */
    cr_assert_not_null(j, "%s", e.msg);
    free(j);
}

Test(ev_topics, parse_and_match)
{
    hb_ev_topics_t t;
    hb_err_t e = {0};
    cr_assert_eq(hb_ev_topics_parse(NULL, &t, &e), 0);
    cr_assert(hb_ev_topics_match(&t, "metrics.sample"));
    cr_assert_eq(hb_ev_topics_parse("sandbox.,exec.finished", &t, &e), 0);
    cr_assert_eq(t.n, 2);
    cr_assert(hb_ev_topics_match(&t, "sandbox.created"));
    cr_assert(hb_ev_topics_match(&t, "exec.finished"));
    cr_assert_not(hb_ev_topics_match(&t, "process.started"));
    cr_assert_not(hb_ev_topics_match(&t, "metrics.sample"));
    const char *bad[] = {"", ",", "a,", ",a", "a,,b", "a b", "a\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(hb_ev_topics_parse(bad[i], &t, &e), -1, "'%s'", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "topics:", 7) == 0, "%s", e.msg);
    }
    char many[256] = "", longp[80];
    for (int i = 0; i <= HB_EV_TOPICS_MAX; i++)
        strcat(many, i ? ",p" : "p");
    cr_assert_eq(hb_ev_topics_parse(many, &t, &e), -1);
    memset(longp, 'x', HB_EV_TOPIC_MAX + 1);
    longp[HB_EV_TOPIC_MAX + 1] = '\0';
    cr_assert_eq(hb_ev_topics_parse(longp, &t, &e), -1);
    longp[HB_EV_TOPIC_MAX] = '\0';
    cr_assert_eq(hb_ev_topics_parse(longp, &t, &e), 0);
}

static void publish(zsock_t *pub, const char *topic, int i)
{
    char body[32];
    int n = snprintf(body, sizeof body, "\x81\xa1i%c", (char)(i & 0x7f));   /* {"i": i} */
    zmsg_t *m = zmsg_new();
    zmsg_addstr(m, topic);
    zmsg_addmem(m, body, (size_t)n);
    zmsg_send(&m, pub);
}

Test(ev_hub, a_full_queue_drops_the_oldest_and_says_how_many)
{
    zsock_t *pub = zsock_new_pub("inproc://ev-hub-test");
    cr_assert_not_null(pub);
    zsock_set_sndhwm(pub, 100000);
    hb_err_t e = {0};
    hb_ev_hub_t *h = hb_ev_hub_start("inproc://ev-hub-test", &e);
    cr_assert_not_null(h, "%s", e.msg);
    hb_ev_topics_t all = {0}, only;
    hb_ev_topics_parse("exec.", &only, &e);
    hb_ev_client_t *a = hb_ev_join(h, &all, &e), *b = hb_ev_join(h, &only, &e);
    cr_assert(a && b);
    usleep(300 * 1000);   /* the relay's subscription reaches the PUB */
    int total = HB_EV_QUEUE_MAX + 44;
    for (int i = 0; i < total; i++)
        publish(pub, i % 2 ? "exec.finished" : "sandbox.created", i);
    usleep(500 * 1000);
    hb_ev_t *ev = NULL;
    uint64_t dropped = 0;
    cr_assert_eq(hb_ev_next(a, 1000, &ev, &dropped), 1);
    cr_assert_eq(dropped, 44, "dropped %lu", (unsigned long)dropped);
    cr_assert(strstr(ev->text, "event: sandbox.created\ndata: {\"i\":44}\n\n"), "%s", ev->text);
    hb_ev_unref(ev);
    cr_assert_eq(hb_ev_next(a, 1000, &ev, &dropped), 1);
    cr_assert_eq(dropped, 0);
    hb_ev_unref(ev);
    /* b took the exec. half only: it fits */
    cr_assert_eq(hb_ev_next(b, 1000, &ev, &dropped), 1);
    cr_assert_eq(dropped, 0);
    cr_assert(strstr(ev->text, "event: exec.finished\ndata: {\"i\":1}\n\n"), "%s", ev->text);
    hb_ev_unref(ev);
    hb_ev_leave(b);
    cr_assert_eq(hb_ev_streams(h), 1);
    hb_ev_hub_stop(h);
    cr_assert_eq(hb_ev_next(a, 1000, &ev, &dropped), -1);
    hb_ev_leave(a);
    hb_ev_hub_free(h);
    zsock_destroy(&pub);
}

Test(ev_hub, the_65th_stream_is_refused)
{
    zsock_t *pub = zsock_new_pub("inproc://ev-hub-limit");
    hb_err_t e = {0};
    hb_ev_hub_t *h = hb_ev_hub_start("inproc://ev-hub-limit", &e);
    cr_assert_not_null(h, "%s", e.msg);
    hb_ev_topics_t all = {0};
    hb_ev_client_t *c[HB_EV_STREAMS_MAX];
    for (int i = 0; i < HB_EV_STREAMS_MAX; i++)
        cr_assert_not_null(c[i] = hb_ev_join(h, &all, &e));
    cr_assert_null(hb_ev_join(h, &all, &e));
    cr_assert_eq(e.code, HB_E_LIMIT);
    hb_ev_leave(c[3]);
    cr_assert_not_null(c[3] = hb_ev_join(h, &all, &e));
    for (int i = 0; i < HB_EV_STREAMS_MAX; i++)
        hb_ev_leave(c[i]);
    hb_ev_hub_stop(h);
    hb_ev_hub_free(h);
    zsock_destroy(&pub);
}
