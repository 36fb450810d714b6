/* The bus and the actor skeleton without any daemon actor: a call nobody
 * answers times out, a call during shutdown gives up at the deadline, an
 * error reply comes back as an error, and the run loop's due work, pipe
 * and $TERM behave as actor.h says. */
#include <criterion/criterion.h>

#include "fake_peer.h"

#define SILENT "inproc://t-silent"
#define ECHO   "inproc://t-echo"

Test(bus_call, nobody_answers_so_it_times_out, .timeout = 10)
{
    zsock_t *silent = fake_peer(SILENT);
    hb_msg_t q = {.type = HB_MSG_SB_LIST}, rep;
    hb_err_t e = {0};
    int64_t t0 = hb_now_ms();
    cr_assert_eq(hb_bus_call(SILENT, &q, &rep, 300, &e), -1);
    int64_t took = hb_now_ms() - t0;
    cr_assert_eq(e.code, HB_E_INTERNAL);
    cr_assert(strstr(e.msg, "timed out"), "%s", e.msg);
    cr_assert(took >= 300 && took < 2000, "took %lld ms", (long long)took);
    hb_msg_t got;   /* the request did arrive, with a reply_to */
    cr_assert_eq(fake_expect(silent, 1000, &got), 0);
    cr_assert_eq(got.type, HB_MSG_SB_LIST);
    cr_assert_not_null(got.reply_to);
    hb_msg_clear(&got);
    hb_msg_clear(&q);
    zsock_destroy(&silent);
}

/* An outbox is one socket: what one thread posts through it arrives in
 * the order posted (separate hb_bus_posts do not promise that). */
Test(bus_outbox, posts_arrive_in_the_order_sent, .timeout = 10)
{
    zsock_t *peer = fake_peer("inproc://t-outbox");
    hb_bus_outbox_t o;
    hb_bus_outbox_init(&o, "inproc://t-outbox");
    for (uint64_t i = 0; i < 500; i++) {
        hb_msg_t m = {.type = HB_MSG_SB_PROC_WATCHED, .seq = (int64_t)i};
        cr_assert_eq(hb_bus_outbox_post(&o, &m), 0);
    }
    hb_bus_outbox_fini(&o);
    cr_assert_null(o.s);
    for (int64_t i = 0; i < 500; i++) {
        hb_msg_t got;
        cr_assert_eq(fake_expect(peer, 2000, &got), 0, "message %lld missing", (long long)i);
        cr_assert_eq(got.seq, i);
        hb_msg_clear(&got);
    }
    zsock_destroy(&peer);
}

Test(bus_call, a_shutdown_deadline_ends_an_unbounded_call, .timeout = 10)
{
    zsock_t *silent = fake_peer(SILENT);
    hb_msg_t q = {.type = HB_MSG_SB_LIST}, rep;
    hb_err_t e = {0};
    hb_bus_set_deadline(hb_now_ms() + 300);
    cr_assert_eq(hb_bus_call(SILENT, &q, &rep, -1, &e), -1);
    cr_assert_eq(e.code, HB_E_UNAVAIL);
    cr_assert(strstr(e.msg, "shutting down"), "%s", e.msg);
    hb_bus_set_deadline(0);
    hb_msg_clear(&q);
    zsock_destroy(&silent);
}

/* ---- a tiny actor on the skeleton: answers every request with an error,
 * counts its due calls ---- */

typedef struct {
    zsock_t *inbox;
    int      ticks;
    int64_t  next;
} echo_t;

static void echo_inbox(void *self, hb_msg_t *m, zframe_t *raw)
{
    hb_bus_reply_error(m->reply_to, HB_E_EXISTS, "echo: %s", hb_msg_name(m->type));
}

static int64_t echo_due(void *self)
{
    echo_t *s = self;
    if (hb_now_ms() >= s->next) {
        s->ticks++;
        s->next = hb_now_ms() + 50;
    }
    return s->next - hb_now_ms();
}

/* On the pipe (which carries only $TERM for real actors): the tick count. */
static void echo_pipe(void *self, hb_msg_t *m)
{
    echo_t *s = self;
    hb_msg_t r = {.type = HB_MSG_R_KILLED, .killed = (uint64_t)s->ticks};
    hb_bus_post(m->reply_to, &r);
}

static void echo_actor(zsock_t *pipe, void *args)
{
    const char *ep = args;
    echo_t s = {0};
    hb_err_t e = {0};
    s.inbox = hb_actor_inbox(ep, &e);
    hb_actor_ready(pipe, s.inbox ? NULL : &e);
    hb_loop_t l = {.name = "echo", .pipe = pipe, .inbox = s.inbox, .on_inbox = echo_inbox,
                   .on_pipe = echo_pipe, .due = echo_due};
    if (s.inbox)
        hb_loop_run(&l, &s, -1);
    zsock_destroy(&s.inbox);
}

Test(actor, an_error_reply_comes_back_as_an_error, .timeout = 10)
{
    hb_err_t e = {0};
    zactor_t *a = hb_actor_start("echo", echo_actor, ECHO, &e);
    cr_assert_not_null(a, "%s", e.msg);
    hb_msg_t q = {.type = HB_MSG_SB_GET}, rep;
    cr_assert_eq(hb_bus_call(ECHO, &q, &rep, 2000, &e), -1);
    cr_assert_eq(e.code, HB_E_EXISTS);
    cr_assert_str_eq(e.msg, "echo: sb.get");
    hb_msg_clear(&q);
    zactor_destroy(&a);
}

Test(actor, setup_errors_carry_the_actors_name_and_due_work_runs, .timeout = 10)
{
    hb_err_t e = {0};
    zactor_t *a = hb_actor_start("echo", echo_actor, ECHO, &e);
    cr_assert_not_null(a, "%s", e.msg);
    cr_assert_null(hb_actor_start("second echo", echo_actor, ECHO, &e));
    cr_assert(strstr(e.msg, "second echo: cannot bind " ECHO), "%s", e.msg);

    zclock_sleep(300);   /* about six ticks of 50 ms */
    zsock_t *me = fake_peer("inproc://t-me");
    hb_msg_t q = {.type = HB_MSG_SB_LIST, .reply_to = "inproc://t-me"}, rep;
    cr_assert_eq(hb_bus_send(zactor_sock(a), &q), 0);
    cr_assert_eq(fake_expect(me, 2000, &rep), 0);
    cr_assert(rep.killed >= 3, "only %llu ticks", (unsigned long long)rep.killed);
    zsock_destroy(&me);
    zactor_destroy(&a);   /* $TERM ends the loop */
}
