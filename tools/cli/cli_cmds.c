/* create, list, get, destroy, run: one request each (run: three). */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define CREATE_FLAGS "[--name N] [--image I] [--memory M] [--cpus C] [--pids P] [--disk D] " \
                     "[--network none] [--timeout S] [--skills a,b] [--llm-base-url U] " \
                     "[--llm-api-key K] [--llm-model M] [--metadata K=V]... [--env K=V]..."

/* Exit code of a parse: 0 after --help, 2 after a usage error. */
static int parse_exit(int rc)
{
    return rc > 0 ? 0 : CLI_EXIT_USAGE;
}

static void print_raw(const cli_resp_t *r)
{
    size_t n = r->body ? r->len : 0;
    fwrite(r->body ? r->body : "", 1, n, stdout);
    if (n == 0 || r->body[n - 1] != '\n')
        putchar('\n');
}

/* POST the create body; on success *id is the new sandbox's id (malloc'd). */
static int do_create(const cli_opts_t *o, char **id, bool print)
{
    char err[256];
    char *body = cli_create_body(o, err, sizeof err);
    if (!body) {
        fprintf(stderr, "hivebox: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    cli_resp_t r;
    int rc = cli_http(o, "POST", "/api/v1/hiveboxes", body, &r);
    free(body);
    if (rc < 0)
        return CLI_EXIT_ERROR;
    if (r.status != 201 && r.status != 200) {
        rc = cli_report_error(&r);
        cli_resp_free(&r);
        return rc;
    }
    json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
    const char *s = json_string_value(json_object_get(j, "id"));
    *id = s ? strdup(s) : NULL;
    if (!*id)
        fprintf(stderr, "hivebox: the daemon's answer has no id\n");
    else if (print && o->json)
        print_raw(&r);
    else if (print)
        printf("%s\n", *id);
    json_decref(j);
    cli_resp_free(&r);
    return *id ? 0 : CLI_EXIT_ERROR;
}

int cli_cmd_create(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_CREATE, "create " CREATE_FLAGS, 0, 0, false, &o);
    if (prc != 0)
        return parse_exit(prc);
    char *id = NULL;
    int rc = do_create(&o, &id, true);
    free(id);
    return rc;
}

/* GET or DELETE one path; prints the body raw (--json) or via `human`. */
static int simple(const cli_opts_t *o, const char *method, const char *path,
                  int (*human)(const cli_resp_t *r))
{
    cli_resp_t r;
    if (cli_http(o, method, path, NULL, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = 0;
    if (r.status < 200 || r.status > 299)
        rc = cli_report_error(&r);
    else if (o->json || !human)
        print_raw(&r);
    else
        rc = human(&r);
    cli_resp_free(&r);
    return rc;
}

static int human_list(const cli_resp_t *r)
{
    if (cli_print_list(stdout, r->body ? r->body : "") == 0)
        return 0;
    fprintf(stderr, "hivebox: unexpected answer from the daemon\n");
    return CLI_EXIT_ERROR;
}

int cli_cmd_list(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, "list [--json]", 0, 0, false, &o);
    if (prc != 0)
        return parse_exit(prc);
    return simple(&o, "GET", "/api/v1/hiveboxes", human_list);
}

static int human_pretty(const cli_resp_t *r)
{
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    if (!j) {
        print_raw(r);
        return 0;
    }
    json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
    json_decref(j);
    return 0;
}

static int human_destroyed(const cli_resp_t *r)
{
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    const char *id = json_string_value(json_object_get(j, "id"));
    printf("%s destroyed\n", id ? id : "sandbox");
    json_decref(j);
    return 0;
}

static int one_id(int argc, char **argv, const char *usage, const char *method,
                  int (*human)(const cli_resp_t *r))
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, usage, 1, 1, false, &o);
    if (prc != 0)
        return parse_exit(prc);
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char path[HB_ID_MAX + 32];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s", o.pos[0]);
    return simple(&o, method, path, human);
}

int cli_cmd_get(int argc, char **argv)
{
    return one_id(argc, argv, "get ID [--json]", "GET", human_pretty);
}

int cli_cmd_destroy(int argc, char **argv)
{
    return one_id(argc, argv, "destroy ID [--json]", "DELETE", human_destroyed);
}

/* run = create, exec, destroy; the sandbox is destroyed whatever exec did. */
int cli_cmd_run(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_CREATE | CLI_OPT_EXEC,
                            "run " CREATE_FLAGS " [--cwd D] [-u USER] [-e K=V]... [-i] -- CMD...", 0, 0, true,
                            &o);
    if (prc != 0)
        return parse_exit(prc);
    char *id = NULL;
    int rc = do_create(&o, &id, false);
    if (rc != 0)
        return rc == CLI_EXIT_USAGE ? rc : CLI_EXIT_EXEC_ERROR;
    rc = cli_exec_in(&o, id, true);
    char path[HB_ID_MAX + 32];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%.*s", HB_ID_MAX - 1, id);
    cli_resp_t r;
    if (cli_http(&o, "DELETE", path, NULL, &r) < 0) {
        rc = CLI_EXIT_EXEC_ERROR;
    } else if (r.status < 200 || r.status > 299) {
        cli_report_error(&r);
        fprintf(stderr, "hivebox: sandbox %s was not destroyed\n", id);
        rc = CLI_EXIT_EXEC_ERROR;
    }
    cli_resp_free(&r);
    free(id);
    return rc;
}
