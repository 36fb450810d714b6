/* HTTP request figures (http_metrics.h): a fixed table of C11 atomics,
 * indexed by route template, method and status, written by any worker
 * thread with relaxed adds and read by the page. ~130 KiB, all static. */
#include "http_metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const METHODS[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH",
                                      "OPTIONS", "other"};
#define N_METHODS (sizeof METHODS / sizeof METHODS[0])

/* The codes this daemon and civetweb answer; any other is shown by class. */
static const int CODES[] = {101, 200, 201, 202, 204, 206, 301, 302, 304, 307, 308,
                            400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412,
                            413, 414, 415, 416, 422, 429, 431, 500, 501, 502, 503,
                            504, 505, 507};
#define N_CODES   (sizeof CODES / sizeof CODES[0])
#define N_STATUS  (N_CODES + 5 + 1)   /* then "1xx".."5xx", then "unknown" */

/* Upper bounds in microseconds: 1 ms to 60 s; one more slot past the last. */
static const uint64_t BUCKETS_US[] = {1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                      250000, 500000, 1000000, 2500000, 5000000,
                                      10000000, 30000000, 60000000};
static const char *const BUCKET_LE[] = {"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
                                        "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
                                        "60"};
#define N_BUCKETS (sizeof BUCKETS_US / sizeof BUCKETS_US[0])

static atomic_uint_fast64_t g_requests[HB_TPL_COUNT][N_METHODS][N_STATUS];
static atomic_uint_fast64_t g_buckets[HB_TPL_COUNT][N_BUCKETS + 1];
static atomic_uint_fast64_t g_sum_us[HB_TPL_COUNT];
static atomic_int_fast64_t g_inflight;

static size_t method_index(const char *m)
{
    for (size_t i = 0; m && i < N_METHODS - 1; i++)
        if (strcmp(m, METHODS[i]) == 0)
            return i;
    return N_METHODS - 1;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < N_CODES; i++)
        if (CODES[i] == status)
            return i;
    if (status >= 100 && status <= 599)
        return N_CODES + (size_t)(status / 100 - 1);
    return N_STATUS - 1;
}

static void status_label(size_t i, char out[16])
{
    if (i < N_CODES)
        snprintf(out, 16, "%d", CODES[i]);
    else if (i < N_STATUS - 1)
        snprintf(out, 16, "%zuxx", i - N_CODES + 1);
    else
        snprintf(out, 16, "unknown");
}

void hb_http_metrics_begin(void)
{
    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_relaxed);
}

void hb_http_metrics_end(hb_route_tpl_t tpl, const char *method, int status,
                         uint64_t duration_us)
{
    size_t t = (unsigned)tpl < HB_TPL_COUNT ? (size_t)tpl : HB_TPL_OTHER;
    size_t b = 0;
    while (b < N_BUCKETS && duration_us > BUCKETS_US[b])
        b++;
    atomic_fetch_add_explicit(&g_requests[t][method_index(method)][status_index(status)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&g_buckets[t][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_sum_us[t], duration_us, memory_order_relaxed);
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

/* Only the series that ever counted: a few dozen, not the table's 16,000. */
static void render_requests(FILE *f)
{
    fputs("# HELP hivebox_http_requests_total HTTP requests answered, by method, route "
          "template and status code (a stream counts when it ends).\n"
          "# TYPE hivebox_http_requests_total counter\n", f);
    for (size_t t = 0; t < HB_TPL_COUNT; t++)
        for (size_t m = 0; m < N_METHODS; m++)
            for (size_t s = 0; s < N_STATUS; s++) {
                uint64_t v = get(&g_requests[t][m][s]);
                char code[16];
                if (!v)
                    continue;
                status_label(s, code);
                fprintf(f, "hivebox_http_requests_total{method=\"%s\",route=\"%s\",code=\"%s\"} "
                        "%llu\n", METHODS[m], hb_route_tpl_name((hb_route_tpl_t)t), code,
                        (unsigned long long)v);
            }
}

/* One histogram per route that served a request; _count is the buckets'
 * own total, so a page is consistent however the counts move meanwhile. */
static void render_durations(FILE *f)
{
    fputs("# HELP hivebox_http_request_duration_seconds Time from a request's head to the end "
          "of its answer, by route template.\n"
          "# TYPE hivebox_http_request_duration_seconds histogram\n", f);
    for (size_t t = 0; t < HB_TPL_COUNT; t++) {
        uint64_t counts[N_BUCKETS + 1], total = 0;
        for (size_t b = 0; b <= N_BUCKETS; b++)
            total += counts[b] = get(&g_buckets[t][b]);
        if (!total)
            continue;
        const char *route = hb_route_tpl_name((hb_route_tpl_t)t);
        uint64_t cum = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
            cum += counts[b];
            fprintf(f, "hivebox_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} "
                    "%llu\n", route, BUCKET_LE[b], (unsigned long long)cum);
        }
        uint64_t sum = get(&g_sum_us[t]);
        fprintf(f, "hivebox_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                "hivebox_http_request_duration_seconds_sum{route=\"%s\"} %llu.%06llu\n"
                "hivebox_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                route, (unsigned long long)total, route, (unsigned long long)(sum / 1000000),
                (unsigned long long)(sum % 1000000), route, (unsigned long long)total);
    }
}

char *hb_http_metrics_text(size_t *len)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    render_requests(f);
    render_durations(f);
    long long inflight = (long long)atomic_load_explicit(&g_inflight, memory_order_relaxed);
    fprintf(f, "# HELP hivebox_http_requests_in_flight HTTP requests being served now, "
            "streams and WebSockets included.\n"
            "# TYPE hivebox_http_requests_in_flight gauge\n"
            "hivebox_http_requests_in_flight %lld\n", inflight < 0 ? 0 : inflight);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(s);
        return NULL;
    }
    *len = n;
    return s;
}
