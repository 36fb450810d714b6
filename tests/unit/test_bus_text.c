/* Text replies read in place (issue 19): a large R_TEXT goes out in its
 * encoded buffer and hb_bus_call_text hands back the bytes where they
 * arrived; the bytes are the same as hb_bus_call decodes, below and above
 * the size where the bus stops copying, and an error or a reply that is
 * not text comes back as an error. */
#include <criterion/criterion.h>

#include "fake_peer.h"

#define TEXTER "inproc://t-texter"

/* range_s bytes of a pattern no run of the bus could produce by accident. */
static char *pattern(size_t n)
{
    char *t = malloc(n ? n : 1);
    cr_assert_not_null(t);
    for (size_t i = 0; i < n; i++)
        t[i] = (char)('a' + (i * 7 + i / 251) % 26);
    return t;
}

static void texter_inbox(void *self, hb_msg_t *m, zframe_t *raw)
{
    if (m->type == HB_MSG_ANALYTICS_TEXT) {
        hb_bus_reply_text(m->reply_to, pattern(m->range_s), m->range_s);
    } else if (m->type == HB_MSG_SB_LIST) {
        hb_msg_t r = {.type = HB_MSG_R_SANDBOXES};
        hb_bus_post(m->reply_to, &r);
    } else {
        hb_bus_reply_error(m->reply_to, HB_E_NOTFOUND, "texter: %s", hb_msg_name(m->type));
    }
}

static void texter_actor(zsock_t *pipe, void *args)
{
    hb_err_t e = {0};
    zsock_t *inbox = hb_actor_inbox(TEXTER, &e);
    hb_actor_ready(pipe, inbox ? NULL : &e);
    hb_loop_t l = {.name = "texter", .pipe = pipe, .inbox = inbox, .on_inbox = texter_inbox};
    if (inbox)
        hb_loop_run(&l, NULL, -1);
    zsock_destroy(&inbox);
}

static void same_both_ways(size_t n)
{
    char *want = pattern(n);
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_ANALYTICS_TEXT, .range_s = n}, rep;
    hb_bus_text_t t;
    cr_assert_eq(hb_bus_call_text(TEXTER, &q, &t, 5000, &e), 0, "%s", e.msg);
    hb_msg_clear(&q);
    cr_assert_eq(t.len, n);
    cr_assert_not_null(t.frame);
    cr_assert_eq(memcmp(t.data, want, n), 0, "%zu bytes in place", n);
    hb_bus_text_free(&t);
    cr_assert_null(t.frame);

    hb_msg_t q2 = {.type = HB_MSG_ANALYTICS_TEXT, .range_s = n};
    cr_assert_eq(hb_bus_call(TEXTER, &q2, &rep, 5000, &e), 0, "%s", e.msg);
    hb_msg_clear(&q2);
    cr_assert_eq(rep.type, HB_MSG_R_TEXT);
    cr_assert_eq(rep.text.len, n);
    cr_assert_eq(memcmp(rep.text.data, want, n), 0, "%zu bytes decoded", n);
    hb_msg_clear(&rep);
    free(want);
}

Test(bus_text, small_and_large_texts_arrive_whole_both_ways, .timeout = 20)
{
    hb_err_t e = {0};
    zactor_t *a = hb_actor_start("texter", texter_actor, NULL, &e);
    cr_assert_not_null(a, "%s", e.msg);
    size_t sizes[] = {1, 1000, (64u << 10) - 64, 64u << 10, (64u << 10) + 1, 3u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        same_both_ways(sizes[i]);
    zactor_destroy(&a);
}

Test(bus_text, an_error_or_a_reply_that_is_not_text_is_an_error, .timeout = 20)
{
    hb_err_t e = {0};
    zactor_t *a = hb_actor_start("texter", texter_actor, NULL, &e);
    cr_assert_not_null(a, "%s", e.msg);
    hb_bus_text_t t;
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    cr_assert_eq(hb_bus_call_text(TEXTER, &q, &t, 5000, &e), -1);
    hb_msg_clear(&q);
    cr_assert_eq(e.code, HB_E_NOTFOUND);
    cr_assert_str_eq(e.msg, "texter: sb.get");
    cr_assert_null(t.frame);

    hb_msg_t q2 = {.type = HB_MSG_SB_LIST};
    hb_err_t e2 = {0};
    cr_assert_eq(hb_bus_call_text(TEXTER, &q2, &t, 5000, &e2), -1);
    hb_msg_clear(&q2);
    cr_assert_eq(e2.code, HB_E_INTERNAL);
    cr_assert(strstr(e2.msg, "expected a text reply"), "%s", e2.msg);
    cr_assert_null(t.frame);
    zactor_destroy(&a);
}

Test(bus_text, peek_finds_the_text_of_an_r_text_only)
{
    char body[] = "{\"a\":1}";
    hb_msg_t m = {.type = HB_MSG_R_TEXT, .text = {.data = body, .len = sizeof body - 1}};
    void *buf = NULL;
    size_t len = 0;
    cr_assert_eq(hb_msg_encode(&m, &buf, &len), 0);
    const char *at = NULL;
    size_t n = 0;
    cr_assert_eq(hb_msg_peek_text(buf, len, &at, &n), 0);
    cr_assert_eq(n, sizeof body - 1);
    cr_assert(at > (const char *)buf && at + n <= (const char *)buf + len, "not in place");
    cr_assert_eq(memcmp(at, body, n), 0);
    cr_assert_eq(hb_msg_peek_text(buf, len - 1, &at, &n), -1, "a cut message");
    free(buf);

    hb_msg_t err = {.type = HB_MSG_R_ERROR, .code = HB_E_NOTFOUND, .error = "x"};
    cr_assert_eq(hb_msg_encode(&err, &buf, &len), 0);
    cr_assert_eq(hb_msg_peek_text(buf, len, &at, &n), -1);
    free(buf);
}
