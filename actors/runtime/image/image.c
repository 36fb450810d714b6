/* Images: <data>/images/<name>/rootfs, the read-only lower layer of every
 * sandbox's overlay. Owned by host root; each sandbox sees them through an
 * idmapped mount. A directory appears under its final name only when
 * complete (built or copied into a dot-prefixed temp dir, then renamed), so
 * a half-made image is never used. */
#include "image_internal.h"
#include "image_layer.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int hb_images_dir(const hb_runtime_t *rt, char *out, size_t len, hb_err_t *e)
{
    if ((size_t)snprintf(out, len, "%s/images", rt->data_dir) >= len)
        return hb_fail(e, HB_E_INVALID, 0, "data dir path too long");
    if (mkdir(rt->data_dir, 0755) < 0 && errno != EEXIST)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", rt->data_dir);
    /* 0700, also on a data dir made before: an image holds its own set-id
     * binaries, owned by host root (an imported tarball may hold anything),
     * and no other host user may reach them. Images are opened by host root
     * only (the launcher's parent clones them into the sandbox). */
    if ((mkdir(out, 0700) < 0 && errno != EEXIST) || chmod(out, 0700) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", out);
    return 0;
}

/* Resolve inside the image root so an absolute symlink such as
 * bin -> /usr/bin is followed within the image, never on the host. */
static bool exists_in_root(int rootfd, const char *rel)
{
    struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    return ok;
}

bool hb_rootfs_valid(const char *image_dir)
{
    char path[HB_HOSTPATH_MAX + 16];
    snprintf(path, sizeof path, "%s/rootfs", image_dir);
    int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = exists_in_root(fd, "bin/sh") || exists_in_root(fd, "usr/bin/sh");
    close(fd);
    return ok;
}

bool hb_image_exists(const hb_runtime_t *rt, const char *name)
{
    char dir[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    if (!name || !hb_name_valid(name))
        return false;
    return hb_pathf(dir, sizeof dir, NULL, "%s/images/%s", rt->data_dir, name) == 0 &&
           (hb_rootfs_valid(dir) || hb_image_is_layer(rt, name));
}

int hb_image_list(const hb_runtime_t *rt, char ***names, size_t *n, hb_err_t *e)
{
    char dir[HB_HOSTPATH_MAX + 16];
    *names = NULL;
    *n = 0;
    if (hb_pathf(dir, sizeof dir, e, "%s/images", rt->data_dir) < 0)
        return -1;
    struct dirent **ents = NULL;
    int cnt = scandir(dir, &ents, NULL, alphasort);
    if (cnt < 0 && errno == ENOENT)
        cnt = 0;   /* no image yet: an empty list */
    else if (cnt < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "scandir %s", dir);
    char **v = calloc((size_t)cnt + 1, sizeof *v);
    for (int i = 0; i < cnt; i++) {
        if (v && hb_image_exists(rt, ents[i]->d_name)) {
            v[*n] = strdup(ents[i]->d_name);
            if (v[*n])
                (*n)++;
        }
        free(ents[i]);
    }
    free(ents);
    if (!v)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    *names = v;
    return 0;
}

/* Temp dirs are ".<name>.tmp-<pid>[-<n>]"; one whose process is gone is debris of
 * a crash and is removed (every one when the caller holds the name's build
 * lock: then none can be in use, whatever process has that pid now). */
int hb_image_clean_stale(const char *images, const char *name, bool all)
{
    char prefix[HB_ID_MAX + 8];
    snprintf(prefix, sizeof prefix, ".%s.tmp-", name);
    size_t pl = strlen(prefix);
    DIR *d = opendir(images);
    if (!d)
        return -1;
    struct dirent *de;
    char path[HB_HOSTPATH_MAX + 300];
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, pl) != 0)
            continue;
        long pid = strtol(de->d_name + pl, NULL, 10);
        bool in_use = pid > 0 && (pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH);
        if (!all && in_use)
            continue;   /* its builder (maybe a thread of ours) may still be running */
        snprintf(path, sizeof path, "%s/%s", images, de->d_name);
        HB_LOG_INFO("image: removing stale %s", path);
        hb_image_rmtree(path, NULL);
    }
    closedir(d);
    return 0;
}

/* cp and tar name the real problem first ("not a tar archive"), then
 * summarise; keep the first line. */
static void keep_first(void *ud, const char *line)
{
    if (((char *)ud)[0] == '\0')
        snprintf(ud, 256, ": %s", line);
}

static int copy_in(const char *src, bool is_dir, const char *rootfs, hb_err_t *e)
{
    char from[HB_HOSTPATH_MAX + 4];
    snprintf(from, sizeof from, "%s/.", src);
    const char *cp[] = {"cp", "-a", "--reflink=auto", "--", from, rootfs, NULL};
    const char *tar[] = {"tar", "-xpf", src, "--numeric-owner", "-C", rootfs, NULL};
    char first[256] = "";
    int rc = hb_spawn_lines(is_dir ? cp : tar, keep_first, first, e);
    if (rc < 0)
        return -1;
    if (rc != 0)
        return hb_fail(e, HB_E_INVALID, 0, "%s of %s failed (exit %d)%s",
                       is_dir ? "copy" : "extraction", src, rc, first);
    return 0;
}

static int import_into(const char *tmp, const char *src, bool is_dir, hb_err_t *e)
{
    char rootfs[HB_HOSTPATH_MAX + 16];
    if (hb_pathf(rootfs, sizeof rootfs, e, "%s/rootfs", tmp) < 0)
        return -1;
    if (mkdir(tmp, 0755) < 0 || mkdir(rootfs, 0755) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", rootfs);
    if (copy_in(src, is_dir, rootfs, e) < 0)
        return -1;
    if (!hb_rootfs_valid(tmp))
        return hb_fail(e, HB_E_INVALID, 0, "%s is not a root filesystem (no /bin/sh)", src);
    return hb_image_facts_record(tmp, e);
}

int hb_image_import(const hb_runtime_t *rt, const char *name, const char *src, hb_err_t *e)
{
    char images[HB_HOSTPATH_MAX], dst[HB_HOSTPATH_MAX + 80], tmp[HB_HOSTPATH_MAX + 100];
    if (!name || !hb_name_valid(name))
        return hb_fail(e, HB_E_INVALID, 0, "name: invalid image name '%.64s'",
                       name ? name : "");
    struct stat st;
    if (!src || stat(src, &st) < 0)
        return hb_fail_sys(e, HB_E_NOTFOUND, errno, "%s", src ? src : "(null)");
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return hb_fail(e, HB_E_INVALID, 0, "%s is neither a directory nor a tarball", src);
    if (hb_images_dir(rt, images, sizeof images, e) < 0)
        return -1;
    snprintf(dst, sizeof dst, "%s/%s", images, name);
    if (access(dst, F_OK) == 0)
        return hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name);
    hb_image_clean_stale(images, name, false);
    /* pid + a per-process counter: threads of one daemon never share it */
    static atomic_uint seq;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%d-%u", images, name, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (import_into(tmp, src, S_ISDIR(st.st_mode), e) < 0) {
        hb_image_rmtree(tmp, NULL);
        return -1;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
        int err = errno;
        hb_image_rmtree(tmp, NULL);
        if (err == EEXIST)
            return hb_fail(e, HB_E_EXISTS, err, "image '%s' already exists", name);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "rename to %s", dst);
    }
    HB_LOG_INFO("image %s imported from %s", name, src);
    return 0;
}

int hb_image_progress(const hb_runtime_t *rt, char *buf, size_t len)
{
    char path[HB_HOSTPATH_MAX + 32];
    snprintf(path, sizeof path, "%s/images/.base.lock", rt->data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* The builder holds an exclusive flock for the whole build; a shared
     * lock we can take means nobody is building. */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return -1;
    }
    close(fd);
    if (len == 0)
        return 0;
    buf[0] = '\0';
    snprintf(path, sizeof path, "%s/images/.base.progress", rt->data_dir);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, len - 1);
        buf[n > 0 ? n : 0] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        close(fd);
    }
    if (buf[0] == '\0')
        snprintf(buf, len, "starting");
    return 0;
}
