/* A supervisor unit on a supervisor host thread (sup_host.h), attached to
 * a sandbox that failed before the daemon started (so no init is needed,
 * nor root): it announces the sandbox to the manager (a fake peer) as
 * failed, answers GET, refuses an exec naming the failure, publishes the
 * process events posted to its address, and a message keyed to an earlier
 * generation of the same name reaches nothing (a request gets "not found"). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fake_peer.h"
#include "sup_host.h"

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};

typedef struct {
    char            data[256];
    hb_runtime_t    rt;
    zsock_t        *mgr, *met, *me;
    hb_sup_hosts_t *hosts;
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
    hb_err_t e = {0};
    w->hosts = hb_sup_hosts_new(1, &EP, NULL, &e);
    cr_assert_not_null(w->hosts, "%s", e.msg);
}

static void world_down(world_t *w)
{
    hb_sup_hosts_destroy(&w->hosts);
    zsock_destroy(&w->mgr);
    zsock_destroy(&w->met);
    zsock_destroy(&w->me);
    fake_data_dir_remove(w->data);
}

/* Spawn "dead-box" generation gen; its address, from its SUP_READY. */
static hb_sup_ref_t spawn_dead(world_t *w, uint64_t gen, char *addr, size_t len)
{
    hb_sup_ref_t r;
    hb_err_t e = {0};
    cr_assert_eq(hb_sup_spawn(w->hosts, attach_args(w, "dead-box", gen), &r, &e), 0, "%s", e.msg);
    hb_msg_t m;
    cr_assert_eq(fake_expect(w->mgr, 2000, &m), 0, "no SUP_READY");
    cr_assert_eq(m.type, HB_MSG_SUP_READY);
    cr_assert_not_null(m.inbox);
    snprintf(addr, len, "%s", m.inbox);
    hb_msg_clear(&m);
    return r;
}

/* Send q as the manager forwards requests. */
static void ask(world_t *w, const hb_sup_ref_t *r, hb_msg_type_t type, hb_msg_t *rep)
{
    hb_msg_t q = {.type = type, .id = "dead-box", .command = "true",
                  .reply_to = "inproc://t-me"};
    cr_assert_eq(hb_sup_send(w->hosts, r, &q), 0);
    cr_assert_eq(fake_expect(w->me, 2000, rep), 0, "no reply to %s", hb_msg_name(type));
}

Test(supervisor, a_failed_sandbox_is_announced_described_and_refuses_work, .timeout = 15)
{
    world_t w;
    world_up(&w);
    hb_sup_ref_t r;
    hb_err_t e = {0};
    cr_assert_eq(hb_sup_spawn(w.hosts, attach_args(&w, "dead-box", 1), &r, &e), 0, "%s", e.msg);
    cr_assert_eq(hb_sup_host_units(w.hosts, 0), 1);

    hb_msg_t m;
    cr_assert_eq(fake_expect(w.mgr, 2000, &m), 0, "no SUP_READY");
    cr_assert_eq(m.type, HB_MSG_SUP_READY);
    cr_assert_str_eq(m.id, "dead-box");
    cr_assert_null(m.reply_to);   /* re-attached: not a new sandbox */
    cr_assert_eq(m.sandboxes_n, 1);
    cr_assert_str_eq(m.sandboxes[0].status, "failed");
    cr_assert(strstr(m.inbox, "#1"), "its address names its generation: %s", m.inbox);
    hb_msg_clear(&m);

    ask(&w, &r, HB_MSG_SB_GET, &m);
    cr_assert_eq(m.type, HB_MSG_R_SANDBOX);
    cr_assert_str_eq(m.sandboxes[0].failure, "init was killed (found at daemon start)");
    hb_msg_clear(&m);

    ask(&w, &r, HB_MSG_SB_EXEC, &m);
    cr_assert_eq(m.type, HB_MSG_R_ERROR);
    cr_assert_eq(m.code, HB_E_DEAD);
    cr_assert(strstr(m.error, "has failed: init was killed"), "%s", m.error);
    hb_msg_clear(&m);
    world_down(&w);
}

/* A process event the watch thread posts to the unit's address goes to the
 * event feed (the metrics actor) as it came, stamped with the time. */
Test(supervisor, process_events_in_the_inbox_are_published, .timeout = 15)
{
    world_t w;
    world_up(&w);
    char addr[128];
    spawn_dead(&w, 3, addr, sizeof addr);
    hb_msg_t ev = {.type = HB_MSG_EV_PROC_STARTED, .id = "dead-box", .pid = 41, .tag = "web",
                   .command = "python3 -m http.server", .user = "root"};
    cr_assert_eq(hb_bus_post(addr, &ev), 0);
    hb_msg_t m;
    cr_assert_eq(fake_expect(w.met, 2000, &m), 0, "not published");
    cr_assert_eq(m.type, HB_MSG_EV_PROC_STARTED);
    cr_assert_eq(m.pid, 41);
    cr_assert_str_eq(m.tag, "web");
    cr_assert_gt(m.timestamp, 0);
    hb_msg_clear(&m);
    world_down(&w);
}

/* The name was reused: generation 5 lives on the host, generation 4 (the
 * same id) is gone. What is keyed to 4 reaches nothing: an event is not
 * published, a request is answered "not found"; 5 still answers. */
Test(supervisor, messages_for_an_earlier_generation_are_dropped, .timeout = 15)
{
    world_t w;
    world_up(&w);
    char addr[128], old[128];
    hb_sup_ref_t r = spawn_dead(&w, 5, addr, sizeof addr);
    char *hash = strrchr(addr, '#');
    cr_assert_not_null(hash);
    snprintf(old, sizeof old, "%.*s#4", (int)(hash - addr), addr);

    hb_msg_t ev = {.type = HB_MSG_EV_PROC_STARTED, .id = "dead-box", .pid = 7, .tag = "old",
                   .command = "sleep 1", .user = "root"};
    cr_assert_eq(hb_bus_post(old, &ev), 0);
    hb_msg_t m;
    cr_assert_eq(fake_expect(w.met, 500, &m), -1, "an event for generation 4 was published");

    hb_msg_t q = {.type = HB_MSG_SB_GET, .id = "dead-box", .reply_to = "inproc://t-me"};
    hb_sup_ref_t stale = {.host = r.host, .gen = 4};
    cr_assert_eq(hb_sup_send(w.hosts, &stale, &q), 0);
    cr_assert_eq(fake_expect(w.me, 2000, &m), 0, "no answer for generation 4");
    cr_assert_eq(m.type, HB_MSG_R_ERROR);
    cr_assert_eq(m.code, HB_E_NOTFOUND);
    cr_assert(strstr(m.error, "'dead-box' not found"), "%s", m.error);
    hb_msg_clear(&m);

    ask(&w, &r, HB_MSG_SB_GET, &m);
    cr_assert_eq(m.type, HB_MSG_R_SANDBOX, "generation 5 answers");
    hb_msg_clear(&m);
    world_down(&w);
}
