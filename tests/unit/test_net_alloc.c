/* The network allocators on a scratch data dir: lowest free address first,
 * reuse after release, releases only by the owner, the subnet's edges never
 * handed out; group ids stable per name and distinct between names; the
 * start-up sweep of stale claims. No network is touched. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"

static hb_runtime_t rt;

static void setup(void)
{
    char tmpl[] = "/tmp/hb-netalloc-XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    memset(&rt, 0, sizeof rt);
    snprintf(rt.data_dir, sizeof rt.data_dir, "%s", tmpl);
    char p[HB_HOSTPATH_MAX + 32];
    snprintf(p, sizeof p, "%s/sandboxes", tmpl);
    mkdir(p, 0700);
    rt.net.subnet = (10u << 24) | (10u << 16); /* 10.10.0.0 */
    rt.net.prefix = 16;
}

static void teardown(void)
{
    char cmd[HB_HOSTPATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rt.data_dir);
    cr_assert_eq(system(cmd), 0);
}

static void mk_sandbox_dir(const char *id)
{
    char p[HB_HOSTPATH_MAX + 80];
    snprintf(p, sizeof p, "%s/sandboxes/%s", rt.data_dir, id);
    cr_assert_eq(mkdir(p, 0700), 0);
}

TestSuite(net_alloc, .init = setup, .fini = teardown);

Test(net_alloc, lowest_first_and_reused_after_release)
{
    char a[16], b[16], c[16], d[16];
    hb_err_t e;
    cr_assert_eq(hb_net_addr_claim(&rt, "sa", a, &e), 0, "%s", e.msg);
    cr_assert_eq(hb_net_addr_claim(&rt, "sb", b, &e), 0);
    cr_assert_eq(hb_net_addr_claim(&rt, "sc", c, &e), 0);
    cr_assert_str_eq(a, "10.10.0.2", "the bridge has .1, the first sandbox .2");
    cr_assert_str_eq(b, "10.10.0.3");
    cr_assert_str_eq(c, "10.10.0.4");
    hb_net_addr_release(&rt, b, "someone-else"); /* not the owner: no effect */
    cr_assert_eq(hb_net_addr_claim(&rt, "sd", d, &e), 0);
    cr_assert_str_eq(d, "10.10.0.5");
    hb_net_addr_release(&rt, b, "sb");
    cr_assert_eq(hb_net_addr_claim(&rt, "se", d, &e), 0);
    cr_assert_str_eq(d, "10.10.0.3", "a freed address is handed out again");
}

Test(net_alloc, small_subnet_runs_out_without_network_or_broadcast)
{
    char ip[16];
    hb_err_t e;
    rt.net.subnet = (192u << 24) | (168u << 16) | (7u << 8) | 248u; /* 192.168.7.248/29 */
    rt.net.prefix = 29;
    const char *want[] = {"192.168.7.250", "192.168.7.251", "192.168.7.252", "192.168.7.253",
                          "192.168.7.254"};
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(hb_net_addr_claim(&rt, "x", ip, &e), 0, "%s", e.msg);
        cr_assert_str_eq(ip, want[i]);
    }
    cr_assert_eq(hb_net_addr_claim(&rt, "x", ip, &e), -1, "the broadcast address is never used");
    cr_assert_eq(e.code, HB_E_UNAVAIL);
}

Test(net_alloc, group_ids_stable_and_distinct)
{
    uint32_t g1, g1b, g2;
    hb_err_t e;
    cr_assert_eq(hb_net_group_id(&rt, "team-a", &g1, &e), 0, "%s", e.msg);
    cr_assert_eq(hb_net_group_id(&rt, "team-b", &g2, &e), 0);
    cr_assert_eq(hb_net_group_id(&rt, "team-a", &g1b, &e), 0);
    cr_assert_eq(g1, g1b);
    cr_assert_neq(g1, g2);
    cr_assert_neq(g1, 0u, "0 is the group of isolated ports");
}

Test(net_alloc, group_id_collision_probes_on)
{
    uint32_t g1, g2;
    hb_err_t e;
    cr_assert_eq(hb_net_group_id(&rt, "one", &g1, &e), 0);
    /* Another name squatting on the slot "one" hashes to. */
    char p[HB_HOSTPATH_MAX + 64];
    snprintf(p, sizeof p, "%s/netgroups/%08x", rt.data_dir, g1);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("intruder", f);
    fclose(f);
    cr_assert_eq(hb_net_group_id(&rt, "one", &g2, &e), 0);
    cr_assert_neq(g1, g2, "a slot held by another group is never shared");
}

Test(net_alloc, sweep_drops_claims_of_vanished_sandboxes_and_unused_groups)
{
    char a[16], b[16], p[HB_HOSTPATH_MAX + 64];
    uint32_t g_live, g_gone;
    hb_err_t e;
    mk_sandbox_dir("alive");
    cr_assert_eq(hb_net_addr_claim(&rt, "alive", a, &e), 0);
    cr_assert_eq(hb_net_addr_claim(&rt, "gone", b, &e), 0);
    cr_assert_eq(hb_net_group_id(&rt, "live-group", &g_live, &e), 0);
    cr_assert_eq(hb_net_group_id(&rt, "old-group", &g_gone, &e), 0);
    const char *groups[] = {"live-group"};
    hb_net_alloc_gc(&rt, groups, 1);
    snprintf(p, sizeof p, "%s/netaddrs/%s", rt.data_dir, a);
    cr_assert_eq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/netaddrs/%s", rt.data_dir, b);
    cr_assert_neq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/netgroups/%08x", rt.data_dir, g_live);
    cr_assert_eq(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s/netgroups/%08x", rt.data_dir, g_gone);
    cr_assert_neq(access(p, F_OK), 0);
}
