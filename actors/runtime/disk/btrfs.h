/* The btrfs ioctls the disk quota needs (linux/btrfs.h), so that no
 * per-sandbox step ever spawns the `btrfs` tool. Every call takes an open
 * directory fd on the filesystem; -1 with errno set on failure. */
#ifndef HB_BTRFS_H
#define HB_BTRFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool hb_btrfs_is(int fd);
/* Quotas on: simple quotas (kernel >= 6.7: owner-attributed, no backref
 * walks) where the kernel has them, else classic qgroups. A filesystem that
 * already has quotas keeps its mode. */
int  hb_btrfs_quota_enable(int fd);
int  hb_btrfs_subvol_create(int dirfd, const char *name);
/* Delete the subvolume dirfd/name with everything in it (the space comes
 * back in the background, from the cleaner thread). */
int  hb_btrfs_subvol_destroy(int dirfd, const char *name);
/* A read-only snapshot of the subvolume src_fd is in, as dirfd/name
 * (flushes the source's dirty data first: the kernel does, as part of it). */
int  hb_btrfs_snapshot_ro(int src_fd, int dirfd, const char *name);
/* fd: any directory inside the subvolume. */
int  hb_btrfs_subvol_id(int fd, uint64_t *id);
/* Limit the referenced bytes of the subvolume fd is in; 0 lifts the limit. */
int  hb_btrfs_limit(int fd, uint64_t max_bytes);
/* Referenced bytes of subvolume id's qgroup as of the last commit. */
int  hb_btrfs_qgroup_used(int fd, uint64_t id, uint64_t *bytes);
/* Sum of the referenced-bytes limits of every subvolume qgroup. */
int  hb_btrfs_limits_sum(int fd, uint64_t *sum);
/* Grow the (single) device's filesystem to the whole device. */
int  hb_btrfs_resize_max(int fd);
/* Path of the filesystem's first device, e.g. "/dev/loop3". */
int  hb_btrfs_device(int fd, char *path, size_t len);

#endif
