/* `hivebox pause ID`, `hivebox resume ID` (POST /api/v1/hiveboxes/ID/pause,
 * .../resume) and `hivebox keepalive ID SECONDS` (the same request as
 * `hivebox timeout`: the sandbox expires SECONDS from now). */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "runtime.h"

static int report(const cli_opts_t *o, const cli_resp_t *r)
{
    if (o->json) {
        fwrite(r->body ? r->body : "", 1, r->body ? r->len : 0, stdout);
        putchar('\n');
        return 0;
    }
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    const char *at = json_string_value(json_object_get(j, "expires_at"));
    printf("%s %s (expires at %s)\n", o->pos[0], st ? st : "?", at ? at : "?");
    json_decref(j);
    return 0;
}

/* what: "pause" or "resume". */
static int post(int argc, char **argv, const char *what, const char *usage)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, usage, 1, 1, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char path[HB_ID_MAX + 48];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/%s", o.pos[0], what);
    cli_resp_t r;
    if (cli_http(&o, "POST", path, "{}", &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = r.status == 200 ? report(&o, &r) : cli_report_error(&r);
    cli_resp_free(&r);
    return rc;
}

int cli_cmd_pause(int argc, char **argv)
{
    return post(argc, argv, "pause", "pause ID [--json]");
}

int cli_cmd_resume(int argc, char **argv)
{
    return post(argc, argv, "resume", "resume ID [--json]");
}

int cli_cmd_keepalive(int argc, char **argv)
{
    return cli_cmd_timeout(argc, argv);
}
