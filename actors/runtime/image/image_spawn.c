/* Running the external tools images need (debootstrap, chroot, cp, tar, rm)
 * from a multi-threaded daemon: posix_spawn only (vfork+exec inside glibc),
 * never a fork that would copy the daemon's threads' locks. */
#include "image_internal.h"
#include "log.h"
#include "rmtree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024
#define ENV_MAX      16

int hb_pathf(char *out, size_t len, hb_err_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        return hb_fail(e, HB_E_INVALID, ENAMETOOLONG, "path too long");
    return 0;
}

/* Tools are looked up in fixed system dirs: the daemon's own PATH is not
 * trusted to be sane, and posix_spawnp would search it. */
static int resolve_tool(const char *name, char *out, size_t len)
{
    static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};
    if (name[0] == '/') {
        snprintf(out, len, "%s", name);
        return access(out, X_OK);
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(out, len, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* A clean environment: the daemon's (API keys included) never leaks into
 * tools; only proxy settings pass, since debootstrap may need them. They
 * are the host's, not HiveBox settings (actors/config.def), so they are
 * read here, as the tool itself would inherit them. The
 * strings live in the caller's `kept` (no static buffers: several threads
 * may spawn at once). */
#define KEEP_N 6
static void build_env(const char *env[ENV_MAX], char kept[KEEP_N][512])
{
    static const char *const keep[KEEP_N] = {"http_proxy", "https_proxy", "no_proxy",
                                             "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"};
    size_t n = 0;
    env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    env[n++] = "LANG=C.UTF-8";
    env[n++] = "HOME=/root";
    env[n++] = "DEBIAN_FRONTEND=noninteractive";
    for (size_t i = 0; i < KEEP_N && n < ENV_MAX - 1; i++) {
        const char *v = getenv(keep[i]);
        if (v && strlen(v) < 400) {
            snprintf(kept[i], 512, "%s=%s", keep[i], v);
            env[n++] = kept[i];
        }
    }
    env[n] = NULL;
}

static void feed_lines(char *buf, size_t *used, bool flush, hb_line_cb cb, void *ud)
{
    size_t start = 0;
    for (size_t i = 0; i < *used; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            buf[i] = '\0';
            if (i > start && cb)
                cb(ud, buf + start);
            start = i + 1;
        }
    }
    if (start == 0 && (*used >= LINE_MAX_LEN - 1 || flush) && *used > 0) {
        buf[*used] = '\0';   /* overlong (or final) line: pass it cut */
        if (cb)
            cb(ud, buf);
        start = *used;
    }
    memmove(buf, buf + start, *used - start);
    *used -= start;
}

static int wait_status(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return 128 + WTERMSIG(st);
}

static int spawn_piped(const char *path, const char *const argv[], int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    const char *env[ENV_MAX];
    char kept[KEEP_N][512];
    build_env(env, kept);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    /* The calling thread may block signals (actor threads do); the tool
     * must start with a default disposition and an empty mask. */
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(pid, path, &fa, &at, (char *const *)argv, (char *const *)env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    return rc;
}

int hb_spawn_lines(const char *const argv[], hb_line_cb cb, void *ud, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX];
    if (resolve_tool(argv[0], path, sizeof path) < 0)
        return hb_fail(e, HB_E_NOTSUP, ENOENT, "%s not found (install it)", argv[0]);
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "pipe");
    pid_t pid;
    int rc = spawn_piped(path, argv, p[1], &pid);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        return hb_fail_sys(e, HB_E_INTERNAL, rc, "spawn %s", path);
    }
    char buf[LINE_MAX_LEN];
    size_t used = 0;
    for (;;) {
        ssize_t n = read(p[0], buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        feed_lines(buf, &used, false, cb, ud);
    }
    feed_lines(buf, &used, true, cb, ud);
    close(p[0]);
    int st = wait_status(pid);
    if (st < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "waitpid %s", path);
    return st;
}

/* mountinfo escapes ' ', '\t', '\n' and '\\' as octal. */
static void unescape_octal(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* A crashed debootstrap can leave proc/sys mounted inside its target;
 * detach them (deepest first: mountinfo lists parents before children). */
static void detach_mounts_under(const char *root)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return;
    char line[4096], mp[4096];
    char *found[256];
    size_t n = 0, rlen = strlen(root);
    while (fgets(line, sizeof line, f) && n < 256) {
        if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
            continue;
        unescape_octal(mp);
        if (strncmp(mp, root, rlen) == 0 && (mp[rlen] == '/' || mp[rlen] == '\0'))
            found[n++] = strdup(mp);
    }
    fclose(f);
    while (n > 0) {
        char *m = found[--n];
        if (m && umount2(m, MNT_DETACH) < 0)
            HB_LOG_WARN("image: umount %s: %s", m, strerror(errno));
        free(m);
    }
}

int hb_image_rmtree(const char *path, hb_err_t *e)
{
    struct stat st;
    if (lstat(path, &st) < 0 && errno == ENOENT)
        return 0;
    detach_mounts_under(path);
    if (hb_rmtree(path) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "removing %s", path);
    return 0;
}
