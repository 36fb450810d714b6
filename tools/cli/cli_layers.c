/* Issue 17 commands: `hivebox snapshot ID NAME`, `hivebox fork ID N
 * [--name PREFIX]`, `hivebox restore ID SNAPSHOT` (through the daemon), and
 * the `image list` table and `image rm NAME` (rm through the daemon, which
 * knows which sandboxes use an image; list reads the data dir). */
#include "cli.h"
#include "cli_layers.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_layer.h"
#include "runtime.h"

static int print_or_json(const cli_opts_t *o, const cli_resp_t *r, json_t *j, const char *text)
{
    if (o->json) {
        fwrite(r->body ? r->body : "", 1, r->body ? r->len : 0, stdout);
        putchar('\n');
    } else {
        printf("%s\n", text);
    }
    json_decref(j);
    return 0;
}

/* POST path with body; on expect, fmt(the answer) is the report. */
static int post(const cli_opts_t *o, const char *path, json_t *body, long expect,
                void (*fmt)(json_t *j, char *out, size_t len))
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!text)
        return CLI_EXIT_ERROR;
    cli_resp_t r;
    int rc = cli_http(o, "POST", path, text, &r);
    free(text);
    if (rc < 0)
        return CLI_EXIT_ERROR;
    if (r.status != expect) {
        rc = cli_report_error(&r);
    } else {
        json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
        char out[4096] = "";
        fmt(j, out, sizeof out);
        rc = print_or_json(o, &r, j, out);
    }
    cli_resp_free(&r);
    return rc;
}

static void fmt_snapshot(json_t *j, char *out, size_t len)
{
    snprintf(out, len, "image %s (parent %s): %lld ms, frozen %lld ms",
             json_string_value(json_object_get(j, "name")),
             json_string_value(json_object_get(j, "parent")),
             (long long)json_integer_value(json_object_get(j, "snapshot_ms")),
             (long long)json_integer_value(json_object_get(j, "frozen_ms")));
}

int cli_cmd_snapshot(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, "snapshot ID NAME [--json]", 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char path[HB_ID_MAX + 48];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/snapshots", o.pos[0]);
    return post(&o, path, json_pack("{s:s}", "name", o.pos[1]), 201, fmt_snapshot);
}

static void fmt_fork(json_t *j, char *out, size_t len)
{
    size_t used = 0, i;
    json_t *s;
    json_array_foreach(json_object_get(j, "sandboxes"), i, s) {
        int n = snprintf(out + used, len - used, "%s%s", i ? "\n" : "",
                         json_string_value(json_object_get(s, "id")));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

int cli_cmd_fork(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_CREATE, "fork ID N [--name PREFIX] [--memory M] "
                            "[--cpus C] [--pids P] [--disk D] [--network N] [--timeout S] "
                            "[--json]", 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char *end = NULL;
    errno = 0;
    long n = strtol(o.pos[1], &end, 10);
    if (errno || end == o.pos[1] || *end || n < 1) {
        fprintf(stderr, "hivebox fork: N: expected a positive integer, got '%.64s'\n", o.pos[1]);
        return CLI_EXIT_USAGE;
    }
    json_t *b = json_pack("{s:I}", "count", (json_int_t)n);   /* the bound: the daemon's 400 */
    const char *keys[] = {"name_prefix", "memory", "cpus", "pids", "disk", "network", "timeout"};
    const char *vals[] = {o.name, o.memory, o.cpus, o.pids, o.disk, o.network, o.timeout};
    for (size_t i = 0; b && i < sizeof keys / sizeof *keys; i++) {
        if (!vals[i])
            continue;
        json_t *v = i == 0 || i == 1 || i == 4 || i == 5 ? json_string(vals[i])
                                                         : json_loads(vals[i], JSON_DECODE_ANY, NULL);
        json_object_set_new(b, keys[i], v ? v : json_string(vals[i]));
    }
    char path[HB_ID_MAX + 48];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/fork", o.pos[0]);
    return post(&o, path, b, 201, fmt_fork);
}

static void fmt_restore(json_t *j, char *out, size_t len)
{
    snprintf(out, len, "%s restored", json_string_value(json_object_get(j, "id")));
}

int cli_cmd_restore(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, "restore ID SNAPSHOT [--json]", 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char path[HB_ID_MAX + 48];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/restore", o.pos[0]);
    return post(&o, path, json_pack("{s:s}", "snapshot", o.pos[1]), 200, fmt_restore);
}

/* argv: "rm" NAME [options] */
int cli_image_rm(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, "image rm NAME [--json]", 1, 1, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!hb_name_valid(o.pos[0])) {
        fprintf(stderr, "hivebox image rm: invalid image name '%.64s'\n", o.pos[0]);
        return CLI_EXIT_USAGE;
    }
    char path[HB_ID_MAX + 32];
    snprintf(path, sizeof path, "/api/v1/images/%s", o.pos[0]);
    cli_resp_t r;
    if (cli_http(&o, "DELETE", path, NULL, &r) < 0)
        return CLI_EXIT_ERROR;
    char text[HB_ID_MAX + 32];
    snprintf(text, sizeof text, "image %s removed", o.pos[0]);
    int rc = r.status == 200 ? print_or_json(&o, &r, NULL, text) : cli_report_error(&r);
    cli_resp_free(&r);
    return rc;
}

static json_t *image_json(const hb_imginfo_t *i)
{
    return json_pack("{s:s, s:o, s:s, s:I, s:I}", "name", i->name, "parent",
                     i->parent[0] ? json_string(i->parent) : json_null(), "kind", i->kind,
                     "size_bytes", (json_int_t)i->size_bytes, "created_at",
                     (json_int_t)i->created_at);
}

int cli_image_table(const hb_runtime_t *rt, bool json)
{
    hb_err_t e = {0};
    char **names;
    size_t n;
    if (hb_image_list(rt, &names, &n, &e) < 0) {
        fprintf(stderr, "hivebox: %s\n", e.msg);
        return CLI_EXIT_ERROR;
    }
    json_t *arr = json_array();
    if (!json)
        printf("%-24s %-24s %-9s %12s\n", "NAME", "PARENT", "KIND", "SIZE");
    for (size_t i = 0; i < n; i++) {
        hb_imginfo_t info;
        if (hb_image_info(rt, names[i], &info) < 0)
            continue;
        if (json)
            json_array_append_new(arr, image_json(&info));
        else
            printf("%-24s %-24s %-9s %12llu\n", info.name, info.parent[0] ? info.parent : "-",
                   info.kind, (unsigned long long)info.size_bytes);
    }
    if (json) {
        json_t *root = json_pack("{s:o, s:I}", "images", arr, "total", (json_int_t)n);
        json_dumpf(root, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(root);
    } else {
        json_decref(arr);
    }
    hb_strv_free(names, n);
    return 0;
}
