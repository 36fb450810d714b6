/* A supervisor actor on its own thread, attached to a sandbox that failed
 * before the daemon started (so no init is needed, nor root): it announces
 * the sandbox to the manager (a fake peer) as failed, answers GET from its
 * pipe, refuses an exec naming the failure, and a taken inbox is a setup
 * error naming the sandbox. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fake_peer.h"
#include "supervisor.h"

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};

typedef struct {
    char          data[256];
    hb_runtime_t  rt;
    zsock_t      *mgr, *met, *me;
} world_t;

static hb_sup_args_t *attach_args(world_t *w, const char *id, uint64_t gen)
{
    hb_sandbox_t *sb = calloc(1, sizeof *sb);
    hb_sup_args_t *a = calloc(1, sizeof *a);
    cr_assert(sb && a);
    snprintf(sb->id, sizeof sb->id, "%s", id);
    snprintf(sb->dir, sizeof sb->dir, "%s/sandboxes/%s", w->data, id);
    mkdir(sb->dir, 0700);
    hb_spec_defaults(&sb->spec);
    sb->created_at = 1;
    sb->expires_at = 4102444800;
    snprintf(sb->failure, sizeof sb->failure, "init was killed (found at daemon start)");
    *a = (hb_sup_args_t){.ep = EP, .rt = &w->rt, .gen = gen, .sb = sb};
    snprintf(a->id, sizeof a->id, "%s", id);
    return a;
}

static void world_up(world_t *w)
{
    memset(w, 0, sizeof *w);
    fake_runtime(&w->rt, w->data, sizeof w->data);
    w->mgr = fake_peer(EP.manager);
    w->met = fake_peer(EP.metrics);
    w->me = fake_peer("inproc://t-me");
}

static void world_down(world_t *w)
{
    zsock_destroy(&w->mgr);
    zsock_destroy(&w->met);
    zsock_destroy(&w->me);
    fake_data_dir_remove(w->data);
}

/* Send q on the supervisor's pipe, as the manager forwards requests. */
static void ask(zactor_t *sup, hb_msg_type_t type, world_t *w, hb_msg_t *rep)
{
    hb_msg_t q = {.type = type, .id = "dead-box", .command = "true",
                  .reply_to = "inproc://t-me"};
    cr_assert_eq(hb_bus_send(zactor_sock(sup), &q), 0);
    cr_assert_eq(fake_expect(w->me, 2000, rep), 0, "no reply to %s", hb_msg_name(type));
}

Test(supervisor, a_failed_sandbox_is_announced_described_and_refuses_work, .timeout = 15)
{
    world_t w;
    world_up(&w);
    hb_err_t e = {0};
    zactor_t *sup = hb_supervisor_new(attach_args(&w, "dead-box", 1), &e);
    cr_assert_not_null(sup, "%s", e.msg);

    hb_msg_t m;
    cr_assert_eq(fake_expect(w.mgr, 2000, &m), 0, "no SUP_READY");
    cr_assert_eq(m.type, HB_MSG_SUP_READY);
    cr_assert_str_eq(m.id, "dead-box");
    cr_assert_null(m.reply_to);   /* re-attached: not a new sandbox */
    cr_assert_eq(m.sandboxes_n, 1);
    cr_assert_str_eq(m.sandboxes[0].status, "failed");
    char inbox[128];
    hb_supervisor_inbox(inbox, sizeof inbox, "dead-box", 1);
    cr_assert_str_eq(m.inbox, inbox);
    hb_msg_clear(&m);

    ask(sup, HB_MSG_SB_GET, &w, &m);
    cr_assert_eq(m.type, HB_MSG_R_SANDBOX);
    cr_assert_str_eq(m.sandboxes[0].failure, "init was killed (found at daemon start)");
    hb_msg_clear(&m);

    ask(sup, HB_MSG_SB_EXEC, &w, &m);
    cr_assert_eq(m.type, HB_MSG_R_ERROR);
    cr_assert_eq(m.code, HB_E_DEAD);
    cr_assert(strstr(m.error, "has failed: init was killed"), "%s", m.error);
    hb_msg_clear(&m);

    zactor_destroy(&sup);
    world_down(&w);
}

Test(supervisor, a_taken_inbox_is_a_setup_error_naming_the_sandbox, .timeout = 10)
{
    world_t w;
    world_up(&w);
    char inbox[128];
    hb_supervisor_inbox(inbox, sizeof inbox, "dead-box", 7);
    zsock_t *squatter = fake_peer(inbox);
    hb_err_t e = {0};
    cr_assert_null(hb_supervisor_new(attach_args(&w, "dead-box", 7), &e));
    cr_assert(strstr(e.msg, "sandbox dead-box: cannot bind inproc://"), "%s", e.msg);
    zsock_destroy(&squatter);
    world_down(&w);
}

/* A process event the watch thread posts to the inbox goes to the event
 * feed (the metrics actor) as it came, stamped with the time. */
Test(supervisor, process_events_in_the_inbox_are_published, .timeout = 15)
{
    world_t w;
    world_up(&w);
    hb_err_t e = {0};
    zactor_t *sup = hb_supervisor_new(attach_args(&w, "dead-box", 3), &e);
    cr_assert_not_null(sup, "%s", e.msg);
    hb_msg_t m;
    cr_assert_eq(fake_expect(w.mgr, 2000, &m), 0, "no SUP_READY");
    hb_msg_clear(&m);

    char inbox[128];
    hb_supervisor_inbox(inbox, sizeof inbox, "dead-box", 3);
    hb_msg_t ev = {.type = HB_MSG_EV_PROC_STARTED, .id = "dead-box", .pid = 41, .tag = "web",
                   .command = "python3 -m http.server", .user = "root"};
    cr_assert_eq(hb_bus_post(inbox, &ev), 0);
    cr_assert_eq(fake_expect(w.met, 2000, &m), 0, "not published");
    cr_assert_eq(m.type, HB_MSG_EV_PROC_STARTED);
    cr_assert_eq(m.pid, 41);
    cr_assert_str_eq(m.tag, "web");
    cr_assert_gt(m.timestamp, 0);
    hb_msg_clear(&m);

    zactor_destroy(&sup);
    world_down(&w);
}
