/* launch.conf: the keys of schemas/launchconf.h written as the daemon
 * writes them (hb_lc_append) and read back by the launcher's own parser
 * (tools/init/launcher/launch_conf.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "launch_conf.h"
#include "launchconf.h"

Test(launchconf, every_key_named_once)
{
    for (int k = 0; k < HB_LC_COUNT; k++)
        cr_assert_eq(hb_lc_key(hb_lc_name((hb_lckey_t)k)), k, "%s", hb_lc_name((hb_lckey_t)k));
    cr_assert_eq(hb_lc_key("no_such_key"), HB_LC_UNKNOWN);
}

Test(launchconf, written_then_read_by_the_launcher)
{
    char buf[4096];
    int n = 0;
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_ID, "%s", "sb1");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_IMAGE, "%s/images/%s/rootfs", "/data", "base");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_UID_BASE, "%u", 100000u);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SHM_BYTES, "%llu", 67108864ull);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_CGROUP_PROCS, "%s", "/cg/a/cgroup.procs");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_CGROUP_PROCS, "%s", "/cg/b/cgroup.procs");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_USER_CGROUP_PROCS, "%s", "/cg/u/cgroup.procs");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_IF, "%s", "hb5v1a");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_IP, "%s", "10.88.0.5");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_PREFIX, "%u", 16u);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_GW, "%u.%u.%u.%u", 10u, 88u, 0u, 1u);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_BRIDGE, "%d", 7);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_NET_GROUP, "%u", 3u);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SKILLS_DIR, "%s", "/data/skills");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SKILL, "%s", "pdf");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SKILL, "%s", "../escape");   /* dropped */
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_WARM_EXEC, "1");
    cr_assert(n > 0 && (size_t)n < sizeof buf);
    cr_assert_eq(strncmp(buf, "id=sb1\nimage=/data/images/base/rootfs\n", 38), 0,
                 "the format: key=value lines");

    launch_conf_t *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    cr_assert_eq(launch_conf_parse(buf, "/data/sandboxes/sb1", c), 0);
    cr_assert_str_eq(c->id, "sb1");
    cr_assert_str_eq(c->dir, "/data/sandboxes/sb1");
    cr_assert_str_eq(c->image, "/data/images/base/rootfs");
    cr_assert_eq(c->uid_base, 100000);
    cr_assert_eq(c->shm_bytes, 67108864ull);
    cr_assert_eq(c->n_cg, 2);
    cr_assert_str_eq(c->cg_procs[1], "/cg/b/cgroup.procs");
    cr_assert_eq(c->n_user_cg, 1);
    cr_assert_str_eq(c->user_cg_procs[0], "/cg/u/cgroup.procs");
    cr_assert_eq(c->user_cg_fds[0], -1);
    cr_assert_str_eq(c->net.ifname, "hb5v1a");
    cr_assert_str_eq(c->net.ip, "10.88.0.5");
    cr_assert_str_eq(c->net.gw, "10.88.0.1");
    cr_assert_eq(c->net.prefix, 16);
    cr_assert_eq(c->net.bridge, 7);
    cr_assert_eq(c->net.group, 3);
    cr_assert_str_eq(c->skills.dir, "/data/skills");
    cr_assert_eq(c->skills.n, 1);
    cr_assert_str_eq(c->skills.names[0], "pdf");
    cr_assert(c->warm_exec, "warm_exec=1 arms warm exec");
    free(c);
}

Test(launchconf, incomplete_or_too_long)
{
    char buf[64] = "id=x\nnot a line\nimage=/i\n";
    launch_conf_t *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    cr_assert_eq(launch_conf_parse(buf, "/d", c), -1, "no uid_base, no shm_bytes");
    char off[] = "id=x\nimage=/i\nuid_base=5\nshm_bytes=65536\nwarm_exec=yes\n";
    cr_assert_eq(launch_conf_parse(off, "/d", c), 0);
    cr_assert_not(c->warm_exec, "only warm_exec=1 turns it on; absent or else: off");
    free(c);
    char small[16];
    int n = hb_lc_append(small, sizeof small, 0, HB_LC_ID, "%s", "short");
    cr_assert_eq(n, 9);
    n = hb_lc_append(small, sizeof small, n, HB_LC_IMAGE, "%s", "/much/too/long");
    cr_assert_geq((size_t)n, sizeof small, "did not fit");
    cr_assert_geq((size_t)hb_lc_append(small, sizeof small, n, HB_LC_ID, "y"), sizeof small,
                  "and stays so");
}

/* issue 17: the layers of a layered image, top first, each with the uid
 * base that owns its files; past HB_LC_LAYERS_MAX, or malformed, the
 * whole file is refused (never a sandbox on half its chain). */
Test(launchconf, layers)
{
    char buf[8192];
    int n = 0;
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_ID, "%s", "sb1");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_IMAGE, "%s", "/data/images/base/rootfs");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_UID_BASE, "%u", 100000u);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SHM_BYTES, "%llu", 67108864ull);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_LAYER, "%u %s", 200000u, "/p/.layers/top/upper");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_LAYER, "%u %s", 300000u, "/p/.layers/mid/upper");
    char keep[sizeof buf];
    memcpy(keep, buf, (size_t)n + 1);
    launch_conf_t *c = malloc(sizeof *c);
    cr_assert_not_null(c);
    cr_assert_eq(launch_conf_parse(buf, "/d", c), 0);
    cr_assert_eq(c->n_layers, 2);
    cr_assert_eq(c->layer_uid[0], 200000);
    cr_assert_str_eq(c->layers[0], "/p/.layers/top/upper");
    cr_assert_str_eq(c->layers[1], "/p/.layers/mid/upper");

    memcpy(buf, keep, (size_t)n + 1);
    for (int i = 0; i < HB_LC_LAYERS_MAX; i++)
        n = hb_lc_append(buf, sizeof buf, n, HB_LC_LAYER, "%u /l%d", 1u, i);
    cr_assert(n > 0 && (size_t)n < sizeof buf);
    cr_assert_eq(launch_conf_parse(buf, "/d", c), -1, "more than HB_LC_LAYERS_MAX layers");

    char bad[256] = "id=x\nimage=/i\nuid_base=5\nshm_bytes=65536\nlayer=/no/uid\n";
    cr_assert_eq(launch_conf_parse(bad, "/d", c), -1, "a layer without its uid base");
    free(c);
}
