/* The init agent: PID 1 of every sandbox (build/hivebox-init).
 *
 * launcher.c sets the sandbox up (namespaces, idmapped overlay root, /proc,
 * /dev, pivot_root) and then calls agent_run(), which never returns.
 * agent.c and friends serve the init protocol (schemas/init-protocol.md). */
#ifndef HB_INIT_H
#define HB_INIT_H

#include <stdbool.h>
#include <stdint.h>

#define INIT_MAX_CG 8

typedef struct {
    int listen_fd;      /* bound + listening Unix socket (host side path) */
    const char *id;     /* sandbox id = hostname */
    /* cgroup.procs of the user cgroups every command joins, opened by the
     * launcher as host root (writable through these fds only). */
    int cg_fds[INIT_MAX_CG];
    int n_cg;
    /* issue 19 (warm pool): /proc/sys/kernel/ns_last_pid opened before
     * /proc/sys turned read-only (agent_hostname.c); -1 if not */
    int last_pid_fd;
    /* issue 19: launch.conf's warm_exec (the daemon's --warm-exec): arm the
     * pre-forked exec worker (agent_warm.c); false: never */
    bool warm_exec;
} agent_cfg_t;

/* Serve forever as PID 1: reap orphans, accept connections, serve each on a
 * thread of its own. Never returns. */
__attribute__((noreturn)) void agent_run(const agent_cfg_t *cfg);

#endif
