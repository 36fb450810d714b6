/* The webhook actor's counters and their section of GET /metrics
 * (Prometheus text format 0.0.4). Pure, unit tested. */
#ifndef HB_WEBHOOK_STATS_H
#define HB_WEBHOOK_STATS_H

#include <stdint.h>

typedef struct {
    /* one per event and URL, each event ends in exactly one of them */
    uint64_t delivered;   /* a 2xx answer */
    uint64_t failed;      /* retried for HB_WEBHOOK_GIVE_UP_MS without a 2xx */
    uint64_t dropped;     /* pushed out of a full queue, never sent */
    uint64_t retries;     /* attempts after an event's first */
    uint64_t queued;      /* waiting or in flight, over every URL (a gauge) */
    int      endpoints;   /* URLs configured */
} hb_webhook_stats_t;

/* The section, malloc'd (NULL on out of memory). */
char *hb_webhook_stats_text(const hb_webhook_stats_t *s);

#endif
