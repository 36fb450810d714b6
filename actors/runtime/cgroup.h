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
/* Write the cgroup.procs paths a process must join, one per line, into buf. */
int  hb_cg_procs_paths(const hb_runtime_t *rt, const char *id, char *buf, size_t len);
/* SIGKILL everything left in the cgroups, wait for them to empty, rmdir. Idempotent. */
int  hb_cg_destroy(const hb_runtime_t *rt, const char *id);
bool hb_cg_exists(const hb_runtime_t *rt, const char *id);
/* rmdir hivebox/<instance> and hivebox itself in every hierarchy, where empty. */
void hb_cg_remove_parents(const hb_runtime_t *rt);
/* Ids of every sandbox cgroup present (for cleaning leftovers). */
int  hb_cg_list(const hb_runtime_t *rt, char ***ids, size_t *n);

#endif
