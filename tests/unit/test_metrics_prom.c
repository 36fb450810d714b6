/* The Prometheus text writer (actors/metrics_prom.c) and the metrics
 * actor's page (actors/metrics_page.c): escaping, number spelling,
 * histogram bucket cumulation, and the figures kept from events. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "bus.h"   /* hb_now_ms */
#include "metrics_page.h"
#include "metrics_prom.h"

static char *take(hb_prom_t *p)
{
    size_t len = 0;
    char *s = hb_prom_take(p, &len);
    cr_assert_not_null(s);
    cr_assert_eq(strlen(s), len);
    return s;
}

Test(metrics_prom, label_values_and_help_are_escaped)
{
    hb_prom_t p;
    hb_prom_init(&p);
    hb_prom_head(&p, "x_total", "counter", "a \\ b\nc \"q\"");
    hb_prom_one(&p, "x_total", "sandbox", "a\"b\\c\nd", 3);
    char *s = take(&p);
    cr_assert_str_eq(s, "# HELP x_total a \\\\ b\\nc \"q\"\n# TYPE x_total counter\n"
                        "x_total{sandbox=\"a\\\"b\\\\c\\nd\"} 3\n");
    free(s);
}

Test(metrics_prom, numbers_as_the_format_spells_them)
{
    hb_prom_t p;
    hb_prom_init(&p);
    hb_prom_plain(&p, "a", 0);
    hb_prom_plain(&p, "b", 1.5);
    hb_prom_plain(&p, "c", 18446744073709551615.0);
    hb_prom_plain(&p, "d", INFINITY);
    hb_prom_plain(&p, "e", NAN);
    hb_prom_plain(&p, "f", 536870912);
    const char *l[4] = {"k", "v", "k2", ""};
    hb_prom_sample(&p, "g", l, 2, -2);
    char *s = take(&p);
    cr_assert_str_eq(s, "a 0\nb 1.5\nc 1.8446744073709552e+19\nd +Inf\ne NaN\nf 536870912\n"
                        "g{k=\"v\",k2=\"\"} -2\n");
    free(s);
}

Test(metrics_prom, histogram_buckets_are_cumulative)
{
    static const double b[] = {0.1, 1, 10};
    hb_prom_hist_t h;
    hb_prom_hist_init(&h, b, 3);
    hb_prom_hist_observe(&h, 0.05);
    hb_prom_hist_observe(&h, 0.1);   /* le is inclusive */
    hb_prom_hist_observe(&h, 5);
    hb_prom_hist_observe(&h, 50);
    hb_prom_t p;
    hb_prom_init(&p);
    hb_prom_hist(&p, "d_seconds", "help", &h);
    char *s = take(&p);
    cr_assert_str_eq(s, "# HELP d_seconds help\n# TYPE d_seconds histogram\n"
                        "d_seconds_bucket{le=\"0.1\"} 2\n"
                        "d_seconds_bucket{le=\"1\"} 2\n"
                        "d_seconds_bucket{le=\"10\"} 3\n"
                        "d_seconds_bucket{le=\"+Inf\"} 4\n"
                        "d_seconds_sum 55.149999999999999\n"
                        "d_seconds_count 4\n");
    free(s);
}

Test(metrics_prom, an_empty_page_is_empty_not_null)
{
    hb_prom_t p;
    hb_prom_init(&p);
    char *s = take(&p);
    cr_assert_str_eq(s, "");
    free(s);
}

Test(metrics_page, events_and_states_become_series)
{
    hb_met_figs_t f;
    cr_assert_eq(hb_met_figs_init(&f), 0);
    f.stale_s = 30;
    hb_met_figs_state(&f, "a", "running");
    hb_met_figs_state(&f, "b", "failed");
    hb_met_figs_state(&f, "c", "running");
    hb_met_figs_state(&f, "c", NULL);
    hb_msg_t ev = {.type = HB_MSG_EV_EXEC, .exit_code = 1, .duration_ms = 20};
    hb_met_figs_event(&f, &ev);
    ev = (hb_msg_t){.type = HB_MSG_EV_EXEC, .timed_out = true, .exit_code = 137};
    hb_met_figs_event(&f, &ev);
    ev = (hb_msg_t){.type = HB_MSG_EV_CREATE_FAILED, .reason = "no-such-cause"};
    hb_met_figs_event(&f, &ev);
    ev = (hb_msg_t){.type = HB_MSG_EV_DESTROYED, .reason = "expired", .duration_ms = 1500};
    hb_met_figs_event(&f, &ev);
    hb_met_usage_t *u = calloc(1, sizeof *u);
    u->u.id = strdup("a\"x");
    u->u.memory_bytes = 4096;
    u->at = 100;
    hb_met_figs_state(&f, "a\"x", "running");
    zhashx_update(f.usage, "a\"x", u);
    size_t len = 0;
    char *s = hb_met_page(&f, 110, true, &len);
    cr_assert_not_null(s);
    cr_assert(strstr(s, "hivebox_sandboxes{state=\"running\"} 2\n"), "%s", s);
    cr_assert(strstr(s, "hivebox_sandboxes{state=\"failed\"} 1\n"));
    cr_assert(strstr(s, "hivebox_execs_total{outcome=\"nonzero\"} 1\n"));
    cr_assert(strstr(s, "hivebox_execs_total{outcome=\"timeout\"} 1\n"));
    cr_assert(strstr(s, "hivebox_execs_total{outcome=\"ok\"} 0\n"));
    cr_assert(strstr(s, "hivebox_sandbox_create_failures_total{cause=\"other\"} 1\n"));
    cr_assert(strstr(s, "hivebox_sandbox_destructions_total{reason=\"expired\"} 1\n"));
    /* 1.5 s: outside le="1", inside le="2.5" */
    cr_assert(strstr(s, "hivebox_sandbox_destroy_duration_seconds_bucket{le=\"1\"} 0\n"));
    cr_assert(strstr(s, "hivebox_sandbox_destroy_duration_seconds_bucket{le=\"2.5\"} 1\n"));
    cr_assert(strstr(s, "hivebox_sandbox_memory_bytes{sandbox=\"a\\\"x\"} 4096\n"));
    cr_assert(strstr(s, "hivebox_events_published_total{topic=\"exec.finished\"} 2\n"));
    cr_assert_null(strstr(s, "hivebox_sandbox_network_receive_bytes_total{"),
                   "no interface, no network series");
    free(s);
    /* stale usage, and usage of a sandbox the manager no longer counts, are not shown */
    s = hb_met_page(&f, 200, true, &len);
    cr_assert_null(strstr(s, "hivebox_sandbox_memory_bytes{"));
    free(s);
    s = hb_met_page(&f, 110, false, &len);
    cr_assert_null(strstr(s, "hivebox_sandbox_memory_bytes{"));
    cr_assert(strstr(s, "hivebox_metrics_sandbox_series_omitted 1\n"));
    free(s);
    hb_met_figs_free(&f);
}

/* 1,000 sandboxes (the default --max-sandboxes) with generated names: the
 * page is rendered from memory, well inside what one bus message carries. */
Test(metrics_page, a_thousand_sandboxes_render_quickly_and_fit_the_bus)
{
    hb_met_figs_t f;
    cr_assert_eq(hb_met_figs_init(&f), 0);
    f.stale_s = 30;
    for (int i = 0; i < 1000; i++) {
        char id[32];
        snprintf(id, sizeof id, "hb-%08x", 0x10000000u + (unsigned)i);
        hb_met_usage_t *u = calloc(1, sizeof *u);
        u->u.id = strdup(id);
        u->u.memory_bytes = 123456789;
        u->u.memory_limit_bytes = 536870912;
        u->u.cpu_ns = 987654321012ull;
        u->u.has_net = true;
        u->u.net_rx_bytes = u->u.net_tx_bytes = 1234567;
        u->u.disk_bytes = 4096;
        u->u.disk_limit_bytes = 10737418240ull;
        u->at = 100;
        hb_met_figs_state(&f, id, "running");
        zhashx_update(f.usage, id, u);
    }
    int64_t t0 = hb_now_ms();
    size_t len = 0;
    char *s = hb_met_page(&f, 105, true, &len);
    int64_t ms = hb_now_ms() - t0;
    cr_assert_not_null(s);
    cr_log_info("1000 sandboxes: page %zu bytes in %lld ms", len, (long long)ms);
    printf("metrics page with 1000 sandboxes: %zu bytes, rendered in %lld ms\n", len,
           (long long)ms);
    cr_assert_lt(len, HB_MSG_BIN_MAX);
    cr_assert(strstr(s, "hivebox_sandboxes{state=\"running\"} 1000\n"));
    cr_assert(strstr(s, "hivebox_metrics_sandbox_series_omitted 0\n"));
    free(s);
    /* The page metrics.c falls back to past the bus's bound: no sandbox
     * series, the counts and the omission still there. */
    s = hb_met_page(&f, 105, false, &len);
    cr_assert_not_null(s);
    cr_assert(strstr(s, "hivebox_metrics_sandbox_series_omitted 1\n"));
    cr_assert(strstr(s, "hivebox_sandboxes{state=\"running\"} 1000\n"));
    cr_assert_null(strstr(s, "{sandbox=\""), "per-sandbox series left out");
    cr_assert_lt(len, 65536);
    free(s);
    hb_met_figs_free(&f);
}
