/* Killing what is in a sandbox's cgroups: everything at destroy, all but
 * init at kill-all. Both freeze first, so nothing forks while the list of
 * processes is read and killed. */
#include "cgroup.h"
#include "log.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KILL_ROUNDS    8       /* freeze, kill, thaw, wait: until nothing is left */
#define KILL_MAX_MS    5000    /* all rounds together */
#define GONE_WAIT_MS   2000    /* for the killed to leave the cgroup */
#define FREEZE_WAIT_MS 500

typedef struct {
    pid_t *v;
    size_t n, cap;
} pidv_t;

static void sleep_ms(long ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pidv_push(pidv_t *p, pid_t pid)
{
    if (p->n == p->cap) {       /* linear: a sandbox has a few hundred tasks */
        pid_t *nv = reallocarray(p->v, p->cap + 512, sizeof *nv);
        if (!nv)
            return -1;
        p->v = nv;
        p->cap += 512;
    }
    p->v[p->n++] = pid;
    return 0;
}

/* Append the pids listed in dir/cgroup.procs (any number of them). */
static void read_procs(const char *dir, pidv_t *out)
{
    char path[HB_HOSTPATH_MAX], buf[4096];
    if (snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= (int)sizeof path)
        return;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    long cur = 0;
    bool in = false;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                cur = cur * 10 + (buf[i] - '0');
                in = cur < (1L << 30);
            } else {
                if (in && pidv_push(out, (pid_t)cur) < 0)
                    goto out;
                cur = 0;
                in = false;
            }
        }
    }
    if (in)
        pidv_push(out, (pid_t)cur);
out:
    close(fd);
}

static int pid_cmp(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

/* p sorted. */
static bool listed(const pidv_t *p, pid_t pid)
{
    return p->n && bsearch(&pid, p->v, p->n, sizeof *p->v, pid_cmp);
}

/* ---- freezing ---- */

static bool is_frozen(const hb_runtime_t *rt, const char *dir)
{
    char path[HB_HOSTPATH_MAX], buf[64] = "";
    snprintf(path, sizeof path, "%s/%s", dir, rt->cgroup_v2 ? "cgroup.events" : "freezer.state");
    if (hb_read_small(path, buf, sizeof buf) <= 0)
        return true;            /* nothing to wait for */
    return rt->cgroup_v2 ? strstr(buf, "frozen 1") != NULL : strncmp(buf, "FROZEN", 6) == 0;
}

/* Freeze dir (the freezer cgroup on v1) and wait a little for it to take:
 * a task in the middle of a fork is frozen once the fork is done. */
static bool freeze(const hb_runtime_t *rt, const char *dir, bool on)
{
    const char *file = rt->cgroup_v2 ? "cgroup.freeze" : "freezer.state";
    const char *val = rt->cgroup_v2 ? (on ? "1" : "0") : (on ? "FROZEN" : "THAWED");
    if (hb_cg_write(dir, file, val) < 0)
        return false;
    for (int i = 0; on && i < FREEZE_WAIT_MS && !is_frozen(rt, dir); i++)
        sleep_ms(1);
    return true;
}

/* ---- destroy ---- */

/* Kill what is listed in one cgroup.procs; returns how many pids were seen. */
static int kill_listed(const char *dir)
{
    pidv_t p = {0};
    read_procs(dir, &p);
    for (size_t i = 0; i < p.n; i++)
        if (p.v[i] > 1)
            kill(p.v[i], SIGKILL);
    free(p.v);
    return (int)p.n;
}

static bool cg_empty(const char *dir)
{
    pidv_t p = {0};
    read_procs(dir, &p);
    free(p.v);
    return p.n == 0;
}

static void empty_and_rmdir(const char *dir, bool use_kill_file)
{
    if (access(dir, F_OK) != 0)
        return;
    if (use_kill_file)
        hb_cg_write(dir, "cgroup.kill", "1");
    /* The last tasks usually leave within a millisecond: poll fast first,
     * then back off, for up to ~2 s in all. */
    for (int i = 0; i < 420; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return;
        if (errno != EBUSY)
            break;
        kill_listed(dir);
        long ns = i < 20 ? 200 * 1000L : 5 * 1000 * 1000L;
        nanosleep(&(struct timespec){0, ns}, NULL);
    }
    HB_LOG_WARN("cgroup %s could not be removed: %s", dir, strerror(errno));
}

int hb_cg_destroy(const hb_runtime_t *rt, const char *id)
{
    char dir[HB_HOSTPATH_MAX];
    if (rt->cgroup_v2) {
        if (hb_cg_dir(rt, NULL, id, false, dir, sizeof dir) == 0)
            empty_and_rmdir(dir, true);
        return 0;
    }
    /* v1: freeze so nothing forks while we kill, then kill, thaw and remove
     * (the user cgroups first: a cgroup with children cannot go). Usually
     * init is already dead and the cgroups empty: skip the freezer then,
     * since each freeze flips a host-wide kernel static key (ms). */
    size_t nc;
    const char *const *ctrls = hb_cg_v1_controllers(&nc);
    char fz[HB_HOSTPATH_MAX], ufz[HB_HOSTPATH_MAX];
    bool frozen = hb_cg_dir(rt, "freezer", id, false, fz, sizeof fz) == 0 &&
                  hb_cg_dir(rt, "freezer", id, true, ufz, sizeof ufz) == 0 &&
                  (!cg_empty(fz) || !cg_empty(ufz)) &&
                  hb_cg_write(fz, "freezer.state", "FROZEN") == 0;
    for (size_t i = 0; i < nc; i++)
        for (int user = 1; user >= 0; user--)
            if (hb_cg_dir(rt, ctrls[i], id, user, dir, sizeof dir) == 0)
                kill_listed(dir);
    if (frozen)
        hb_cg_write(fz, "freezer.state", "THAWED");
    for (size_t i = 0; i < nc; i++)
        for (int user = 1; user >= 0; user--)
            if (hb_cg_dir(rt, ctrls[i], id, user, dir, sizeof dir) == 0)
                empty_and_rmdir(dir, false);
    return 0;
}

/* ---- kill-all ---- */

/* Init's idle warm exec worker (tools/init/agent/agent_warm.c): a child of
 * init named hb-warm in the sandbox's own cgroup (v1). Nothing of the
 * user's can be there: commands and their children live in the user
 * cgroup, and init's children move there before they exec. It holds
 * nothing of the user's, so kill-all neither kills nor counts it. */
static bool idle_warm_worker(pid_t pid, pid_t init_pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (hb_read_small(path, buf, sizeof buf) <= 0)
        return false;
    const char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');   /* the comm may hold ')' */
    int ppid = 0;
    return lp && rp && rp - lp == 8 && strncmp(lp, "(hb-warm)", 9) == 0 &&
           sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == init_pid;
}

/* What kill-all empties: the sandbox's cgroup (init, its idle warm worker
 * left out, and commands a moment before they join the user cgroup) and
 * the user cgroup. */
static void read_kill_set(const char *const dirs[2], pid_t init_pid, bool v1, pidv_t *out)
{
    if (dirs[0][0]) {
        read_procs(dirs[0], out);
        size_t k = 0;
        for (size_t i = 0; i < out->n; i++)
            if (out->v[i] == init_pid || !v1 || !idle_warm_worker(out->v[i], init_pid))
                out->v[k++] = out->v[i];
        out->n = k;
    }
    if (dirs[1][0])
        read_procs(dirs[1], out);
}

/* One round: kill everything but init listed in the sandbox's cgroups.
 * Returns how many of them were not already killed in the round before. */
static uint64_t kill_round(const char *const dirs[2], pid_t init_pid, bool v1, pidv_t *prev)
{
    pidv_t now = {0};
    read_kill_set(dirs, init_pid, v1, &now);
    uint64_t fresh = 0;
    for (size_t i = 0; i < now.n; i++) {
        if (now.v[i] <= 1 || now.v[i] == init_pid)
            continue;
        kill(now.v[i], SIGKILL);
        fresh += !listed(prev, now.v[i]);
    }
    free(prev->v);
    if (now.n > 1)
        qsort(now.v, now.n, sizeof *now.v, pid_cmp);
    *prev = now;
    return fresh;
}

/* Nothing but init left in the cgroups. */
static bool only_init(const char *const dirs[2], pid_t init_pid, bool v1)
{
    pidv_t now = {0};
    read_kill_set(dirs, init_pid, v1, &now);
    bool alone = now.n == 0 || (now.n == 1 && now.v[0] == init_pid);
    free(now.v);
    return alone;
}

int hb_cg_kill_user(const hb_runtime_t *rt, const char *id, pid_t init_pid, uint64_t *killed,
                    hb_err_t *e)
{
    /* Listed: the sandbox's cgroup (init, and commands a moment before they
     * join the user cgroup) and the user cgroup. Frozen: the user cgroup on
     * v1, so init goes on serving; the whole sandbox on v2. */
    char sbdir[HB_HOSTPATH_MAX], udir[HB_HOSTPATH_MAX] = "", fz[HB_HOSTPATH_MAX];
    const char *ctrl = rt->cgroup_v2 ? NULL : "pids";
    *killed = 0;
    if (hb_cg_dir(rt, ctrl, id, false, sbdir, sizeof sbdir) < 0 || access(sbdir, F_OK) != 0)
        return hb_fail(e, HB_E_DEAD, ENOENT, "sandbox '%s' has no cgroup left", id);
    if (!rt->cgroup_v2)
        hb_cg_dir(rt, "pids", id, true, udir, sizeof udir);
    hb_cg_dir(rt, rt->cgroup_v2 ? NULL : "freezer", id, !rt->cgroup_v2, fz, sizeof fz);
    const char *const dirs[2] = {sbdir, udir};
    bool v1 = !rt->cgroup_v2;
    pidv_t prev = {0};
    int64_t end = now_ms() + KILL_MAX_MS;
    for (int round = 0; round < KILL_ROUNDS && now_ms() < end && !only_init(dirs, init_pid, v1);
         round++) {
        bool frozen = freeze(rt, fz, true);
        *killed += kill_round(dirs, init_pid, v1, &prev);
        if (frozen)
            freeze(rt, fz, false);
        /* Killed tasks die as they thaw; SIGKILL pending, none can fork. */
        for (int t = 0; t < GONE_WAIT_MS / 5 && !only_init(dirs, init_pid, v1); t++)
            sleep_ms(5);
    }
    free(prev.v);
    if (!only_init(dirs, init_pid, v1))
        return hb_fail(e, HB_E_UNAVAIL, EBUSY, "sandbox '%s': processes still left after "
                       "killing %llu; retry", id, (unsigned long long)*killed);
    return 0;
}

int hb_sandbox_kill_all(const hb_sandbox_t *sb, uint64_t *killed, hb_err_t *e)
{
    return hb_cg_kill_user(sb->rt, sb->id, sb->init_pid, killed, e);
}
