/* issue 19, the warm pool: a pooled sandbox taken by a named create is
 * given the name everywhere its id lives, so that it is what a fresh
 * create of that name is. On the host: the state dir (init.sock inside: a
 * bound Unix socket is reached through the new path once its directory is
 * renamed), the cgroup dirs, the uid slot's and the address claim's owner
 * files, and the handle (the record is saved by the caller, adoption).
 * Inside: the UTS hostname and the HOSTNAME init gives commands
 * (set_hostname; init refuses it once a command ran).
 *
 * Order, so that a failure at any step leaves the pooled sandbox whole
 * under its old id (every step done so far is undone) and never a second
 * name: the new state dir is made empty first (it claims the name with
 * mkdir's O_EXCL, as a fresh create does, and makes the uid slot's new
 * owner exist, so the slot is never seen stale); the owner files name it;
 * the cgroup dirs are renamed; rename(2) then replaces the empty dir with
 * the state dir in one step; init is told last. */
#include "cgroup.h"
#include "initclient.h"
#include "log.h"
#include "record.h"
#include "runtime.h"
#include "sbdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RENAME_TIMEOUT_MS 10000

typedef struct {
    char dir[sizeof ((hb_sandbox_t *)0)->dir];
    char name[HB_ID_MAX];
} rn_t;

/* The file dir/name holds exactly `from`: rewrite it to `to` (atomically:
 * a reader sees one or the other). 0, also when there is no such claim. */
static int reown(const char *dir, const char *name, const char *from, const char *to, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 160], cur[HB_HOSTPATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, cur, sizeof cur - 1);
    close(fd);
    if (n < 0 || (size_t)n != strlen(from) || memcmp(cur, from, (size_t)n) != 0)
        return 0;   /* not ours */
    return hb_write_atomic(dir, name, to, strlen(to), 0600, e);
}

/* The uid slot (uidslot.c: <uidslot_dir>/<N> holds the state dir path) and
 * the address claim (net_alloc.c: <data>/netaddrs/<ip> holds the id). */
static int reown_claims(const hb_sandbox_t *sb, const char *odir, const char *oid,
                        const char *ndir, const char *nid, hb_err_t *e)
{
    char slot[16], addrs[HB_HOSTPATH_MAX + 16];
    snprintf(slot, sizeof slot, "%u", sb->uid_slot);
    snprintf(addrs, sizeof addrs, "%s/netaddrs", sb->rt->data_dir);
    if (sb->uid_slot != UINT32_MAX && reown(sb->rt->uidslot_dir, slot, odir, ndir, e) < 0)
        return -1;
    if (sb->ip[0] && reown(addrs, sb->ip, oid, nid, e) < 0) {
        if (sb->uid_slot != UINT32_MAX)
            reown(sb->rt->uidslot_dir, slot, ndir, odir, NULL);
        return -1;
    }
    return 0;
}

/* Rename the sandbox's cgroup dir under each hierarchy (v2: one; v1: one
 * per controller, where co-mounted ones such as cpu,cpuacct share a dir:
 * found already renamed). n: how many hierarchies were done, for undo. */
static int cg_rename(const hb_runtime_t *rt, const char *from, const char *to, size_t *n,
                     hb_err_t *e)
{
    size_t nc = 1;
    const char *const *ctrls = rt->cgroup_v2 ? NULL : hb_cg_v1_controllers(&nc);
    for (*n = 0; *n < nc; (*n)++) {
        const char *ctrl = ctrls ? ctrls[*n] : NULL;
        char a[HB_HOSTPATH_MAX], b[HB_HOSTPATH_MAX];
        if (hb_cg_dir(rt, ctrl, from, false, a, sizeof a) < 0 ||
            hb_cg_dir(rt, ctrl, to, false, b, sizeof b) < 0)
            return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "cgroup path too long");
        if (rename(a, b) == 0 || (errno == ENOENT && access(b, F_OK) == 0) ||
            (errno == ENOENT && access(a, F_OK) != 0 && ctrls))
            continue;   /* done, co-mounted and done already, or not mounted */
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "rename cgroup %s", a);
    }
    return 0;
}

static void cg_unrename(const hb_runtime_t *rt, const char *from, const char *to, size_t n)
{
    size_t nc = 1, done = 0;
    const char *const *ctrls = rt->cgroup_v2 ? NULL : hb_cg_v1_controllers(&nc);
    for (size_t i = 0; i < n && i < nc; i++) {
        char a[HB_HOSTPATH_MAX], b[HB_HOSTPATH_MAX];
        const char *ctrl = ctrls ? ctrls[i] : NULL;
        if (hb_cg_dir(rt, ctrl, from, false, a, sizeof a) == 0 &&
            hb_cg_dir(rt, ctrl, to, false, b, sizeof b) == 0 && rename(b, a) == 0)
            done++;
    }
    HB_LOG_INFO("sandbox %s: its cgroups given back their name (%zu)", from, done);
}

static int tell_init(const hb_sandbox_t *sb, const char *name, hb_err_t *e)
{
    hb_initreq_t r = {.op = HB_OP_SET_HOSTNAME,
                      .hostname = {.ptr = name, .len = strlen(name)}};
    hb_initconn_t c;
    hb_initans_t a;
    if (hb_initconn_start(&c, sb, &r, e) < 0)
        return -1;
    int rc = hb_initconn_next(&c, &a, RENAME_TIMEOUT_MS, e);
    if (rc == 0 && a.t != HB_ANS_OK)
        rc = hb_init_unexpected(&a, "set_hostname", e);
    hb_initconn_close(&c);
    return rc;
}

/* Point the handle at id/dir (sandbox.c's sb_paths, for a renamed one). */
static int set_paths(hb_sandbox_t *sb, const char *id, const char *dir, hb_err_t *e)
{
    char sock[sizeof sb->sock_path];
    if (hb_sbdir_file(sock, sizeof sock, dir, HB_SBDIR_RUN "/" HB_SBDIR_INIT_SOCK, e) < 0)
        return -1;
    snprintf(sb->id, sizeof sb->id, "%s", id);
    snprintf(sb->dir, sizeof sb->dir, "%s", dir);
    snprintf(sb->sock_path, sizeof sb->sock_path, "%s", sock);
    return 0;
}

int hb_sandbox_rename(hb_sandbox_t *sb, const char *name, hb_err_t *e)
{
    rn_t old, neu;
    size_t ncg = 0;
    if (!hb_name_valid(name))
        return hb_fail(e, HB_E_INVALID, 0, "name: invalid");
    snprintf(old.name, sizeof old.name, "%s", sb->id);
    snprintf(old.dir, sizeof old.dir, "%s", sb->dir);
    snprintf(neu.name, sizeof neu.name, "%s", name);
    if (hb_sbdir_path(neu.dir, sizeof neu.dir, sb->rt->data_dir, name, e) < 0)
        return -1;
    if (mkdir(neu.dir, 0711) < 0)
        return errno == EEXIST
                   ? hb_fail(e, HB_E_EXISTS, EEXIST, "name: a sandbox named '%s' already exists",
                             name)
                   : hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", neu.dir);
    if (reown_claims(sb, old.dir, old.name, neu.dir, neu.name, e) < 0)
        goto undo_dir;
    if (cg_rename(sb->rt, old.name, neu.name, &ncg, e) < 0)
        goto undo_cg;
    if (rename(old.dir, neu.dir) < 0) {
        hb_fail_sys(e, HB_E_INTERNAL, errno, "rename %s", old.dir);
        goto undo_cg;
    }
    if (set_paths(sb, neu.name, neu.dir, e) < 0 || tell_init(sb, name, e) < 0)
        goto undo_all;
    return 0;
undo_all:
    /* The new dir is the state dir now: the old name is made again first
     * (empty), so the claims can name it before the state dir moves back. */
    if (mkdir(old.dir, 0711) < 0)
        HB_LOG_ERROR("sandbox %s: mkdir %s: %s", old.name, old.dir, strerror(errno));
    reown_claims(sb, neu.dir, neu.name, old.dir, old.name, NULL);
    if (rename(neu.dir, old.dir) < 0)
        HB_LOG_ERROR("sandbox %s: cannot move %s back: %s", old.name, neu.dir, strerror(errno));
    set_paths(sb, old.name, old.dir, NULL);
    cg_unrename(sb->rt, old.name, neu.name, ncg);
    return -1;
undo_cg:
    cg_unrename(sb->rt, old.name, neu.name, ncg);
    reown_claims(sb, neu.dir, neu.name, old.dir, old.name, NULL);
undo_dir:
    rmdir(neu.dir);
    return -1;
}
