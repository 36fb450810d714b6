/* The metrics actor's section of GET /metrics: the figures it keeps as
 * events and usage reports arrive (metrics.c), and their rendering in the
 * Prometheus text format (metrics_page.c). Rendering reads only what is
 * held here and a few /proc/self files: no cgroup or filesystem walk per
 * scrape, whatever the number of sandboxes. */
#ifndef HB_METRICS_PAGE_H
#define HB_METRICS_PAGE_H

#include <czmq.h>

#include "messages.h"
#include "metrics_prom.h"

/* The last USAGE report of a sandbox. */
typedef struct {
    hb_sample_sb_t u;    /* u.id owned */
    int64_t        at;   /* when reported, unix seconds */
} hb_met_usage_t;

/* Label values: fixed lists, so the number of series is bounded. */
#define HB_MET_CAUSES                                                                  \
    "limit", "capacity", "image_not_ready", "name_taken", "invalid", "not_found",      \
        "no_space", "unsupported", "internal", "other"
#define HB_MET_NCAUSES 10
#define HB_MET_REASONS "deleted", "expired", "dead"
#define HB_MET_NREASONS 3
#define HB_MET_OUTCOMES "ok", "nonzero", "timeout", "oom"
#define HB_MET_NOUTCOMES 4
#define HB_MET_NEVENTS (HB_MSG__COUNT - HB_MSG_EV_CREATED)

typedef struct {
    zhashx_t      *states;   /* id -> state (char *, owned): creating|running|failed|destroying */
    zhashx_t      *usage;    /* id -> hb_met_usage_t *, owned */
    uint64_t       creations;
    uint64_t       create_failures[HB_MET_NCAUSES];
    uint64_t       destructions[HB_MET_NREASONS];
    uint64_t       deaths;   /* sandbox.failed: its init died */
    uint64_t       execs[HB_MET_NOUTCOMES];
    uint64_t       oom_events;
    uint64_t       events[HB_MET_NEVENTS];   /* published, by topic */
    uint64_t       samples_published;        /* metrics.sample */
    hb_prom_hist_t create_s, destroy_s, exec_s;
    const hb_sample_t *last;   /* the latest 10 s sample (host figures); NULL: none yet */
    int64_t        stale_s;    /* usage older than this is not shown */
} hb_met_figs_t;

/* Set up the histograms and tables; -1 when out of memory. */
int  hb_met_figs_init(hb_met_figs_t *f);
void hb_met_figs_free(hb_met_figs_t *f);
/* Count one event (its decoded message). */
void hb_met_figs_event(hb_met_figs_t *f, const hb_msg_t *ev);
/* MET_STATE: state NULL = gone. */
void hb_met_figs_state(hb_met_figs_t *f, const char *id, const char *state);

/* The section, malloc'd (caller frees), *len set; NULL when out of memory.
 * per_sb false: without the per-sandbox series (a page too big for the bus). */
char *hb_met_page(const hb_met_figs_t *f, int64_t now, bool per_sb, size_t *len);

/* Index of s in a fixed list, or n - 1 (the list's catch-all, last). */
size_t hb_met_index(const char *const *list, size_t n, const char *s);

#endif
