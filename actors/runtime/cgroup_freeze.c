/* The cgroup freezer: pause/resume and the snapshot's consistent copy.
 *
 * v2: cgroup.freeze on the sandbox's cgroup, done when cgroup.events says
 * "frozen 1" (or 0). v1: freezer.state of the sandbox's freezer cgroup
 * (hierarchical: its user child freezes with it), FREEZING until every task
 * stopped. Either way the wait is bounded; a freeze that does not take is
 * undone, so an error never leaves a half-frozen sandbox behind.
 *
 * Sandboxes made before the freezer was one of their controllers have no
 * freezer cgroup: it is made on the first freeze and their processes are
 * moved in from their memory cgroups (which hold every one of them). */
#include "cgroup.h"
#include "log.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FREEZE_WAIT_MS 5000   /* a task in a long syscall may take a moment */

static void sleep_us(long us)
{
    nanosleep(&(struct timespec){0, us * 1000L}, NULL);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The cgroup whose state is written: v2 the sandbox's own, v1 its freezer. */
static int freezer_dir(const hb_runtime_t *rt, const char *id, char *out, size_t len)
{
    return hb_cg_dir(rt, rt->cgroup_v2 ? NULL : "freezer", id, false, out, len);
}

/* 1 frozen, 0 thawed, -1 in between or unreadable. */
static int state_of(const hb_runtime_t *rt, const char *dir)
{
    char path[HB_HOSTPATH_MAX], buf[256] = "";
    snprintf(path, sizeof path, "%s/%s", dir, rt->cgroup_v2 ? "cgroup.events" : "freezer.state");
    if (hb_read_small(path, buf, sizeof buf) <= 0)
        return -1;
    if (rt->cgroup_v2)
        return strstr(buf, "frozen 1") ? 1 : strstr(buf, "frozen 0") ? 0 : -1;
    return strncmp(buf, "FROZEN", 6) == 0 ? 1 : strncmp(buf, "THAWED", 6) == 0 ? 0 : -1;
}

/* Move every pid listed in from/cgroup.procs into to/cgroup.procs. */
static void move_procs(const char *from, const char *to)
{
    char path[HB_HOSTPATH_MAX], buf[65536];
    snprintf(path, sizeof path, "%s/cgroup.procs", from);
    ssize_t n = hb_read_small(path, buf, sizeof buf);
    if (n <= 0)
        return;
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (*line && hb_cg_write(to, "cgroup.procs", line) < 0 && errno != ESRCH)
            HB_LOG_WARN("freezer: cannot move pid %s into %s: %s", line, to, strerror(errno));
    }
}

/* v1, a sandbox made without a freezer cgroup: make it (and its user
 * child) and move the processes in, init's level first. */
static int ensure_v1(const hb_runtime_t *rt, const char *id, hb_err_t *e)
{
    char fz[HB_HOSTPATH_MAX], ufz[HB_HOSTPATH_MAX], mem[HB_HOSTPATH_MAX], umem[HB_HOSTPATH_MAX];
    if (hb_cg_dir(rt, "freezer", id, false, fz, sizeof fz) < 0 ||
        hb_cg_dir(rt, "freezer", id, true, ufz, sizeof ufz) < 0 ||
        hb_cg_dir(rt, "memory", id, false, mem, sizeof mem) < 0 ||
        hb_cg_dir(rt, "memory", id, true, umem, sizeof umem) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "freezer: path too long");
    if (access(fz, F_OK) == 0)
        return 0;
    if (access(mem, F_OK) != 0)
        return hb_fail(e, HB_E_DEAD, ENOENT, "sandbox '%s' has no cgroup left", id);
    HB_LOG_INFO("sandbox %s: adding its freezer cgroup (made by an older daemon)", id);
    char parent[HB_HOSTPATH_MAX];
    snprintf(parent, sizeof parent, "%s", fz);
    for (int up = 0; up < 2; up++) {   /* hivebox/<instance> and hivebox */
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = '\0';
    }
    mkdir(parent, 0755);
    snprintf(parent + strlen(parent), sizeof parent - strlen(parent), "/%s", rt->cg_instance);
    mkdir(parent, 0755);
    if ((mkdir(fz, 0755) < 0 && errno != EEXIST) || (mkdir(ufz, 0755) < 0 && errno != EEXIST))
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "freezer: mkdir %s", fz);
    move_procs(mem, fz);
    if (access(umem, F_OK) == 0)
        move_procs(umem, ufz);
    return 0;
}

static int wait_state(const hb_runtime_t *rt, const char *dir, int want)
{
    int64_t end = mono_ms() + FREEZE_WAIT_MS;
    for (int i = 0;; i++) {
        if (state_of(rt, dir) == want)
            return 0;
        if (mono_ms() >= end)
            return -1;
        sleep_us(i < 50 ? 100 : 2000);   /* usually done within a millisecond */
    }
}

static int set_state(const hb_runtime_t *rt, const char *dir, bool frozen)
{
    if (rt->cgroup_v2)
        return hb_cg_write(dir, "cgroup.freeze", frozen ? "1" : "0");
    return hb_cg_write(dir, "freezer.state", frozen ? "FROZEN" : "THAWED");
}

int hb_sandbox_freeze(const hb_sandbox_t *sb, bool frozen, hb_err_t *e)
{
    const hb_runtime_t *rt = sb->rt;
    char dir[HB_HOSTPATH_MAX];
    if (!frozen && sb->paused_at)
        return 0;   /* paused: only resume thaws it (runtime.h) */
    if (freezer_dir(rt, sb->id, dir, sizeof dir) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "freezer: path too long");
    if (!rt->cgroup_v2 && ensure_v1(rt, sb->id, e) < 0)
        return -1;
    if (access(dir, F_OK) != 0)
        return hb_fail(e, HB_E_DEAD, ENOENT, "sandbox '%s' has no cgroup left", sb->id);
    if (set_state(rt, dir, frozen) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "freezer: %s %s",
                           frozen ? "freeze" : "thaw", dir);
    if (wait_state(rt, dir, frozen ? 1 : 0) == 0)
        return 0;
    if (frozen)   /* never leave it half frozen */
        set_state(rt, dir, false);
    return hb_fail(e, HB_E_UNAVAIL, ETIMEDOUT, "sandbox '%s': the kernel did not report it %s "
                   "within %d ms; retry", sb->id, frozen ? "frozen" : "thawed", FREEZE_WAIT_MS);
}

int hb_sandbox_frozen(const hb_sandbox_t *sb)
{
    char dir[HB_HOSTPATH_MAX];
    if (freezer_dir(sb->rt, sb->id, dir, sizeof dir) < 0 || access(dir, F_OK) != 0)
        return 0;
    int st = state_of(sb->rt, dir);
    /* v1 FREEZING: a freeze asked for and not finished (a daemon that died
     * in the middle): the sandbox is meant to be paused. */
    if (st < 0 && !sb->rt->cgroup_v2) {
        char path[HB_HOSTPATH_MAX + 16], buf[32] = "";
        snprintf(path, sizeof path, "%s/freezer.state", dir);
        if (hb_read_small(path, buf, sizeof buf) > 0 && strncmp(buf, "FREEZING", 8) == 0)
            return 1;
    }
    return st == 1;
}
