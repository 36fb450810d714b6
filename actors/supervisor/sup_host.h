/* Supervisor hosts (issue 19): a fixed set of threads, each one actor with
 * one inbox, that run the supervisors of many sandboxes. A sandbox's
 * supervisor is a "unit": a state object on one host (the least loaded when
 * it is spawned), driven by the callbacks of hb_sup_ops_t. Why pooled: one
 * thread per sandbox cost ~6 daemon descriptors each (a zactor pipe pair,
 * an inbox, two pushers: one eventfd each in libzmq, and init's pidfd), two
 * inproc endpoints that every socket close scans, and a thread start and
 * handshake per sandbox at re-attach. A unit costs one descriptor (its
 * init's pidfd) and no endpoint.
 *
 * Addressing: every message for a unit is keyed by its generation (unique
 * for the life of the process, never reused, so a message for an earlier
 * sandbox of the same name cannot reach a later one: no unit has its key
 * any more and the host drops it, answering "not found" if it has a
 * reply_to). The manager sends with hb_sup_send; operation, watch and
 * lease threads post to the unit's address "<host inbox>#<gen>"
 * (hb_bus_post splits it).
 *
 * What runs on a host thread, and so delays the other units of that host
 * while it runs: every callback below. They must be short: cgroup reads,
 * small file writes, starting threads, signals. The create and destroy of
 * a sandbox (tens of ms here), kill-all, pause/resume, snapshot and restore
 * run there too (bounded: see supervisor.c); execs, listings and file
 * transfers run on operation threads.
 *
 * The hb_sup_hosts_* functions are called from one thread (the manager's).
 */
#ifndef HB_SUP_HOST_H
#define HB_SUP_HOST_H

#include "supervisor.h"

/* A host runs the units due within this many ms of the earliest together:
 * 10,000 idle sandboxes are 330 idle checks a second, and a wake-up for each
 * cost more than the check (issue 19). */
#define HB_SUP_DUE_SLACK_MS 250

/* What a unit may use on its host (valid until the unit is closed). */
typedef struct {
    zsock_t *mgr, *met;    /* the host's pushers to ep.manager and ep.metrics */
    char     inbox[128];   /* the unit's address: "<host inbox>#<gen>" */
} hb_sup_env_t;

/* A unit's callbacks, all on its host's thread. */
typedef struct {
    /* Set up from args (owned from here, in every case): create or attach.
     * The unit reports to the manager itself (SUP_READY / SUP_FAILED). */
    void *(*open)(hb_sup_args_t *args, const hb_sup_env_t *env);
    void (*on_msg)(void *self, hb_msg_t *m);   /* a message keyed to it */
    /* Periodic work that is due; the ms until the next (-1: none). NULL: none.
     * Called up to HB_SUP_DUE_SLACK_MS early: the unit does then what is
     * due by now + that slack, so one wake-up serves every unit due within it. */
    int64_t (*due)(void *self);
    /* A descriptor to watch (init's pidfd) or -1; on_fd when readable. */
    int (*watch_fd)(void *self);
    void (*on_fd)(void *self);
    bool (*gone)(void *self);    /* its sandbox is gone: the host closes it */
    void (*term)(void *self);    /* the daemon stops: refuse new work */
    bool (*busy)(void *self);    /* uses still in flight (waited for at stop, bounded) */
    void (*close)(void *self);   /* release it; a live sandbox keeps running */
} hb_sup_ops_t;

/* The real supervisor's callbacks (supervisor.c). */
const hb_sup_ops_t *hb_supervisor_ops(void);

typedef struct hb_sup_hosts hb_sup_hosts_t;

/* Which unit: its host and generation. */
typedef struct {
    int      host;
    uint64_t gen;
} hb_sup_ref_t;

/* Start n host threads (n < 1: max(4, 2 x online CPUs)) running ops' units
 * (NULL: hb_supervisor_ops()), reporting to ep. NULL with *e. */
hb_sup_hosts_t *hb_sup_hosts_new(int n, const hb_endpoints_t *ep, const hb_sup_ops_t *ops,
                                 hb_err_t *e);
/* Hand args (ownership moves in, in every case) to the least-loaded host;
 * its unit key is args->gen. -1 with *e if it could not be sent. */
int hb_sup_spawn(hb_sup_hosts_t *h, hb_sup_args_t *args, hb_sup_ref_t *out, hb_err_t *e);
/* Send m to unit r without waiting: -1 if its host's queue is full. */
int hb_sup_send(hb_sup_hosts_t *h, const hb_sup_ref_t *r, const hb_msg_t *m);
/* Stop every host at once: their units refuse new work, get a grace
 * period for what is in flight, and are closed (sandboxes keep running). */
void hb_sup_hosts_destroy(hb_sup_hosts_t **h);
/* Units on each host now (for tests and logs). */
int hb_sup_hosts_count(const hb_sup_hosts_t *h);
int hb_sup_host_units(const hb_sup_hosts_t *h, int host);

#endif
