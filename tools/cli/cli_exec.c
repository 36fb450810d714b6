/* exec: POST /:id/exec as if the command ran here: its output streamed
 * (server-sent events) to our stdout and stderr as it is printed, its exit
 * code as ours. --json asks for the one JSON answer instead. */
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
    if (o->user)
        json_object_set_new(body, "user", json_string(o->user));
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

/* ---- streamed (server-sent events): output printed as it arrives ---- */

typedef cli_sse_t sse_t;

static int b64val(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Decodes base64 text in place; its length, or -1. */
static long b64_decode(char *s, size_t n)
{
    size_t out = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            s[out++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (long)out;
}

static void put_output(FILE *f, json_t *data)
{
    json_t *d = json_object_get(data, "data");
    const char *enc = json_string_value(json_object_get(data, "encoding"));
    if (!json_is_string(d))
        return;
    char *s = (char *)json_string_value(d);   /* decoded in place: ours alone */
    long n = (long)json_string_length(d);
    if (enc && strcmp(enc, "base64") == 0)
        n = b64_decode(s, (size_t)n);
    if (n > 0)
        fwrite(s, 1, (size_t)n, f);
    fflush(f);
}

static void on_event(sse_t *st, const char *name, const char *data)
{
    json_t *j = json_loads(data, 0, NULL);
    if (!j) {
        st->failed = true;
        return;
    }
    if (strcmp(name, "stdout") == 0) {
        put_output(stdout, j);
    } else if (strcmp(name, "stderr") == 0) {
        put_output(stderr, j);
    } else if (strcmp(name, "exit") == 0) {
        json_int_t c = json_integer_value(json_object_get(j, "exit_code"));
        st->code = c < 0 || c > 255 ? 255 : (int)c;
        notes(j);
    } else if (strcmp(name, "dropped") == 0) {
        fprintf(stderr, "hivebox: output from offset %lld to %lld is no longer kept (dropped)\n",
                (long long)json_integer_value(json_object_get(j, "from")),
                (long long)json_integer_value(json_object_get(j, "to")));
    } else if (strcmp(name, "end") == 0) {
        st->ended = true;
    } else if (strcmp(name, "error") == 0) {
        fprintf(stderr, "hivebox: %s\n", json_string_value(json_object_get(j, "error")));
        st->failed = true;
    }
    json_decref(j);
}

static void on_sse(void *ud, const char *name, char *data)
{
    on_event(ud, name, data);
}

int cli_sse_sink(void *ud, const void *p, size_t n)
{
    sse_t *st = ud;
    return cli_sse_feed(&st->frames, p, n, on_sse, st);
}

static int exec_streamed(const cli_opts_t *o, const char *path, const char *text)
{
    sse_t st = {.code = -1};
    cli_resp_t r;
    int rc = cli_http_events(o, path, text, cli_sse_sink, &st, &r);
    free(st.frames.buf);
    if (rc == 0 && r.status != 200) {
        cli_report_error(&r);
        rc = -1;
    } else if (rc == 0 && st.code < 0 && !st.failed) {
        fprintf(stderr, "hivebox: the output stream ended before the command's exit\n");
    }
    cli_resp_free(&r);
    return rc < 0 || st.code < 0 ? CLI_EXIT_EXEC_ERROR : st.code;
}

int cli_exec_in(const cli_opts_t *o, const char *id, bool as_run)
{
    char err[256], path[HB_ID_MAX + 40];
    json_t *body = exec_body(o, err, sizeof err);
    if (!body) {
        fprintf(stderr, "hivebox: %s\n", err);
        return as_run ? CLI_EXIT_EXEC_ERROR : CLI_EXIT_USAGE;
    }
    if (o->background)
        return cli_exec_background(o, id, body);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%.*s/exec", HB_ID_MAX - 1, id);
    if (text && !o->json) {     /* --json prints the one JSON answer */
        int code = exec_streamed(o, path, text);
        free(text);
        return code;
    }
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
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_EXEC | CLI_OPT_BG,
                            "exec ID [--timeout S] [--cwd D] [-u USER] [-e K=V]... [-i] [--json]\n"
                            "       [--background [--tag T]] -- CMD...", 1, 1,
                            true, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]))
        return CLI_EXIT_USAGE;
    return cli_exec_in(&o, o.pos[0], false);
}
