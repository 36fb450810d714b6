/* `remove` with `recursive`: a directory and everything below it.
 *
 * The walk is done here, in init, rather than by the daemon iterating list
 * and remove requests: one request instead of one per entry (a 10,000-file
 * tree is one round trip), and every step is an *at() call on a directory
 * fd opened with O_NOFOLLOW, so a symbolic link is only ever unlinked,
 * never entered, and a directory swapped for a link meanwhile is refused
 * (ELOOP) rather than followed. The same rules as actors/runtime/rmtree.c:
 *  - never cross into another filesystem (a mount inside the sandbox, such
 *    as /proc or a bind mount, is left alone: the answer is EXDEV);
 *  - at most RM_DEPTH_MAX directories open per request; a deeper subtree is
 *    moved up to the top of the tree and removed in a later pass, so no
 *    depth is undeletable and the fds stay bounded;
 *  - at most RM_ENTRIES_MAX entries per request (EFBIG past that; what was
 *    removed stays removed). */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RM_DEPTH_MAX   32
#define RM_ENTRIES_MAX (1u << 22)

typedef struct {
    int      top;      /* the directory being removed */
    dev_t    dev;      /* its filesystem: never leave it */
    unsigned moved;    /* names handed out to moved subtrees */
    uint64_t count;    /* entries removed */
    int      err;      /* the first errno that stopped part of the walk */
    bool     again;    /* something was moved up: another pass is due */
} rm_t;

static int fail(rm_t *rm, int err)
{
    if (!rm->err)
        rm->err = err;
    return -1;
}

/* Move subdirectory n of dfd to the top under a fresh name. */
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
            return fail(rm, errno);
    }
    return fail(rm, EEXIST);
}

static int empty_dir(rm_t *rm, int dfd, int depth);

/* n in dfd is a directory (unlink said so): empty it, then remove it. */
static int remove_subdir(rm_t *rm, int dfd, const char *n, int depth)
{
    if (depth + 1 >= RM_DEPTH_MAX)
        return move_up(rm, dfd, n);
    int sub = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (sub < 0 || fstat(sub, &st) < 0) {
        int e = errno;
        if (sub >= 0)
            close(sub);
        return e == ENOENT ? 0 : fail(rm, e);
    }
    if (st.st_dev != rm->dev) {
        close(sub);
        return fail(rm, EXDEV);
    }
    int rc = empty_dir(rm, sub, depth + 1);
    if (unlinkat(dfd, n, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return fail(rm, errno);
    rm->count++;
    return rc;
}

/* Empty the directory open as dfd (consumed). */
static int empty_dir(rm_t *rm, int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return fail(rm, errno);
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (rm->count >= RM_ENTRIES_MAX) {
            rc = fail(rm, EFBIG);
            break;
        }
        if (unlinkat(dirfd(d), n, 0) == 0) {   /* files and symlinks (never followed) */
            rm->count++;
            continue;
        }
        if (errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM)   /* EPERM: some filesystems, for a dir */
            rc = fail(rm, errno);
        else if (remove_subdir(rm, dirfd(d), n, depth) < 0)
            rc = -1;
    }
    closedir(d);
    return rc;
}

/* Remove directory base of dfd and all below it. 0, or -1 with errno. */
int agent_remove_tree(int dfd, const char *base, uint64_t *removed)
{
    rm_t rm = {.top = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
    struct stat st;
    if (rm.top < 0 || fstat(rm.top, &st) < 0) {
        int e = errno;
        if (rm.top >= 0)
            close(rm.top);
        errno = e;
        return -1;
    }
    rm.dev = st.st_dev;
    do {   /* each pass brings what it moved up nearer the top: it ends */
        rm.again = false;
        int fd = openat(rm.top, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            fail(&rm, errno);
        else
            empty_dir(&rm, fd, 0);
    } while (rm.again && !rm.err);
    close(rm.top);
    if (!rm.err && unlinkat(dfd, base, AT_REMOVEDIR) < 0)
        fail(&rm, errno);
    *removed = rm.count;
    errno = rm.err;
    return rm.err ? -1 : 0;
}
