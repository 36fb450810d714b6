/* The sandbox manager actor: the registry of sandboxes and their names.
 *
 * It owns the id -> supervisor table, answers list requests from its own
 * copy of each sandbox's description (kept current by the supervisors'
 * messages, so a slow sandbox never delays a list), routes per-sandbox
 * requests to the right supervisor, starts supervisors for new sandboxes and
 * reaps them when they are gone, arms the reaper's expiry timers, and
 * publishes the sandbox lifecycle events. It never calls into a sandbox
 * itself, so nothing it does can block.
 *
 * On start, before it reports ready, it re-attaches every live sandbox found
 * on disk (a supervisor unit each, spread over the host threads) and destroys the dead ones, so the first API
 * request already sees everything that survived a restart.
 */
#ifndef HB_MANAGER_H
#define HB_MANAGER_H

#include "actor.h"
#include "capacity.h"
#include "runtime.h"
#include "supervisor.h"
#include "sup_host.h"

typedef struct {
    hb_endpoints_t ep;  /* its inbox: ep.manager; passed on to every supervisor */
    const hb_runtime_t *rt;
    bool image_ready;   /* the default image "base" exists; else it is being built */
    hb_limits_t limits; /* creates past them are refused */
    /* issue 19: the supervisor host threads (sup_host.h): how many (< 1:
     * max(4, 2 x CPUs)), and what runs on them (NULL: the real supervisor;
     * unit tests run fake units). */
    int                 sup_hosts;
    const hb_sup_ops_t *sup_ops;
    /* issue 19: the warm pool (pool.h): --pool, and when it shrinks */
    const char *pool;
    uint64_t    pool_min_available;
    double      pool_max_pressure;
    const char *pool_meminfo, *pool_psi;   /* where pressure is read */
} hb_manager_args_t;

/* args is copied; rt must outlive the actor. NULL with *e if it could not
 * set up. Returns once the sandboxes that survived a restart are attached. */
zactor_t *hb_manager_new(const hb_manager_args_t *args, hb_err_t *e);

#endif
