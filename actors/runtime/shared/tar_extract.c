/* Extracting a tar archive beneath one directory (see tar_x.h).
 *
 * Nothing is ever created outside the target directory: names are cleaned
 * first (absolute names and ".." are refused, not rewritten), and every
 * directory on the way to an entry is opened one component at a time with
 * O_NOFOLLOW, so a symbolic link, whether the archive made it a moment ago
 * or it was there before, is never gone through: an entry below one is
 * refused. Files are written to a temporary name and renamed into place
 * when complete, so the last component is replaced, never followed. Only
 * regular files, directories and symbolic links are made; set-id and sticky
 * bits are dropped. The first refused entry stops the extraction; what was
 * extracted before it stays. */
#include "tar_x.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

struct hb_tar_x {
    int              dirfd;          /* the target (borrowed) */
    char             top[HB_NAME_MAX + 1];   /* "" or the new first component */
    hb_tar_reader_t *rd;
    char             cache_dir[HB_PATH_MAX]; /* the last parent directory opened */
    int              cache_fd;
    int              fd;             /* the regular file being written, or -1 */
    int              pfd;            /* its directory */
    char             tmp[HB_NAME_MAX + 1], base[HB_NAME_MAX + 1];
    int64_t          mtime;
    uint32_t         mode;
    unsigned         seq;
    uint64_t         entries;
    int              err;
    char             msg[256];
};

hb_tar_x_t *hb_tar_x_new(int dirfd, const char *top)
{
    hb_tar_x_t *x = calloc(1, sizeof *x);
    if (!x || !(x->rd = hb_tar_reader_new())) {
        free(x);
        return NULL;
    }
    x->dirfd = dirfd;
    x->cache_fd = x->fd = -1;
    snprintf(x->top, sizeof x->top, "%s", top ? top : "");
    return x;
}

static void drop_file(hb_tar_x_t *x)
{
    if (x->fd < 0)
        return;
    close(x->fd);
    unlinkat(x->pfd, x->tmp, 0);
    x->fd = -1;
}

void hb_tar_x_free(hb_tar_x_t *x)
{
    if (!x)
        return;
    drop_file(x);
    if (x->cache_fd >= 0)
        close(x->cache_fd);
    hb_tar_reader_free(x->rd);
    free(x);
}

const char *hb_tar_x_error(const hb_tar_x_t *x) { return x->msg; }
int hb_tar_x_errno(const hb_tar_x_t *x) { return x->err ? x->err : EINVAL; }
uint64_t hb_tar_x_entries(const hb_tar_x_t *x) { return x->entries; }

static int refuse(hb_tar_x_t *x, int err, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(hb_tar_x_t *x, int err, const char *name, const char *fmt, ...)
{
    char why[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    x->err = err;
    snprintf(x->msg, sizeof x->msg, "entry '%.100s%s': %s", name,
             strlen(name) > 100 ? "..." : "", why);
    return -1;
}

/* ---- the directory an entry goes in ---- */

/* Open one existing or new directory component below fd, never a link. */
static int step(hb_tar_x_t *x, int fd, const char *comp, const char *name)
{
    int nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (nfd < 0 && errno == ENOENT) {
        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
            return refuse(x, errno, name, "cannot create directory '%s': %s", comp,
                          strerror(errno));
        nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    struct stat st;
    if (nfd >= 0 && fstat(nfd, &st) == 0 && S_ISDIR(st.st_mode))
        return nfd;
    int e = errno;
    if (nfd >= 0)
        close(nfd);
    if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        return refuse(x, ELOOP, name, "would be written through the symbolic link '%s'", comp);
    if (nfd >= 0 || e == ENOTDIR)
        return refuse(x, ENOTDIR, name, "'%s' exists and is not a directory", comp);
    return refuse(x, e, name, "'%s': %s", comp, strerror(e));
}

/* The directory dir ("" for the target itself), created as needed. The fd
 * is kept for the next entry, which is usually in the same directory. */
static int open_parent(hb_tar_x_t *x, const char *dir, const char *name)
{
    if (!dir[0])
        return x->dirfd;
    if (x->cache_fd >= 0 && strcmp(dir, x->cache_dir) == 0)
        return x->cache_fd;
    if (x->cache_fd >= 0)
        close(x->cache_fd);
    x->cache_fd = -1;
    int fd = x->dirfd;
    char comp[HB_NAME_MAX + 1];
    for (const char *s = dir; *s;) {
        size_t n = strcspn(s, "/");   /* a clean name: no empty components */
        memcpy(comp, s, n);
        comp[n] = '\0';
        s += n + (s[n] == '/');
        int nfd = step(x, fd, comp, name);
        if (fd != x->dirfd)
            close(fd);
        if (nfd < 0)
            return -1;
        fd = nfd;
    }
    x->cache_fd = fd;
    snprintf(x->cache_dir, sizeof x->cache_dir, "%s", dir);
    return fd;
}

/* ---- entries ---- */

static int make_dir(hb_tar_x_t *x, int pfd, const char *base, const hb_tar_entry_t *e,
                    const char *name)
{
    struct stat st;
    /* owner rwx so that its entries can be made even when the archive's
     * mode has none */
    if (mkdirat(pfd, base, (e->mode & 0777) | 0700) == 0)
        return 0;
    if (errno != EEXIST)
        return refuse(x, errno, name, "%s", strerror(errno));
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        return 0;   /* merged, as tar does */
    return refuse(x, ENOTDIR, name, "exists and is not a directory");
}

static void tmp_name(hb_tar_x_t *x, const char *base)
{
    snprintf(x->tmp, sizeof x->tmp, ".%.200s.hbx%d-%u", base, (int)gettid(), x->seq++);
}

static int make_link(hb_tar_x_t *x, int pfd, const char *base, const hb_tar_entry_t *e,
                     const char *name)
{
    if (!e->link[0])
        return refuse(x, EINVAL, name, "symbolic link without a target");
    tmp_name(x, base);
    if (symlinkat(e->link, pfd, x->tmp) < 0)
        return refuse(x, errno, name, "%s", strerror(errno));
    if (renameat(pfd, x->tmp, pfd, base) < 0) {
        int err = errno;
        unlinkat(pfd, x->tmp, 0);
        return refuse(x, err, name, "%s", strerror(err));
    }
    return 0;
}

static int start_file(hb_tar_x_t *x, int pfd, const char *base, const hb_tar_entry_t *e,
                      const char *name)
{
    tmp_name(x, base);
    x->fd = openat(pfd, x->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (x->fd < 0)
        return refuse(x, errno, name, "%s", strerror(errno));
    x->pfd = pfd;
    x->mode = e->mode & 0777;
    x->mtime = e->mtime;
    snprintf(x->base, sizeof x->base, "%.*s", HB_NAME_MAX, base);   /* a clean component */
    return 0;
}

/* The name the entry gets: cleaned, and with its first component replaced
 * when a top was given. */
static int target_name(hb_tar_x_t *x, const hb_tar_entry_t *e, char *out)
{
    char clean[HB_PATH_MAX];
    out[0] = '\0';
    const char *why;
    if (hb_tar_clean_name(e->name, clean, sizeof clean, &why) < 0)
        return refuse(x, EINVAL, e->name, "%s", why);
    bool swap = x->top[0] && clean[0];
    const char *rest = swap ? clean + strcspn(clean, "/") : clean;
    size_t tl = swap ? strlen(x->top) : 0, rl = strlen(rest);
    if (tl + rl >= HB_PATH_MAX)
        return refuse(x, EINVAL, e->name, "name too long");
    memcpy(out, x->top, tl);
    memcpy(out + tl, rest, rl + 1);
    return 0;
}

static int on_entry(void *ud, const hb_tar_entry_t *e)
{
    hb_tar_x_t *x = ud;
    char name[HB_PATH_MAX], dir[HB_PATH_MAX];
    if (e->type == HB_TAR_OTHER)
        return refuse(x, EINVAL, e->name, "type '%c' is not supported (only regular files, "
                      "directories and symbolic links)", e->typeflag ? e->typeflag : '0');
    if (target_name(x, e, name) < 0)
        return -1;
    x->entries++;
    if (!name[0]) {   /* "." or "./": the target directory itself */
        return e->type == HB_TAR_DIR
                   ? 0 : refuse(x, EINVAL, e->name, "names the target directory itself");
    }
    char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - name) : 0, name);
    int pfd = open_parent(x, dir, e->name);
    if (pfd < 0)
        return -1;
    switch (e->type) {
    case HB_TAR_DIR: return make_dir(x, pfd, base, e, e->name);
    case HB_TAR_SYMLINK: return make_link(x, pfd, base, e, e->name);
    default: return start_file(x, pfd, base, e, e->name);
    }
}

static int on_data(void *ud, const void *p, size_t n)
{
    hb_tar_x_t *x = ud;
    const char *c = p;
    while (x->fd >= 0 && n > 0) {
        ssize_t w = write(x->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int err = errno;
            drop_file(x);
            return refuse(x, err, x->base, "%s", strerror(err));
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int on_entry_end(void *ud)
{
    hb_tar_x_t *x = ud;
    if (x->fd < 0)
        return 0;
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = x->mtime}};
    int rc = fchmod(x->fd, x->mode);
    if (rc == 0 && x->mtime > 0)
        rc = futimens(x->fd, ts);
    if (close(x->fd) < 0 && rc == 0)
        rc = -1;
    x->fd = -1;
    if (rc == 0 && renameat(x->pfd, x->tmp, x->pfd, x->base) == 0)
        return 0;
    int err = errno;
    unlinkat(x->pfd, x->tmp, 0);
    return refuse(x, err, x->base, "%s", strerror(err));
}

static const hb_tar_cb_t callbacks = {on_entry, on_data, on_entry_end};

static int reader_failed(hb_tar_x_t *x)
{
    if (!x->msg[0]) {   /* the format, not a callback */
        x->err = EINVAL;
        snprintf(x->msg, sizeof x->msg, "%s", hb_tar_error(x->rd));
    }
    drop_file(x);
    return -1;
}

int hb_tar_x_feed(hb_tar_x_t *x, const void *data, size_t len)
{
    int rc = hb_tar_feed(x->rd, data, len, &callbacks, x);
    return rc < 0 ? reader_failed(x) : rc;
}

int hb_tar_x_finish(hb_tar_x_t *x)
{
    return hb_tar_finish(x->rd) < 0 ? reader_failed(x) : 0;
}
