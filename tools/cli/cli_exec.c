/* exec: POST /:id/exec and replay the answer as if the command had run
 * here: stdout to stdout, stderr to stderr, its exit code as ours. */
#include "cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

/* The daemon takes up to 1 MiB of stdin, as a JSON (UTF-8) string. */
#define STDIN_MAX (1024u * 1024)

static json_t *read_stdin(char *err, size_t errlen)
{
    char *buf = malloc(STDIN_MAX + 1);
    size_t n = buf ? fread(buf, 1, STDIN_MAX + 1, stdin) : 0;
    json_t *s = NULL;
    if (!buf)
        snprintf(err, errlen, "out of memory");
    else if (ferror(stdin))
        snprintf(err, errlen, "reading stdin failed");
    else if (n > STDIN_MAX)
        snprintf(err, errlen, "stdin is over 1 MiB (use cp for files)");
    else if (!(s = json_stringn(buf, n)))
        snprintf(err, errlen, "stdin is not UTF-8 text (use cp for binary data)");
    free(buf);
    return s;
}

static json_t *exec_body(const cli_opts_t *o, char *err, size_t errlen)
{
    char *cmd = cli_join_cmd(o->n_cmd, o->cmd);
    json_t *body = json_object();
    json_t *c = cmd ? json_string(cmd) : NULL;
    free(cmd);
    if (!c) {
        snprintf(err, errlen, "the command is not valid UTF-8");
        json_decref(body);
        return NULL;
    }
    json_object_set_new(body, "command", c);
    if (o->timeout) {
        char *end = NULL;
        long long t = strtoll(o->timeout, &end, 10);
        if (end == o->timeout || *end || t < 0) {
            snprintf(err, errlen, "--timeout: expected seconds, got '%.64s'", o->timeout);
            json_decref(body);
            return NULL;
        }
        json_object_set_new(body, "timeout", json_integer(t));
    }
    if (o->cwd)
        json_object_set_new(body, "cwd", json_string(o->cwd));
    if (o->send_stdin) {
        json_t *in = read_stdin(err, errlen);
        if (!in) {
            json_decref(body);
            return NULL;
        }
        json_object_set_new(body, "stdin", in);
    }
    if (o->n_env > 0) {
        json_t *env = json_object();
        for (size_t i = 0; i < o->n_env; i++) {
            const char *eq = strchr(o->env[i], '=');
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq - o->env[i]), o->env[i]);
            json_object_set_new(env, key, json_string(eq + 1));
        }
        json_object_set_new(body, "env", env);
    }
    return body;
}

static void put_stream(json_t *res, const char *key, FILE *f)
{
    json_t *v = json_object_get(res, key);
    if (json_is_string(v))
        fwrite(json_string_value(v), 1, json_string_length(v), f);
    fflush(f);
}

static void notes(json_t *res)
{
    if (json_is_true(json_object_get(res, "timed_out")))
        fprintf(stderr, "hivebox: the command timed out and was killed\n");
    if (json_is_true(json_object_get(res, "oom_killed")))
        fprintf(stderr, "hivebox: the command was killed: out of memory\n");
    if (json_is_true(json_object_get(res, "stdout_truncated")))
        fprintf(stderr, "hivebox: stdout was truncated\n");
    if (json_is_true(json_object_get(res, "stderr_truncated")))
        fprintf(stderr, "hivebox: stderr was truncated\n");
}

static int replay(const cli_opts_t *o, const cli_resp_t *r)
{
    json_t *res = json_loads(r->body ? r->body : "", 0, NULL);
    json_t *code = json_object_get(res, "exit_code");
    if (!json_is_integer(code)) {
        fprintf(stderr, "hivebox: unexpected answer from the daemon\n");
        json_decref(res);
        return CLI_EXIT_EXEC_ERROR;
    }
    if (o->json) {
        fwrite(r->body, 1, r->len, stdout);
        putchar('\n');
    } else {
        put_stream(res, "stdout", stdout);
        put_stream(res, "stderr", stderr);
        notes(res);
    }
    json_int_t c = json_integer_value(code);
    json_decref(res);
    return c < 0 || c > 255 ? 255 : (int)c;
}

int cli_exec_in(const cli_opts_t *o, const char *id, bool as_run)
{
    char err[256], path[HB_ID_MAX + 40];
    json_t *body = exec_body(o, err, sizeof err);
    if (!body) {
        fprintf(stderr, "hivebox: %s\n", err);
        return as_run ? CLI_EXIT_EXEC_ERROR : CLI_EXIT_USAGE;
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%.*s/exec", HB_ID_MAX - 1, id);
    cli_resp_t r;
    int rc = text ? cli_http(o, "POST", path, text, &r) : -1;
    free(text);
    if (rc < 0)
        return CLI_EXIT_EXEC_ERROR;
    if (r.status != 200) {
        cli_report_error(&r);
        rc = CLI_EXIT_EXEC_ERROR;
    } else {
        rc = replay(o, &r);
    }
    cli_resp_free(&r);
    return rc;
}

int cli_cmd_exec(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_EXEC,
                            "exec ID [--timeout S] [--cwd D] [-e K=V]... [-i] [--json] -- CMD...", 1, 1,
                            true, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    return cli_exec_in(&o, o.pos[0], false);
}
