#include "rmtree.h"

#include "btrfs.h"
#include "rmtree_at.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs_tree.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* A btrfs subvolume (a sandbox's writable layer) has a device number of its
 * own: it goes whole, by ioctl. Any other filesystem is never entered. */
static int subvolume_only(int dfd, const char *name, int fd)
{
    struct stat st;
    bool subvol = fstat(fd, &st) == 0 && st.st_ino == BTRFS_FIRST_FREE_OBJECTID && hb_btrfs_is(fd);
    close(fd);
    if (!subvol) {
        errno = EXDEV;
        return -1;
    }
    return hb_btrfs_subvol_destroy(dfd, name);
}

int hb_rmtree(const char *path)
{
    /* 128 open directories per pass: the daemon has fds to spare. */
    hb_rmtree_opts_t o = {.depth_max = 128, .foreign = subvolume_only};
    if (hb_rmtree_at(AT_FDCWD, path, &o) == 0 || errno == ENOENT)
        return 0;
    return -1;
}
