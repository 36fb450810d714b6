#ifndef HB_RMTREE_H
#define HB_RMTREE_H
/* rm -rf that never follows a symlink and never crosses into another
 * filesystem: sandbox upper dirs are full of links the sandbox made. A btrfs
 * subvolume met on the way is deleted whole (BTRFS_IOC_SNAP_DESTROY). */
int hb_rmtree(const char *path);
#endif
