#include "rmtree.h"

#include "btrfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/btrfs_tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Recursion depth (and so open directories) per pass. A sandbox can nest
 * directories far deeper than this: what lies below is moved up to the top
 * and removed in a later pass, so no depth makes a tree undeletable. */
#define RM_DEPTH_MAX 128

typedef struct {
    int      top;     /* the tree's root, where too-deep subtrees are moved */
    dev_t    dev;     /* never cross into another filesystem */
    unsigned moved;   /* names handed out for moved subtrees */
    bool     again;   /* something was moved: another pass is due */
} rm_t;

/* Move the subdirectory n of dfd to the top under a fresh name. */
static int move_up(rm_t *rm, int dfd, const char *n)
{
    for (int tries = 0; tries < 1000; tries++) {
        char nm[32];
        snprintf(nm, sizeof nm, ".hb-rm-%u", rm->moved++);
        if (renameat2(dfd, n, rm->top, nm, RENAME_NOREPLACE) == 0) {
            rm->again = true;
            return 0;
        }
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

static int empty_dir(rm_t *rm, int dfd, int depth);

/* A directory entry unlink refused: a directory, a subvolume or a mount. */
static int remove_dir_entry(rm_t *rm, int dfd, const char *n, int depth)
{
    if (depth + 1 >= RM_DEPTH_MAX)
        return move_up(rm, dfd, n);
    int sub = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    bool seen = sub >= 0 && fstat(sub, &st) == 0;
    if (!seen || st.st_dev != rm->dev) {
        /* A btrfs subvolume (a sandbox's writable layer) has a device
         * number of its own: it goes whole, by ioctl. Any other
         * filesystem is never entered. */
        bool subvol = seen && st.st_ino == BTRFS_FIRST_FREE_OBJECTID && hb_btrfs_is(sub);
        if (sub >= 0)
            close(sub);
        return subvol ? hb_btrfs_subvol_destroy(dfd, n) : -1;
    }
    int rc = empty_dir(rm, sub, depth + 1);
    if (unlinkat(dfd, n, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

/* Empty the directory open as dfd (consumed). */
static int empty_dir(rm_t *rm, int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), n, 0) == 0 || errno == ENOENT)
            continue;
        if ((errno != EISDIR && errno != EPERM) || remove_dir_entry(rm, dirfd(d), n, depth) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int hb_rmtree(const char *path)
{
    rm_t rm = {.top = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    if (rm.top < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    int rc = -1;
    if (fstat(rm.top, &st) == 0) {
        rm.dev = st.st_dev;
        do {   /* each pass brings what it moved up nearer the top: it ends */
            rm.again = false;
            int fd = openat(rm.top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            rc = fd < 0 ? -1 : empty_dir(&rm, fd, 0);
        } while (rm.again);
    }
    close(rm.top);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}
