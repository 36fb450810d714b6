/* Layered images: records, chains and the launch.conf lines (see
 * image_layer.h). Snapshots are made in image_snap.c, removal and the
 * start-up clean-up in image_gc.c. */
#include "image_layer.h"
#include "image_internal.h"
#include "sbdir.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static json_t *load_record(const hb_runtime_t *rt, const char *name)
{
    char path[HB_HOSTPATH_MAX + 2 * HB_ID_MAX];
    if (!name || !hb_name_valid(name) ||
        hb_pathf(path, sizeof path, NULL, "%s/images/%s/image.json", rt->data_dir, name) < 0)
        return NULL;
    return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

static void copy_str(char *out, size_t len, json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    snprintf(out, len, "%s", s ? s : "");
}

static bool layer_present(const hb_runtime_t *rt, const char *name)
{
    char path[HB_HOSTPATH_MAX + 2 * HB_ID_MAX];
    struct stat st;
    return hb_pathf(path, sizeof path, NULL, "%s/sandboxes/" HB_LAYERS_DIR "/%s/upper",
                    rt->data_dir, name) == 0 &&
           lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int root_info(const hb_runtime_t *rt, const char *name, json_t *j, hb_imginfo_t *out)
{
    char dir[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    struct stat st;
    if (hb_pathf(dir, sizeof dir, NULL, "%s/images/%s", rt->data_dir, name) < 0 ||
        !hb_rootfs_valid(dir) || stat(dir, &st) < 0)
        return -1;
    if (!out->kind[0])
        snprintf(out->kind, sizeof out->kind, "%s", strcmp(name, "base") == 0 ? "base" : "import");
    if (!json_object_get(j, "created_at"))
        out->created_at = (int64_t)st.st_mtime;
    return 0;
}

int hb_image_info(const hb_runtime_t *rt, const char *name, hb_imginfo_t *out)
{
    memset(out, 0, sizeof *out);
    if (!name || !hb_name_valid(name))
        return -1;
    json_t *j = load_record(rt, name);   /* NULL for an image made before records */
    snprintf(out->name, sizeof out->name, "%s", name);
    copy_str(out->parent, sizeof out->parent, j, "parent");
    copy_str(out->kind, sizeof out->kind, j, "kind");
    copy_str(out->source, sizeof out->source, j, "source");
    out->created_at = (int64_t)json_integer_value(json_object_get(j, "created_at"));
    out->size_bytes = (uint64_t)json_integer_value(json_object_get(j, "size_bytes"));
    out->uid_base = (uint32_t)json_integer_value(json_object_get(j, "uid_base"));
    int rc;
    if (out->parent[0])
        rc = hb_name_valid(out->parent) && out->uid_base && layer_present(rt, name) ? 0 : -1;
    else
        rc = root_info(rt, name, j, out);
    json_decref(j);
    return rc;
}

bool hb_image_is_layer(const hb_runtime_t *rt, const char *name)
{
    hb_imginfo_t i;
    return hb_image_info(rt, name, &i) == 0 && i.parent[0];
}

int hb_image_depth(const hb_runtime_t *rt, const char *name)
{
    hb_imginfo_t i;
    const char *cur = name;
    char next[HB_ID_MAX];
    for (int d = 0; d <= HB_CHAIN_MAX; d++) {
        if (hb_image_info(rt, cur, &i) < 0)
            return -1;
        if (!i.parent[0])
            return d;
        snprintf(next, sizeof next, "%s", i.parent);
        cur = next;
    }
    return -1;   /* deeper than the bound (or a loop) */
}

int hb_image_launch_conf(const hb_runtime_t *rt, const char *image, char *buf, size_t len,
                         int n, hb_err_t *e)
{
    hb_imginfo_t i;
    char cur[HB_ID_MAX];
    snprintf(cur, sizeof cur, "%s", image);
    for (int d = 0; d <= HB_CHAIN_MAX; d++) {
        if (hb_image_info(rt, cur, &i) < 0)
            return hb_fail(e, HB_E_INVALID, ENOENT, "image: '%s' (in the chain of '%s') is missing",
                           cur, image);
        if (!i.parent[0])
            return hb_lc_append(buf, len, n, HB_LC_IMAGE, "%s/images/%s/rootfs", rt->data_dir,
                                cur);
        n = hb_lc_append(buf, len, n, HB_LC_LAYER, "%u %s/sandboxes/" HB_LAYERS_DIR "/%s/upper",
                         i.uid_base, rt->data_dir, cur);
        snprintf(cur, sizeof cur, "%s", i.parent);
    }
    return hb_fail(e, HB_E_INVALID, ELOOP, "image: the chain of '%s' is deeper than %d layers",
                   image, HB_CHAIN_MAX);
}
