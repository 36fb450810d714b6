/* Layered image records and chains (actors/runtime/image/image_layer.c) on a
 * plain directory: a layer is only looked for, never mounted, here. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_layer.h"

static hb_runtime_t rt;

static void mk(const char *rel)
{
    char path[HB_HOSTPATH_MAX * 2], cmd[sizeof path + 16];
    snprintf(path, sizeof path, "%s/%s", rt.data_dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    cr_assert_eq(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
    char path[HB_HOSTPATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", rt.data_dir, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* images/<name> layered on parent, written by uid base uid */
static void layer(const char *name, const char *parent, unsigned uid)
{
    char rel[256], json[512];
    snprintf(rel, sizeof rel, "images/%s", name);
    mk(rel);
    snprintf(rel, sizeof rel, "sandboxes/" HB_LAYERS_DIR "/%s/upper", name);
    mk(rel);
    snprintf(rel, sizeof rel, "images/%s/image.json", name);
    snprintf(json, sizeof json, "{\"parent\":\"%s\",\"kind\":\"snapshot\",\"uid_base\":%u,"
             "\"size_bytes\":4096,\"created_at\":7,\"source\":\"sb-%s\",\"os\":\"x\"}",
             parent, uid, name);
    put(rel, json);
}

static void setup(void)
{
    memset(&rt, 0, sizeof rt);
    snprintf(rt.data_dir, sizeof rt.data_dir, "/tmp/hb-unit-layers-XXXXXX");
    cr_assert_not_null(mkdtemp(rt.data_dir));
    mk("images/base/rootfs/bin");
    put("images/base/rootfs/bin/sh", "");
    layer("s1", "base", 0x40010000u);
    layer("s2", "s1", 0x40020000u);
}

static void teardown(void)
{
    char cmd[HB_HOSTPATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rt.data_dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(image_layer, .init = setup, .fini = teardown);

Test(image_layer, records_and_depth)
{
    hb_imginfo_t i;
    cr_assert_eq(hb_image_info(&rt, "base", &i), 0);
    cr_assert_str_eq(i.parent, "");
    cr_assert_str_eq(i.kind, "base");
    cr_assert_eq(hb_image_info(&rt, "s2", &i), 0);
    cr_assert_str_eq(i.parent, "s1");
    cr_assert_str_eq(i.kind, "snapshot");
    cr_assert_str_eq(i.source, "sb-s2");
    cr_assert_eq(i.uid_base, 0x40020000u);
    cr_assert_eq(i.size_bytes, 4096);
    cr_assert(hb_image_is_layer(&rt, "s2"));
    cr_assert_not(hb_image_is_layer(&rt, "base"));
    cr_assert_eq(hb_image_depth(&rt, "base"), 0);
    cr_assert_eq(hb_image_depth(&rt, "s2"), 2);
    cr_assert_eq(hb_image_info(&rt, "nope", &i), -1);
    cr_assert_eq(hb_image_info(&rt, "../x", &i), -1);
    char child[HB_ID_MAX];
    cr_assert(hb_image_child(&rt, "s1", child, sizeof child));
    cr_assert_str_eq(child, "s2");
    cr_assert_not(hb_image_child(&rt, "s2", child, sizeof child));
}

Test(image_layer, launch_conf_top_first)
{
    char buf[4096];
    hb_err_t e = {0};
    int n = hb_image_launch_conf(&rt, "s2", buf, sizeof buf, 0, &e);
    cr_assert(n > 0 && (size_t)n < sizeof buf, "%s", e.msg);
    char want[4 * HB_HOSTPATH_MAX + 256];
    snprintf(want, sizeof want,
             "layer=%u %s/sandboxes/.layers/s2/upper\nlayer=%u %s/sandboxes/.layers/s1/upper\n"
             "image=%s/images/base/rootfs\n",
             0x40020000u, rt.data_dir, 0x40010000u, rt.data_dir, rt.data_dir);
    cr_assert_str_eq(buf, want);
}

Test(image_layer, a_broken_or_endless_chain_is_refused)
{
    char buf[4096];
    hb_err_t e = {0};
    /* a layer without its subvolume is no image */
    layer("gone", "base", 0x40030000u);
    char path[HB_HOSTPATH_MAX * 2];
    snprintf(path, sizeof path, "%s/sandboxes/.layers/gone/upper", rt.data_dir);
    cr_assert_eq(rmdir(path), 0);
    cr_assert_not(hb_image_exists(&rt, "gone"));
    /* a missing parent */
    layer("orphan", "missing", 0x40030000u);
    cr_assert_eq(hb_image_launch_conf(&rt, "orphan", buf, sizeof buf, 0, &e), -1);
    cr_assert(strstr(e.msg, "missing"), "%s", e.msg);
    cr_assert_eq(hb_image_depth(&rt, "orphan"), -1);
    /* a loop (records are ours, but never trusted to end) */
    layer("la", "lb", 0x40030000u);
    layer("lb", "la", 0x40030000u);
    cr_assert_eq(hb_image_depth(&rt, "la"), -1);
    cr_assert_eq(hb_image_launch_conf(&rt, "la", buf, sizeof buf, 0, &e), -1);
    cr_assert(strstr(e.msg, "deeper than"), "%s", e.msg);
    /* HB_CHAIN_MAX layers mount; one more does not */
    char prev[HB_ID_MAX] = "base", name[HB_ID_MAX];
    for (int k = 0; k <= HB_CHAIN_MAX; k++) {
        snprintf(name, sizeof name, "d%d", k);
        layer(name, prev, 0x40040000u);
        snprintf(prev, sizeof prev, "%s", name);
    }
    cr_assert_eq(hb_image_depth(&rt, "d15"), HB_CHAIN_MAX);
    cr_assert(hb_image_launch_conf(&rt, "d15", buf, sizeof buf, 0, &e) > 0, "%s", e.msg);
    cr_assert_eq(hb_image_launch_conf(&rt, "d16", buf, sizeof buf, 0, &e), -1);
}
