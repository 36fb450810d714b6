/* The HTTP section of /metrics (gateway/http_metrics.c): counts by route
 * template, method and status; the histogram; in flight. The table is
 * process-wide, so each check reads a value before and after. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_metrics.h"

/* The value of the sample line that starts with `series ` (0 if none). */
static double value_of(const char *series)
{
    size_t len = 0;
    char *text = hb_http_metrics_text(&len);
    cr_assert(text);
    cr_assert_eq(strlen(text), len);
    double v = 0;
    size_t n = strlen(series);
    for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, series, n) == 0 && l[n] == ' ')
            v = strtod(l + n + 1, NULL);
    free(text);
    return v;
}

#define REQ(m, r, c) "hivebox_http_requests_total{method=\"" m "\",route=\"" r "\",code=\"" c "\"}"
#define BUCKET(r, le) "hivebox_http_request_duration_seconds_bucket{route=\"" r "\",le=\"" le "\"}"

Test(http_metrics, counts_land_on_their_labels)
{
    double exec0 = value_of(REQ("POST", "/api/v1/hiveboxes/:id/exec", "200"));
    double odd0 = value_of(REQ("other", "other", "4xx"));
    double unk0 = value_of(REQ("GET", "other", "unknown"));
    for (int i = 0; i < 3; i++) {
        hb_http_metrics_begin();
        hb_http_metrics_end(HB_TPL_EXEC, "POST", 200, 1500);
    }
    hb_http_metrics_begin();
    hb_http_metrics_end(HB_TPL_OTHER, "BREW", 418, 10);
    hb_http_metrics_begin();
    hb_http_metrics_end(HB_TPL_OTHER, "GET", -1, 10);
    cr_assert_eq(value_of(REQ("POST", "/api/v1/hiveboxes/:id/exec", "200")), exec0 + 3);
    cr_assert_eq(value_of(REQ("other", "other", "4xx")), odd0 + 1);
    cr_assert_eq(value_of(REQ("GET", "other", "unknown")), unk0 + 1);
}

Test(http_metrics, histogram_is_cumulative_and_consistent)
{
    double le1ms = value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "0.001"));
    double le1s = value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "1"));
    double inf = value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "+Inf"));
    double sum = value_of("hivebox_http_request_duration_seconds_sum{route=\"/api/v1/hiveboxes/:id/stats\"}");
    hb_http_metrics_begin();
    hb_http_metrics_end(HB_TPL_STATS, "GET", 200, 1000);       /* exactly 1 ms: le=0.001 */
    hb_http_metrics_begin();
    hb_http_metrics_end(HB_TPL_STATS, "GET", 200, 700000);     /* 0.7 s */
    hb_http_metrics_begin();
    hb_http_metrics_end(HB_TPL_STATS, "GET", 200, 90000000);   /* 90 s: past 60 */
    cr_assert_eq(value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "0.001")), le1ms + 1);
    cr_assert_eq(value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "1")), le1s + 2);
    cr_assert_eq(value_of(BUCKET("/api/v1/hiveboxes/:id/stats", "+Inf")), inf + 3);
    cr_assert_eq(value_of("hivebox_http_request_duration_seconds_count{route=\"/api/v1/hiveboxes/:id/stats\"}"),
                 inf + 3);
    double got = value_of("hivebox_http_request_duration_seconds_sum{route=\"/api/v1/hiveboxes/:id/stats\"}");
    cr_assert_float_eq(got, sum + 90.701, 1e-6);
}

Test(http_metrics, in_flight_rises_and_falls)
{
    double v0 = value_of("hivebox_http_requests_in_flight");
    hb_http_metrics_begin();
    hb_http_metrics_begin();
    cr_assert_eq(value_of("hivebox_http_requests_in_flight"), v0 + 2);
    hb_http_metrics_end(HB_TPL_HEALTHZ, "GET", 200, 5);
    hb_http_metrics_end(HB_TPL_HEALTHZ, "GET", 200, 5);
    cr_assert_eq(value_of("hivebox_http_requests_in_flight"), v0);
}

Test(http_metrics, every_family_has_help_and_type)
{
    size_t len;
    char *t = hb_http_metrics_text(&len);
    cr_assert(strstr(t, "# TYPE hivebox_http_requests_total counter\n"));
    cr_assert(strstr(t, "# TYPE hivebox_http_request_duration_seconds histogram\n"));
    cr_assert(strstr(t, "# TYPE hivebox_http_requests_in_flight gauge\n"));
    cr_assert(strstr(t, "# HELP hivebox_http_requests_total "));
    free(t);
}
