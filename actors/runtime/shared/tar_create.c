/* Creating a tar archive of a tree (see tar_x.h). Directories still to
 * visit are kept as paths relative to the top on a stack (no recursion, one
 * directory open at a time); each is opened beneath the top without
 * following any link, with openat2 where the kernel has it. */
#include "tar_x.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)

typedef struct {
    const char     *path, *top;     /* as given */
    hb_tar_skip_fn  skip;
    hb_tar_sink_fn  sink;
    void           *ud;
    char           *buf;            /* READ_BUF */
    char          **todo;           /* directories to visit, relative to the top */
    size_t          ntodo, cap;
    char           *why;
    size_t          errlen;
} walk_t;

static int failed(walk_t *w, int err, const char *what)
{
    snprintf(w->why, w->errlen, "%s: %s", what, strerror(err));
    errno = err;
    return -1;
}

/* Errors that mean "removed or replaced since it was listed": skipped.
 * Anything else (no permission, I/O) stops the archive. */
static bool gone(int err)
{
    return err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENXIO;
}

/* dir (relative to topfd, "" for the top) without following a link. */
static int open_beneath(int topfd, const char *rel)
{
    if (!rel[0])
        return openat(topfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
                                      RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, topfd, rel, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)   /* older kernels: only the last component is checked */
        fd = openat(topfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return fd;
}

static int push(walk_t *w, const char *rel)
{
    if (w->ntodo == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        char **nv = realloc(w->todo, nc * sizeof *nv);
        if (!nv)
            return -1;
        w->todo = nv;
        w->cap = nc;
    }
    return (w->todo[w->ntodo] = strdup(rel)) ? (int)++w->ntodo : -1;
}

/* The file's data: exactly size bytes, zeros if it shrank meanwhile. */
static int put_data(walk_t *w, int fd, uint64_t size)
{
    uint64_t done = 0;
    while (done < size) {
        size_t want = size - done < READ_BUF ? (size_t)(size - done) : READ_BUF;
        ssize_t n = fd >= 0 ? read(fd, w->buf, want) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            memset(w->buf, 0, want);
            n = (ssize_t)want;
        }
        if (w->sink(w->ud, w->buf, (size_t)n) != 0)
            return failed(w, EPIPE, "archive");
        done += (uint64_t)n;
    }
    return hb_tar_put_pad(size, w->sink, w->ud) != 0 ? failed(w, EPIPE, "archive") : 0;
}

/* One entry, called name, for what st describes: open already as ofd
 * (the top), or base in dfd (ofd -1). */
static int put_entry(walk_t *w, int dfd, const char *base, int ofd, const char *name,
                     const struct stat *st)
{
    hb_tar_entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return failed(w, ENOMEM, "archive");
    snprintf(e->name, sizeof e->name, "%s", name);
    e->mode = st->st_mode & 07777;
    e->mtime = st->st_mtime;
    int fd = -1, rc = 0;
    if (S_ISDIR(st->st_mode)) {
        e->type = HB_TAR_DIR;
    } else if (S_ISLNK(st->st_mode)) {
        e->type = HB_TAR_SYMLINK;
        ssize_t n = readlinkat(dfd, base, e->link, sizeof e->link - 1);
        if (n <= 0)
            goto out;   /* gone, or a target too long to store */
        e->link[n] = '\0';
    } else {
        e->type = HB_TAR_FILE;
        struct stat now;
        fd = ofd >= 0 ? ofd : openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && !gone(errno)) {
            rc = failed(w, errno, name);
            goto out;
        }
        if (fd < 0 || fstat(fd, &now) < 0 || !S_ISREG(now.st_mode))
            goto out;   /* gone or replaced since it was listed */
        e->size = (uint64_t)now.st_size;
    }
    if (hb_tar_put_header(e, w->sink, w->ud) != 0)
        rc = failed(w, EPIPE, "archive");
    else if (e->type == HB_TAR_FILE)
        rc = put_data(w, fd, e->size);
out:
    if (fd >= 0 && fd != ofd)
        close(fd);
    free(e);
    return rc;
}

static bool archivable(mode_t m)
{
    return S_ISREG(m) || S_ISDIR(m) || S_ISLNK(m);
}

/* The entries of directory rel (relative to topfd); its subdirectories
 * are pushed to visit later. */
static int put_dir(walk_t *w, int topfd, const char *rel)
{
    int fd = open_beneath(topfd, rel);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return gone(err) ? 0 : failed(w, err, rel);
    }
    char *name = malloc(2 * HB_PATH_MAX), *sub = name ? name + HB_PATH_MAX : NULL;
    int rc = name ? 0 : failed(w, ENOMEM, "archive");
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        struct stat st;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !archivable(st.st_mode))
            continue;
        int sl = snprintf(sub, HB_PATH_MAX, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
        int nl = snprintf(name, HB_PATH_MAX, "%s/%s", w->top, sub);
        if (sl < 0 || nl < 0 || sl >= HB_PATH_MAX - 1 || nl >= HB_PATH_MAX - 1)
            continue;   /* deeper than a tar name here can be */
        rc = put_entry(w, dirfd(d), de->d_name, -1, name, &st);
        if (rc == 0 && S_ISDIR(st.st_mode)) {
            char full[HB_PATH_MAX + 2];
            snprintf(full, sizeof full, "%s/%s", strcmp(w->path, "/") ? w->path : "", sub);
            if ((!w->skip || !w->skip(full)) && push(w, sub) < 0)
                rc = failed(w, ENOMEM, "archive");
        }
    }
    free(name);
    closedir(d);
    return rc;
}

static int walk(walk_t *w, int topfd, const struct stat *st)
{
    int rc = put_entry(w, -1, NULL, topfd, w->top, st);
    if (rc == 0 && (!w->skip || !w->skip(w->path)))
        rc = put_dir(w, topfd, "");
    while (rc == 0 && w->ntodo > 0) {
        char *rel = w->todo[--w->ntodo];
        rc = put_dir(w, topfd, rel);
        free(rel);
    }
    return rc;
}

/* The path the caller named: followed if it is a link, but never through a
 * magic link (/proc/<pid>/fd/..., which in a sandbox could name something
 * outside it). O_NONBLOCK: a fifo must not hang the open. */
static int open_top(const char *path)
{
    struct open_how how = {.flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC,
                           .resolve = RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    return fd;
}

int hb_tar_create(const char *path, const char *top, hb_tar_skip_fn skip, hb_tar_sink_fn sink,
                  void *ud, char *why, size_t errlen)
{
    walk_t w = {.path = path, .top = top, .skip = skip, .sink = sink, .ud = ud, .why = why,
                .errlen = errlen};
    struct stat st;
    int fd = open_top(path);
    if (fd < 0 || fstat(fd, &st) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return failed(&w, err, path);
    }
    int rc = -1;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        snprintf(why, errlen, "%s: not a regular file or directory", path);
        errno = EINVAL;
    } else if (!(w.buf = malloc(READ_BUF))) {
        failed(&w, ENOMEM, "archive");
    } else {
        rc = S_ISDIR(st.st_mode) ? walk(&w, fd, &st) : put_entry(&w, -1, NULL, fd, top, &st);
    }
    close(fd);
    if (rc == 0 && hb_tar_put_end(sink, ud) != 0)
        rc = failed(&w, EPIPE, "archive");
    while (w.ntodo > 0)
        free(w.todo[--w.ntodo]);
    free(w.todo);
    free(w.buf);
    return rc;
}
