/* Idmapped layers of a layered image (see launch_layers.h). */
#include "launch_layers.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int why_set(char *why, size_t len, const char *what, const char *arg)
{
    snprintf(why, len, "%s %s: %s", what, arg, strerror(errno));
    return -1;
}

static int write_map(pid_t pid, const char *file, const char *map)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, map, strlen(map));
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)strlen(map) ? 0 : -1;
}

/* A user namespace mapping ids from..from+65535 to to..to+65535: a child
 * made in it waits on a pipe while we write its maps and keep its
 * namespace, then exits (*child: reaped by the caller once every layer is
 * open, so no layer waits for the scheduler to run the last one's exit).
 * Returns the namespace's fd or -1. */
static int map_userns(unsigned long from, unsigned long to, pid_t *child)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        char ch;
        close(p[1]);
        while (read(p[0], &ch, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    close(p[0]);
    int fd = -1;
    if (pid > 0) {
        char map[64], path[64];
        snprintf(map, sizeof map, "%lu %lu 65536\n", from, to);
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        if (write_map(pid, "uid_map", map) == 0 && write_map(pid, "gid_map", map) == 0)
            fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    int saved = errno;
    close(p[1]);
    *child = pid;
    errno = saved;
    return fd;
}

static int open_one(const char *path, unsigned long from, unsigned long to, pid_t *child,
                    char *why, size_t len)
{
    int userns = map_userns(from, to, child);
    if (userns < 0)
        return why_set(why, len, "user namespace for layer", path);
    int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) {
        close(userns);
        return why_set(why, len, "clone layer", path);
    }
    struct mount_attr a = {
        .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        .userns_fd = (unsigned long long)userns,
    };
    int r = mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof a);
    close(userns);
    if (r < 0) {
        why_set(why, len, "idmapped mount of layer", path);
        close(tree);
        return -1;
    }
    return tree;
}

int launch_layers_open(const launch_conf_t *c, int *fds, char *why, size_t len)
{
    pid_t kids[HB_LC_LAYERS_MAX];
    int i, rc = 0;
    for (i = 0; i < c->n_layers && rc == 0; i++) {
        kids[i] = -1;
        fds[i] = open_one(c->layers[i], c->layer_uid[i], c->uid_base, &kids[i], why, len);
        if (fds[i] < 0)
            rc = -1;
    }
    int opened = i;
    for (int k = 0; k < opened; k++)
        if (kids[k] > 0)
            waitpid(kids[k], NULL, 0);
    if (rc < 0)
        for (int k = 0; k < opened; k++)
            if (fds[k] >= 0)
                close(fds[k]);
    return rc;
}

static int attach(int fd, const char *at, char *why, size_t len)
{
    if (mkdir(at, 0755) < 0)
        return why_set(why, len, "mkdir", at);
    if (move_mount(fd, "", AT_FDCWD, at, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return why_set(why, len, "attach layer at", at);
    return 0;
}

int launch_layers_attach(const launch_conf_t *c, int image_fd, const int *fds, char *opt,
                         size_t optlen, char *why, size_t len)
{
    int rc = 0;
    size_t o = (size_t)snprintf(opt, optlen, "lowerdir=");
    if (mount("hb-layers", "lower", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=64k,nr_inodes=64,mode=0755") < 0)
        rc = why_set(why, len, "tmpfs at", "lower");
    for (int i = 0; i < c->n_layers; i++) {
        char at[32];
        snprintf(at, sizeof at, "lower/%d", i);
        if (rc == 0)
            rc = attach(fds[i], at, why, len);
        close(fds[i]);
        if (o < optlen)
            o += (size_t)snprintf(opt + o, optlen - o, "%s:", at);
    }
    if (rc == 0)
        rc = attach(image_fd, "lower/root", why, len);
    close(image_fd);
    if (o < optlen)
        o += (size_t)snprintf(opt + o, optlen - o, "lower/root");
    if (rc == 0 && o >= optlen) {
        errno = ENAMETOOLONG;
        rc = why_set(why, len, "overlay options", "lowerdir");
    }
    return rc;
}
