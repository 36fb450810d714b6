/* Runtime start-up: lay out the data dir, find the cgroup flavour, and probe
 * the kernel the way a sandbox will use it, so that a missing feature is
 * reported by name at start rather than as an EINVAL on the first create. */
#include "cgroup.h"
#include "diskpool.h"
#include "image_internal.h"
#include "net.h"
#include "log.h"
#include "procfs.h"
#include "rmtree.h"
#include "sbdir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int mkdir_p1(const char *base, const char *sub, mode_t mode, hb_err_t *e)
{
    char path[HB_HOSTPATH_MAX + 32];
    snprintf(path, sizeof path, "%s%s%s", base, sub[0] ? "/" : "", sub);
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "data dir: mkdir %s", path);
    return 0;
}

static int file_has_word(const char *path, const char *word)
{
    char buf[8192];
    return hb_read_small(path, buf, sizeof buf) > 0 && strstr(buf, word) != NULL;
}

static long max_user_namespaces(void)
{
    char buf[32];
    if (hb_read_small("/proc/sys/user/max_user_namespaces", buf, sizeof buf) <= 0)
        return -1;
    return strtol(buf, NULL, 10);
}

/* Spawn `hivebox-init probe <scratch>` and read its verdict. */
static int run_probe(const hb_runtime_t *rt, hb_err_t *e)
{
    static const char *const subs[] = {"lower", "upper", "work", "root", "img"};
    char dir[HB_HOSTPATH_MAX + 32], sub[HB_HOSTPATH_MAX + 48];
    uint32_t base = HB_UID_BASE + (HB_UID_SLOTS - 1) * HB_UID_RANGE;
    snprintf(dir, sizeof dir, "%s/probe-%d", rt->data_dir, (int)getpid());
    hb_rmtree(dir);
    if (mkdir(dir, 0711) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "probe dir %s", dir);
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subs[i]);
        if (mkdir(sub, 0755) < 0 || (i >= 1 && i <= 3 && chown(sub, base, base) < 0)) {
            hb_rmtree(dir);
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "probe dir %s", sub);
        }
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        hb_rmtree(dir);
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    char *argv[] = {(char *)"hivebox-init", (char *)"probe", dir, NULL};
    char *envp[] = {NULL};
    pid_t pid;
    int r = posix_spawn(&pid, rt->init_bin, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    char line[700] = "";
    if (r == 0) {
        size_t got = 0;
        ssize_t n;
        while (got + 1 < sizeof line && (n = read(pfd[0], line + got, sizeof line - 1 - got)) > 0)
            got += (size_t)n;
        line[got] = '\0';
        waitpid(pid, NULL, 0);
    }
    close(pfd[0]);
    hb_rmtree(dir);
    if (r != 0)
        return hb_fail_sys(e, HB_E_NOTSUP, r, "cannot run %s", rt->init_bin);
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, "ok") != 0)
        return hb_fail(e, HB_E_NOTSUP, 0, "kernel feature missing: %s",
                       strncmp(line, "error ", 6) == 0 ? line + 6 : "probe gave no answer");
    return 0;
}

void hb_runtime_release(const hb_runtime_t *rt)
{
    char **ids = NULL;
    size_t n = 0;
    if (hb_sandbox_list_ids(rt, &ids, &n, NULL) < 0)
        return;
    hb_strv_free(ids, n);
    if (n > 0) {
        HB_LOG_INFO("%zu sandbox(es) remain: keeping the network and cgroups for them", n);
        return;
    }
    hb_net_release(rt);
    hb_cg_remove_parents(rt);
}

int hb_runtime_init(hb_runtime_t *rt, const hb_runtime_conf_t *conf, hb_err_t *e)
{
    const char *data_dir = conf->data_dir, *init_bin = conf->init_bin;
    memset(rt, 0, sizeof *rt);
    rt->conf = *conf;
    if (data_dir[0] != '/' || strlen(data_dir) >= 512 || strpbrk(data_dir, ",:\\\n"))
        return hb_fail(e, HB_E_INVALID, 0,
                       "data dir must be an absolute path under 512 bytes without ',' ':' or '\\'");
    if (init_bin[0] != '/' || strlen(init_bin) >= sizeof rt->init_bin)
        return hb_fail(e, HB_E_INVALID, 0, "init binary path must be absolute");
    snprintf(rt->data_dir, sizeof rt->data_dir, "%s", data_dir);
    snprintf(rt->uidslot_dir, sizeof rt->uidslot_dir, "%s", HB_UIDSLOT_DIR);
    hb_cg_instance_name(data_dir, rt->cg_instance, sizeof rt->cg_instance);
    snprintf(rt->init_bin, sizeof rt->init_bin, "%s", init_bin);
    const char *skills = conf->skills_dir;
    if (skills && skills[0] == '/' && strlen(skills) < 512 && !strchr(skills, '\n'))
        snprintf(rt->skills_dir, sizeof rt->skills_dir, "%s", skills);
    else
        snprintf(rt->skills_dir, sizeof rt->skills_dir, "%s/skills", data_dir);
    if (access(init_bin, X_OK) < 0)
        return hb_fail_sys(e, HB_E_NOTSUP, errno, "init agent %s", init_bin);
    /* When a launcher exits, its sandbox's init is re-parented to us rather
     * than to PID 1, which on some hosts never reaps: destroy reaps it. */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    rt->host_cpus = cpus > 0 ? (int)cpus : 1;
    rt->cgroup_v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
    if (!rt->cgroup_v2 && (access("/sys/fs/cgroup/memory", F_OK) < 0 ||
                           access("/sys/fs/cgroup/pids", F_OK) < 0))
        return hb_fail(e, HB_E_NOTSUP, 0,
                       "cgroups: neither v2 nor the v1 memory and pids controllers are mounted");
    if (access("/proc/self/ns/user", F_OK) < 0 || max_user_namespaces() == 0)
        return hb_fail(e, HB_E_NOTSUP, 0, "user namespaces are disabled "
                                          "(/proc/sys/user/max_user_namespaces is 0)");
    if (!file_has_word("/proc/filesystems", "overlay"))
        return hb_fail(e, HB_E_NOTSUP, 0, "overlayfs is not available (modprobe overlay)");
    char images[HB_HOSTPATH_MAX + 16];
    if (mkdir_p1(data_dir, "", 0711, e) < 0 || mkdir_p1(data_dir, HB_SBDIR_ROOT, 0711, e) < 0 ||
        hb_images_dir(rt, images, sizeof images, e) < 0 || mkdir_p1("/run", "hivebox", 0711, e) < 0 ||
        mkdir_p1(rt->uidslot_dir, "", 0700, e) < 0)
        return -1;
    hb_oci_clean_stale(images);   /* a crash's half imports are never listed */
    if (run_probe(rt, e) < 0 || hb_pool_open(rt, e) < 0)
        return -1;
    hb_net_init(rt); /* never fatal: without it only network "none" works */
    return 0;
}

void hb_runtime_shutdown(hb_runtime_t *rt)
{
    hb_pool_close(rt);
}
