/* The launcher: turns a prepared sandbox directory into a running sandbox.
 *
 * Runs as real root in the host's namespaces, single-threaded, freshly
 * exec'd by the runtime. Order matters and follows bubblewrap/runc:
 *
 *   parent (host root)                 child (new user/pid/mnt/... namespaces)
 *   join the sandbox cgroups, open
 *   the user cgroups' cgroup.procs
 *   clone(all namespaces) ------------> waits on the sync socket
 *   write uid_map/gid_map, lower
 *   init's oom_score_adj
 *   idmapped, read-only clone of the
 *   image (needs host privilege) --fd-> setresuid(0): root of its own userns
 *                                      private mounts, attach the image,
 *                                      overlay root, /proc (masked), /sys ro,
 *                                      /dev (sized /dev/shm), /tmp, bind
 *                                      init.sock, pivot_root
 *   <------------------------- "ready" sethostname, lo up, become init
 *   print "ok <pid> <starttime>", exit
 *
 * The child never goes back to the host filesystem after pivot_root: the
 * only host-side object it keeps is the listening socket. */
#include "init.h"
#include "runtime.h"
#include "launcher.h"
#include "launch_conf.h"
#include "launch_layers.h"
#include "sbdir_names.h"
#include "log.h"
#include "procfs.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>


/* ---- small helpers ---------------------------------------------------- */

static char g_errbuf[512];
static int g_last_pid_fd = -1;   /* issue 19: kept for init (agent_hostname.c) */

/* The launcher's error: fmt's text (and errno's, if set) into g_errbuf.
 * fail() is -1, visibly at each call (as hb_fail, for the same reason). */
static void fail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define fail(...) ({ fail_set(__VA_ARGS__); -1; })
static void fail_set(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g_errbuf, sizeof g_errbuf, fmt, ap);
    va_end(ap);
    if (saved && n > 0 && (size_t)n < sizeof g_errbuf)
        snprintf(g_errbuf + n, sizeof g_errbuf - (size_t)n, ": %s", strerror(saved));
}

static int write_file(const char *path, const char *data)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(data);
    ssize_t w = write(fd, data, len);
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)len ? 0 : -1;
}

static int pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pathf(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, LPATH, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= LPATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int read_conf(const char *dir, launch_conf_t *c)
{
    char path[LPATH], buf[8192];
    if (pathf(path, "%s/" HB_SBDIR_LAUNCH_CONF, dir) < 0)
        return fail(HB_SBDIR_LAUNCH_CONF " path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail("open %s", path);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return fail("read %s", path);
    buf[n] = '\0';
    if (launch_conf_parse(buf, dir, c) < 0) {
        errno = 0;
        return fail("launch.conf is incomplete");
    }
    return 0;
}

/* ---- passing the image mount and the ready signal --------------------- */

static int send_fd(int sock, int fd)
{
    char dummy = 'f';
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
    char dummy;
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    ssize_t r;
    do
        r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    while (r < 0 && errno == EINTR);
    if (r != 1)
        return -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}

/* ---- the child's side: building the root ------------------------------ */

static int mount_at(const char *root, const char *rel, const char *fstype, unsigned long flags,
                    const char *data)
{
    char path[LPATH];
    if (pathf(path, "%s%s", root, rel) < 0)
        return fail("path %s", rel);
    mkdir(path, 0755); /* may already exist in the image */
    if (mount(fstype, path, fstype, flags, data) < 0)
        return fail("mount %s on %s", fstype, rel);
    return 0;
}

/* Apply attributes to the mount at path and everything below it. */
static int setattr_rec(const char *path, unsigned long long set)
{
    struct mount_attr a = {.attr_set = set};
    return mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &a, sizeof a);
}

static int bind_ro(const char *root, const char *rel)
{
    char path[LPATH];
    if (pathf(path, "%s%s", root, rel) < 0)
        return -1;
    if (access(path, F_OK) != 0)
        return 0; /* nothing to protect */
    if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0 ||
        setattr_rec(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0)
        return fail("read-only %s", rel);
    return 0;
}

/* The first masked directory's tmpfs; every other one is a bind of it.
 * One superblock per sandbox, not one per masked directory: each
 * superblock costs every memory cgroup on the host a shrinker slot
 * (issue 19, docs/performance.md "Memory per sandbox"). */
static char g_mask[LPATH];

static int mask_dir(const char *path)
{
    if (!g_mask[0]) {
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=0,mode=555") < 0)
            return -1;
        snprintf(g_mask, sizeof g_mask, "%s", path);
        return 0;
    }
    /* A bind keeps its source's flags; set them anyway, so that the mask
     * never depends on that. */
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                       MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC};
    if (mount(g_mask, path, NULL, MS_BIND, NULL) < 0 ||
        mount_setattr(AT_FDCWD, path, 0, &a, sizeof a) < 0)
        return -1;
    return 0;
}

/* Hide a /proc or /sys path: /dev/null over files, an empty read-only
 * tmpfs over directories (runc's maskPaths). */
static int mask_path(const char *root, const char *rel)
{
    char path[LPATH];
    struct stat st;
    if (pathf(path, "%s%s", root, rel) < 0)
        return -1;
    if (lstat(path, &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode) ? mask_dir(path) < 0
                            : mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
        return fail("mask %s", rel);
    return 0;
}

static int setup_proc(const char *root)
{
    static const char *const masked[] = {
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi", "/proc/kallsyms", "/proc/kmsg", "/proc/config.gz",
    };
    /* sysrq-trigger is read-only rather than masked: a write to a /dev/null
     * mask would succeed silently (device nodes ignore read-only mounts). */
    static const char *const readonly[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                           "/proc/sysrq-trigger"};
    if (mount_at(root, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return -1;
    /* Before /proc/sys turns read-only: a System V shared memory segment
     * nobody is attached to goes away instead of holding memory no process
     * owns (and no OOM kill can free) for the sandbox's lifetime. Per IPC
     * namespace, ours. */
    char path[LPATH];
    if (pathf(path, "%s/proc/sys/kernel/shm_rmid_forced", root) < 0 || write_file(path, "1") < 0)
        return fail("set kernel.shm_rmid_forced");
    for (size_t i = 0; i < sizeof masked / sizeof *masked; i++)
        if (mask_path(root, masked[i]) < 0)
            return -1;
    /* issue 19: init's one writable sysctl (agent_hostname.c) */
    if (pathf(path, "%s/proc/sys/kernel/ns_last_pid", root) == 0)
        g_last_pid_fd = open(path, O_WRONLY | O_CLOEXEC);
    for (size_t i = 0; i < sizeof readonly / sizeof *readonly; i++)
        if (bind_ro(root, readonly[i]) < 0)
            return -1;
    return 0;
}

static int setup_sys(const char *root)
{
    char path[LPATH];
    if (pathf(path, "%s/sys", root) < 0)
        return -1;
    mkdir(path, 0755);
    /* A fresh sysfs shows only this network namespace's devices. If the
     * kernel refuses it, fall back to the host's, recursively read-only. */
    if (mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
        if (mount("/sys", path, NULL, MS_BIND | MS_REC, NULL) < 0)
            return fail("mount /sys");
    }
    if (setattr_rec(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                              MOUNT_ATTR_NOEXEC) < 0)
        return fail("read-only /sys");
    if (mask_path(root, "/sys/firmware") < 0 || mask_path(root, "/sys/devices/virtual/powercap") < 0)
        return -1;
    return 0;
}

/* /dev/shm: a bind of the shm directory of /dev's tmpfs, with its own
 * flags (exec allowed, no devices); mode 1777 as a tmpfs of its own had. */
static int bind_shm(const char *dev)
{
    char path[LPATH];
    struct mount_attr a = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                           .attr_clr = MOUNT_ATTR_NOEXEC};
    if (pathf(path, "%s/shm", dev) < 0)
        return -1;
    if ((mkdir(path, 0755) < 0 && errno != EEXIST) || chmod(path, 01777) < 0)
        return fail("mkdir /dev/shm");
    if (mount(path, path, NULL, MS_BIND, NULL) < 0 ||
        mount_setattr(AT_FDCWD, path, 0, &a, sizeof a) < 0)
        return fail("bind /dev/shm");
    return 0;
}

/* shm_bytes: /dev/shm is memory the sandbox's processes cannot give back
 * by dying, so it is sized (a quarter of the memory limit, see the
 * runtime's cgroup.c) rather than left at the kernel's half of host RAM.
 * /dev and /dev/shm share that one tmpfs (issue 19: a superblock fewer,
 * see mask_dir): /dev itself holds no data, only bind-mounted nodes,
 * symlinks and directories, and nothing can be moved or linked between
 * the two mounts (EXDEV), so each keeps its own flags. */
static int setup_dev(const char *root, unsigned long long shm_bytes)
{
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    static const char *const links[][2] = {
        {"/proc/self/fd", "fd"},      {"/proc/self/fd/0", "stdin"},
        {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
        {"pts/ptmx", "ptmx"},
    };
    char dev[LPATH], path[LPATH], src[LPATH];
    if (pathf(dev, "%s/dev", root) < 0)
        return -1;
    char dev_opts[64];
    snprintf(dev_opts, sizeof dev_opts, "mode=755,size=%llu", shm_bytes);
    if (mount_at(root, "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, dev_opts) < 0)
        return -1;
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        if (pathf(path, "%s/%s", dev, nodes[i]) < 0 || pathf(src, "/dev/%s", nodes[i]) < 0)
            return -1;
        int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0)
            return fail("create %s", path);
        close(fd);
        if (mount(src, path, NULL, MS_BIND, NULL) < 0)
            return fail("bind %s", src);
    }
    for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
        if (pathf(path, "%s/%s", dev, links[i][1]) < 0 || symlink(links[i][0], path) < 0)
            return fail("symlink /dev/%s", links[i][1]);
    }
    if (mount_at(root, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=620") < 0)
        return -1;
    if (bind_shm(dev) < 0 ||
        mount_at(root, "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return -1;
    return 0;
}

/* Bound by a name relative to the run dir, so that long data dirs never hit
 * sun_path's 108 bytes; the runtime connects the same way. */
static int bind_socket(const char *dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = HB_SBDIR_INIT_SOCK};
    char run[LPATH], here[LPATH];
    if (pathf(run, "%s/" HB_SBDIR_RUN, dir) < 0 || !getcwd(here, sizeof here))
        return fail("run dir path");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail("socket");
    if (chdir(run) < 0 || (unlink(HB_SBDIR_INIT_SOCK) < 0 && errno != ENOENT) ||
        bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 512) < 0 || chdir(here) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return fail("bind %s/" HB_SBDIR_INIT_SOCK, run);
    }
    return fd;
}

static int lo_up(void)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail("socket for lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    int r = ioctl(s, SIOCGIFFLAGS, &ifr);
    if (r == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
    return r < 0 ? fail("bring lo up") : 0;
}

static int enter_root(const char *root)
{
    if (chdir(root) < 0)
        return fail("chdir %s", root);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return fail("pivot_root");
    /* The old root is now stacked under "."; detach it for good. */
    if (umount2(".", MNT_DETACH) < 0)
        return fail("detach old root");
    if (chdir("/") < 0)
        return fail("chdir /");
    return 0;
}

static int become_root(void)
{
    if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return fail("become root of the user namespace");
    return 0;
}

/* /tmp is a directory of the writable layer, as in Docker: a tmpfs there
 * would be memory the sandbox's commands cannot give back by dying, and
 * large temporary files (pip, compilers) would fail at a fraction of the
 * memory limit. An image without /tmp gets one. */
static int ensure_tmp(const char *root)
{
    char path[LPATH];
    if (pathf(path, "%s/tmp", root) < 0)
        return -1;
    if (mkdir(path, 01777) < 0) {
        if (errno == EEXIST)
            return 0;
        return fail("mkdir /tmp");
    }
    if (chmod(path, 01777) < 0)   /* past the umask */
        return fail("chmod /tmp");
    return 0;
}

/* The overlay's lower layers: the image alone at lower, or (a layered
 * image) each layer under lower/ (launch_layers.c). Into opt: lowerdir=... */
static int attach_lower(const launch_conf_t *c, int image_fd, const int *layer_fds, char *opt,
                        size_t len)
{
    if (c->n_layers == 0) {
        if (move_mount(image_fd, "", AT_FDCWD, "lower", MOVE_MOUNT_F_EMPTY_PATH) < 0)
            return fail("attach the image");
        close(image_fd);
        snprintf(opt, len, "lowerdir=lower");
        return 0;
    }
    char why[300];
    if (launch_layers_attach(c, image_fd, layer_fds, opt, len, why, sizeof why) < 0) {
        errno = 0;
        return fail("image layers: %s", why);
    }
    return 0;
}

static int build_root(const launch_conf_t *c, int image_fd, const int *layer_fds, int *skill_fds,
                      int *listen_fd)
{
    char root[LPATH], lowerdir[HB_LC_LAYERS_MAX * 12 + 64], opts[sizeof lowerdir + 64];
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail("make mounts private");
    if (pathf(root, "%s/rootfs", c->dir) < 0)
        return -1;
    /* Relative layer paths: the sandbox's mountinfo then names no host path. */
    if (chdir(c->dir) < 0)
        return fail("chdir %s", c->dir);
    if (attach_lower(c, image_fd, layer_fds, lowerdir, sizeof lowerdir) < 0)
        return -1;
    snprintf(opts, sizeof opts, "%s,upperdir=upper,workdir=work,userxattr", lowerdir);
    if (mount("overlay", "rootfs", "overlay", MS_NOSUID | MS_NODEV, opts) < 0)
        return fail("mount the overlay root");
    if (setup_proc(root) < 0 || setup_sys(root) < 0 || setup_dev(root, c->shm_bytes) < 0)
        return -1;
    char why[300];
    if (launch_skills_mount(&c->skills, root, skill_fds, why, sizeof why) < 0)
        return fail("skills: %s", why);
    if (ensure_tmp(root) < 0)
        return -1;
    *listen_fd = bind_socket(c->dir);
    if (*listen_fd < 0)
        return -1;
    return enter_root(root);
}

/* Runs as the clone child; on success it never returns (it becomes init). */
static int child_main(const launch_conf_t *c, int sync)
{
    int image_fd = recv_fd(sync); /* arrives after the id maps are written */
    if (image_fd < 0)
        return fail("receive the image mount");
    int layer_fds[HB_LC_LAYERS_MAX];
    for (int i = 0; i < c->n_layers; i++)
        if ((layer_fds[i] = recv_fd(sync)) < 0)
            return fail("receive the image's layers");
    int skill_fds[HB_SKILLS_MAX_N];
    for (int i = 0; i < c->skills.n; i++)
        if ((skill_fds[i] = recv_fd(sync)) < 0)
            return fail("receive skill mounts");
    /* stdout is the runtime's pipe: it must see EOF once the launcher exits. */
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        return fail("redirect stdio");
    close(devnull);
    int listen_fd = -1;
    if (become_root() < 0 || build_root(c, image_fd, layer_fds, skill_fds, &listen_fd) < 0)
        return -1;
    if (sethostname(c->id, strlen(c->id)) < 0)
        return fail("sethostname");
    if (lo_up() < 0)
        return -1;
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (send(sync, "R", 1, MSG_NOSIGNAL) != 1)
        return fail("report ready");
    close(sync);
    hb_log_set_prefix("init");
    agent_cfg_t cfg = {.listen_fd = listen_fd, .id = c->id, .n_cg = c->n_user_cg,
                       .last_pid_fd = g_last_pid_fd, .warm_exec = c->warm_exec};
    memcpy(cfg.cg_fds, c->user_cg_fds, sizeof cfg.cg_fds);
    agent_run(&cfg);
}

/* ---- the parent's side ------------------------------------------------ */

static int write_id_maps(pid_t pid, unsigned long base)
{
    char path[64], map[64];
    snprintf(map, sizeof map, "0 %lu 65536\n", base);
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    if (write_file(path, map) < 0)
        return fail("write uid_map");
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    if (write_file(path, map) < 0)
        return fail("write gid_map");
    return 0;
}

/* A read-only, nosuid, nodev clone of the image whose owners appear shifted
 * into the sandbox's uid range. Only host root can make it. */
static int idmapped_image(const char *image, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
    int userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0)
        return fail("open the sandbox user namespace");
    int tree = open_tree(AT_FDCWD, image, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0) {
        close(userns);
        return fail("clone the image mount %s", image);
    }
    struct mount_attr a = {
        .attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        .userns_fd = (unsigned long long)userns,
    };
    int r = mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a);
    close(userns);
    if (r < 0) {
        close(tree);
        return fail("idmapped mount of the image (needs kernel >= 5.12 and a filesystem "
                    "supporting idmapped mounts)");
    }
    return tree;
}

static int join_cgroups(const launch_conf_t *c)
{
    char pid[32];
    snprintf(pid, sizeof pid, "%d\n", getpid());
    for (int i = 0; i < c->n_cg; i++)
        if (write_file(c->cg_procs[i], pid) < 0)
            return fail("join cgroup %s", c->cg_procs[i]);
    return 0;
}

/* The user cgroups' cgroup.procs, opened here as host root and inherited by
 * init: commands join them by writing "0" to these fds before they exec
 * (cgroup v1 checks the opener's credentials), while nothing inside the
 * sandbox can open them. */
static int open_user_cgroups(launch_conf_t *c)
{
    for (int i = 0; i < c->n_user_cg; i++) {
        c->user_cg_fds[i] = open(c->user_cg_procs[i], O_WRONLY | O_CLOEXEC);
        if (c->user_cg_fds[i] < 0)
            return fail("open %s", c->user_cg_procs[i]);
    }
    return 0;
}

static void close_user_cgroups(launch_conf_t *c)
{
    for (int i = 0; i < c->n_user_cg; i++)
        if (c->user_cg_fds[i] >= 0)
            close(c->user_cg_fds[i]);
}

/* Make init the last process the OOM killer would pick (-1000). Through the
 * legacy oom_adj file (-17 is -1000), which unlike oom_score_adj leaves
 * oom_score_adj_min alone: after the first write (0, the floor a command can
 * go back down to) the commands that inherit -1000 may raise their score
 * again, and init resets each one to 0. Needs CAP_SYS_RESOURCE; without it
 * init stays at its score, still out of its commands' memory cgroup. */
static void protect_from_oom(pid_t child)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", child);
    write_file(path, "0");
    snprintf(path, sizeof path, "/proc/%d/oom_adj", child);
    if (write_file(path, "-17") < 0)
        HB_LOG_INFO("oom_score_adj of init not lowered (%s): the host withholds "
                 "CAP_SYS_RESOURCE; the user memory cgroup alone keeps it out of its "
                 "commands' OOM kills", strerror(errno));
}

/* Map the child's ids, hand it the idmapped image, wait for its verdict.
 * The sandbox's network (net, may be NULL) is set up while the child builds
 * its root: its namespace exists since clone, and the two overlap. */
/* The idmapped layers of a layered image, top first (launch_layers.c). */
static int send_layers(const launch_conf_t *c, int sync, char *why, size_t len)
{
    int fds[HB_LC_LAYERS_MAX];
    if (launch_layers_open(c, fds, why, len) < 0) {
        errno = 0;
        return fail("%s", why);
    }
    int r = 0;
    for (int i = 0; i < c->n_layers; i++) {
        if (r == 0 && send_fd(sync, fds[i]) < 0)
            r = fail("send the image's layers");
        close(fds[i]);
    }
    return r;
}

static int parent_side_probe(pid_t child, int sync, const char *image, unsigned long uid_base,
                             const launch_conf_t *layers, const launch_skills_t *skills,
                             const launch_net_t *net)
{
    if (write_id_maps(child, uid_base) < 0)
        return -1;
    int tree = idmapped_image(image, child);
    if (tree < 0)
        return -1;
    int r = send_fd(sync, tree);
    close(tree);
    if (r < 0)
        return fail("send the image mount");
    char why[300];
    if (layers && send_layers(layers, sync, why, sizeof why) < 0)
        return -1;
    int sfds[HB_SKILLS_MAX_N];
    if (skills && launch_skills_open(skills, sfds, why, sizeof why) < 0) {
        errno = 0;
        return fail("%s", why);
    }
    for (int i = 0; skills && i < skills->n; i++) {
        if (r == 0 && send_fd(sync, sfds[i]) < 0)
            r = fail("send skill mounts");
        close(sfds[i]);
    }
    if (r < 0)
        return -1;
    if (net && launch_net_setup(net, child, why, sizeof why) < 0)
        return fail("network: %s", why);
    char msg[600];
    ssize_t n;
    do
        n = recv(sync, msg, sizeof msg - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n == 1 && msg[0] == 'R')
        return 0;
    errno = 0;
    if (n > 1) {
        msg[n] = '\0';
        return fail("%s", msg + 1);
    }
    return fail("sandbox init exited during setup");
}


static int parent_side(const launch_conf_t *c, pid_t child, int sync)
{
    protect_from_oom(child);
    return parent_side_probe(child, sync, c->image, c->uid_base, c, &c->skills, &c->net);
}

int launcher_main(const char *dir)
{
    launch_conf_t c;
    hb_log_set_prefix("launcher");
    if (read_conf(dir, &c) < 0 || join_cgroups(&c) < 0 || open_user_cgroups(&c) < 0)
        goto out_err;
    setsid(); /* never share the daemon's session or terminal signals */

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        fail("socketpair");
        goto out_err;
    }
    unsigned long flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
                          CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD;
    pid_t pid = (pid_t)syscall(SYS_clone, flags, NULL, NULL, NULL, 0);
    if (pid < 0) {
        fail("clone the sandbox namespaces (user namespaces enabled?)");
        goto out_err;
    }
    if (pid == 0) {
        close(sv[0]);
        child_main(&c, sv[1]);
        /* Setup failed: tell the parent why, then die. */
        char msg[600];
        int n = snprintf(msg, sizeof msg, "E%s", g_errbuf);
        send(sv[1], msg, (size_t)(n > 0 ? n : 1), MSG_NOSIGNAL);
        _exit(1);
    }
    close(sv[1]);
    close_user_cgroups(&c);     /* init has its own copies */
    if (parent_side(&c, pid, sv[0]) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        goto out_err;
    }
    printf("ok %d %llu\n", pid, (unsigned long long)hb_proc_starttime(pid, NULL));
    fflush(stdout);
    return 0;

out_err:
    printf("error %s\n", g_errbuf);
    fflush(stdout);
    return 1;
}

/* ---- start-up feature probe ------------------------------------------- */

/* The child half of the probe: what a sandbox needs from inside its userns. */
static int probe_child(const char *dir, int sync)
{
    char lower[LPATH], opts[3 * LPATH + 64], root[LPATH];
    int img = recv_fd(sync);
    if (img < 0)
        return fail("idmapped mounts");
    if (become_root() < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail("user namespaces");
    if (pathf(lower, "%s/lower", dir) < 0 || pathf(root, "%s/root", dir) < 0 ||
        move_mount(img, "", AT_FDCWD, lower, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return fail("attaching an idmapped mount inside a user namespace");
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work,userxattr", lower,
             dir, dir);
    if (mount("overlay", root, "overlay", 0, opts) < 0)
        return fail("overlayfs inside a user namespace (kernel >= 5.11) over an idmapped layer");
    return 0;
}

/* Probe user namespaces, idmapped mounts and overlayfs the way a sandbox
 * uses them, in <dir> (an empty scratch dir on the data dir's filesystem
 * with lower/upper/work/root/img made by the runtime). Prints "ok" or
 * "error <missing feature>: <reason>". */
int launcher_probe(const char *dir)
{
    int sv[2];
    char img[LPATH];
    if (pathf(img, "%s/img", dir) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        printf("error probe setup\n");
        return 1;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0) {
        printf("error user namespaces: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        close(sv[0]);
        int r = probe_child(dir, sv[1]);
        char msg[600];
        int n = snprintf(msg, sizeof msg, "%c%s", r == 0 ? 'R' : 'E', g_errbuf);
        send(sv[1], msg, (size_t)(n > 0 ? n : 1), MSG_NOSIGNAL);
        _exit(r == 0 ? 0 : 1);
    }
    close(sv[1]);
    unsigned long base = HB_UID_BASE + (unsigned long)(HB_UID_SLOTS - 1) * HB_UID_RANGE;
    int r = parent_side_probe(pid, sv[0], img, base, NULL, NULL, NULL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (r < 0) {
        printf("error %s\n", g_errbuf);
        return 1;
    }
    printf("ok\n");
    return 0;
}
