/* Building the default image "base": Debian bookworm from the host's mirror.
 *
 * Two stages, because debootstrap's own resolver cannot install npm (its
 * dependency graph has cycles through virtual packages, and debootstrap
 * gives up with half-configured node-* packages):
 *   1. debootstrap --variant=minbase --include=<everything but npm>
 *   2. apt-get install npm + $HIVEBOX_PACKAGES inside the new root (chroot,
 *      in a private mount+pid namespace with its own /proc, so nothing stays
 *      mounted when it ends), using the package lists debootstrap left.
 * then the default user `user` (image_user.c).
 * Everything happens in <data>/images/.base.tmp-<pid>; the directory is
 * renamed to <data>/images/base only when complete. An exclusive flock on
 * <data>/images/.base.lock marks a build in progress. */
#include "image_internal.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* sudo, python-is-python3 (python -> python3) and ncurses-bin (tput): what
 * code written for E2B's default template expects beside the basics. */
#define BASE_INCLUDE                                                                            \
    "python3,python3-pip,python3-venv,python-is-python3,nodejs,git,curl,ca-certificates,"      \
    "procps,iproute2,sudo,ncurses-bin"
#define STAGE2_PACKAGES "npm"
#define SUITE "bookworm"

typedef struct {
    hb_progress_cb cb;
    void          *ud;
    char           progress[HB_HOSTPATH_MAX + 32];   /* progress file */
    char           last[256];                        /* last line seen */
} build_ctx_t;

/* Replace the progress file atomically so a reader never sees half a line. */
static void progress(build_ctx_t *c, const char *line)
{
    snprintf(c->last, sizeof c->last, "%s", line);
    if (c->cb)
        c->cb(c->ud, line);
    char tmp[sizeof c->progress + 8];
    snprintf(tmp, sizeof tmp, "%s.new", c->progress);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    size_t n = strlen(c->last);
    bool ok = write(fd, c->last, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
    close(fd);
    if (ok)
        rename(tmp, c->progress);
}

static void on_line(void *ud, const char *line)
{
    progress(ud, line);
}

static int run_step(build_ctx_t *c, const char *what, const char *const argv[], hb_err_t *e)
{
    int rc = hb_spawn_lines(argv, on_line, c, e);
    if (rc < 0)
        return -1;
    if (rc != 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "building image base: %s failed (exit %d): %s", what,
                       rc, c->last);
    return 0;
}

int hb_image_write_text(const char *root, const char *rel, const char *text, mode_t mode,
                        hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 128];
    if (hb_pathf(path, sizeof path, e, "%s/%s", root, rel) < 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || fchmod(fd, mode) < 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "write %s", path);
    }
    close(fd);
    return 0;
}

/* What the default image needs to behave inside a sandbox (root in a
 * user namespace). */
static int make_sandbox_ready(const char *rootfs, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 64];
    snprintf(path, sizeof path, "%s/root", rootfs);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", path);
    /* apt drops to user _apt for downloads, which setgroups() forbids in
     * an unprivileged user namespace: keep it root. */
    return hb_image_write_text(rootfs, "etc/apt/apt.conf.d/99hivebox",
                               "// HiveBox: apt runs as root inside a user namespace\n"
                               "APT::Sandbox::User \"root\";\n", 0644, e);
}

static int stage1(build_ctx_t *c, const char *rootfs, hb_err_t *e)
{
    char mirror[512], include[sizeof BASE_INCLUDE + 16];
    hb_mirror_detect(NULL, mirror, sizeof mirror);
    snprintf(include, sizeof include, "--include=%s", BASE_INCLUDE);
    char line[700];
    snprintf(line, sizeof line, "debootstrap %s from %s", SUITE, mirror);
    progress(c, line);
    const char *argv[] = {"debootstrap", "--variant=minbase", include, SUITE, rootfs, mirror, NULL};
    return run_step(c, "debootstrap", argv, e);
}

static int stage2(build_ctx_t *c, const char *rootfs, const char *extra, hb_err_t *e)
{
    char mount_proc[HB_HOSTPATH_MAX + 32];
    if (hb_pathf(mount_proc, sizeof mount_proc, e, "--mount-proc=%s/proc", rootfs) < 0)
        return -1;
    /* argv: unshare ... chroot ROOT apt-get install -y ... npm extra... */
    enum { FIXED = 11, MAX_EXTRA = 64 };
    const char *argv[FIXED + MAX_EXTRA + 1] = {
        "unshare", "--mount", "--pid", "--fork", mount_proc, "chroot", rootfs,
        "apt-get", "install", "-y", "--no-install-recommends"};
    char names[4096];
    snprintf(names, sizeof names, "%s%s%s", STAGE2_PACKAGES, extra[0] ? "," : "", extra);
    size_t n = FIXED;
    for (char *save = NULL, *p = strtok_r(names, ",", &save); p && n < FIXED + MAX_EXTRA;
         p = strtok_r(NULL, ",", &save))
        argv[n++] = p;
    argv[n] = NULL;
    progress(c, "installing npm and HIVEBOX_PACKAGES with apt-get");
    if (run_step(c, "apt-get install", argv, e) < 0)
        return -1;
    const char *clean[] = {"chroot", rootfs, "apt-get", "clean", NULL};
    return run_step(c, "apt-get clean", clean, e);
}

/* debootstrap refuses a target on a nodev or noexec mount (it makes device
 * nodes, and stage 2's chroot writes to them), and podman mounts volumes
 * nodev: a container's data dir often is one (docs/container.md). A bind
 * mount of the build dir onto itself, remounted without those flags, lifts
 * them for the build only. Root of the initial user namespace may do that;
 * elsewhere the remount fails and debootstrap's own message says why.
 * True when mounted: the caller unmounts it before the rename. */
static bool lift_nodev(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) < 0 || !(sv.f_flag & (ST_NODEV | ST_NOEXEC)))
        return false;
    if (mount(dir, dir, NULL, MS_BIND, NULL) < 0)
        return false;
    if (mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL) < 0) {
        umount2(dir, MNT_DETACH);
        return false;
    }
    HB_LOG_INFO("image base: the data dir is mounted nodev/noexec; building on a bind mount "
                "without them");
    return true;
}

static int build_stages(build_ctx_t *c, const char *tmp, const char *extra, hb_err_t *e);

static int build_into(build_ctx_t *c, const char *tmp, const char *extra, hb_err_t *e)
{
    if (mkdir(tmp, 0755) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", tmp);
    bool lifted = lift_nodev(tmp);
    int rc = build_stages(c, tmp, extra, e);
    if (lifted && umount2(tmp, MNT_DETACH) < 0 && rc == 0)
        rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "umount %s", tmp);
    return rc;
}

static int build_stages(build_ctx_t *c, const char *tmp, const char *extra, hb_err_t *e)
{
    char rootfs[HB_HOSTPATH_MAX + 16];
    if (hb_pathf(rootfs, sizeof rootfs, e, "%s/rootfs", tmp) < 0)
        return -1;
    if (stage1(c, rootfs, e) < 0 || stage2(c, rootfs, extra, e) < 0 ||
        make_sandbox_ready(rootfs, e) < 0)
        return -1;
    progress(c, "adding the default user 'user' (uid 1000, passwordless sudo)");
    if (hb_image_add_default_user(rootfs, e) < 0)
        return -1;
    if (!hb_rootfs_valid(tmp))
        return hb_fail(e, HB_E_INTERNAL, 0, "building image base: result has no /bin/sh");
    return hb_image_facts_record(tmp, e);
}

static int build_locked(const hb_runtime_t *rt, build_ctx_t *c, const char *images,
                        const char *extra, hb_err_t *e)
{
    char tmp[HB_HOSTPATH_MAX + 64], dst[HB_HOSTPATH_MAX + 16];
    snprintf(dst, sizeof dst, "%s/base", images);
    if (hb_image_exists(rt, "base"))   /* another process finished it first */
        return 0;
    hb_image_clean_stale(images, "base", true);   /* we hold the lock */
    snprintf(tmp, sizeof tmp, "%s/.base.tmp-%d", images, (int)getpid());
    if (hb_image_rmtree(tmp, e) < 0)
        return -1;
    int rc = build_into(c, tmp, extra, e);
    if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
        rc = hb_fail_sys(e, errno == EEXIST ? HB_E_EXISTS : HB_E_INTERNAL, errno,
                         "rename %s to %s", tmp, dst);
    if (rc < 0) {
        HB_LOG_ERROR("%s", e ? e->msg : "image build failed");
        hb_image_rmtree(tmp, NULL);
        return -1;
    }
    progress(c, "image base ready");
    HB_LOG_INFO("image base built in %s", dst);
    return 0;
}

int hb_image_build_base(const hb_runtime_t *rt, hb_progress_cb cb, void *ud, hb_err_t *e)
{
    char images[HB_HOSTPATH_MAX], extra[2048], lock[HB_HOSTPATH_MAX + 16];
    if (hb_image_exists(rt, "base"))
        return 0;
    if (hb_packages_parse(rt->conf.packages, extra, sizeof extra, e) < 0)
        return -1;
    if (hb_images_dir(rt, images, sizeof images, e) < 0)
        return -1;
    build_ctx_t c = {.cb = cb, .ud = ud};
    snprintf(c.progress, sizeof c.progress, "%s/.base.progress", images);
    snprintf(lock, sizeof lock, "%s/.base.lock", images);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", lock);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return hb_fail(e, HB_E_UNAVAIL, EWOULDBLOCK, "image base is being built");
    }
    progress(&c, "starting image build");
    int rc = build_locked(rt, &c, images, extra, e);
    unlink(c.progress);
    close(fd);   /* releases the lock */
    return rc;
}
