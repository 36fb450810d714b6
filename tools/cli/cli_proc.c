/* Background processes: ps, logs [-f], kill [-s], exec --background. Each
 * is a client of .../processes (README "Processes"). */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define SEL_MAX 72   /* a pid or a tag (64), URL-safe by its alphabet */

static int parse_exit(int rc)
{
    return rc > 0 ? 0 : CLI_EXIT_USAGE;
}

/* A pid or a tag: what the API accepts in the URL; prints why not. */
static bool sel_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > 0 && n <= 64 &&
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n)
        return true;
    fprintf(stderr, "hivebox: '%.64s' is neither a pid nor a tag\n", s);
    return false;
}

static void proc_path(char *buf, size_t len, const char *id, const char *sel, const char *tail)
{
    snprintf(buf, len, "/api/v1/hiveboxes/%.*s/processes%s%.*s%s", HB_ID_MAX - 1, id,
             sel ? "/" : "", SEL_MAX, sel ? sel : "", tail);
}

/* ---- ps ---- */

static void ps_row(json_t *p)
{
    char code[16] = "-";
    json_t *ec = json_object_get(p, "exit_code");
    if (json_is_integer(ec))
        snprintf(code, sizeof code, "%lld", (long long)json_integer_value(ec));
    const char *tag = json_string_value(json_object_get(p, "tag"));
    const char *started = json_string_value(json_object_get(p, "started_at"));
    printf("%-7lld %-16s %-8s %-5s %-10s %-20s %s\n",
           (long long)json_integer_value(json_object_get(p, "pid")), tag ? tag : "-",
           json_string_value(json_object_get(p, "state")) ?: "?", code,
           json_string_value(json_object_get(p, "user")) ?: "?", started ? started : "-",
           json_string_value(json_object_get(p, "command")) ?: "");
}

int cli_cmd_ps(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, "ps ID [--json]", 1, 1, false, &o);
    if (prc != 0)
        return parse_exit(prc);
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    char path[256];
    proc_path(path, sizeof path, o.pos[0], NULL, "");
    cli_resp_t r;
    if (cli_http(&o, "GET", path, NULL, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = 0;
    json_t *j = r.status == 200 ? json_loads(r.body ? r.body : "", 0, NULL) : NULL;
    json_t *list = json_object_get(j, "processes");
    if (r.status != 200) {
        rc = cli_report_error(&r);
    } else if (!json_is_array(list)) {
        fprintf(stderr, "hivebox: unexpected answer from the daemon\n");
        rc = CLI_EXIT_ERROR;
    } else if (o.json) {
        printf("%s\n", r.body);
    } else {
        printf("%-7s %-16s %-8s %-5s %-10s %-20s %s\n", "PID", "TAG", "STATE", "EXIT", "USER",
               "STARTED", "COMMAND");
        for (size_t i = 0; i < json_array_size(list); i++)
            ps_row(json_array_get(list, i));
    }
    json_decref(j);
    cli_resp_free(&r);
    return rc;
}

/* ---- logs ---- */

int cli_cmd_logs(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_FOLLOW, "logs ID PID|TAG [-f]", 2, 2, false, &o);
    if (prc != 0)
        return parse_exit(prc);
    if (!cli_id_ok(o.pos[0]) || !sel_ok(o.pos[1]))
        return CLI_EXIT_USAGE;
    char path[256];
    proc_path(path, sizeof path, o.pos[0], o.pos[1],
              o.follow ? "/output?offset=0&follow=1" : "/output?offset=0");
    cli_sse_t st = {.code = -1};
    cli_resp_t r;
    int rc = cli_http_stream(&o, path, false, cli_sse_sink, &st, &r);
    free(st.frames.buf);
    bool incomplete = st.failed || (st.code < 0 && !st.ended);
    if (rc == 0 && r.status != 200)
        rc = cli_report_error(&r);
    else if (rc < 0 || incomplete)
        rc = CLI_EXIT_ERROR;
    cli_resp_free(&r);
    return rc;
}

/* ---- kill ---- */

int cli_cmd_kill(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_SIGNAL, "kill ID PID|TAG [-s SIGNAL]", 2, 2,
                            false, &o);
    if (prc != 0)
        return parse_exit(prc);
    if (!cli_id_ok(o.pos[0]) || !sel_ok(o.pos[1]))
        return CLI_EXIT_USAGE;
    const char *sig = o.signal ? o.signal : "TERM";
    json_t *body = strspn(sig, "0123456789") == strlen(sig) && sig[0]
                   ? json_pack("{s:i}", "signal", atoi(sig)) : json_pack("{s:s}", "signal", sig);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    char path[256];
    proc_path(path, sizeof path, o.pos[0], o.pos[1], "/signal");
    cli_resp_t r;
    int rc = text ? cli_http(&o, "POST", path, text, &r) : -1;
    free(text);
    if (rc < 0)
        return CLI_EXIT_ERROR;
    rc = r.status == 200 ? 0 : cli_report_error(&r);
    if (rc == 0 && o.json)
        printf("%s\n", r.body ? r.body : "{}");
    cli_resp_free(&r);
    return rc;
}

/* ---- exec --background ---- */

/* exec -i gave the text to send: the process keeps stdin open for it, then
 * it is written and closed. */
static int send_stdin(const cli_opts_t *o, const char *id, const char *pid, const char *text)
{
    char path[256];
    cli_resp_t r;
    proc_path(path, sizeof path, id, pid, "/stdin");
    if (cli_http(o, "POST", path, text, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = r.status == 200 ? 0 : cli_report_error(&r);
    cli_resp_free(&r);
    proc_path(path, sizeof path, id, pid, "/stdin/close");
    if (rc == 0 && cli_http(o, "POST", path, "", &r) == 0) {
        rc = r.status == 200 ? 0 : cli_report_error(&r);
        cli_resp_free(&r);
    }
    return rc;
}

static int started(const cli_opts_t *o, const char *id, const cli_resp_t *r, const char *in)
{
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
    json_t *pid = json_object_get(j, "pid");
    int rc = 0;
    if (!json_is_integer(pid)) {
        fprintf(stderr, "hivebox: unexpected answer from the daemon\n");
        rc = CLI_EXIT_EXEC_ERROR;
    } else {
        char p[24];
        snprintf(p, sizeof p, "%lld", (long long)json_integer_value(pid));
        if (in && send_stdin(o, id, p, in) != 0)
            rc = CLI_EXIT_EXEC_ERROR;
        if (o->json)
            printf("%s\n", r->body);
        else
            printf("%s\n", p);
    }
    json_decref(j);
    return rc;
}

int cli_exec_background(const cli_opts_t *o, const char *id, void *body_)
{
    json_t *body = body_;   /* ours: exec's body, reshaped for a process */
    char *in = NULL;
    json_t *s = json_object_get(body, "stdin");
    if (json_is_string(s))
        in = strdup(json_string_value(s));
    json_object_set_new(body, "stdin", json_boolean(in != NULL));
    if (o->tag)
        json_object_set_new(body, "tag", json_string(o->tag));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char path[256];
    proc_path(path, sizeof path, id, NULL, "");
    cli_resp_t r;
    int rc = text ? cli_http(o, "POST", path, text, &r) : -1;
    free(text);
    if (rc < 0) {
        free(in);
        return CLI_EXIT_EXEC_ERROR;
    }
    if (r.status != 201)
        rc = cli_report_error(&r) ? CLI_EXIT_EXEC_ERROR : 0;
    else
        rc = started(o, id, &r, in);
    free(in);
    cli_resp_free(&r);
    return rc;
}
