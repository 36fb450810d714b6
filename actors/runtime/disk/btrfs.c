/* btrfs ioctls (see btrfs.h). */
#include "btrfs.h"

#include <endian.h>
#include <errno.h>
#include <linux/btrfs.h>
#include <linux/btrfs_tree.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>

#ifndef BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA
#define BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA 4   /* linux 6.7 */
#endif

bool hb_btrfs_is(int fd)
{
    struct statfs sf;
    return fstatfs(fd, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

int hb_btrfs_quota_enable(int fd)
{
    struct btrfs_ioctl_quota_ctl_args q = {.cmd = BTRFS_QUOTA_CTL_ENABLE_SIMPLE_QUOTA};
    if (ioctl(fd, BTRFS_IOC_QUOTA_CTL, &q) == 0)
        return 0;
    if (errno != EINVAL && errno != EOPNOTSUPP)
        return -1;
    q.cmd = BTRFS_QUOTA_CTL_ENABLE;
    return ioctl(fd, BTRFS_IOC_QUOTA_CTL, &q);
}

static int vol_args(struct btrfs_ioctl_vol_args *va, const char *name)
{
    memset(va, 0, sizeof *va);
    if (strchr(name, '/') || snprintf(va->name, sizeof va->name, "%s", name) >=
                                 (int)sizeof va->name) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int hb_btrfs_subvol_create(int dirfd, const char *name)
{
    struct btrfs_ioctl_vol_args va;
    return vol_args(&va, name) < 0 ? -1 : ioctl(dirfd, BTRFS_IOC_SUBVOL_CREATE, &va);
}

int hb_btrfs_subvol_destroy(int dirfd, const char *name)
{
    struct btrfs_ioctl_vol_args va;
    return vol_args(&va, name) < 0 ? -1 : ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY, &va);
}

int hb_btrfs_snapshot_ro(int src_fd, int dirfd, const char *name)
{
    struct btrfs_ioctl_vol_args_v2 va;
    memset(&va, 0, sizeof va);
    if (strchr(name, '/') || snprintf(va.name, sizeof va.name, "%s", name) >= (int)sizeof va.name) {
        errno = EINVAL;
        return -1;
    }
    va.fd = src_fd;
    va.flags = BTRFS_SUBVOL_RDONLY;
    return ioctl(dirfd, BTRFS_IOC_SNAP_CREATE_V2, &va);
}

int hb_btrfs_subvol_id(int fd, uint64_t *id)
{
    struct btrfs_ioctl_ino_lookup_args a = {.treeid = 0, .objectid = BTRFS_FIRST_FREE_OBJECTID};
    if (ioctl(fd, BTRFS_IOC_INO_LOOKUP, &a) < 0)
        return -1;
    *id = a.treeid;
    return 0;
}

int hb_btrfs_limit(int fd, uint64_t max_bytes)
{
    struct btrfs_ioctl_qgroup_limit_args a = {.qgroupid = 0};   /* 0: fd's subvolume */
    a.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER;
    a.lim.max_rfer = max_bytes ? max_bytes : (uint64_t)-1;
    return ioctl(fd, BTRFS_IOC_QGROUP_LIMIT, &a);
}

/* Walk the quota tree's items of one type for qgroup ids [lo, hi]; fn sees
 * each item's qgroup id and body. Paged: the ioctl returns at most a page. */
typedef void (*item_fn)(void *ud, uint64_t qgroupid, const void *item, uint32_t len);

static int quota_items(int fd, uint32_t type, uint64_t lo, uint64_t hi, item_fn fn, void *ud)
{
    struct btrfs_ioctl_search_args sa;
    for (;;) {
        memset(&sa, 0, sizeof sa);
        sa.key = (struct btrfs_ioctl_search_key){
            .tree_id = BTRFS_QUOTA_TREE_OBJECTID, .min_type = type, .max_type = type,
            .min_offset = lo, .max_offset = hi, .max_transid = (uint64_t)-1, .nr_items = 512};
        if (ioctl(fd, BTRFS_IOC_TREE_SEARCH, &sa) < 0)
            return -1;
        if (sa.key.nr_items == 0)
            return 0;
        size_t off = 0;
        uint64_t last = 0;
        uint32_t seen = 0;
        for (uint32_t i = 0; i < sa.key.nr_items; i++, seen++) {
            struct btrfs_ioctl_search_header h;
            if (off + sizeof h > sizeof sa.buf)
                break;
            memcpy(&h, sa.buf + off, sizeof h);
            off += sizeof h;
            if (off + h.len > sizeof sa.buf)
                break;
            if (h.type == type && h.objectid == 0)
                fn(ud, h.offset, sa.buf + off, h.len);
            off += h.len;
            last = h.offset;
        }
        if (seen == 0 || last >= hi)
            return 0;
        lo = last + 1;
    }
}

static void take_rfer(void *ud, uint64_t id, const void *item, uint32_t len)
{
    struct btrfs_qgroup_info_item it;
    if (len < sizeof it)
        return;
    memcpy(&it, item, sizeof it);
    *(uint64_t *)ud = le64toh(it.rfer);
}

int hb_btrfs_qgroup_used(int fd, uint64_t id, uint64_t *bytes)
{
    *bytes = UINT64_MAX;
    if (quota_items(fd, BTRFS_QGROUP_INFO_KEY, id, id, take_rfer, bytes) < 0)
        return -1;
    if (*bytes == UINT64_MAX) {
        errno = ENOENT;
        return -1;
    }
    return 0;
}

static void add_limit(void *ud, uint64_t id, const void *item, uint32_t len)
{
    struct btrfs_qgroup_limit_item it;
    if (len < sizeof it)
        return;
    memcpy(&it, item, sizeof it);
    uint64_t max = le64toh(it.max_rfer);
    if ((le64toh(it.flags) & BTRFS_QGROUP_LIMIT_MAX_RFER) && max != (uint64_t)-1)
        *(uint64_t *)ud += max;
}

int hb_btrfs_limits_sum(int fd, uint64_t *sum)
{
    *sum = 0;
    /* Level-0 qgroups only: one per subvolume. */
    return quota_items(fd, BTRFS_QGROUP_LIMIT_KEY, 0, (1ull << BTRFS_QGROUP_LEVEL_SHIFT) - 1,
                       add_limit, sum);
}

int hb_btrfs_resize_max(int fd)
{
    struct btrfs_ioctl_vol_args va;
    return vol_args(&va, "max") < 0 ? -1 : ioctl(fd, BTRFS_IOC_RESIZE, &va);
}

int hb_btrfs_device(int fd, char *path, size_t len)
{
    struct btrfs_ioctl_fs_info_args fi;
    memset(&fi, 0, sizeof fi);
    if (ioctl(fd, BTRFS_IOC_FS_INFO, &fi) < 0)
        return -1;
    for (uint64_t id = 1; id <= fi.max_id; id++) {
        struct btrfs_ioctl_dev_info_args di;
        memset(&di, 0, sizeof di);
        di.devid = id;
        if (ioctl(fd, BTRFS_IOC_DEV_INFO, &di) < 0)
            continue;
        if (snprintf(path, len, "%s", (const char *)di.path) >= (int)len) {
            errno = ENAMETOOLONG;
            return -1;
        }
        return 0;
    }
    errno = ENODEV;
    return -1;
}
