#include "rmtree_at.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    hb_rmtree_opts_t *o;
    int               top;     /* the tree's root, where too-deep subtrees are moved */
    dev_t             dev;     /* its filesystem */
    unsigned          moved;   /* names handed out for moved subtrees */
    int               err;     /* the first errno */
    bool              again;   /* something was moved: another pass is due */
} rm_t;

static int fail(rm_t *rm, int err)
{
    if (!rm->err)
        rm->err = err;
    return -1;
}

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
            return fail(rm, errno);
    }
    return fail(rm, EEXIST);
}

static int empty_dir(rm_t *rm, int dfd, int depth);

/* n in dfd is a directory (unlink said so): empty it, then remove it. */
static int remove_subdir(rm_t *rm, int dfd, const char *n, int depth)
{
    if (depth + 1 >= rm->o->depth_max)
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
        if (!rm->o->foreign) {
            close(sub);
            return fail(rm, EXDEV);
        }
        return rm->o->foreign(dfd, n, sub) < 0 ? fail(rm, errno) : 0;
    }
    int rc = empty_dir(rm, sub, depth + 1);
    if (unlinkat(dfd, n, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return fail(rm, errno);
    rm->o->removed++;
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
        if (rm->o->entries_max && rm->o->removed >= rm->o->entries_max) {
            rc = fail(rm, EFBIG);
            break;
        }
        if (unlinkat(dirfd(d), n, 0) == 0) {   /* files and symlinks (never followed) */
            rm->o->removed++;
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

int hb_rmtree_at(int dfd, const char *base, hb_rmtree_opts_t *o)
{
    rm_t rm = {.o = o, .top = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
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
    } while (rm.again && rm.err != EFBIG);
    close(rm.top);
    if (!rm.err && unlinkat(dfd, base, AT_REMOVEDIR) < 0)
        fail(&rm, errno);
    errno = rm.err;
    return rm.err ? -1 : 0;
}
