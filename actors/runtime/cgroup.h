/* cgroups for one sandbox: v1 (memory, cpu, cpuacct, pids, freezer under
 * /sys/fs/cgroup/<ctrl>/hivebox/<instance>/<id>) or v2
 * (/sys/fs/cgroup/hivebox/<instance>/<id>), where <instance> names the data
 * dir, so two daemons on one host never share a cgroup. */
#ifndef HB_CGROUP_H
#define HB_CGROUP_H

#include "runtime.h"

/* The per-data-dir level of the cgroup tree: a hash of the data dir. */
void hb_cg_instance_name(const char *data_dir, char *out, size_t len);
/* Create the sandbox's cgroups and set memory (swap off), CPU quota and pids. */
int  hb_cg_create(const hb_runtime_t *rt, const char *id, const hb_spec_t *spec, hb_err_t *e);
/* issue 19 (pool): rewrite memory, pids and cpu limits of an existing sandbox. */
int  hb_cg_set_limits(const hb_runtime_t *rt, const char *id, const hb_spec_t *spec,
                      hb_err_t *e);
/* Write the cgroup.procs paths a process must join, one per line, into buf. */
int  hb_cg_procs_paths(const hb_runtime_t *rt, const char *id, char *buf, size_t len);
/* The same for the user cgroups every command joins ("" where there are
 * none: cgroup v2, see cgroup.c). */
int  hb_cg_user_procs_paths(const hb_runtime_t *rt, const char *id, char *buf, size_t len);
/* OOM kills in the sandbox's own cgroup (init's; on v1 not its commands'). */
uint64_t hb_cg_own_oom_kills(const hb_runtime_t *rt, const char *id);
/* Size of the sandbox's /dev/shm: a quarter of its memory limit. */
uint64_t hb_cg_shm_bytes(const hb_spec_t *s);

/* cgroup_kill.c */
/* SIGKILL everything left in the cgroups, wait for them to empty, rmdir. Idempotent. */
int  hb_cg_destroy(const hb_runtime_t *rt, const char *id);
/* SIGKILL every process of the sandbox but init (host pid init_pid), with
 * the commands frozen so none can fork meanwhile; wait until they are gone.
 * *killed: how many processes were killed. */
int  hb_cg_kill_user(const hb_runtime_t *rt, const char *id, pid_t init_pid, uint64_t *killed,
                     hb_err_t *e);

/* For cgroup.c and cgroup_kill.c only. */
#define HB_CG_USER "user"
int  hb_cg_dir(const hb_runtime_t *rt, const char *ctrl, const char *id, bool user, char *out,
               size_t len);
int  hb_cg_write(const char *dir, const char *file, const char *val);
const char *const *hb_cg_v1_controllers(size_t *n);
bool hb_cg_exists(const hb_runtime_t *rt, const char *id);
/* rmdir hivebox/<instance> and hivebox itself in every hierarchy, where empty. */
void hb_cg_remove_parents(const hb_runtime_t *rt);
/* Ids of every sandbox cgroup present (for cleaning leftovers). */
int  hb_cg_list(const hb_runtime_t *rt, char ***ids, size_t *n);

#endif
