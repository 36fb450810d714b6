/* Capacity settings and admission (see capacity.h). */
#include "capacity.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"   /* HB_DEFAULT_OUT_BUDGET */

#define MAX_SANDBOXES_CAP 16384   /* the host's uid slots (HB_UID_SLOTS) */

void hb_limits_defaults(hb_limits_t *l)
{
    l->max_sandboxes = HB_DEFAULT_MAX_SANDBOXES;
    l->mem_overcommit = HB_DEFAULT_OVERCOMMIT;
    l->exec_output_budget = HB_DEFAULT_OUT_BUDGET;
}

static int bad(const char *flag, const char *what)
{
    fprintf(stderr, "hivebox daemon: --%s: %s\n", flag, what);
    return -1;
}

int hb_limits_flag(hb_limits_t *l, const char *flag, const char *value)
{
    char *end;
    if (strcmp(flag, "max-sandboxes") == 0) {
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (errno || end == value || *end || value[0] == '-' || v < 1 || v > MAX_SANDBOXES_CAP)
            return bad(flag, "a count from 1 to 16384");
        l->max_sandboxes = v;
    } else if (strcmp(flag, "memory-overcommit") == 0) {
        double v = strtod(value, &end);
        if (end == value || *end || !isfinite(v) || v < 0.1 || v > 1000)
            return bad(flag, "a ratio from 0.1 to 1000 (of the host's MemTotal)");
        l->mem_overcommit = v;
    } else if (strcmp(flag, "exec-output-budget") == 0) {
        uint64_t v;
        hb_err_t e = {0};
        if (hb_parse_size(value, flag, &v, &e) < 0 || v < (1u << 20) || v > (1ull << 40))
            return bad(flag, "a size from 1m to 1024g, like 256m");
        l->exec_output_budget = v;
    } else {
        return bad(flag, "unknown");
    }
    return 0;
}

int hb_limits_env(hb_limits_t *l)
{
    static const char *const vars[][2] = {{"HIVEBOX_MAX_SANDBOXES", "max-sandboxes"},
                                          {"HIVEBOX_MEMORY_OVERCOMMIT", "memory-overcommit"},
                                          {"HIVEBOX_EXEC_OUTPUT_BUDGET", "exec-output-budget"}};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i][0]);
        if (v && v[0] && hb_limits_flag(l, vars[i][1], v) < 0)
            return fprintf(stderr, "hivebox daemon: (from %s)\n", vars[i][0]), -1;
    }
    return 0;
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
