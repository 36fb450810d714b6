/* `hivebox timeout ID SECONDS`: POST /api/v1/hiveboxes/ID/timeout. The
 * sandbox then expires SECONDS from now (set, not added: it may shorten). */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime.h"

#define USAGE "timeout ID SECONDS [--json]"

static int report(const cli_opts_t *o, const cli_resp_t *r)
{
    if (o->json) {
        fwrite(r->body ? r->body : "", 1, r->body ? r->len : 0, stdout);
        putchar('\n');
        return 0;
    }
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *at = json_string_value(json_object_get(j, "expires_at"));
    printf("%s expires at %s\n", o->pos[0], at ? at : "?");
    json_decref(j);
    return 0;
}

int cli_cmd_timeout(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, USAGE, 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char *end = NULL;
    errno = 0;
    long long s = strtoll(o.pos[1], &end, 10);
    if (errno || end == o.pos[1] || *end || s < 0) {
        fprintf(stderr, "hivebox timeout: SECONDS: expected a positive integer, got '%.64s'\n"
                "usage: hivebox " USAGE "\n", o.pos[1]);
        return CLI_EXIT_USAGE;
    }
    char path[HB_ID_MAX + 48], body[48];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/timeout", o.pos[0]);
    snprintf(body, sizeof body, "{\"timeout\":%lld}", s);   /* range: the daemon's 400 */
    cli_resp_t r;
    if (cli_http(&o, "POST", path, body, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = r.status == 200 ? report(&o, &r) : cli_report_error(&r);
    cli_resp_free(&r);
    return rc;
}
