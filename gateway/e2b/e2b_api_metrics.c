/* GET /sandboxes/{id}/metrics (E2B's SandboxMetric[]): the sandbox's rows
 * of the metrics actor's history (one sample every HB_METRICS_INTERVAL_S,
 * the last 24 h), between ?start and ?end (unix seconds), oldest first.
 * A sandbox younger than one interval has none yet, as on E2B. */
#include "e2b_api.h"

#include <math.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "metrics.h"
#include "query.h"
#include "textutil.h"

#define MAX_ROWS HB_METRICS_RING

static json_t *metric(const hb_sample_t *t, const hb_sample_sb_t *s, int cpus)
{
    char when[HB_RFC3339_LEN];
    /* HiveBox counts 100 per busy core; E2B's cpuUsedPct is of all the sandbox's cores. */
    double pct = s->cpu_percent / (cpus > 0 ? cpus : 1);
    return json_pack("{s:s, s:I, s:i, s:f, s:I, s:I, s:I, s:I, s:I}", "timestamp",
                     hb_rfc3339(t->timestamp, when, sizeof when), "timestampUnix",
                     (json_int_t)t->timestamp, "cpuCount", cpus, "cpuUsedPct", pct, "memUsed",
                     (json_int_t)s->memory_bytes, "memTotal", (json_int_t)s->memory_limit_bytes,
                     "memCache", (json_int_t)0, "diskUsed", (json_int_t)s->disk_bytes,
                     "diskTotal", (json_int_t)s->disk_limit_bytes);
}

static json_t *rows_of(const hb_msg_t *h, const char *id, int cpus, int64_t start, int64_t end)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < h->samples_n && json_array_size(arr) < MAX_ROWS; i++) {
        const hb_sample_t *t = &h->samples[i];
        if (t->timestamp < start || t->timestamp > end)
            continue;
        for (size_t k = 0; k < t->sandboxes_n; k++)
            if (t->sandboxes[k].id && strcmp(t->sandboxes[k].id, id) == 0)
                json_array_append_new(arr, metric(t, &t->sandboxes[k], cpus));
    }
    return arr;
}

int hb_e2b_api_metrics(hb_req_t *r)
{
    hb_err_t e = {0};
    uint64_t start, end, now = (uint64_t)time(NULL);
    const char *qs = r->ri->query_string;
    if (hb_query_uint(qs, "start", 0, INT64_MAX, 0, &start, &e) < 0 ||
        hb_query_uint(qs, "end", 0, INT64_MAX, now, &end, &e) < 0)
        return hb_e2b_api_err(r, &e);
    hb_msg_t q = {.type = HB_MSG_SB_GET}, info, hist;
    int status = hb_e2b_api_call(r, &q, HB_E2B_CALL_MS, &info);   /* 404 first */
    if (status)
        return status;
    int cpus = info.sandboxes_n == 1 ? (int)ceil(info.sandboxes[0].cpus) : 1;
    int64_t born = info.sandboxes_n == 1 ? info.sandboxes[0].created_at : 0;
    hb_msg_clear(&info);
    int64_t from = (int64_t)start > born ? (int64_t)start : born;
    hb_msg_t a = {.type = HB_MSG_ANALYTICS,
                  .range_s = (int64_t)now > from ? now - (uint64_t)from + HB_METRICS_INTERVAL_S
                                                 : HB_METRICS_INTERVAL_S};
    if (hb_bus_call(r->conf->ep.metrics, &a, &hist, HB_E2B_CALL_MS, &e) < 0) {
        hb_msg_clear(&a);
        return hb_e2b_api_err(r, &e);
    }
    hb_msg_clear(&a);
    status = hb_e2b_api_json(r->c, 200, rows_of(&hist, r->route.id, cpus < 1 ? 1 : cpus,
                                                (int64_t)start, (int64_t)end), NULL, NULL);
    hb_msg_clear(&hist);
    return status;
}
