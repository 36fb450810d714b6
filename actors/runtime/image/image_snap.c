/* Snapshots: a sandbox's writable layer becomes an image layered on the
 * sandbox's own image (image_layer.h). The copy is one read-only btrfs
 * subvolume snapshot (shares every extent; the kernel flushes the
 * source's dirty data into it), taken while the sandbox is frozen.
 *
 * Order, so that a crash anywhere leaves nothing listed:
 *   1. snapshot into .layers/.<name>.tmp-<pid>-<n>      (frozen only here)
 *   2. rename it to .layers/<name>                     (an orphan until 4)
 *   3. write the record into images/.<name>.tmp-<pid>-<n>/
 *   4. rename that to images/<name>: the image exists from here
 * hb_layers_recover (image_gc.c) removes what steps 1-3 leave behind. */
#include "btrfs.h"
#include "image_internal.h"
#include "image_layer.h"
#include "log.h"
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* <data>/sandboxes/.layers, made 0700 root: no sandbox uid may walk in. */
int hb_layers_dir_open(const hb_runtime_t *rt, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 32];
    if (hb_pathf(path, sizeof path, e, "%s/sandboxes/" HB_LAYERS_DIR, rt->data_dir) < 0)
        return -1;
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", path);
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", path);
    return fd;
}

static int check_request(const hb_sandbox_t *sb, const char *name, const char *kind, hb_err_t *e)
{
    if (!name || !hb_name_valid(name))
        return hb_fail(e, HB_E_INVALID, 0,
                       "name: must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$");
    if (!kind || (strcmp(kind, "snapshot") != 0 && strcmp(kind, "build") != 0 &&
                  strcmp(kind, "fork") != 0))
        return hb_fail(e, HB_E_INVALID, 0, "kind: must be snapshot, build or fork");
    int depth = hb_image_depth(sb->rt, sb->spec.image);
    if (depth < 0)
        return hb_fail(e, HB_E_CONFLICT, 0, "the sandbox's image '%s' is gone or broken",
                       sb->spec.image);
    if (depth >= HB_CHAIN_MAX)
        return hb_fail(e, HB_E_CONFLICT, 0, "image '%s' is %d layers deep already: a snapshot "
                       "of a sandbox made from it would pass the bound of %d layers",
                       sb->spec.image, depth, HB_CHAIN_MAX);
    hb_imginfo_t i;
    if (hb_image_info(sb->rt, name, &i) == 0)
        return hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name);
    return hb_image_quota_check(sb->rt, e);
}

/* Step 1, the frozen part: freeze, snapshot, thaw. */
static int take_snapshot(const hb_sandbox_t *sb, int ldfd, const char *tmp, bool paused,
                         hb_snap_times_t *t, hb_err_t *e)
{
    char path[sizeof sb->dir + 8];
    snprintf(path, sizeof path, "%s/layer", sb->dir);
    int src = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (src < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", path);
    /* Most dirty data goes out while the sandbox still runs; frozen, only
     * what it wrote since is flushed (the snapshot ioctl flushes the
     * subvolume's delalloc itself). */
    syncfs(src);
    uint64_t t0 = now_ms();
    int rc = paused ? 0 : hb_sandbox_freeze(sb, true, e);
    if (rc == 0) {
        rc = hb_btrfs_snapshot_ro(src, ldfd, tmp);
        int err = errno;
        hb_err_t te = {0};
        if (!paused && hb_sandbox_freeze(sb, false, &te) < 0)
            HB_LOG_ERROR("sandbox %s: thaw after snapshot: %s", sb->id, te.msg);
        if (rc < 0)
            hb_fail_sys(e, HB_E_INTERNAL, err, "btrfs snapshot of %s", path);
    }
    t->frozen_ms = now_ms() - t0;
    close(src);
    return rc;
}

static json_t *make_record(const hb_sandbox_t *sb, const char *name, const char *kind,
                           hb_imginfo_t *out)
{
    char path[HB_HOSTPATH_MAX + 2 * HB_ID_MAX];
    snprintf(path, sizeof path, "%s/images/%s/image.json", sb->rt->data_dir, sb->spec.image);
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);   /* facts, config */
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    hb_usage_t u;
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->parent, sizeof out->parent, "%s", sb->spec.image);
    snprintf(out->kind, sizeof out->kind, "%s", kind);
    out->created_at = (int64_t)time(NULL);
    out->size_bytes = hb_sandbox_disk_usage(sb, &u) == 0 ? u.disk_bytes : 0;
    out->uid_base = sb->uid_base;
    char layer[HB_ID_MAX + 16];
    snprintf(layer, sizeof layer, HB_LAYERS_DIR "/%s", name);
    json_t *mine = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "name", name, "parent",
                             out->parent, "kind", kind, "created_at", (json_int_t)out->created_at,
                             "size_bytes", (json_int_t)out->size_bytes, "uid_base",
                             (json_int_t)out->uid_base, "layer", layer, "source", sb->id);
    if (!j || !mine || json_object_update(j, mine) < 0) {
        json_decref(j);
        j = NULL;
    }
    json_decref(mine);
    return j;
}

/* Steps 3 and 4. */
static int publish(const hb_sandbox_t *sb, const char *name, const char *kind, const char *tmp,
                   hb_imginfo_t *out, hb_err_t *e)
{
    char images[HB_HOSTPATH_MAX], dir[HB_HOSTPATH_MAX + 128], dst[HB_HOSTPATH_MAX + 80];
    if (hb_images_dir(sb->rt, images, sizeof images, e) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/%s", images, tmp);
    snprintf(dst, sizeof dst, "%s/%s", images, name);
    if (mkdir(dir, 0755) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", dir);
    json_t *j = make_record(sb, name, kind, out);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    int rc = text ? hb_write_atomic(dir, "image.json", text, strlen(text), 0644, e)
                  : hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    free(text);
    if (rc == 0 && renameat2(AT_FDCWD, dir, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
        rc = errno == EEXIST ? hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name)
                             : hb_fail_sys(e, HB_E_INTERNAL, errno, "rename to %s", dst);
    if (rc < 0)
        hb_image_rmtree(dir, NULL);
    return rc;
}

/* The layer's qgroup limit is its size: never reached (it is read-only),
 * but the disk pool sizes itself by the sum of the limits (diskpool.c), and
 * a layer holds its bytes after its sandbox is gone. */
static void count_layer(int ldfd, const char *name, uint64_t bytes)
{
    int fd = openat(ldfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 || hb_btrfs_limit(fd, bytes > (1u << 20) ? bytes : (1u << 20)) < 0)
        HB_LOG_WARN("image %s: the layer's size is not counted in the disk pool: %s", name,
                    strerror(errno));
    if (fd >= 0)
        close(fd);
}

/* A test hook: stop between steps 2 and 4 so a test can kill the daemon
 * there (HIVEBOX_TEST_SNAPSHOT_STALL=<name>: that snapshot sleeps 30 s). */
static void test_stall(const char *name)
{
    const char *s = getenv("HIVEBOX_TEST_SNAPSHOT_STALL");
    if (s && strcmp(s, name) == 0) {
        HB_LOG_WARN("snapshot %s: stalling (HIVEBOX_TEST_SNAPSHOT_STALL)", name);
        sleep(30);
    }
}

int hb_image_restore(hb_sandbox_t *sb, const char *name, hb_err_t *e)
{
    hb_imginfo_t i;
    if (!name || !hb_name_valid(name) || hb_image_info(sb->rt, name, &i) < 0)
        return hb_fail(e, HB_E_INVALID, ENOENT, "snapshot: no image named '%s'",
                       name ? name : "");
    if (hb_image_depth(sb->rt, name) < 0)
        return hb_fail(e, HB_E_CONFLICT, 0, "snapshot: the chain of image '%s' is broken", name);
    HB_LOG_INFO("sandbox %s: restoring to image %s", sb->id, name);
    hb_err_t te = {0};
    if (hb_sandbox_freeze(sb, false, &te) < 0)   /* paused: its processes must be able to die */
        HB_LOG_WARN("sandbox %s: thaw before restore: %s", sb->id, te.msg);
    return hb_sandbox_relaunch(sb, name, e);
}

int hb_image_snapshot(const hb_sandbox_t *sb, const char *name, const char *kind, bool paused,
                      hb_imginfo_t *out, hb_snap_times_t *t, hb_err_t *e)
{
    static atomic_uint seq;
    uint64_t t0 = now_ms();
    memset(t, 0, sizeof *t);
    if (check_request(sb, name, kind, e) < 0)
        return -1;
    int ldfd = hb_layers_dir_open(sb->rt, e);
    if (ldfd < 0)
        return -1;
    char tmp[HB_ID_MAX + 48];
    snprintf(tmp, sizeof tmp, ".%s.tmp-%d-%u", name, (int)getpid(), atomic_fetch_add(&seq, 1));
    int rc = take_snapshot(sb, ldfd, tmp, paused, t, e);
    if (rc == 0 && renameat2(ldfd, tmp, ldfd, name, RENAME_NOREPLACE) < 0) {
        rc = errno == EEXIST ? hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name)
                             : hb_fail_sys(e, HB_E_INTERNAL, errno, "rename layer %s", tmp);
        hb_btrfs_subvol_destroy(ldfd, tmp);
    }
    if (rc == 0) {
        test_stall(name);
        if (publish(sb, name, kind, tmp, out, e) < 0) {
            hb_btrfs_subvol_destroy(ldfd, name);
            rc = -1;
        } else {
            count_layer(ldfd, name, out->size_bytes);
        }
    }
    close(ldfd);
    t->total_ms = now_ms() - t0;
    if (rc == 0)
        HB_LOG_INFO("image %s: snapshot of %s (frozen %llu ms, total %llu ms)", name, sb->id,
                    (unsigned long long)t->frozen_ms, (unsigned long long)t->total_ms);
    return rc;
}
