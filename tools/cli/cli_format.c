/* Human output of the CLI: the `list` table and its durations. */
#include "cli.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

void cli_fmt_duration(int64_t secs, char *buf, size_t len)
{
    static const struct { const char *unit; int64_t secs; } U[] = {
        {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1},
    };
    if (secs < 0) {
        snprintf(buf, len, "-");
        return;
    }
    if (secs == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    /* The two most significant units are enough to read at a glance. */
    for (size_t i = 0; i < 4; i++) {
        if (secs < U[i].secs)
            continue;
        int64_t a = secs / U[i].secs, rest = secs % U[i].secs;
        int64_t b = i < 3 ? rest / U[i + 1].secs : 0;
        if (b > 0)
            snprintf(buf, len, "%" PRId64 "%s%" PRId64 "%s", a, U[i].unit, b, U[i + 1].unit);
        else
            snprintf(buf, len, "%" PRId64 "%s", a, U[i].unit);
        return;
    }
}

static int64_t int_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

static const char *str_field(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_object(v))   /* network may come as {mode, ip} */
        v = json_object_get(v, "mode");
    return json_is_string(v) ? json_string_value(v) : "-";
}

int cli_print_list(FILE *out, const char *json_text)
{
    json_t *root = json_loads(json_text, 0, NULL);
    json_t *arr = json_object_get(root, "sandboxes");
    if (!json_is_array(arr)) {
        json_decref(root);
        return -1;
    }
    fprintf(out, "%-24s %-10s %-8s %-8s %-6s %s\n", "ID", "STATUS", "UPTIME", "TTL", "CMDS",
            "NETWORK");
    size_t i;
    json_t *sb;
    json_array_foreach(arr, i, sb) {
        char up[32], ttl[32], cmds[24];
        cli_fmt_duration(int_field(sb, "uptime_seconds"), up, sizeof up);
        cli_fmt_duration(int_field(sb, "ttl_seconds"), ttl, sizeof ttl);
        int64_t n = int_field(sb, "commands_executed");
        if (n < 0)
            snprintf(cmds, sizeof cmds, "-");
        else
            snprintf(cmds, sizeof cmds, "%" PRId64, n);
        fprintf(out, "%-24s %-10s %-8s %-8s %-6s %s\n", str_field(sb, "id"),
                str_field(sb, "status"), up, ttl, cmds, str_field(sb, "network"));
    }
    json_decref(root);
    return 0;
}
