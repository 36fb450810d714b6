#include "rmtree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RM_DEPTH_MAX 4096

/* Empty the directory open as dfd (consumed). Depth is bounded, so a
 * pathologically deep tree fails cleanly instead of exhausting the stack. */
static int empty_dir(int dfd, dev_t dev, int depth)
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
        if (errno != EISDIR && errno != EPERM) {
            rc = -1;
            continue;
        }
        int sub = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (sub < 0 || fstat(sub, &st) < 0 || st.st_dev != dev || depth >= RM_DEPTH_MAX) {
            if (sub >= 0)
                close(sub);
            rc = -1;
            continue;
        }
        if (empty_dir(sub, dev, depth + 1) < 0)
            rc = -1;
        if (unlinkat(dirfd(d), n, AT_REMOVEDIR) < 0 && errno != ENOENT)
            rc = -1;
    }
    closedir(d);
    return rc;
}

int hb_rmtree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    int rc = empty_dir(fd, st.st_dev, 0);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}
