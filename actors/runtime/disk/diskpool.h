/* The disk pool: the btrfs filesystem mounted at <data>/sandboxes that holds
 * every sandbox's state dir, and in it each sandbox's writable layer as a
 * subvolume with a quota (layer.c). It is the data dir's own filesystem when
 * that is btrfs; otherwise one sparse image, <data>/sandboxes.btrfs, on one
 * loop device, mounted nosuid,nodev, grown as sandboxes are created but
 * never past the host's free space minus a reserve. */
#ifndef HB_DISKPOOL_H
#define HB_DISKPOOL_H

#include "runtime.h"

#define HB_POOL_IMAGE       "sandboxes.btrfs"

/* At start: adopt the pool if it is mounted already (sandboxes survived the
 * last daemon), else mount the image (made first if missing); quotas on.
 * The host reserve comes from $HIVEBOX_DISK_RESERVE (the daemon's
 * --disk-reserve), default 2g. */
int  hb_pool_open(hb_runtime_t *rt, hb_err_t *e);
/* Before a create of a layer of `disk` bytes: HB_E_NOSPACE when the host is
 * inside its reserve or the pool is full and may not grow; HB_E_INVALID when
 * disk exceeds the data dir's filesystem; else grow the image so that the
 * limits of every layer fit, as far as the reserve allows. */
int  hb_pool_admit(const hb_runtime_t *rt, uint64_t disk, hb_err_t *e);
/* A create admitted by hb_pool_admit is over (its layer limit is set, or it
 * failed): its bytes stop counting as pending. */
void hb_pool_settled(const hb_runtime_t *rt, uint64_t disk);
void hb_pool_close(hb_runtime_t *rt);

#endif
