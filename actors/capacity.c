/* Capacity settings and admission (see capacity.h). */
#include "capacity.h"

#include <stdio.h>

#include "runtime.h"   /* HB_DEFAULT_OUT_BUDGET */

void hb_limits_defaults(hb_limits_t *l)
{
    l->max_sandboxes = HB_DEFAULT_MAX_SANDBOXES;
    l->mem_overcommit = HB_DEFAULT_OVERCOMMIT;
    l->exec_output_budget = HB_DEFAULT_OUT_BUDGET;
}

static double gib(uint64_t b) { return (double)b / (double)(1ull << 30); }

int hb_limits_admit(const hb_limits_t *l, uint64_t host_mem, uint64_t count, uint64_t mem_sum,
                    uint64_t mem_new, hb_err_t *e)
{
    if (count >= l->max_sandboxes)
        return hb_fail(e, HB_E_UNAVAIL, 0,
                       "sandbox limit reached: %llu sandboxes exist and --max-sandboxes is "
                       "%llu; destroy one first", (unsigned long long)count,
                       (unsigned long long)l->max_sandboxes);
    double allowed = l->mem_overcommit * (double)host_mem;
    if ((double)mem_sum + (double)mem_new > allowed)
        return hb_fail(e, HB_E_UNAVAIL, 0,
                       "memory limit reached: the sandboxes' memory limits would total %.2f GiB, "
                       "over --memory-overcommit %.2f x the host's %.2f GiB = %.2f GiB; ask for "
                       "less memory or destroy a sandbox", gib(mem_sum + mem_new),
                       l->mem_overcommit, gib(host_mem), allowed / (double)(1ull << 30));
    return 0;
}
