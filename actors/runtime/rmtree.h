#ifndef HB_RMTREE_H
#define HB_RMTREE_H
/* rm -rf that never follows a symlink and never crosses into another
 * filesystem: sandbox upper dirs are full of links the sandbox made. */
int hb_rmtree(const char *path);
#endif
