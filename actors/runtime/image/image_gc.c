/* Image removal, the quotas, and the start-up clean-up of half-made
 * snapshots (see image_layer.h). */
#include "btrfs.h"
#include "image_internal.h"
#include "image_layer.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool hb_image_child(const hb_runtime_t *rt, const char *name, char *child, size_t len)
{
    char **names = NULL;
    size_t n = 0;
    bool found = false;
    if (hb_image_list(rt, &names, &n, NULL) < 0)
        return false;
    for (size_t i = 0; i < n && !found; i++) {
        hb_imginfo_t info;
        if (hb_image_info(rt, names[i], &info) == 0 && strcmp(info.parent, name) == 0) {
            snprintf(child, len, "%s", names[i]);
            found = true;
        }
    }
    hb_strv_free(names, n);
    return found;
}

int hb_image_quota_check(const hb_runtime_t *rt, hb_err_t *e)
{
    uint64_t max_n = rt->conf.max_images, max_b = rt->conf.max_image_bytes;
    if (!max_n && !max_b)
        return 0;
    char **names = NULL;
    size_t n = 0;
    if (hb_image_list(rt, &names, &n, e) < 0)
        return -1;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        hb_imginfo_t info;
        if (hb_image_info(rt, names[i], &info) == 0)
            bytes += info.size_bytes;
    }
    hb_strv_free(names, n);
    if (max_n && n >= max_n)
        return hb_fail(e, HB_E_NOSPACE, 0, "image quota: %zu images, the most --max-images "
                       "allows (%llu); delete one first", n, (unsigned long long)max_n);
    if (max_b && bytes >= max_b)
        return hb_fail(e, HB_E_NOSPACE, 0, "image quota: the images hold %llu bytes, "
                       "--max-image-bytes is %llu; delete one first", (unsigned long long)bytes,
                       (unsigned long long)max_b);
    return 0;
}

/* The limit lifted first (as hb_layer_release does): a qgroup the kernel
 * keeps after its subvolume is gone then counts for nothing. */
static void destroy_layer_at(int ldfd, const char *name)
{
    int fd = openat(ldfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        hb_btrfs_limit(fd, 0);
        close(fd);
    }
    if (hb_btrfs_subvol_destroy(ldfd, name) < 0 && errno != ENOENT)
        HB_LOG_WARN("image: removing layer %s: %s", name, strerror(errno));
}

static void destroy_layer(const hb_runtime_t *rt, const char *name)
{
    int ldfd = hb_layers_dir_open(rt, NULL);
    if (ldfd < 0)
        return;
    destroy_layer_at(ldfd, name);
    close(ldfd);
}

int hb_image_remove(const hb_runtime_t *rt, const char *name, hb_err_t *e)
{
    static atomic_uint seq;
    hb_imginfo_t info;
    char child[HB_ID_MAX], images[HB_HOSTPATH_MAX], dir[HB_HOSTPATH_MAX + 80],
        tmp[HB_HOSTPATH_MAX + 140];
    if (!name || !hb_name_valid(name) || hb_image_info(rt, name, &info) < 0)
        return hb_fail(e, HB_E_NOTFOUND, ENOENT, "image '%s' not found", name ? name : "");
    if (hb_image_child(rt, name, child, sizeof child))
        return hb_fail(e, HB_E_CONFLICT, 0, "image '%s' is the parent of image '%s': delete "
                       "that one first", name, child);
    if (hb_images_dir(rt, images, sizeof images, e) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/%s", images, name);
    /* The rename is the removal: a crash after it leaves a temp dir that
     * the next start removes, never half an image. */
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%d-rm%u", images, name, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (rename(dir, tmp) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "rename %s", dir);
    if (info.parent[0])
        destroy_layer(rt, name);
    hb_image_rmtree(tmp, NULL);
    HB_LOG_INFO("image %s removed", name);
    return 0;
}

/* ".<name>.tmp-<pid>..." of a process that is gone (or of ours: at start
 * nothing of ours is being made yet). */
static bool stale_tmp(const char *d_name)
{
    const char *t = d_name[0] == '.' ? strstr(d_name, ".tmp-") : NULL;
    if (!t)
        return false;
    long pid = strtol(t + 5, NULL, 10);
    return pid <= 0 || (pid != getpid() && kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

static void clean_images(const hb_runtime_t *rt)
{
    char images[HB_HOSTPATH_MAX], path[HB_HOSTPATH_MAX + 300];
    if (hb_images_dir(rt, images, sizeof images, NULL) < 0)
        return;
    DIR *d = opendir(images);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        if (!stale_tmp(de->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", images, de->d_name);
        HB_LOG_INFO("image: removing half-made %s", path);
        hb_image_rmtree(path, NULL);
    }
    closedir(d);
}

/* A layer is kept while an image names it (its record's parent is set). */
static void clean_layers(const hb_runtime_t *rt)
{
    char path[HB_HOSTPATH_MAX + 32];
    if (hb_pathf(path, sizeof path, NULL, "%s/sandboxes/" HB_LAYERS_DIR, rt->data_dir) < 0 ||
        access(path, F_OK) < 0)
        return;   /* no image was ever layered here: nothing to make */
    int ldfd = hb_layers_dir_open(rt, NULL);
    if (ldfd < 0)
        return;
    DIR *d = fdopendir(dup(ldfd));
    for (struct dirent *de; d && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        bool orphan = de->d_name[0] == '.' ? stale_tmp(de->d_name)
                                           : !hb_image_is_layer(rt, de->d_name);
        if (!orphan)
            continue;
        HB_LOG_INFO("image: removing orphan layer %s", de->d_name);
        destroy_layer_at(ldfd, de->d_name);
    }
    if (d)
        closedir(d);
    close(ldfd);
}

void hb_layers_recover(const hb_runtime_t *rt)
{
    clean_images(rt);
    clean_layers(rt);
}
