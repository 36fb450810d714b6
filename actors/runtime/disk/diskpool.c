/* The disk pool (see diskpool.h). Only mkfs.btrfs is spawned, once, when
 * the image is made; the loop device, the mount, growing and quotas are
 * ioctls and mount(2). */
#include "diskpool.h"
#include "image_layer.h"

#include "btrfs.h"
#include "image_internal.h"
#include "log.h"
#include "loopdev.h"
#include "sbdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define POOL_MIN_SIZE (1ull << 30)     /* the image as first made, room permitting */
#define POOL_MKFS_MIN (256ull << 20)   /* mkfs.btrfs wants some 120 MiB */
#define POOL_STEP     (256ull << 20)   /* it grows in steps of this */
#define POOL_SLACK    (512ull << 20)   /* metadata chunks, btrfs's global reserve */
#define POOL_MIN_FREE (64ull << 20)    /* less than this free: the pool is full */

struct hb_pool {
    pthread_mutex_t lock;        /* admits: one grows the image at a time */
    char     data_dir[HB_HOSTPATH_MAX];
    char     mnt[HB_HOSTPATH_MAX + 16];     /* <data>/sandboxes */
    char     image[HB_HOSTPATH_MAX + 32];   /* "" when the pool is not our image */
    uint64_t reserve;
    bool     own_mount;          /* we mounted it (now or in an earlier run) */
    uint64_t pending;            /* admitted creates whose layer limit is not set yet */
};

static uint64_t mib(uint64_t b) { return b >> 20; }

static int host_space(const char *dir, uint64_t *avail, uint64_t *total)
{
    struct statvfs v;
    if (statvfs(dir, &v) < 0)
        return -1;
    *avail = (uint64_t)v.f_bavail * v.f_frsize;
    if (total)
        *total = (uint64_t)v.f_blocks * v.f_frsize;
    return 0;
}

static bool mount_root(const char *path)
{
    struct statx sx;
    return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, 0, &sx) == 0 &&
           (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
           (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static bool dir_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *de;
    bool empty = true;
    while (empty && (de = readdir(d)))
        empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty;
}

static void keep_line(void *ud, const char *line)
{
    if (line[0])
        snprintf(ud, 200, "%s", line);
}

/* mkfs into a temp file renamed into place: a crash never leaves half an
 * image under the real name. Metadata "single": a second copy on the same
 * host disk protects nothing and would double what the quota cannot see. */
static int make_image(const struct hb_pool *p, hb_err_t *e)
{
    char tmp[HB_HOSTPATH_MAX + 48], last[200] = "";
    uint64_t host_free, size = POOL_MIN_SIZE;
    if (host_space(p->data_dir, &host_free, NULL) == 0) {   /* the reserve holds from the start */
        uint64_t room = host_free > p->reserve ? host_free - p->reserve : 0;
        if (room < size)
            size = room > POOL_MKFS_MIN ? room & ~((1ull << 20) - 1) : POOL_MKFS_MIN;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", p->image);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "disk pool: create %s", tmp);
    }
    close(fd);
    const char *argv[] = {"mkfs.btrfs", "-q", "-f", "-m", "single", "-d", "single",
                          "-L", "hivebox", tmp, NULL};
    int st = hb_spawn_lines(argv, keep_line, last, e);
    if (st != 0) {
        unlink(tmp);
        return st < 0 ? -1 : hb_fail(e, HB_E_NOTSUP, 0, "disk pool: mkfs.btrfs failed: %s", last);
    }
    if (rename(tmp, p->image) < 0) {
        int err = errno;
        unlink(tmp);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "disk pool: rename %s", tmp);
    }
    return 0;
}

/* nosuid,nodev: nothing a sandbox writes into its layer is a setuid program
 * or a device node for anyone who reaches it on the host. */
static int mount_image(const struct hb_pool *p, hb_err_t *e)
{
    char dev[64];
    int fd = hb_loop_attach(p->image, dev, sizeof dev, e);
    if (fd < 0)
        return -1;
    unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOATIME;
    /* discard: space freed inside goes back to the host (holes punched). */
    int r = mount(dev, p->mnt, "btrfs", fl, "discard=async");
    if (r < 0 && errno == EINVAL)
        r = mount(dev, p->mnt, "btrfs", fl, NULL);
    int err = errno;
    close(fd);   /* the mount holds the device now; unmounting frees it */
    if (r < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, err, "disk pool: mount %s (btrfs) on %s", p->image,
                           p->mnt);
    HB_LOG_INFO("disk pool: %s mounted on %s (%s)", p->image, p->mnt, dev);
    return 0;
}

/* Is the btrfs mounted at p->mnt our image (left by an earlier daemon)? */
static bool is_our_image(const struct hb_pool *p, int fd)
{
    char dev[256], backing[PATH_MAX], real[PATH_MAX];
    return hb_btrfs_device(fd, dev, sizeof dev) == 0 &&
           hb_loop_backing(dev, backing, sizeof backing) == 0 &&
           realpath(p->image, real) && strcmp(backing, real) == 0;
}

static int attach(struct hb_pool *p, hb_err_t *e)
{
    if (mkdir(p->mnt, 0711) < 0 && errno != EEXIST)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "data dir: mkdir %s", p->mnt);
    int fd = open(p->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", p->mnt);
    bool btrfs = hb_btrfs_is(fd);
    close(fd);
    if (btrfs) {
        p->own_mount = mount_root(p->mnt);
        return 0;
    }
    if (!dir_empty(p->mnt))
        return hb_fail(e, HB_E_NOTSUP, 0,
                       "data dir: %s holds sandboxes made without disk quotas (an older "
                       "hivebox): destroy them with it, or remove them, first", p->mnt);
    if (access(p->image, F_OK) < 0 && make_image(p, e) < 0)
        return -1;
    if (mount_image(p, e) < 0)
        return -1;
    p->own_mount = true;
    return 0;
}

int hb_pool_open(hb_runtime_t *rt, hb_err_t *e)
{
    struct hb_pool *p = calloc(1, sizeof *p);
    if (!p)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    pthread_mutex_init(&p->lock, NULL);
    snprintf(p->data_dir, sizeof p->data_dir, "%s", rt->data_dir);
    if (hb_sbdir_path(p->mnt, sizeof p->mnt, rt->data_dir, NULL, e) < 0) {
        free(p);
        return -1;
    }
    snprintf(p->image, sizeof p->image, "%s/" HB_POOL_IMAGE, rt->data_dir);
    rt->pool = p;
    p->reserve = rt->conf.disk_reserve;   /* --disk-reserve */
    if (attach(p, e) < 0)
        return -1;
    int fd = open(p->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", p->mnt);
    /* The data dir's own btrfs, or one mounted there by the admin: not ours
     * to grow or unmount. */
    if (!p->own_mount || !is_our_image(p, fd)) {
        HB_LOG_INFO("disk pool: %s is on a btrfs of the host's: quotas on, never grown", p->mnt);
        p->own_mount = false;
        p->image[0] = '\0';
    }
    int r = fchmod(fd, 0711) < 0 || hb_btrfs_quota_enable(fd) < 0 ? -1 : 0;
    int err = errno;
    close(fd);
    if (r < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, err, "disk pool: btrfs quotas on %s", p->mnt);
    hb_layers_recover(rt);   /* half-made snapshots of a crashed daemon (image_gc.c) */
    return 0;
}

/* Big enough for every layer's limit, but never so big that filling it
 * would leave the host less than the reserve: the part of the image not yet
 * written (its size minus what it holds on the host) stays under host free
 * space minus the reserve. */
static uint64_t target_size(const struct hb_pool *p, uint64_t limits, uint64_t held,
                            uint64_t host_free)
{
    uint64_t want = (limits + POOL_SLACK + POOL_STEP - 1) / POOL_STEP * POOL_STEP;
    uint64_t cap = (held + host_free - p->reserve) & ~((1ull << 20) - 1);
    return want < cap ? want : cap;
}

/* File, loop device, filesystem: each told of the new size in turn. */
static int resize(const struct hb_pool *p, int img, int mfd, uint64_t size, hb_err_t *e)
{
    char dev[256];
    if (hb_btrfs_device(mfd, dev, sizeof dev) < 0 || ftruncate(img, (off_t)size) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "disk pool: grow %s", p->image);
    if (hb_loop_refresh(dev, e) < 0)
        return -1;
    if (hb_btrfs_resize_max(mfd) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "disk pool: resize");
    return 0;
}

/* Grow the image for a new layer of `disk` bytes. It never shrinks (that
 * would mean relocating data). */
static int grow(struct hb_pool *p, uint64_t disk, uint64_t host_free, hb_err_t *e)
{
    int img = open(p->image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    int mfd = open(p->mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    uint64_t sum = 0;
    int rc;
    if (img < 0 || mfd < 0 || fstat(img, &st) < 0 || hb_btrfs_limits_sum(mfd, &sum) < 0) {
        rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "disk pool: %s", p->image);
    } else {
        uint64_t size = (uint64_t)st.st_size;
        uint64_t target = target_size(p, sum + disk, (uint64_t)st.st_blocks * 512, host_free);
        rc = target <= size ? 0 : resize(p, img, mfd, target, e);
        if (rc == 0 && target > size)
            HB_LOG_INFO("disk pool: grown from %llu to %llu MiB (limits %llu MiB)",
                     (unsigned long long)mib(size), (unsigned long long)mib(target),
                     (unsigned long long)mib(sum + disk));
    }
    if (img >= 0)
        close(img);
    if (mfd >= 0)
        close(mfd);
    return rc;
}

static int admit_locked(struct hb_pool *p, uint64_t disk, hb_err_t *e)
{
    uint64_t host_free, host_total, pool_free;
    if (host_space(p->data_dir, &host_free, &host_total) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "statvfs %s", p->data_dir);
    if (disk > host_total)
        return hb_fail(e, HB_E_INVALID, 0,
                       "disk: must not exceed %llum, the size of the data dir's filesystem",
                       (unsigned long long)mib(host_total));
    if (host_free < p->reserve)
        return hb_fail(e, HB_E_NOSPACE, ENOSPC,
                       "disk: the host has %llu MiB free, less than the %llu MiB it keeps in "
                       "reserve (--disk-reserve): no new sandbox until space is freed",
                       (unsigned long long)mib(host_free), (unsigned long long)mib(p->reserve));
    /* Creates run side by side: those admitted but not yet limited count too. */
    if (p->image[0] && grow(p, disk + p->pending, host_free, e) < 0)
        return -1;
    if (host_space(p->mnt, &pool_free, NULL) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "statvfs %s", p->mnt);
    if (pool_free < POOL_MIN_FREE)
        return hb_fail(e, HB_E_NOSPACE, ENOSPC,
                       "disk: the sandboxes' filesystem is full (%llu MiB free) and may not "
                       "grow into the host's reserve of %llu MiB",
                       (unsigned long long)mib(pool_free), (unsigned long long)mib(p->reserve));
    return 0;
}

int hb_pool_admit(const hb_runtime_t *rt, uint64_t disk, hb_err_t *e)
{
    struct hb_pool *p = rt->pool;
    if (!p)
        return hb_fail(e, HB_E_NOTSUP, 0, "disk pool: not attached");
    pthread_mutex_lock(&p->lock);
    int rc = admit_locked(p, disk, e);
    if (rc == 0)
        p->pending += disk;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void hb_pool_settled(const hb_runtime_t *rt, uint64_t disk)
{
    struct hb_pool *p = rt->pool;
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->pending -= disk <= p->pending ? disk : p->pending;
    pthread_mutex_unlock(&p->lock);
}

void hb_pool_close(hb_runtime_t *rt)
{
    struct hb_pool *p = rt->pool;
    if (!p)
        return;
    /* An empty layer store (issue 17: image_layer.h) is no reason to stay;
     * layers of images are, like sandboxes. */
    char layers[sizeof p->mnt + 16];
    snprintf(layers, sizeof layers, "%s/" HB_LAYERS_DIR, p->mnt);
    rmdir(layers);
    if (p->own_mount && dir_empty(p->mnt)) {
        if (umount2(p->mnt, 0) == 0)
            HB_LOG_INFO("disk pool: no sandbox left, %s unmounted", p->mnt);
        else
            HB_LOG_WARN("disk pool: umount %s: %s", p->mnt, strerror(errno));
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
    rt->pool = NULL;
}
