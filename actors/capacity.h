/* The daemon's capacity settings (read once at start by actors/config.c,
 * listed in actors/config.def) and the admission decision for a new sandbox.
 *
 *   --max-sandboxes N         HIVEBOX_MAX_SANDBOXES       1000
 *   --memory-overcommit R     HIVEBOX_MEMORY_OVERCOMMIT   1.5
 *   --exec-output-budget SIZE HIVEBOX_EXEC_OUTPUT_BUDGET  256m
 *
 * A create is refused (503, the message naming the limit) when the daemon
 * already has max-sandboxes sandboxes, or when the sum of the sandboxes'
 * memory limits would pass R x the host's MemTotal. Limits, not use, are
 * summed: a hostile sandbox may use all of its limit. 1.5 is OpenStack
 * Nova's default RAM allocation ratio; 1,000 sandboxes is the density the
 * project measures (docs/performance.md). */
#ifndef HB_CAPACITY_H
#define HB_CAPACITY_H

#include <stdint.h>

#include "hberr.h"

#define HB_DEFAULT_MAX_SANDBOXES 1000
#define HB_DEFAULT_OVERCOMMIT    1.5

typedef struct {
    uint64_t max_sandboxes;
    double   mem_overcommit;
    uint64_t exec_output_budget;   /* bytes */
} hb_limits_t;

void hb_limits_defaults(hb_limits_t *l);

/* 0, or HB_E_UNAVAIL naming the limit a sandbox of mem_new bytes would
 * pass, given count sandboxes holding mem_sum bytes of limits. */
int  hb_limits_admit(const hb_limits_t *l, uint64_t host_mem, uint64_t count, uint64_t mem_sum,
                     uint64_t mem_new, hb_err_t *e);

#endif
