/* Supervisor hosts (sup_host.h) with fake units: a unit's periodic work
 * runs when it is due and an idle unit (due -1) is not woken at all; a
 * host's queue is bounded: sends past it are refused at once, not queued
 * without end, and it drains once its units run again. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_peer.h"
#include "sup_host.h"

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .metrics = "inproc://t-met"};

typedef struct {
    uint64_t gen;
} fake_t;

static _Atomic int g_msgs, g_due_busy, g_due_idle, g_block;

static void *f_open(hb_sup_args_t *a, const hb_sup_env_t *env)
{
    fake_t *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    f->gen = a->gen;
    hb_sup_args_free(a);
    return f;
}

static void f_msg(void *self, hb_msg_t *m)
{
    while (atomic_load(&g_block))   /* a unit that holds its host up */
        usleep(1000);
    atomic_fetch_add(&g_msgs, 1);
}

/* gen 1 has work every 20 ms; the others never */
static int64_t f_due(void *self)
{
    const fake_t *f = self;
    if (f->gen == 1) {
        atomic_fetch_add(&g_due_busy, 1);
        return 20;
    }
    atomic_fetch_add(&g_due_idle, 1);
    return -1;
}

static bool f_no(void *self) { return false; }
static void f_term(void *self) {}

static const hb_sup_ops_t OPS = {.open = f_open, .on_msg = f_msg, .due = f_due, .gone = f_no,
                                 .term = f_term, .busy = f_no, .close = free};

static hb_sup_ref_t spawn(hb_sup_hosts_t *h, uint64_t gen)
{
    hb_sup_args_t *a = calloc(1, sizeof *a);
    cr_assert_not_null(a);
    a->gen = gen;
    snprintf(a->id, sizeof a->id, "fake-%llu", (unsigned long long)gen);
    hb_sup_ref_t r;
    hb_err_t e = {0};
    cr_assert_eq(hb_sup_spawn(h, a, &r, &e), 0, "%s", e.msg);
    return r;
}

static hb_sup_hosts_t *hosts_up(zsock_t **mgr, zsock_t **met)
{
    *mgr = fake_peer(EP.manager);
    *met = fake_peer(EP.metrics);
    hb_err_t e = {0};
    hb_sup_hosts_t *h = hb_sup_hosts_new(1, &EP, &OPS, &e);
    cr_assert_not_null(h, "%s", e.msg);
    return h;
}

Test(sup_host, due_work_runs_and_idle_units_are_not_woken, .timeout = 15)
{
    zsock_t *mgr, *met;
    hb_sup_hosts_t *h = hosts_up(&mgr, &met);
    spawn(h, 1);
    for (uint64_t g = 2; g < 102; g++)
        spawn(h, g);
    hb_sup_ref_t r = spawn(h, 102);
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    cr_assert_eq(hb_sup_send(h, &r, &q), 0);
    for (int i = 0; i < 500 && atomic_load(&g_msgs) < 1; i++)
        usleep(10000);
    cr_assert_eq(atomic_load(&g_msgs), 1, "the message reached no unit");
    usleep(500 * 1000);
    cr_assert_geq(atomic_load(&g_due_busy), 5, "the busy unit's work did not run every 20 ms");
    /* 101 idle units: asked once when spawned, once more for the message */
    cr_assert_eq(atomic_load(&g_due_idle), 102, "idle units were woken: %d",
                 atomic_load(&g_due_idle));
    hb_sup_hosts_destroy(&h);
    zsock_destroy(&mgr);
    zsock_destroy(&met);
}

Test(sup_host, a_full_queue_refuses_sends_and_drains_afterwards, .timeout = 60)
{
    zsock_t *mgr, *met;
    hb_sup_hosts_t *h = hosts_up(&mgr, &met);
    hb_sup_ref_t r = spawn(h, 7);
    atomic_store(&g_block, 1);
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    int sent = 0;
    while (sent < 400000 && hb_sup_send(h, &r, &q) == 0)
        sent++;
    cr_log_info("one host queued %d messages", sent);
    cr_assert_leq(sent, 40001, "%d messages queued for one host: the bound is 40,000", sent);
    cr_assert_geq(sent, 39000, "refused after %d: the bound is 40,000", sent);
    atomic_store(&g_block, 0);
    for (int i = 0; i < 3000 && atomic_load(&g_msgs) < sent; i++)
        usleep(10000);
    cr_assert_eq(atomic_load(&g_msgs), sent, "the host did not drain");
    cr_assert_eq(hb_sup_send(h, &r, &q), 0, "sends work again");
    hb_sup_hosts_destroy(&h);
    zsock_destroy(&mgr);
    zsock_destroy(&met);
}
