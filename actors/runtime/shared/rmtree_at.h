/* rm -rf below a directory fd, shared by the daemon (sandbox state dirs,
 * image work dirs: actors/runtime/rmtree.c) and init (`remove` with
 * `recursive`: tools/init/agent/agent_files.c). Every step is an *at() call
 * on a directory opened with O_NOFOLLOW, so a symbolic link is only ever
 * unlinked, never entered, and a directory swapped for a link meanwhile is
 * refused (ELOOP) rather than followed. At most depth_max directories are
 * open at once: a deeper subtree is moved up to the top under a fresh name
 * and removed in a later pass, so no depth is undeletable. */
#ifndef HB_RMTREE_AT_H
#define HB_RMTREE_AT_H

#include <stdint.h>

typedef struct {
    int      depth_max;     /* open directories per pass (>= 2) */
    uint64_t entries_max;   /* stop with EFBIG past this many; 0: no bound */
    /* A directory on another filesystem than the tree's top, open as fd
     * (the callee closes it): remove it (0) or not (-1 with errno). NULL:
     * never cross, EXDEV. */
    int (*foreign)(int dfd, const char *name, int fd);
    uint64_t removed;       /* out: entries removed */
} hb_rmtree_opts_t;

/* Remove base (a directory, relative to dfd) and everything below it.
 * 0, or -1 with errno of the first failure (the walk still removes what
 * it can). */
int hb_rmtree_at(int dfd, const char *base, hb_rmtree_opts_t *o);

#endif
