/* Actor replies -> API JSON (see json_out.h). */
#include "json_out.h"
#include "gw_network.h"

#include <stdlib.h>
#include <string.h>

#include "opencode_conf.h"
#include "runtime.h"
#include "textutil.h"

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *time_str(int64_t t)
{
    char buf[HB_RFC3339_LEN];
    return json_string(hb_rfc3339(t, buf, sizeof buf));
}

static json_t *network_obj(const hb_sbinfo_t *s)
{
    json_t *n = json_pack("{s:s, s:o}", "mode", s->network ? s->network : "none", "ip",
                          str_or_null(s->net_ip));
    if (n && s->net_group && s->net_group[0])
        json_object_set_new(n, "group", json_string(s->net_group));
    return n;
}

static json_t *limits_obj(const hb_sbinfo_t *s)
{
    return json_pack("{s:s, s:f, s:I, s:s}", "memory", s->memory ? s->memory : "", "cpus",
                     s->cpus, "pids", (json_int_t)s->pids, "disk", s->disk ? s->disk : "");
}

/* The agent's proxy base path, while OpenCode is enabled (the seed). */
static json_t *with_opencode_url(json_t *j, const char *id, bool opencode)
{
    if (j && id && opencode) {
        char url[HB_ID_MAX + 48];
        hb_oc_url(url, sizeof url, id);
        json_object_set_new(j, "opencode_url", json_string(url));
    }
    return j;
}

/* metadata (an object) and env_names (an array): the supervisor's JSON
 * text; {} and [] when missing. Never an env value. */
static json_t *with_extras(json_t *j, const hb_sbinfo_t *s)
{
    if (!j)
        return NULL;
    json_t *m = s->metadata ? json_loads(s->metadata, 0, NULL) : NULL;
    json_t *n = s->env_names ? json_loads(s->env_names, 0, NULL) : NULL;
    json_object_set_new(j, "metadata", json_is_object(m) ? m : json_object());
    json_object_set_new(j, "env_names", json_is_array(n) ? n : json_array());
    if (!json_is_object(m))
        json_decref(m);
    if (!json_is_array(n))
        json_decref(n);
    return j;
}

/* issue 17: auto_resume and on_timeout as set at create; paused_at while
 * paused. */
static json_t *with_pause(json_t *j, const hb_sbinfo_t *s)
{
    if (!j)
        return NULL;
    json_object_set_new(j, "auto_resume", json_boolean(s->auto_resume));
    json_object_set_new(j, "on_timeout", json_string(s->on_timeout ? s->on_timeout : "destroy"));
    if (s->paused_at)
        json_object_set_new(j, "paused_at", time_str(s->paused_at));
    return j;
}

json_t *hb_json_created(const hb_sbinfo_t *s, bool opencode)
{
    return with_pause(with_extras(with_opencode_url(json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", s->id ? s->id : "",
                     "status", s->status ? s->status : "running", "image",
                     s->image ? s->image : "", "created_at", time_str(s->created_at), "network",
                     network_obj(s), "limits", limits_obj(s), "expires_at",
                     time_str(s->expires_at)), s->id, opencode), s), s);
}

/* A failed sandbox (its init died) says why and since when. */
static json_t *with_failure(json_t *j, const hb_sbinfo_t *s)
{
    if (j && s->failure && s->failure[0]) {
        json_object_set_new(j, "failure_reason", json_string(s->failure));
        json_object_set_new(j, "failed_at", time_str(s->failed_at));
    }
    return j;
}

static json_int_t since(int64_t now, int64_t t) { return now > t ? (json_int_t)(now - t) : 0; }
static json_int_t until(int64_t now, int64_t t) { return t > now ? (json_int_t)(t - now) : 0; }

json_t *hb_json_sandbox(const hb_sbinfo_t *s, int64_t now, bool opencode)
{
    json_t *j = with_failure(hb_json_created(s, opencode), s);
    if (!j)
        return NULL;
    json_object_set_new(j, "uptime_seconds", json_integer(since(now, s->created_at)));
    json_object_set_new(j, "ttl_seconds", json_integer(until(now, s->expires_at)));
    json_object_set_new(j, "commands_executed", json_integer((json_int_t)s->commands_executed));
    if (s->egress)   /* issue 16: its egress policy (gw_network.c) */
        json_object_set_new(j, "egress", hb_json_egress(s->egress, s->egress_denied));
    if (s->has_usage)
        json_object_set_new(
            j, "usage",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "memory_bytes",
                      (json_int_t)s->usage_memory_bytes, "memory_limit_bytes",
                      (json_int_t)s->usage_memory_limit_bytes, "cpu_usage_ns",
                      (json_int_t)s->usage_cpu_ns, "pids", (json_int_t)s->usage_pids,
                      "oom_kills", (json_int_t)s->usage_oom_kills, "disk_bytes",
                      (json_int_t)s->usage_disk_bytes, "disk_limit_bytes",
                      (json_int_t)s->disk_bytes));
    return j;
}

/* One row of the list. ip and pids are there so that a table (the
 * dashboard's) needs no request per row. */
json_t *hb_json_list_item(const hb_sbinfo_t *s, int64_t now, bool opencode)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:f, s:I, s:s, s:s, s:I, s:o, s:I}",
                          "id", s->id ? s->id : "", "status", s->status ? s->status : "running",
                          "image", s->image ? s->image : "", "uptime_seconds",
                          since(now, s->created_at), "ttl_seconds", until(now, s->expires_at),
                          "memory", s->memory ? s->memory : "", "cpus", s->cpus,
                          "commands_executed", (json_int_t)s->commands_executed, "network",
                          s->network ? s->network : "none", "disk", s->disk ? s->disk : "",
                          "disk_bytes", (json_int_t)s->usage_disk_bytes, "ip",
                          str_or_null(s->net_ip), "pids", (json_int_t)s->pids);
    return with_pause(with_extras(with_failure(with_opencode_url(o, s->id, opencode), s), s), s);
}

json_t *hb_json_list(const hb_sbinfo_t *s, size_t n, int64_t now, bool opencode)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, hb_json_list_item(&s[i], now, opencode));
    return json_pack("{s:o, s:I}", "sandboxes", arr, "total", (json_int_t)n);
}

static json_t *text_of(const hb_bin_t *b)
{
    size_t n = 0;
    char *t = hb_utf8_sanitize(b->data ? b->data : "", b->data ? b->len : 0, &n);
    if (!t)
        return NULL;
    json_t *s = json_stringn_nocheck(t, n);   /* just made valid */
    free(t);
    return s;
}

/* Paths are bytes; a non-UTF-8 name is shown with U+FFFD. */
static json_t *name_of(const char *s)
{
    hb_bin_t b = {(void *)(s ? s : ""), s ? strlen(s) : 0};
    return text_of(&b);
}

json_t *hb_json_entries(const hb_msg_t *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->entries_n; i++) {
        const hb_entry_t *en = &r->entries[i];
        json_t *o = json_pack("{s:o, s:o, s:s}", "name", name_of(en->name), "path",
                              name_of(en->path), "entry_type",
                              en->entry_type ? en->entry_type : "other");
        if (o && en->entry_type && strcmp(en->entry_type, "file") == 0)
            json_object_set_new(o, "size", json_integer((json_int_t)en->size));
        if (o && en->has_meta)
            json_object_update_new(o, json_pack("{s:I, s:I, s:I, s:I}", "mode",
                                                (json_int_t)en->mode, "mtime",
                                                (json_int_t)en->mtime, "uid", (json_int_t)en->uid,
                                                "gid", (json_int_t)en->gid));
        json_array_append_new(arr, o);
    }
    json_t *j = json_pack("{s:o, s:o, s:I}", "path", name_of(r->path), "entries", arr, "total",
                          (json_int_t)r->entries_n);
    if (j && r->truncated)
        json_object_set_new(j, "truncated", json_true());
    return j;
}

static json_t *count_or_null(bool have, uint64_t v)
{
    return have ? json_integer((json_int_t)v) : json_null();
}

/* The figures of a sandbox that GET .../stats and each analytics sample
 * share (docs/observability.md, "Per-sandbox stats"). */
static json_t *sb_figures(const hb_sample_sb_t *u, int64_t now)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "id",
                     u->id ? u->id : "", "memory_bytes", (json_int_t)u->memory_bytes,
                     "memory_limit_bytes", (json_int_t)u->memory_limit_bytes,
                     "memory_peak_bytes", (json_int_t)u->memory_peak_bytes, "cpu_percent",
                     u->cpu_percent, "cpu_seconds", (double)u->cpu_ns / 1e9, "pids",
                     (json_int_t)u->pids, "oom_kills", (json_int_t)u->oom_kills, "disk_bytes",
                     (json_int_t)u->disk_bytes, "disk_limit_bytes",
                     (json_int_t)u->disk_limit_bytes, "net_rx_bytes",
                     count_or_null(u->has_net, u->net_rx_bytes), "net_tx_bytes",
                     count_or_null(u->has_net, u->net_tx_bytes), "uptime_seconds",
                     u->created_at ? since(now, u->created_at) : 0);
}

json_t *hb_json_stats(const hb_sbinfo_t *a, const hb_sbinfo_t *b, int64_t window_ms, int64_t now)
{
    double cpu = 0.0;
    if (window_ms > 0 && b->usage_cpu_ns >= a->usage_cpu_ns)
        cpu = (double)(b->usage_cpu_ns - a->usage_cpu_ns) / 1e6 / (double)window_ms * 100.0;
    hb_sample_sb_t u = {.id = b->id, .memory_bytes = b->usage_memory_bytes,
                        .memory_limit_bytes = b->usage_memory_limit_bytes, .cpu_percent = cpu,
                        .pids = b->usage_pids, .disk_bytes = b->usage_disk_bytes,
                        .disk_limit_bytes = b->disk_bytes, .cpu_ns = b->usage_cpu_ns,
                        .memory_peak_bytes = b->usage_memory_peak_bytes,
                        .oom_kills = b->usage_oom_kills, .has_net = b->usage_has_net,
                        .net_rx_bytes = b->usage_net_rx_bytes,
                        .net_tx_bytes = b->usage_net_tx_bytes, .created_at = b->created_at};
    json_t *j = sb_figures(&u, now);
    if (j) {
        json_object_set_new(j, "timestamp", time_str(now));
        json_object_set_new(j, "cpu_window_ms", json_integer((json_int_t)window_ms));
        json_object_set_new(j, "cpus", json_real(b->cpus));
        json_object_set_new(j, "pids_limit", json_integer((json_int_t)b->pids));
    }
    return j;
}

json_t *hb_json_sample(const hb_sample_t *s)
{
    json_t *sbs = json_array();
    for (size_t i = 0; sbs && i < s->sandboxes_n; i++)
        json_array_append_new(sbs, sb_figures(&s->sandboxes[i], s->timestamp));
    return json_pack("{s:I, s:I, s:o, s:I, s:I, s:f}", "timestamp", (json_int_t)s->timestamp,
                     "sandbox_count", (json_int_t)s->sandbox_count, "sandboxes", sbs,
                     "host_memory_total", (json_int_t)s->host_memory_total, "host_memory_used",
                     (json_int_t)s->host_memory_used, "host_cpu_percent", s->host_cpu_percent);
}

json_t *hb_json_samples(const hb_msg_t *r, int interval_s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->samples_n; i++)
        json_array_append_new(arr, hb_json_sample(&r->samples[i]));
    return json_pack("{s:o, s:i}", "samples", arr, "interval_secs", interval_s);
}

json_t *hb_json_error(const char *msg)
{
    size_t n = 0;
    char *t = hb_utf8_sanitize(msg ? msg : "error", msg ? strlen(msg) : 5, &n);
    json_t *j = t ? json_pack("{s:s%}", "error", t, n) : NULL;
    free(t);
    return j;
}

char *hb_json_text(const json_t *j, size_t *len)
{
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(12));
    if (t && len)
        *len = strlen(t);
    return t;
}
