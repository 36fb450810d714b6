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

#include "bus.h"

#define HB_METRICS_INTERVAL_S 10
#define HB_METRICS_RING (24 * 3600 / HB_METRICS_INTERVAL_S)

/* NULL (logged) if the events endpoint cannot be bound. */
zactor_t *hb_metrics_new(const char *events_endpoint);

#endif
