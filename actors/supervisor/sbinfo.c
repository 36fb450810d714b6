/* What the API shows about one sandbox, and the daemon's own counters that
 * must survive a restart (kept in a side file beside the record,
 * HB_SBDIR_COUNTERS). */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "egress.h"
#include "sbdir.h"

/* The names of its create env as a JSON array (never the values). */
static char *env_names(const hb_sandbox_t *sb)
{
    json_t *a = json_array();
    for (size_t i = 0; a && sb->env && sb->env[i]; i++) {
        const char *eq = strchr(sb->env[i], '=');
        size_t n = eq ? (size_t)(eq - sb->env[i]) : strlen(sb->env[i]);
        json_array_append_new(a, json_stringn(sb->env[i], n));
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

int hb_sbinfo_fill(hb_sbinfo_t *out, const hb_sandbox_t *sb, uint64_t commands_executed,
                   const hb_usage_t *usage)
{
    memset(out, 0, sizeof *out);
    const hb_spec_t *s = &sb->spec;
    out->created_at = sb->created_at;
    out->expires_at = sb->expires_at;
    out->memory_bytes = s->memory_bytes;
    out->cpus = s->cpus;
    out->pids = s->pids;
    out->disk_bytes = s->disk_bytes;
    out->commands_executed = commands_executed;
    if (usage) {
        out->has_usage = true;
        out->usage_memory_bytes = usage->memory_bytes;
        out->usage_memory_limit_bytes = usage->memory_limit_bytes;
        out->usage_cpu_ns = usage->cpu_usage_ns;
        out->usage_pids = usage->pids;
        out->usage_oom_kills = usage->oom_kills;
        out->usage_disk_bytes = usage->disk_bytes;
        out->usage_memory_peak_bytes = usage->memory_peak_bytes;
        out->usage_has_net = usage->has_net;
        out->usage_net_rx_bytes = usage->net_rx_bytes;
        out->usage_net_tx_bytes = usage->net_tx_bytes;
    }
    out->paused_at = sb->paused_at;   /* issue 17: set while paused */
    out->auto_resume = s->auto_resume;
    if (hb_str_set(&out->id, sb->id) < 0 ||
        hb_str_set(&out->status, sb->paused_at ? "paused" : "running") < 0 ||
        hb_str_set(&out->on_timeout, s->on_timeout_pause ? "pause" : "destroy") < 0 ||
        hb_str_set(&out->image, s->image) < 0 || hb_str_set(&out->memory, s->memory_str) < 0 ||
        hb_str_set(&out->disk, s->disk_str) < 0 ||
        hb_str_set(&out->network, hb_netmode_name(s->net_mode)) < 0 ||
        hb_str_set(&out->net_group, s->net_mode == HB_NET_SHARED ? s->net_group : "") < 0 ||
        (sb->ip[0] && hb_str_set(&out->net_ip, sb->ip) < 0) ||
        hb_str_set(&out->metadata, sb->metadata ? sb->metadata : "{}") < 0 ||
        !(out->env_names = env_names(sb)) ||
        hb_egress_get(sb, &out->egress, &out->egress_denied) < 0) {   /* issue 16 */
        hb_sbinfo_clear(out);
        return -1;
    }
    return 0;
}

uint64_t hb_counters_load(const hb_sandbox_t *sb)
{
    char path[2 * HB_HOSTPATH_MAX];
    int fd = hb_sbdir_file(path, sizeof path, sb->dir, HB_SBDIR_COUNTERS, NULL) == 0
                 ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd < 0)
        return 0;   /* a sandbox that never ran a command has none */
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    uint64_t v = 0;
    if (n > 0) {
        buf[n] = '\0';
        if (sscanf(buf, "commands_executed=%" SCNu64, &v) != 1)
            v = 0;
    }
    return v;
}

void hb_counters_save(const hb_sandbox_t *sb, uint64_t commands_executed)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "commands_executed=%" PRIu64 "\n", commands_executed);
    hb_err_t e = {0};
    if (hb_sandbox_put_file(sb, HB_SBDIR_COUNTERS, buf, (size_t)n, 0600, &e) < 0)
        HB_LOG_WARN("sandbox %s: cannot save counters: %s", sb->id, e.msg);
}
