/* The metrics actor: samples every 10 s, keeps 24 h of samples in a ring,
 * answers analytics, and owns the ZeroMQ PUB socket of the event feed.
 *
 * Sandboxes are measured by their supervisors (cgroup reads of a handle only
 * they own) and reported here as USAGE messages; the host comes from
 * /proc/meminfo and /proc/stat. Every other actor publishes an event by
 * sending its EV_* message to this actor's inbox; the same msgpack map goes
 * out as [topic, map] (topics and fields: schemas/events.md). */
#ifndef HB_METRICS_H
#define HB_METRICS_H

#include "actor.h"

#define HB_METRICS_INTERVAL_S 10
/* An idle sandbox's supervisor reports its usage at least this often (a
 * report of 0 % CPU stays true until it uses some); issue 19. */
#define HB_USAGE_IDLE_S 60
#define HB_METRICS_RING (24 * 3600 / HB_METRICS_INTERVAL_S)

typedef struct {
    hb_endpoints_t ep;       /* its inbox: ep.metrics */
    const char    *events;   /* the PUB endpoint of the event feed; must outlive the actor */
} hb_metrics_args_t;

/* args is copied. NULL with *e if it could not set up (the events endpoint
 * taken, say). */
zactor_t *hb_metrics_new(const hb_metrics_args_t *args, hb_err_t *e);

#endif
