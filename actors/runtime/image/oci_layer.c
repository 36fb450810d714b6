/* One image layer applied beneath the new rootfs (see oci.h).
 *
 * Nothing is ever made outside the root: names are cleaned first (absolute
 * names and ".." are refused, not rewritten), and the directory of every
 * entry is opened with openat2 RESOLVE_BENEATH, so a symbolic link in the
 * path, whether a lower layer or this one made it, may be followed only
 * while it stays below the root (an absolute link, or one climbing out, is
 * refused: EXDEV). The last component is never followed: what is there is
 * removed first (a lower layer's file, link or tree), then made anew.
 *
 * Whiteouts: ".wh.NAME" removes NAME of lower layers; ".wh..wh..opq"
 * removes every entry of its directory that this layer did not make (the
 * names this layer made are kept in a set for that). Owners are kept as
 * numbers (0-based, like base: the sandbox's idmapped mount shifts them),
 * modes with their set-id bits (harmless in a sandbox: every command runs
 * with no_new_privs in a user namespace; images are 0700 on the host). */
#include "oci.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rmtree_at.h"
#include "tar.h"

struct hb_oci_layer {
    int              rootfd;      /* borrowed */
    unsigned         number;      /* 1-based, for messages */
    hb_oci_budget_t *b;
    hb_tar_reader_t *rd;
    hb_err_t        *e;           /* during a feed */
    char             cache_dir[HB_PATH_MAX];
    int              cache_fd;
    int              fd;          /* the regular file being written */
    uint32_t         mode, uid, gid;
    int64_t          mtime;
    char             cur[HB_PATH_MAX];   /* its name, for messages */
    /* names made by this layer (open addressing, power-of-two size) */
    char           **set;
    size_t           set_cap, set_n;
    size_t           set_room;    /* bytes of names it may still keep */
};

/* ---- the set of names this layer made ---- */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool set_has(const hb_oci_layer_t *l, const char *s)
{
    if (!l->set_cap)
        return false;
    for (size_t i = hash(s) & (l->set_cap - 1); l->set[i]; i = (i + 1) & (l->set_cap - 1))
        if (strcmp(l->set[i], s) == 0)
            return true;
    return false;
}

static int set_add(hb_oci_layer_t *l, const char *s)
{
    if (set_has(l, s))
        return 0;
    if ((l->set_n + 1) * 2 > l->set_cap) {
        size_t cap = l->set_cap ? l->set_cap * 2 : 1024;
        char **nv = calloc(cap, sizeof *nv);
        if (!nv)
            return -1;
        for (size_t i = 0; i < l->set_cap; i++) {
            if (!l->set[i])
                continue;
            size_t j = hash(l->set[i]) & (cap - 1);
            while (nv[j])
                j = (j + 1) & (cap - 1);
            nv[j] = l->set[i];
        }
        free(l->set);
        l->set = nv;
        l->set_cap = cap;
    }
    size_t i = hash(s) & (l->set_cap - 1);
    while (l->set[i])
        i = (i + 1) & (l->set_cap - 1);
    if (!(l->set[i] = strdup(s)))
        return -1;
    l->set_n++;
    return 0;
}

/* ---- life ---- */

static void drop_cache(hb_oci_layer_t *l)
{
    if (l->cache_fd >= 0)
        close(l->cache_fd);
    l->cache_fd = -1;
    l->cache_dir[0] = '\0';
}

hb_oci_layer_t *hb_oci_layer_new(int rootfd, unsigned number, hb_oci_budget_t *b)
{
    hb_oci_layer_t *l = calloc(1, sizeof *l);
    if (!l || !(l->rd = hb_tar_reader_new())) {
        free(l);
        return NULL;
    }
    l->rootfd = rootfd;
    l->number = number;
    l->b = b;
    l->cache_fd = l->fd = -1;
    l->set_room = HB_OCI_NAMES_MAX;
    return l;
}

void hb_oci_layer_free(hb_oci_layer_t *l)
{
    if (!l)
        return;
    drop_cache(l);
    if (l->fd >= 0)
        close(l->fd);
    for (size_t i = 0; i < l->set_cap; i++)
        free(l->set[i]);
    free(l->set);
    hb_tar_reader_free(l->rd);
    free(l);
}

static int refuse(hb_oci_layer_t *l, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(hb_oci_layer_t *l, const char *name, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return hb_fail(l->e, HB_E_INVALID, 0, "layer %u: entry '%.100s': %s", l->number, name, why);
}

/* ---- directories ---- */

static int open_beneath(int dirfd, const char *path)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static int dir_failed(hb_oci_layer_t *l, const char *name, const char *dir, int err)
{
    if (err == EXDEV || err == ELOOP)
        return refuse(l, name, "'%s' leads out of the image through a symbolic link", dir);
    if (err == ENOTDIR)
        return refuse(l, name, "'%s' is not a directory", dir);
    return refuse(l, name, "'%s': %s", dir, strerror(err));
}

/* dir made component by component (mkdir -p), each step beneath the last. */
static int make_parents(hb_oci_layer_t *l, const char *dir, const char *name)
{
    char comp[HB_PATH_MAX];
    int fd = dup(l->rootfd);
    for (const char *s = dir; fd >= 0 && *s;) {
        size_t n = strcspn(s, "/");
        snprintf(comp, sizeof comp, "%.*s", (int)n, s);
        s += n + (s[n] == '/');
        int nfd = open_beneath(fd, comp);
        if (nfd < 0 && errno == ENOENT && (mkdirat(fd, comp, 0755) == 0 || errno == EEXIST))
            nfd = open_beneath(fd, comp);
        int err = errno;
        close(fd);
        if (nfd < 0)
            return dir_failed(l, name, dir, err);
        fd = nfd;
    }
    return fd;
}

static int open_parent(hb_oci_layer_t *l, const char *dir, const char *name)
{
    if (!dir[0])
        return l->rootfd;
    if (l->cache_fd >= 0 && strcmp(dir, l->cache_dir) == 0)
        return l->cache_fd;
    drop_cache(l);
    int fd = open_beneath(l->rootfd, dir);
    if (fd < 0 && errno == ENOENT)
        fd = make_parents(l, dir, name);
    else if (fd < 0)
        return dir_failed(l, name, dir, errno);
    if (fd < 0)
        return -1;
    l->cache_fd = fd;
    snprintf(l->cache_dir, sizeof l->cache_dir, "%s", dir);
    return fd;
}

/* Remove pfd/base whatever it is (a tree too); never follows a link. */
static int remove_at(hb_oci_layer_t *l, int pfd, const char *base, const char *name)
{
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : refuse(l, name, "%s", strerror(errno));
    drop_cache(l);   /* the cached directory may be below what goes */
    int rc = S_ISDIR(st.st_mode) ? hb_rmtree_at(pfd, base, &(hb_rmtree_opts_t){.depth_max = 16})
                                 : unlinkat(pfd, base, 0);
    return rc < 0 ? refuse(l, name, "cannot remove the lower entry: %s", strerror(errno)) : 0;
}

/* ---- whiteouts ---- */

static int opaque(hb_oci_layer_t *l, const char *dir, const char *name)
{
    int pfd = dir[0] ? open_beneath(l->rootfd, dir) : dup(l->rootfd);
    if (pfd < 0)
        return errno == ENOENT ? 0 : dir_failed(l, name, dir, errno);
    int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    int rc = d ? 0 : refuse(l, name, "cannot read '%s': %s", dir, strerror(errno));
    struct dirent *de;
    char full[HB_PATH_MAX * 2];
    while (rc == 0 && d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(full, sizeof full, "%s%s%s", dir, dir[0] ? "/" : "", de->d_name);
        if (!set_has(l, full))
            rc = remove_at(l, pfd, de->d_name, name);
    }
    if (d)
        closedir(d);
    else if (dfd >= 0)
        close(dfd);
    close(pfd);
    return rc;
}

static int whiteout(hb_oci_layer_t *l, int kind, const char *target, const char *name)
{
    if (kind == 2)
        return opaque(l, target, name);
    char dir[HB_PATH_MAX];
    const char *slash = strrchr(target, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - target) : 0, target);
    int pfd = dir[0] ? open_beneath(l->rootfd, dir) : l->rootfd;
    if (pfd < 0)
        return errno == ENOENT ? 0 : dir_failed(l, name, dir, errno);
    int rc = remove_at(l, pfd, slash ? slash + 1 : target, name);
    if (pfd != l->rootfd)
        close(pfd);
    return rc;
}

/* ---- entries ---- */

static int own(hb_oci_layer_t *l, int pfd, const char *base, const hb_tar_entry_t *te,
               const char *name, bool chmod_too)
{
    if (fchownat(pfd, base, te->uid, te->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        (chmod_too && fchmodat(pfd, base, te->mode & 07777, 0) < 0))
        return refuse(l, name, "owner or mode: %s", strerror(errno));
    return 0;
}

static int make_dir(hb_oci_layer_t *l, int pfd, const char *base, const hb_tar_entry_t *te,
                    const char *name)
{
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode) &&
        remove_at(l, pfd, base, name) < 0)
        return -1;
    if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
        return refuse(l, name, "%s", strerror(errno));
    return own(l, pfd, base, te, name, true);   /* a merged directory takes the new owner */
}

static int make_link(hb_oci_layer_t *l, int pfd, const char *base, const hb_tar_entry_t *te,
                     const char *name)
{
    if (!te->link[0])
        return refuse(l, name, "symbolic link without a target");
    if (remove_at(l, pfd, base, name) < 0)
        return -1;
    if (symlinkat(te->link, pfd, base) < 0)
        return refuse(l, name, "%s", strerror(errno));
    return own(l, pfd, base, te, name, false);
}

static int make_hardlink(hb_oci_layer_t *l, int pfd, const char *base, const hb_tar_entry_t *te,
                         const char *name, const char *clean)
{
    char target[HB_PATH_MAX], tdir[HB_PATH_MAX];
    const char *why;
    if (hb_tar_clean_name(te->link, target, sizeof target, &why) < 0 || !target[0])
        return refuse(l, name, "hard link target '%.100s': %s", te->link,
                      target[0] ? why : "empty");
    const char *slash = strrchr(target, '/');
    snprintf(tdir, sizeof tdir, "%.*s", slash ? (int)(slash - target) : 0, target);
    int tfd = tdir[0] ? open_beneath(l->rootfd, tdir) : dup(l->rootfd);
    if (tfd < 0)
        return dir_failed(l, name, tdir, errno);
    const char *tbase = slash ? slash + 1 : target;
    struct stat st;
    int rc = 0;
    if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
        rc = refuse(l, name, "hard link target '%.100s' is missing or a directory", te->link);
    else if (strcmp(target, clean) != 0)   /* a link to itself: already there */
        rc = remove_at(l, pfd, base, name);
    if (rc == 0 && strcmp(target, clean) != 0 && linkat(tfd, tbase, pfd, base, 0) < 0)
        rc = refuse(l, name, "hard link: %s", strerror(errno));
    close(tfd);
    return rc;
}

static int start_file(hb_oci_layer_t *l, int pfd, const char *base, const hb_tar_entry_t *te,
                      const char *name)
{
    if (remove_at(l, pfd, base, name) < 0)
        return -1;
    l->fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (l->fd < 0)
        return refuse(l, name, "%s", strerror(errno));
    l->mode = te->mode & 07777;
    l->uid = te->uid;
    l->gid = te->gid;
    l->mtime = te->mtime;
    snprintf(l->cur, sizeof l->cur, "%s", name);
    return 0;
}

static int check_type(hb_oci_layer_t *l, const hb_tar_entry_t *te)
{
    char t = te->typeflag;
    if (t == '3' || t == '4' || t == '6')
        return refuse(l, te->name, "%s are not allowed in an image",
                      t == '6' ? "fifos" : "device nodes");
    if (te->type == HB_TAR_OTHER && t != '1')
        return refuse(l, te->name, "type '%c' is not supported", t ? t : '?');
    if (te->uid > HB_OCI_ID_MAX || te->gid > HB_OCI_ID_MAX)
        return refuse(l, te->name, "owner %u:%u is out of range (0-%u)", te->uid, te->gid,
                      HB_OCI_ID_MAX);
    if (l->b->entries_left == 0)
        return hb_fail(l->e, HB_E_INVALID, 0, "image: more than %u entries in its layers",
                       HB_OCI_ENTRIES_MAX);
    l->b->entries_left--;
    /* Directories, links and empty files take disk too: a million of them
     * must not pass the cap that only counted file data. */
    uint64_t cost = HB_OCI_ENTRY_COST + (te->type == HB_TAR_SYMLINK ? strlen(te->link) : 0);
    if (cost > l->b->bytes_left)
        return hb_fail(l->e, HB_E_INVALID, EFBIG, "image: larger than the import cap "
                       "(--max-image-import)");
    l->b->bytes_left -= cost;
    return 0;
}

static int on_entry(void *ud, const hb_tar_entry_t *te)
{
    hb_oci_layer_t *l = ud;
    char name[HB_PATH_MAX], dir[HB_PATH_MAX], target[HB_PATH_MAX];
    const char *why;
    if (check_type(l, te) < 0)
        return -1;
    if (hb_tar_clean_name(te->name, name, sizeof name, &why) < 0)
        return refuse(l, te->name, "%s", why);
    if (!name[0])
        return te->type == HB_TAR_DIR ? 0 : refuse(l, te->name, "names the root itself");
    int wh = hb_oci_whiteout(name, target, sizeof target);
    if (wh < 0)
        return refuse(l, te->name, "malformed whiteout");
    if (wh > 0)
        return whiteout(l, wh, target, te->name);
    char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - name) : 0, name);
    int pfd = open_parent(l, dir, te->name);
    if (pfd < 0)
        return -1;
    size_t nl = strlen(name) + 1;
    if (nl > l->set_room)
        return hb_fail(l->e, HB_E_INVALID, 0, "layer %u: its names take more than %u MiB",
                       l->number, HB_OCI_NAMES_MAX >> 20);
    l->set_room -= nl;
    if (set_add(l, name) < 0)
        return hb_fail(l->e, HB_E_INTERNAL, ENOMEM, "out of memory");
    switch (te->typeflag) {
    case '5': return make_dir(l, pfd, base, te, te->name);
    case '2': return make_link(l, pfd, base, te, te->name);
    case '1': return make_hardlink(l, pfd, base, te, te->name, name);
    default: return start_file(l, pfd, base, te, te->name);
    }
}

static int on_data(void *ud, const void *p, size_t n)
{
    hb_oci_layer_t *l = ud;
    if (l->fd < 0)
        return 0;
    if (n > l->b->bytes_left)
        return hb_fail(l->e, HB_E_INVALID, EFBIG, "image: larger than the import cap "
                       "(--max-image-import)");
    l->b->bytes_left -= n;
    for (const char *c = p; n > 0;) {
        ssize_t w = write(l->fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return hb_fail_sys(l->e, errno == ENOSPC ? HB_E_NOSPACE : HB_E_INTERNAL, errno,
                               "layer %u: writing '%.100s'", l->number, l->cur);
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int on_entry_end(void *ud)
{
    hb_oci_layer_t *l = ud;
    if (l->fd < 0)
        return 0;
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = l->mtime}};
    /* chown first: it clears set-id bits, which the chmod then sets */
    int rc = fchown(l->fd, l->uid, l->gid) == 0 && fchmod(l->fd, l->mode) == 0 ? 0 : -1;
    if (rc == 0 && l->mtime > 0)
        rc = futimens(l->fd, ts);
    int err = errno;
    close(l->fd);
    l->fd = -1;
    return rc < 0 ? refuse(l, l->cur, "%s", strerror(err)) : 0;
}

static const hb_tar_cb_t callbacks = {on_entry, on_data, on_entry_end};

static int reader_failed(hb_oci_layer_t *l, hb_err_t *e)
{
    if (!e->msg[0]) {   /* the format, not a callback */
        const char *why = hb_tar_error(l->rd);
        bool cut = strstr(why, "cut short") != NULL;
        hb_fail(e, HB_E_INVALID, 0, "layer %u: %s%s", l->number, cut ? "truncated: " : "", why);
    }
    return -1;
}

int hb_oci_layer_feed(hb_oci_layer_t *l, const void *p, size_t n, hb_err_t *e)
{
    l->e = e;
    e->msg[0] = '\0';
    int rc = hb_tar_feed(l->rd, p, n, &callbacks, l);
    return rc < 0 ? reader_failed(l, e) : rc;
}

int hb_oci_layer_finish(hb_oci_layer_t *l, hb_err_t *e)
{
    l->e = e;
    e->msg[0] = '\0';
    return hb_tar_finish(l->rd) < 0 ? reader_failed(l, e) : 0;
}
