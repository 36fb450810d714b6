/* The metrics actor's section of GET /metrics (see metrics_page.h). Names
 * follow Prometheus's conventions: hivebox_ prefix, base units (seconds,
 * bytes), _total on counters; the daemon's own figures use the standard
 * process_* names every client library exports, so stock dashboards work.
 * docs/observability.md lists every metric. */
#include "metrics_page.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hoststat.h"

#include "version.h"

static const char *const CAUSES[] = {HB_MET_CAUSES};
static const char *const REASONS[] = {HB_MET_REASONS};
static const char *const OUTCOMES[] = {HB_MET_OUTCOMES};
static const char *const STATES[] = {"creating", "running", "failed", "destroying", "paused"};
#define NSTATES (sizeof STATES / sizeof STATES[0])

/* A create or destroy takes tens of milliseconds here (seconds on a loaded
 * host or with a big disk pool); a command anything from 1 ms to an hour. */
static const double LIFECYCLE_S[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                     1,     2.5,  5,     10,   30,  60};
static const double EXEC_S[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,  0.25, 0.5,
                                1,     2.5,    5,     10,   30,    60,   300,  1800, 3600};
#define NB(a) (sizeof(a) / sizeof((a)[0]))

size_t hb_met_index(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return n - 1;
}

static void str_free(void **item)
{
    free(*item);
    *item = NULL;
}

static void usage_free(void **item)
{
    hb_met_usage_t *u = *item;
    if (u) {
        free(u->u.id);
        free(u);
    }
    *item = NULL;
}

int hb_met_figs_init(hb_met_figs_t *f)
{
    memset(f, 0, sizeof *f);
    f->states = zhashx_new();
    f->usage = zhashx_new();
    if (!f->states || !f->usage) {
        hb_met_figs_free(f);
        return -1;
    }
    zhashx_set_destructor(f->states, str_free);
    zhashx_set_destructor(f->usage, usage_free);
    hb_prom_hist_init(&f->create_s, LIFECYCLE_S, NB(LIFECYCLE_S));
    hb_prom_hist_init(&f->destroy_s, LIFECYCLE_S, NB(LIFECYCLE_S));
    hb_prom_hist_init(&f->exec_s, EXEC_S, NB(EXEC_S));
    return 0;
}

void hb_met_figs_free(hb_met_figs_t *f)
{
    zhashx_destroy(&f->states);
    zhashx_destroy(&f->usage);
}

void hb_met_figs_state(hb_met_figs_t *f, const char *id, const char *state)
{
    if (!id)
        return;
    if (!state) {
        zhashx_delete(f->states, id);
        zhashx_delete(f->usage, id);
        return;
    }
    char *s = strdup(state);
    if (s)
        zhashx_update(f->states, id, s);
}

static const char *outcome_of(const hb_msg_t *ev)
{
    if (ev->timed_out)
        return "timeout";
    if (ev->oom_killed)
        return "oom";
    return ev->exit_code ? "nonzero" : "ok";
}

void hb_met_figs_event(hb_met_figs_t *f, const hb_msg_t *ev)
{
    if (ev->type >= HB_MSG_EV_CREATED && ev->type < HB_MSG__COUNT)
        f->events[ev->type - HB_MSG_EV_CREATED]++;
    double secs = (double)ev->duration_ms / 1000.0;
    switch (ev->type) {
    case HB_MSG_EV_CREATED:
        f->creations++;
        hb_prom_hist_observe(&f->create_s, secs);
        break;
    case HB_MSG_EV_CREATE_FAILED:
        f->create_failures[hb_met_index(CAUSES, HB_MET_NCAUSES, ev->reason)]++;
        break;
    case HB_MSG_EV_DESTROYED:
        f->destructions[hb_met_index(REASONS, HB_MET_NREASONS, ev->reason)]++;
        if (!ev->reason || strcmp(ev->reason, "dead") != 0)
            hb_prom_hist_observe(&f->destroy_s, secs);
        break;
    case HB_MSG_EV_FAILED: f->deaths++; break;
    case HB_MSG_EV_OOM: f->oom_events++; break;
    case HB_MSG_EV_EXEC:
        f->execs[hb_met_index(OUTCOMES, HB_MET_NOUTCOMES, outcome_of(ev))]++;
        hb_prom_hist_observe(&f->exec_s, secs);
        break;
    default: break;
    }
}

/* ---- rendering ---- */

static void lifecycle(hb_prom_t *p, const hb_met_figs_t *f)
{
    size_t count[NSTATES] = {0};
    for (const char *s = zhashx_first(f->states); s; s = zhashx_next(f->states))
        for (size_t i = 0; i < NSTATES; i++)
            if (strcmp(s, STATES[i]) == 0)
                count[i]++;
    hb_prom_head(p, "hivebox_sandboxes", "gauge", "Sandboxes by state.");
    for (size_t i = 0; i < NSTATES; i++)
        hb_prom_one(p, "hivebox_sandboxes", "state", STATES[i], (double)count[i]);
    hb_prom_head(p, "hivebox_sandbox_creations_total", "counter", "Sandboxes created.");
    hb_prom_plain(p, "hivebox_sandbox_creations_total", (double)f->creations);
    hb_prom_head(p, "hivebox_sandbox_create_failures_total", "counter",
                 "Creates refused or failed, by cause.");
    for (size_t i = 0; i < HB_MET_NCAUSES; i++)
        hb_prom_one(p, "hivebox_sandbox_create_failures_total", "cause", CAUSES[i],
                    (double)f->create_failures[i]);
    hb_prom_head(p, "hivebox_sandbox_destructions_total", "counter",
                 "Sandboxes destroyed, by reason (dead: found unusable at daemon start).");
    for (size_t i = 0; i < HB_MET_NREASONS; i++)
        hb_prom_one(p, "hivebox_sandbox_destructions_total", "reason", REASONS[i],
                    (double)f->destructions[i]);
    hb_prom_head(p, "hivebox_sandbox_deaths_total", "counter",
                 "Sandboxes whose init died (status failed).");
    hb_prom_plain(p, "hivebox_sandbox_deaths_total", (double)f->deaths);
    hb_prom_hist(p, "hivebox_sandbox_create_duration_seconds",
                 "Time from a create request reaching the manager to the sandbox running.",
                 &f->create_s);
    hb_prom_hist(p, "hivebox_sandbox_destroy_duration_seconds",
                 "Time to destroy a sandbox (API and expiry).", &f->destroy_s);
}

static void execs(hb_prom_t *p, const hb_met_figs_t *f)
{
    hb_prom_head(p, "hivebox_execs_total", "counter",
                 "Commands run (REST and MCP exec), by outcome.");
    for (size_t i = 0; i < HB_MET_NOUTCOMES; i++)
        hb_prom_one(p, "hivebox_execs_total", "outcome", OUTCOMES[i], (double)f->execs[i]);
    hb_prom_hist(p, "hivebox_exec_duration_seconds", "Duration of commands run.", &f->exec_s);
}

typedef struct {
    const char *name, *type, *help;
} metric_t;

/* Per sandbox, one metric at a time (the format wants a metric's samples together). */
static const metric_t PER_SB[] = {
    {"hivebox_sandbox_cpu_seconds_total", "counter", "CPU time used by the sandbox."},
    {"hivebox_sandbox_memory_bytes", "gauge", "Memory used by the sandbox (its cgroup)."},
    {"hivebox_sandbox_memory_limit_bytes", "gauge", "The sandbox's memory limit."},
    {"hivebox_sandbox_memory_peak_bytes", "gauge", "The most memory the sandbox has used."},
    {"hivebox_sandbox_pids", "gauge", "Processes and threads in the sandbox."},
    {"hivebox_sandbox_oom_kills_total", "counter", "OOM kills in the sandbox."},
    {"hivebox_sandbox_network_receive_bytes_total", "counter",
     "Bytes received by the sandbox (sandboxes with an interface only)."},
    {"hivebox_sandbox_network_transmit_bytes_total", "counter",
     "Bytes sent by the sandbox (sandboxes with an interface only)."},
    {"hivebox_sandbox_disk_written_bytes", "gauge",
     "Bytes in the sandbox's writable layer."},
    {"hivebox_sandbox_disk_limit_bytes", "gauge", "The sandbox's disk quota."},
};
#define NPER (sizeof PER_SB / sizeof PER_SB[0])

/* Metric i of one sandbox; false when it has none (no interface). */
static bool per_sb_value(size_t i, const hb_sample_sb_t *u, double *v)
{
    switch (i) {
    case 0: *v = (double)u->cpu_ns / 1e9; return true;
    case 1: *v = (double)u->memory_bytes; return true;
    case 2: *v = (double)u->memory_limit_bytes; return true;
    case 3: *v = (double)u->memory_peak_bytes; return true;
    case 4: *v = (double)u->pids; return true;
    case 5: *v = (double)u->oom_kills; return true;
    case 6: *v = (double)u->net_rx_bytes; return u->has_net;
    case 7: *v = (double)u->net_tx_bytes; return u->has_net;
    case 8: *v = (double)u->disk_bytes; return true;
    default: *v = (double)u->disk_limit_bytes; return u->disk_limit_bytes > 0;
    }
}

/* A sandbox shows while the manager counts it and its supervisor reports:
 * a destroyed one is gone from the next scrape. */
static bool shown(const hb_met_figs_t *f, const hb_met_usage_t *u, int64_t now)
{
    const char *st = zhashx_lookup(f->states, u->u.id);
    return st && strcmp(st, "failed") != 0 && now - u->at <= f->stale_s;
}

static void per_sandbox(hb_prom_t *p, const hb_met_figs_t *f, int64_t now)
{
    for (size_t i = 0; i < NPER; i++) {
        hb_prom_head(p, PER_SB[i].name, PER_SB[i].type, PER_SB[i].help);
        for (const hb_met_usage_t *u = zhashx_first(f->usage); u; u = zhashx_next(f->usage)) {
            double v;
            if (shown(f, u, now) && per_sb_value(i, &u->u, &v))
                hb_prom_one(p, PER_SB[i].name, "sandbox", u->u.id, v);
        }
    }
}

static void host(hb_prom_t *p, const hb_met_figs_t *f)
{
    if (!f->last)
        return;
    hb_prom_head(p, "hivebox_host_memory_bytes", "gauge", "The host's MemTotal.");
    hb_prom_plain(p, "hivebox_host_memory_bytes", (double)f->last->host_memory_total);
    hb_prom_head(p, "hivebox_host_memory_used_bytes", "gauge",
                 "The host's MemTotal - MemAvailable (10 s sample).");
    hb_prom_plain(p, "hivebox_host_memory_used_bytes", (double)f->last->host_memory_used);
    hb_prom_head(p, "hivebox_host_cpu_utilization_ratio", "gauge",
                 "Busy share of all host CPUs, 0-1 (10 s sample).");
    hb_prom_plain(p, "hivebox_host_cpu_utilization_ratio", f->last->host_cpu_percent / 100.0);
}

static void events(hb_prom_t *p, const hb_met_figs_t *f)
{
    hb_prom_head(p, "hivebox_events_published_total", "counter",
                 "Events published on the ZeroMQ PUB feed, by topic.");
    for (size_t i = 0; i < HB_MET_NEVENTS; i++)
        hb_prom_one(p, "hivebox_events_published_total", "topic",
                    hb_msg_name((hb_msg_type_t)(HB_MSG_EV_CREATED + (int)i)), (double)f->events[i]);
    hb_prom_one(p, "hivebox_events_published_total", "topic", "metrics.sample",
                (double)f->samples_published);
    hb_prom_head(p, "hivebox_sandbox_oom_events_total", "counter",
                 "sandbox.oom events: OOM kills seen in any sandbox.");
    hb_prom_plain(p, "hivebox_sandbox_oom_events_total", (double)f->oom_events);
}

/* ---- the daemon process (/proc/self) ---- */

static uint64_t status_kb(const char *status, const char *key)
{
    const char *s = strstr(status, key);
    return s ? strtoull(s + strlen(key), NULL, 10) : 0;
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;
    if (!d)
        return 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;   /* not the one opendir holds */
}

/* utime+stime (fields 14, 15) and starttime (22) of /proc/self/stat, in ticks. */
static void self_stat(double *cpu_s, double *start_s)
{
    char buf[1024], st[16384];
    *cpu_s = *start_s = 0;
    if (hb_read_small_file("/proc/self/stat", buf, sizeof buf) <= 0)
        return;
    const char *s = strrchr(buf, ')');
    unsigned long long f[23] = {0};   /* f[i]: field i */
    int field = 2;                    /* ")" ends field 2 */
    for (const char *q = s ? s + 1 : buf; *q && field < 22; q++)
        if (*q == ' ')
            f[++field] = strtoull(q + 1, NULL, 10);
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(f[14] + f[15]) / hz;
    /* boot time (whole seconds, so the figure is the same every scrape) + starttime */
    const char *bt = hb_read_small_file("/proc/stat", st, sizeof st) > 0 ? strstr(st, "\nbtime ")
                                                                         : NULL;
    if (bt)
        *start_s = (double)strtoull(bt + 7, NULL, 10) + (double)f[22] / hz;
}

static void process(hb_prom_t *p)
{
    char status[4096];
    if (hb_read_small_file("/proc/self/status", status, sizeof status) <= 0)
        status[0] = '\0';
    double cpu, start;
    self_stat(&cpu, &start);
    hb_prom_head(p, "process_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
    hb_prom_plain(p, "process_resident_memory_bytes", (double)status_kb(status, "VmRSS:") * 1024);
    hb_prom_head(p, "process_virtual_memory_bytes", "gauge", "Virtual memory of the daemon.");
    hb_prom_plain(p, "process_virtual_memory_bytes", (double)status_kb(status, "VmSize:") * 1024);
    hb_prom_head(p, "process_open_fds", "gauge", "Open file descriptors of the daemon.");
    hb_prom_plain(p, "process_open_fds", (double)open_fds());
    hb_prom_head(p, "process_max_fds", "gauge", "The daemon's file descriptor limit.");
    hb_prom_plain(p, "process_max_fds", (double)sysconf(_SC_OPEN_MAX));
    hb_prom_head(p, "process_threads", "gauge", "Threads of the daemon.");
    hb_prom_plain(p, "process_threads", (double)status_kb(status, "Threads:"));
    hb_prom_head(p, "process_cpu_seconds_total", "counter", "CPU time of the daemon.");
    hb_prom_plain(p, "process_cpu_seconds_total", cpu);
    hb_prom_head(p, "process_start_time_seconds", "gauge",
                 "When the daemon started, unix seconds.");
    hb_prom_plain(p, "process_start_time_seconds", start);
    hb_prom_head(p, "hivebox_build_info", "gauge", "The daemon's version, as a label.");
    hb_prom_one(p, "hivebox_build_info", "version", HB_VERSION, 1);
}

char *hb_met_page(const hb_met_figs_t *f, int64_t now, bool per_sb, size_t *len)
{
    hb_prom_t p;
    hb_prom_init(&p);
    lifecycle(&p, f);
    execs(&p, f);
    if (per_sb)
        per_sandbox(&p, f, now);
    hb_prom_head(&p, "hivebox_metrics_sandbox_series_omitted", "gauge",
                 "1 when the per-sandbox series were left out: the page passed its size bound.");
    hb_prom_plain(&p, "hivebox_metrics_sandbox_series_omitted", per_sb ? 0 : 1);
    host(&p, f);
    events(&p, f);
    process(&p);
    return hb_prom_take(&p, len);
}
