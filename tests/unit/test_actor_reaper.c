/* The reaper actor on its own thread, the manager a fake peer: a short TTL
 * expires, a cancelled one does not, and a second reaper on a taken
 * endpoint reports its setup error. */
#include <criterion/criterion.h>
#include <time.h>

#include "fake_peer.h"
#include "reaper.h"

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};

static void set_timer(zsock_t *to, hb_msg_type_t type, const char *id, int64_t at)
{
    hb_msg_t m = {.type = type, .id = (char *)id, .expires_at = at};
    cr_assert_eq(hb_bus_send(to, &m), 0);
}

Test(reaper, a_short_ttl_expires_and_a_cancelled_one_does_not, .timeout = 15)
{
    zsock_t *mgr = fake_peer(EP.manager);
    hb_reaper_args_t a = {.ep = EP};
    hb_err_t e = {0};
    zactor_t *r = hb_reaper_new(&a, &e);
    cr_assert_not_null(r, "%s", e.msg);
    zsock_t *to = hb_bus_pusher(EP.reaper);   /* one socket: the messages stay in order */
    int64_t soon = time(NULL) + 1;
    set_timer(to, HB_MSG_REAP_SET, "kept", soon);
    set_timer(to, HB_MSG_REAP_SET, "short", soon);
    set_timer(to, HB_MSG_REAP_SET, "long", soon + 3600);
    set_timer(to, HB_MSG_REAP_CANCEL, "kept", 0);

    hb_msg_t m;
    cr_assert_eq(fake_expect(mgr, 3000, &m), 0, "no expiry came");
    cr_assert_eq(m.type, HB_MSG_REAP_EXPIRE);
    cr_assert_str_eq(m.id, "short");
    hb_msg_clear(&m);
    cr_assert_eq(fake_expect(mgr, 1500, &m), -1, "a cancelled or later timer fired: %s", m.id);

    zsock_destroy(&to);
    zactor_destroy(&r);
    zsock_destroy(&mgr);
}

Test(reaper, a_taken_endpoint_is_a_setup_error_naming_it, .timeout = 10)
{
    hb_reaper_args_t a = {.ep = EP};
    hb_err_t e = {0};
    zactor_t *first = hb_reaper_new(&a, &e);
    cr_assert_not_null(first, "%s", e.msg);
    zactor_t *second = hb_reaper_new(&a, &e);
    cr_assert_null(second);
    cr_assert_eq(e.code, HB_E_INTERNAL);
    cr_assert(strstr(e.msg, "reaper: ") == e.msg, "%s", e.msg);
    cr_assert(strstr(e.msg, EP.reaper), "%s", e.msg);
    zactor_destroy(&first);
}
