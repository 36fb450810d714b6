/* A sandbox's cgroups: their layout, limits and usage. Killing what is in
 * them (destroy, kill-all) is cgroup_kill.c.
 *
 * Layout (v1): <ctrl>/hivebox/<instance>/<id> holds init, with a reserve on
 * top of the sandbox's limits; its child <id>/user holds every command,
 * limited to exactly what the sandbox asked for. So a fork bomb exhausts
 * the user cgroup and init can still start the next command, and an OOM
 * caused by the commands is decided inside the user cgroup, where init is
 * not a candidate. On v2 the two would have to be sibling leaves (no
 * processes in inner cgroups): not done yet, init shares its sandbox's
 * cgroup there and only kill-all gets a sandbox back from a fork bomb. */
#include "cgroup.h"
#include "initproto.h"
#include "log.h"
#include "procfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG_ROOT "/sys/fs/cgroup"
static const char *const v1_ctrls[] = {"memory", "cpu", "cpuacct", "pids", "freezer"};
#define NV1 (sizeof v1_ctrls / sizeof v1_ctrls[0])

void hb_cg_instance_name(const char *data_dir, char *out, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)data_dir; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    snprintf(out, len, "%016" PRIx64, h);
}

/* Init's memory on top of the sandbox's limit: what it writes into
 * /dev/shm through the files API is charged to it, plus its request
 * threads' buffers (a few MiB each at most, HB_INIT_MAX_REQUESTS of them in
 * the worst case, which the daemon's per-sandbox cap keeps far off). */
#define INIT_MEM_RESERVE (128ull << 20)
#define PID_MAX_LIMIT    4194304ull

uint64_t hb_cg_shm_bytes(const hb_spec_t *s)
{
    uint64_t q = s->memory_bytes / 4;
    q &= ~4095ull;
    return q < (1ull << 20) ? (1ull << 20) : q;
}

/* level 0: hivebox, 1: hivebox/<instance>, 2: hivebox/<instance>/<id>,
 * 3: hivebox/<instance>/<id>/user */
static int cg_path(const hb_runtime_t *rt, const char *ctrl, const char *id, int level, char *out,
                   size_t len)
{
    char base[128];
    if (rt->cgroup_v2)
        snprintf(base, sizeof base, CG_ROOT "/hivebox");
    else
        snprintf(base, sizeof base, CG_ROOT "/%s/hivebox", ctrl);
    int n = level == 0   ? snprintf(out, len, "%s", base)
            : level == 1 ? snprintf(out, len, "%s/%s", base, rt->cg_instance)
            : level == 2 ? snprintf(out, len, "%s/%s/%s", base, rt->cg_instance, id)
                         : snprintf(out, len, "%s/%s/%s/" HB_CG_USER, base, rt->cg_instance, id);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int cg_dir(const hb_runtime_t *rt, const char *ctrl, const char *id, char *out, size_t len)
{
    return cg_path(rt, ctrl, id, id ? 2 : 1, out, len);
}

int hb_cg_dir(const hb_runtime_t *rt, const char *ctrl, const char *id, bool user, char *out,
              size_t len)
{
    return cg_path(rt, ctrl, id, user ? 3 : 2, out, len);
}

const char *const *hb_cg_v1_controllers(size_t *n)
{
    *n = NV1;
    return v1_ctrls;
}

int hb_cg_write(const char *dir, const char *file, const char *val)
{
    char path[HB_HOSTPATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return -1;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, val, strlen(val));
    int saved = errno;
    close(fd);
    errno = saved;
    return w == (ssize_t)strlen(val) ? 0 : -1;
}

#define write_str hb_cg_write

static int read_small(const char *dir, const char *file, char *buf, size_t len)
{
    char path[HB_HOSTPATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return -1;
    return hb_read_small(path, buf, len) < 0 ? -1 : 0;
}

static uint64_t read_u64(const char *dir, const char *file)
{
    char buf[64];
    if (read_small(dir, file, buf, sizeof buf) < 0)
        return 0;
    return strtoull(buf, NULL, 10);
}

/* Value of "key N" in a flat keyed file such as memory.events or cpu.stat. */
static uint64_t read_keyed(const char *dir, const char *file, const char *key)
{
    char buf[4096];
    if (read_small(dir, file, buf, sizeof buf) < 0)
        return 0;
    size_t kl = strlen(key);
    for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, key, kl) == 0 && line[kl] == ' ')
            return strtoull(line + kl + 1, NULL, 10);
    return 0;
}

static int mkdir_ok(const char *dir)
{
    return (mkdir(dir, 0755) == 0 || errno == EEXIST) ? 0 : -1;
}

static int limits_v2(const char *dir, const hb_spec_t *s, hb_err_t *e);

static int create_v2(const hb_runtime_t *rt, const char *id, const hb_spec_t *s, hb_err_t *e)
{
    char parent[HB_HOSTPATH_MAX], dir[HB_HOSTPATH_MAX];
    /* Controllers must be delegated down to our sandboxes, level by level. */
    if (write_str(CG_ROOT, "cgroup.subtree_control", "+memory +pids +cpu") < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, errno,
                           "cgroup v2: cannot enable the memory, pids and cpu controllers");
    for (int level = 0; level < 2; level++) {
        cg_path(rt, NULL, NULL, level, parent, sizeof parent);
        if (mkdir_ok(parent) < 0 ||
            write_str(parent, "cgroup.subtree_control", "+memory +pids +cpu") < 0)
            return hb_fail_sys(e, HB_E_NOTSUP, errno, "cgroup v2: %s", parent);
    }
    if (cg_dir(rt, NULL, id, dir, sizeof dir) < 0 || mkdir(dir, 0755) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: mkdir %s", dir);
    return limits_v2(dir, s, e);
}

/* memory (swap off), pids and the cpu quota of the sandbox's cgroup. */
static int limits_v2(const char *dir, const hb_spec_t *s, hb_err_t *e)
{
    char v[64];
    snprintf(v, sizeof v, "%" PRIu64, s->memory_bytes);
    if (write_str(dir, "memory.max", v) < 0 || write_str(dir, "memory.swap.max", "0") < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: memory limit");
    snprintf(v, sizeof v, "%u", s->pids);
    if (write_str(dir, "pids.max", v) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: pids limit");
    snprintf(v, sizeof v, "%" PRIu64 " 100000", (uint64_t)(s->cpus * 100000.0));
    if (write_str(dir, "cpu.max", v) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: cpu quota");
    return 0;
}

/* memory (swap off) and pids of one level: the user cgroup gets the
 * sandbox's limits, the sandbox's own cgroup those plus init's reserve. */
static int limits_v1(const hb_runtime_t *rt, const char *id, bool user, const hb_spec_t *s,
                     hb_err_t *e)
{
    char dir[HB_HOSTPATH_MAX], v[64];
    uint64_t mem = s->memory_bytes + (user ? 0 : INIT_MEM_RESERVE + hb_cg_shm_bytes(s));
    hb_cg_dir(rt, "memory", id, user, dir, sizeof dir);
    snprintf(v, sizeof v, "%" PRIu64, mem);
    /* memsw may never be below the limit: a raise (issue 19, a pooled
     * sandbox adopted) needs it first; a cut fails here and is written below. */
    write_str(dir, "memory.memsw.limit_in_bytes", v);
    if (write_str(dir, "memory.limit_in_bytes", v) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: memory limit");
    /* memsw exists only with swap accounting; without it there is no swap to charge. */
    if (write_str(dir, "memory.memsw.limit_in_bytes", v) < 0 && errno != ENOENT)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: swap limit");
    write_str(dir, "memory.swappiness", "0");
    uint64_t pids = (uint64_t)s->pids + (user ? 0 : HB_INIT_PIDS_RESERVE);
    hb_cg_dir(rt, "pids", id, user, dir, sizeof dir);
    if (pids > PID_MAX_LIMIT)
        snprintf(v, sizeof v, "max");
    else
        snprintf(v, sizeof v, "%" PRIu64, pids);
    if (write_str(dir, "pids.max", v) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: pids limit");
    return 0;
}

static int all_limits_v1(const hb_runtime_t *rt, const char *id, const hb_spec_t *s,
                         hb_err_t *e);

static int create_v1(const hb_runtime_t *rt, const char *id, const hb_spec_t *s, hb_err_t *e)
{
    char dir[HB_HOSTPATH_MAX];
    for (size_t i = 0; i < NV1; i++) {
        for (int level = 0; level < 2; level++) {
            cg_path(rt, v1_ctrls[i], NULL, level, dir, sizeof dir);
            if (mkdir_ok(dir) < 0)
                return hb_fail_sys(e, HB_E_NOTSUP, errno, "cgroup v1 %s controller: mkdir %s",
                                   v1_ctrls[i], dir);
        }
        for (int user = 0; user < 2; user++)
            if (hb_cg_dir(rt, v1_ctrls[i], id, user, dir, sizeof dir) < 0 || mkdir(dir, 0755) < 0)
                return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: mkdir %s", dir);
    }
    return all_limits_v1(rt, id, s, e);
}

static int all_limits_v1(const hb_runtime_t *rt, const char *id, const hb_spec_t *s, hb_err_t *e)
{
    char dir[HB_HOSTPATH_MAX], v[64];
    if (limits_v1(rt, id, false, s, e) < 0 || limits_v1(rt, id, true, s, e) < 0)
        return -1;
    cg_dir(rt, "cpu", id, dir, sizeof dir);
    snprintf(v, sizeof v, "%" PRIu64, (uint64_t)(s->cpus * 100000.0));
    if (write_str(dir, "cpu.cfs_period_us", "100000") < 0 ||
        write_str(dir, "cpu.cfs_quota_us", v) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "cgroup: cpu quota");
    return 0;
}

/* issue 19 (pool): the limits of a sandbox that exists already. */
int hb_cg_set_limits(const hb_runtime_t *rt, const char *id, const hb_spec_t *spec, hb_err_t *e)
{
    char dir[HB_HOSTPATH_MAX];
    if (!rt->cgroup_v2)
        return all_limits_v1(rt, id, spec, e);
    if (cg_dir(rt, NULL, id, dir, sizeof dir) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "cgroup path too long");
    return limits_v2(dir, spec, e);
}

int hb_cg_create(const hb_runtime_t *rt, const char *id, const hb_spec_t *spec, hb_err_t *e)
{
    int r = rt->cgroup_v2 ? create_v2(rt, id, spec, e) : create_v1(rt, id, spec, e);
    if (r < 0)
        hb_cg_destroy(rt, id);
    return r;
}

static int procs_paths(const hb_runtime_t *rt, const char *id, bool user, char *buf, size_t len)
{
    size_t off = 0;
    size_t count = rt->cgroup_v2 ? 1 : NV1;
    buf[0] = '\0';
    if (user && rt->cgroup_v2)
        return 0;               /* no user cgroup there (see the top) */
    for (size_t i = 0; i < count; i++) {
        char dir[HB_HOSTPATH_MAX];
        if (hb_cg_dir(rt, v1_ctrls[i], id, user, dir, sizeof dir) < 0)
            return -1;
        int n = snprintf(buf + off, len - off, "%s/cgroup.procs\n", dir);
        if (n < 0 || (size_t)n >= len - off)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

int hb_cg_procs_paths(const hb_runtime_t *rt, const char *id, char *buf, size_t len)
{
    return procs_paths(rt, id, false, buf, len);
}

int hb_cg_user_procs_paths(const hb_runtime_t *rt, const char *id, char *buf, size_t len)
{
    return procs_paths(rt, id, true, buf, len);
}

void hb_cg_remove_parents(const hb_runtime_t *rt)
{
    char dir[HB_HOSTPATH_MAX];
    for (size_t i = 0; i < (rt->cgroup_v2 ? 1 : NV1); i++)
        for (int level = 1; level >= 0; level--)
            if (cg_path(rt, rt->cgroup_v2 ? NULL : v1_ctrls[i], NULL, level, dir, sizeof dir) == 0)
                rmdir(dir);   /* refused, as it must be, while anything is below */
}

bool hb_cg_exists(const hb_runtime_t *rt, const char *id)
{
    char dir[HB_HOSTPATH_MAX];
    return cg_dir(rt, "memory", id, dir, sizeof dir) == 0 && access(dir, F_OK) == 0;
}

int hb_cg_list(const hb_runtime_t *rt, char ***ids, size_t *n)
{
    char dir[HB_HOSTPATH_MAX];
    *ids = NULL;
    *n = 0;
    cg_dir(rt, "memory", NULL, dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_type != DT_DIR || !hb_name_valid(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nv = realloc(*ids, cap * sizeof *nv);
            if (!nv)
                break;
            *ids = nv;
        }
        (*ids)[(*n)++] = strdup(de->d_name);
    }
    closedir(d);
    return 0;
}

uint64_t hb_cg_own_oom_kills(const hb_runtime_t *rt, const char *id)
{
    char dir[HB_HOSTPATH_MAX];
    if (cg_dir(rt, "memory", id, dir, sizeof dir) < 0)
        return 0;
    return rt->cgroup_v2 ? read_keyed(dir, "memory.events", "oom_kill")
                         : read_keyed(dir, "memory.oom_control", "oom_kill");
}

uint64_t hb_sandbox_cpu_ns(const hb_sandbox_t *sb)
{
    char dir[HB_HOSTPATH_MAX];
    if (sb->rt->cgroup_v2)
        return cg_dir(sb->rt, NULL, sb->id, dir, sizeof dir) < 0
               ? 0 : read_keyed(dir, "cpu.stat", "usage_usec") * 1000;
    return cg_dir(sb->rt, "cpuacct", sb->id, dir, sizeof dir) < 0
           ? 0 : read_u64(dir, "cpuacct.usage");
}

/* Init's (the sandbox cgroup's) and, on v1, the commands' (the user
 * cgroup's, if it exists: a missing file reads as 0) kills: v1 counts per
 * cgroup, not per subtree. Two reads, where the whole usage is nine: an exec
 * takes it before and after its command. */
uint64_t hb_sandbox_oom_kills(const hb_sandbox_t *sb)
{
    char dir[HB_HOSTPATH_MAX];
    uint64_t n = hb_cg_own_oom_kills(sb->rt, sb->id);
    if (!sb->rt->cgroup_v2 && hb_cg_dir(sb->rt, "memory", sb->id, true, dir, sizeof dir) == 0)
        n += read_keyed(dir, "memory.oom_control", "oom_kill");
    return n;
}

/* One read instead of a process watch at re-attach (issue 19): the
 * commands live in the user cgroup on v1; on v2, beside init in the
 * sandbox's. A process that is being reaped still counts, so its exit is
 * watched for. */
int hb_sandbox_has_commands(const hb_sandbox_t *sb)
{
    char dir[HB_HOSTPATH_MAX], buf[64];
    int r = sb->rt->cgroup_v2 ? cg_dir(sb->rt, NULL, sb->id, dir, sizeof dir)
                              : hb_cg_dir(sb->rt, "pids", sb->id, true, dir, sizeof dir);
    if (r < 0 || read_small(dir, "cgroup.procs", buf, sizeof buf) < 0)
        return -1;
    /* v2: init's pid is one line; any second line is a command */
    const char *nl = strchr(buf, '\n');
    if (sb->rt->cgroup_v2)
        return nl && nl[1] ? 1 : 0;
    return buf[0] ? 1 : 0;
}

int hb_sandbox_usage(const hb_sandbox_t *sb, hb_usage_t *u)
{
    const hb_runtime_t *rt = sb->rt;
    char dir[HB_HOSTPATH_MAX];
    memset(u, 0, sizeof *u);
    if (rt->cgroup_v2) {
        if (cg_dir(rt, NULL, sb->id, dir, sizeof dir) < 0)
            return -1;
        u->memory_bytes = read_u64(dir, "memory.current");
        u->memory_limit_bytes = read_u64(dir, "memory.max");
        u->cpu_usage_ns = read_keyed(dir, "cpu.stat", "usage_usec") * 1000;
        u->pids = (uint32_t)read_u64(dir, "pids.current");
        u->oom_kills = read_keyed(dir, "memory.events", "oom_kill");
        u->memory_peak_bytes = read_u64(dir, "memory.peak");
        return 0;
    }
    /* Usage of the whole sandbox, init included; the limit the user set
     * (the user cgroup's). Init's own OOM kills are counted in the
     * sandbox's cgroup, the commands' in the user cgroup: v1 counts per
     * cgroup, not per subtree. */
    if (cg_dir(rt, "memory", sb->id, dir, sizeof dir) < 0)
        return -1;
    u->memory_bytes = read_u64(dir, "memory.usage_in_bytes");
    u->memory_limit_bytes = read_u64(dir, "memory.limit_in_bytes");
    u->memory_peak_bytes = read_u64(dir, "memory.max_usage_in_bytes");
    u->oom_kills = hb_sandbox_oom_kills(sb);
    if (hb_cg_dir(rt, "memory", sb->id, true, dir, sizeof dir) == 0 && access(dir, F_OK) == 0)
        u->memory_limit_bytes = read_u64(dir, "memory.limit_in_bytes");
    if (cg_dir(rt, "cpuacct", sb->id, dir, sizeof dir) == 0)
        u->cpu_usage_ns = read_u64(dir, "cpuacct.usage");
    if (cg_dir(rt, "pids", sb->id, dir, sizeof dir) == 0)
        u->pids = (uint32_t)read_u64(dir, "pids.current");
    return 0;
}
