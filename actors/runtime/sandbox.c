/* Sandbox lifecycle on the host side: claim a name and a uid slot, prepare
 * the state dir and cgroups, spawn the launcher (a fresh exec of
 * hivebox-init, never a fork of the multi-threaded daemon), and undo all of
 * it on destroy or on any failure half-way. */
#include "cgroup.h"
#include "diskpool.h"
#include "image_layer.h"
#include "launchconf.h"
#include "layer.h"
#include "log.h"
#include "net.h"
#include "procfs.h"
#include "record.h"
#include "sbdir.h"
#include "rmtree.h"
#include "uidslot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LAUNCH_TIMEOUT_MS 20000

extern char **environ;

static int sb_paths(hb_sandbox_t *sb, const hb_runtime_t *rt, const char *id, hb_err_t *e)
{
    sb->rt = rt;
    snprintf(sb->id, sizeof sb->id, "%s", id);
    if (hb_sbdir_path(sb->dir, sizeof sb->dir, rt->data_dir, id, e) < 0 ||
        hb_sbdir_file(sb->sock_path, sizeof sb->sock_path, sb->dir,
                      HB_SBDIR_RUN "/" HB_SBDIR_INIT_SOCK, e) < 0)
        return hb_err_wrap(e, "sandbox '%s'", id);
    return 0;
}

/* Claim the name: the state dir is created with O_EXCL semantics by mkdir. */
static int claim_dir(hb_sandbox_t *sb, const hb_runtime_t *rt, const char *name, hb_err_t *e)
{
    for (int tries = 0; tries < 8; tries++) {
        char id[HB_ID_MAX];
        if (name[0]) {
            snprintf(id, sizeof id, "%s", name);
        } else {
            uint32_t r = 0;
            if (getrandom(&r, sizeof r, 0) != sizeof r)
                r = (uint32_t)time(NULL) ^ (uint32_t)getpid();
            snprintf(id, sizeof id, "hb-%08x", r);
        }
        if (sb_paths(sb, rt, id, e) < 0)
            return -1;
        if (mkdir(sb->dir, 0711) == 0)
            return 0;
        if (errno != EEXIST)
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", sb->dir);
        if (name[0])
            return hb_fail(e, HB_E_EXISTS, EEXIST, "name: a sandbox named '%s' already exists",
                           name);
    }
    return hb_fail(e, HB_E_INTERNAL, EEXIST, "could not pick a free sandbox id");
}

/* run/rootfs belong to the sandbox's root (the overlay is mounted inside
 * its user namespace); lower is only a mount point; the writable layer is a
 * subvolume of its own (layer.c). */
static int prepare_dirs(const hb_sandbox_t *sb, hb_err_t *e)
{
    static const struct {
        const char *name;
        mode_t      mode;
        bool        owned;
    } dirs[] = {{HB_SBDIR_RUN, 0700, true}, {"rootfs", 0755, true}, {"lower", 0755, false}};
    char path[sizeof sb->dir + 16];
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(path, sizeof path, "%s/%s", sb->dir, dirs[i].name);
        if (mkdir(path, dirs[i].mode) < 0 ||
            (dirs[i].owned && chown(path, sb->uid_base, sb->uid_base) < 0))
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "prepare %s", path);
    }
    return hb_layer_create(sb, e);
}

/* One launch.conf line `key=<line>` per line of lines (consumed), after the
 * n bytes already in buf; the new length (>= len: did not fit). */
static int conf_lines(char *buf, size_t len, int n, hb_lckey_t key, char *lines)
{
    char *save = NULL;
    for (char *line = strtok_r(lines, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        n = hb_lc_append(buf, len, n, key, "%s", line);
    return n;
}

/* The keys are listed in schemas/launchconf.h; the launcher reads them in
 * tools/init/launcher/launch_conf.c. */
static int write_launch_conf(const hb_sandbox_t *sb, hb_err_t *e)
{
    char cg[4 * HB_HOSTPATH_MAX], buf[8 * HB_HOSTPATH_MAX];
    char skills[sizeof sb->spec.skills];
    int n = 0;
    if (hb_cg_procs_paths(sb->rt, sb->id, cg, sizeof cg) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "cgroup paths too long");
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_ID, "%s", sb->id);
    /* the image's root and its layers (issue 17: image_layer.c) */
    n = hb_image_launch_conf(sb->rt, sb->spec.image, buf, sizeof buf, n, e);
    if (n < 0)
        return -1;
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_UID_BASE, "%u", sb->uid_base);
    n = hb_lc_append(buf, sizeof buf, n, HB_LC_SHM_BYTES, "%llu",
                     (unsigned long long)hb_cg_shm_bytes(&sb->spec));
    n = conf_lines(buf, sizeof buf, n, HB_LC_CGROUP_PROCS, cg);
    if (hb_cg_user_procs_paths(sb->rt, sb->id, cg, sizeof cg) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "cgroup paths too long");
    n = conf_lines(buf, sizeof buf, n, HB_LC_USER_CGROUP_PROCS, cg);
    n = hb_net_launch_conf(sb, buf, sizeof buf, n);
    /* skills: the launcher binds each read-only at /opt/skills/<name> */
    if (sb->spec.skills[0])
        n = hb_lc_append(buf, sizeof buf, n, HB_LC_SKILLS_DIR, "%s", sb->rt->skills_dir);
    snprintf(skills, sizeof skills, "%s", sb->spec.skills);
    n = conf_lines(buf, sizeof buf, n, HB_LC_SKILL, skills);
    /* issue 19: opt-in (--warm-exec); absent, init never arms a worker */
    if (sb->rt->conf.warm_exec)
        n = hb_lc_append(buf, sizeof buf, n, HB_LC_WARM_EXEC, "1");
    if (n < 0 || (size_t)n >= sizeof buf)
        return hb_fail(e, HB_E_INTERNAL, ENAMETOOLONG, "launch.conf too long");
    return hb_write_atomic(sb->dir, HB_SBDIR_LAUNCH_CONF, buf, (size_t)n, 0600, e);
}

/* Read the launcher's one status line, bounded in size and time. */
static int read_status(int fd, char *line, size_t len)
{
    size_t got = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (got + 1 < len) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = LAUNCH_TIMEOUT_MS - ((now.tv_sec - t0.tv_sec) * 1000 +
                                         (now.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            if (left > 0 && errno == EINTR)
                continue;
            break;
        }
        ssize_t r = read(fd, line + got, len - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
        if (memchr(line, '\n', got))
            break;
    }
    line[got] = '\0';
    char *nl = strchr(line, '\n');
    if (nl)
        *nl = '\0';
    return got ? 0 : -1;
}

static int spawn_launcher(hb_sandbox_t *sb, hb_err_t *e)
{
    int pfd[2];
    char log[sizeof sb->dir + 16];
    if (hb_sbdir_file(log, sizeof log, sb->dir, HB_SBDIR_INIT_LOG, e) < 0)
        return -1;
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    char *argv[] = {(char *)"hivebox-init", (char *)"launch", sb->dir, NULL};
    char *envp[] = {(char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, sb->rt->init_bin, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    if (r != 0) {
        close(pfd[0]);
        return hb_fail_sys(e, HB_E_INTERNAL, r, "spawn %s", sb->rt->init_bin);
    }
    char line[700];
    int rr = read_status(pfd[0], line, sizeof line);
    close(pfd[0]);
    if (rr < 0)
        kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unsigned long long start = 0;
    int ipid = 0;
    if (rr == 0 && sscanf(line, "ok %d %llu", &ipid, &start) == 2 && ipid > 1) {
        sb->init_pid = ipid;
        sb->init_start = start;
        return 0;
    }
    if (rr == 0 && strncmp(line, "error ", 6) == 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "sandbox setup failed: %s", line + 6);
    return hb_fail(e, HB_E_INTERNAL, 0, "sandbox setup failed: no answer from %s",
                   sb->rt->init_bin);
}

static int create_admitted(const hb_runtime_t *rt, const hb_spec_t *spec, hb_sandbox_t **out,
                           hb_err_t *e);

int hb_sandbox_create(const hb_runtime_t *rt, const hb_spec_t *spec, hb_sandbox_t **out,
                      hb_err_t *e)
{
    *out = NULL;
    if (hb_spec_validate(spec, e) < 0)
        return -1;
    if (!hb_image_exists(rt, spec->image))
        return hb_fail(e, HB_E_INVALID, ENOENT, "image: no image named '%s'", spec->image);
    if (hb_pool_admit(rt, spec->disk_bytes, e) < 0)
        return -1;
    int rc = create_admitted(rt, spec, out, e);
    /* From here the layer's own limit is counted (or there is no layer). */
    hb_pool_settled(rt, spec->disk_bytes);
    return rc;
}

static int create_admitted(const hb_runtime_t *rt, const hb_spec_t *spec, hb_sandbox_t **out,
                           hb_err_t *e)
{
    hb_sandbox_t *sb = calloc(1, sizeof *sb);
    if (!sb)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    sb->spec = *spec;
    sb->spec.metadata = NULL;   /* borrowed: the handle keeps its own copies */
    sb->spec.env = NULL;
    sb->uid_slot = UINT32_MAX;
    sb->rt = rt;
    if (hb_sandbox_set_extras(sb, spec->metadata, spec->env) < 0) {
        hb_sandbox_free(sb);
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    }
    hb_image_defaults_load(sb, NULL);   /* issue 17 (oci): the image's Env, WorkingDir, User */
    if (claim_dir(sb, rt, spec->name, e) < 0) {
        hb_sandbox_free(sb);
        return -1;
    }
    snprintf(sb->spec.name, sizeof sb->spec.name, "%s", sb->id);
    sb->created_at = time(NULL);
    sb->expires_at = sb->created_at + spec->timeout_s;
    if (hb_uidslot_claim(rt, sb->dir, &sb->uid_slot, e) < 0)
        goto fail;
    sb->uid_base = hb_uidslot_base(sb->uid_slot);
    if (hb_net_claim(sb, e) < 0)
        goto fail;
    /* The record goes first: a crash from here on leaves a dead sandbox that
     * the next start cleans up. */
    if (hb_record_save(sb, e) < 0 || prepare_dirs(sb, e) < 0 ||
        hb_cg_create(rt, sb->id, spec, e) < 0 || hb_net_prepare(sb, e) < 0 ||
        write_launch_conf(sb, e) < 0 ||
        spawn_launcher(sb, e) < 0 || hb_record_save(sb, e) < 0)
        goto fail;
    sb->spec.egress = NULL;   /* borrowed: kept in its state dir (egress.c) */
    *out = sb;
    return 0;
fail:
    HB_LOG_WARN("create %s failed: %s", sb->id, e ? e->msg : "");
    hb_sandbox_destroy(sb, NULL);
    hb_sandbox_free(sb);
    return -1;
}

bool hb_sandbox_alive(const hb_sandbox_t *sb)
{
    char state = '?';
    if (sb->init_pid <= 1)
        return false;
    uint64_t st = hb_proc_starttime(sb->init_pid, &state);
    return st != 0 && st == sb->init_start && state != 'Z' && state != 'X';
}

int hb_sandbox_open(const hb_runtime_t *rt, const char *id, hb_sandbox_t **out, hb_err_t *e)
{
    *out = NULL;
    if (!hb_name_valid(id))
        return hb_fail(e, HB_E_NOTFOUND, ENOENT, "sandbox '%s' not found", id);
    hb_sandbox_t *sb = calloc(1, sizeof *sb);
    if (!sb)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (sb_paths(sb, rt, id, e) < 0) {
        free(sb);
        return -1;
    }
    sb->uid_slot = UINT32_MAX;
    if (access(sb->dir, F_OK) != 0) {
        free(sb);
        return hb_fail(e, HB_E_NOTFOUND, ENOENT, "sandbox '%s' not found", id);
    }
    *out = sb;
    if (hb_record_load(sb, e) < 0) {
        /* A dir without a usable record is a create that never finished. */
        sb_paths(sb, rt, id, NULL);
        return hb_fail(e, HB_E_DEAD, 0, "sandbox '%s' has no usable record", id);
    }
    if (strcmp(sb->id, id) != 0) {
        sb_paths(sb, rt, id, NULL);
        return hb_fail(e, HB_E_DEAD, 0, "sandbox '%s': record names another id", id);
    }
    hb_image_defaults_load(sb, NULL);   /* issue 17 (oci): the image's config defaults */
    /* Saved before the launch: the create never answered, nothing is the user's. */
    if (sb->init_pid <= 1 && !sb->failure[0])
        return hb_fail(e, HB_E_DEAD, 0, "sandbox '%s' never finished starting", id);
    return 0;
}

/* Kill the sandbox's PID 1: the kernel then kills its whole pid namespace.
 * Through a pidfd checked against the recorded start time, so a recycled
 * pid is never signalled. */
static void kill_init(const hb_sandbox_t *sb)
{
    if (sb->init_pid <= 1)
        return;
    int pfd = (int)syscall(SYS_pidfd_open, sb->init_pid, 0);
    if (pfd < 0)
        return;
    char state = '?';
    if (hb_proc_starttime(sb->init_pid, &state) != sb->init_start) {
        close(pfd);   /* a recycled pid: not ours to kill, nor to reap */
        return;
    }
    syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    poll(&p, 1, 2000);
    close(pfd);
    /* Inits created by this process were re-parented to us (we are a child
     * subreaper, see hb_runtime_init): reap, or it lingers as a zombie. An
     * init adopted from an earlier daemon is not our child: ECHILD, fine. */
    waitpid(sb->init_pid, NULL, WNOHANG);
}

/* issue 17, restore: every process killed, the writable layer emptied,
 * the image replaced, init started again; cgroups, address and uid range
 * stay. After a failure here the sandbox has no init: its supervisor finds
 * it dead, and it fails. */
int hb_sandbox_relaunch(hb_sandbox_t *sb, const char *image, hb_err_t *e)
{
    kill_init(sb);
    sb->init_pid = 0;
    sb->init_start = 0;
    snprintf(sb->spec.image, sizeof sb->spec.image, "%s", image);
    hb_image_defaults_load(sb, NULL);   /* the new image's Env, WorkingDir, User */
    if (hb_layer_reset(sb, e) < 0 || write_launch_conf(sb, e) < 0 || spawn_launcher(sb, e) < 0)
        return -1;
    return hb_record_save(sb, e);
}

int hb_sandbox_destroy(hb_sandbox_t *sb, hb_err_t *e)
{
    kill_init(sb);
    hb_net_teardown(sb);
    hb_cg_destroy(sb->rt, sb->id);
    hb_layer_release(sb);
    int r = hb_rmtree(sb->dir);
    if (sb->uid_slot != UINT32_MAX)
        hb_uidslot_release(sb->rt, sb->uid_slot, sb->dir);
    if (r < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "remove %s", sb->dir);
    return 0;
}

void hb_sandbox_free(hb_sandbox_t *sb)
{
    if (!sb)
        return;
    hb_sandbox_set_extras(sb, NULL, NULL);   /* frees them */
    hb_image_defaults_free(sb);
    free(sb);
}

int hb_sandbox_save(const hb_sandbox_t *sb, hb_err_t *e)
{
    return hb_record_save(sb, e);
}

int hb_sandbox_put_file(const hb_sandbox_t *sb, const char *name, const void *buf, size_t len,
                        mode_t mode, hb_err_t *e)
{
    return hb_write_atomic(sb->dir, name, buf, len, mode, e);
}

void hb_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int hb_sandbox_list_ids(const hb_runtime_t *rt, char ***ids, size_t *n, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 16];
    *ids = NULL;
    *n = 0;
    if (hb_sbdir_path(path, sizeof path, rt->data_dir, NULL, e) < 0)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "open %s", path);
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!hb_name_valid(de->d_name))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            char **nv = realloc(*ids, cap * sizeof *nv);
            if (!nv)
                break;
            *ids = nv;
        }
        char *s = strdup(de->d_name);
        if (s)
            (*ids)[(*n)++] = s;
    }
    closedir(d);
    return 0;
}

int hb_sandbox_connect(const hb_sandbox_t *sb, hb_err_t *e)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int dirfd = -1;
    /* sun_path holds 108 bytes; a long data dir goes through the run dir's fd. */
    if (strlen(sb->sock_path) < sizeof sa.sun_path) {
        memcpy(sa.sun_path, sb->sock_path, strlen(sb->sock_path) + 1);
    } else {
        char run[sizeof sb->dir + 8];
        snprintf(run, sizeof run, "%s/" HB_SBDIR_RUN, sb->dir);
        dirfd = open(run, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
            return hb_fail(e, HB_E_DEAD, errno, "sandbox '%s' is gone", sb->id);
        snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/" HB_SBDIR_INIT_SOCK, dirfd);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        if (dirfd >= 0)
            close(dirfd);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "socket");
    }
    int r;
    do
        r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    while (r < 0 && errno == EINTR);
    int saved = errno;
    if (dirfd >= 0)
        close(dirfd);
    if (r < 0) {
        close(fd);
        if (!hb_sandbox_alive(sb))
            return hb_fail(e, HB_E_DEAD, saved, "sandbox '%s': its init process is gone", sb->id);
        return hb_fail_sys(e, HB_E_INTERNAL, saved, "connect to sandbox '%s' init", sb->id);
    }
    return fd;
}
