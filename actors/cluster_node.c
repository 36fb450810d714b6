/* What a node tells the cluster about itself (cluster_int.h): capacity for
 * placement and GET /api/v1/nodes, and each of its sandboxes' key value. */
#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hoststat.h"

static uint64_t mem_total(void)
{
    char text[8192];
    uint64_t total = 0, used = 0;
    if (hb_read_small_file("/proc/meminfo", text, sizeof text) > 0)
        hb_parse_meminfo(text, &total, &used);
    return total;
}

static double load1(void)
{
    char text[128];
    double l = 0;
    if (hb_read_small_file("/proc/loadavg", text, sizeof text) > 0)
        sscanf(text, "%lf", &l);
    return l;
}

/* memory_free is what admission (capacity.h) would still grant: the
 * overcommitted MemTotal less the limits already given. */
json_t *hb_cl_node_value(const hb_cl_t *c, size_t count, uint64_t mem_committed)
{
    uint64_t total = mem_total();
    double budget = (double)total * c->overcommit;
    uint64_t free_b = budget > (double)mem_committed ? (uint64_t)(budget - (double)mem_committed) : 0;
    return json_pack("{s:s, s:s, s:O, s:I, s:I, s:I, s:I, s:f, s:I, s:I}", "name", c->node,
                     "url", c->url, "labels", c->labels, "memory_total", (json_int_t)total,
                     "memory_free", (json_int_t)free_b, "sandboxes", (json_int_t)count,
                     "max_sandboxes", (json_int_t)c->max_sandboxes, "load1", load1(),
                     "lease_ttl", (json_int_t)c->ttl_s, "updated_at", (json_int_t)time(NULL));
}
