/* process.proto's requests into HiveBox's process calls (e2b_proc.h).
 * Pure: no daemon state. Unknown members are ignored, as Connect's JSON
 * codec does (newer SDKs may send fields this envd version lacks). */
#include "e2b_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_cx.h"
#include "path.h"

/* ---- argv <-> command ---- */

#define QUOTE_PREFIX "exec"

/* A JSON string without NUL bytes: its text, else NULL. */
static const char *plain_string(const json_t *v)
{
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* Append ' word' single-quoted ('\'' for a quote); -1 past cap. */
static int put_word(char *buf, size_t cap, size_t *at, const char *w)
{
    size_t n = *at;
    if (n + 3 >= cap)
        return -1;
    buf[n++] = ' ';
    buf[n++] = '\'';
    for (; *w; w++) {
        if (n + 6 >= cap)
            return -1;
        if (*w == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *w;
        }
    }
    buf[n++] = '\'';
    buf[n] = '\0';
    *at = n;
    return 0;
}

char *hb_e2b_cmd_quote(const json_t *cmd, const json_t *args, hb_err_t *e)
{
    const char *c = plain_string(cmd);
    if (!c || !c[0]) {
        hb_fail(e, HB_E_INVALID, 0, "process.cmd: required, a string without NUL bytes");
        return NULL;
    }
    if (args && !json_is_null(args) && !json_is_array(args)) {
        hb_fail(e, HB_E_INVALID, 0, "process.args: expected an array of strings");
        return NULL;
    }
    char *buf = malloc(HB_CMD_MAX);
    size_t at = strlen(QUOTE_PREFIX);
    if (!buf) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    memcpy(buf, QUOTE_PREFIX, at + 1);
    int rc = put_word(buf, HB_CMD_MAX, &at, c);
    size_t i;
    const json_t *a;
    json_array_foreach(args, i, a) {
        const char *w = plain_string(a);
        if (!w) {
            free(buf);
            hb_fail(e, HB_E_INVALID, 0, "process.args[%zu]: expected a string without NUL bytes",
                    i);
            return NULL;
        }
        if (rc == 0)
            rc = put_word(buf, HB_CMD_MAX, &at, w);
    }
    if (rc < 0) {
        free(buf);
        hb_fail(e, HB_E_INVALID, 0, "process.args: the command line is longer than %u bytes",
                HB_CMD_MAX);
        return NULL;
    }
    return buf;
}

/* One quoted word at *p (after its space) appended to a; -1 when the text
 * is not what put_word writes. */
static int take_word(const char **p, json_t *a)
{
    const char *s = *p;
    if (*s != '\'')
        return -1;
    size_t cap = strlen(s) + 1, n = 0;
    char *w = malloc(cap);
    if (!w)
        return -1;
    for (s++;;) {
        if (*s == '\0') {
            free(w);
            return -1;
        }
        if (strncmp(s, "'\\''", 4) == 0) {
            w[n++] = '\'';
            s += 4;
        } else if (*s == '\'') {
            s++;
            break;
        } else {
            w[n++] = *s++;
        }
    }
    w[n] = '\0';
    int rc = json_array_append_new(a, json_string(w));
    free(w);
    if (*s != '\0' && *s != ' ')
        return -1;
    *p = *s ? s + 1 : s;
    return rc;
}

int hb_e2b_cmd_split(const char *command, json_t **cmd, json_t **args)
{
    json_t *words = json_array();
    const char *p = command ? command : "";
    int rc = strncmp(p, QUOTE_PREFIX " '", strlen(QUOTE_PREFIX) + 2) == 0 ? 0 : -1;
    if (rc == 0)
        p += strlen(QUOTE_PREFIX) + 1;
    while (rc == 0 && *p)
        rc = take_word(&p, words);
    if (rc < 0 || json_array_size(words) == 0) {
        json_array_clear(words);
        json_array_append_new(words, json_string("/bin/sh"));
        json_array_append_new(words, json_string("-c"));
        json_array_append_new(words, json_string(command ? command : ""));
    }
    *cmd = json_incref(json_array_get(words, 0));
    json_array_remove(words, 0);
    *args = words;
    return 0;
}

/* ---- StartRequest ---- */

static int parse_envs(const json_t *envs, hb_e2b_start_t *s, hb_err_t *e)
{
    if (!envs || json_is_null(envs))
        return 0;
    if (!json_is_object(envs))
        return hb_fail(e, HB_E_INVALID, 0, "process.envs: expected an object of strings");
    if (json_object_size(envs) > HB_ENV_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "process.envs: more than %d variables", HB_ENV_MAX);
    s->env = calloc(json_object_size(envs) + 1, sizeof *s->env);
    if (!s->env)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    size_t i = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)envs, key, v) {
        const char *val = plain_string(v);
        if (!key[0] || strchr(key, '=') || !val)
            return hb_fail(e, HB_E_INVALID, 0, "process.envs.%.64s: a name without '=' and "
                           "a string value without NUL bytes", key);
        if (strlen(key) + strlen(val) + 2 > HB_ENVSTR_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "process.envs.%.64s: longer than %u bytes", key,
                           HB_ENVSTR_MAX);
        if (asprintf(&s->env[i], "%s=%s", key, val) < 0) {
            s->env[i] = NULL;
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        }
        i++;
    }
    return 0;
}

static int pty_dim(const json_t *size, const char *key, unsigned *out, hb_err_t *e)
{
    int64_t v = 0;
    if (hb_pb_get_int64(size, key, 0, &v) < 0 || v < 1 || v > HB_PTY_DIM_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "pty.size.%s: an integer from 1 to %d", key,
                       HB_PTY_DIM_MAX);
    *out = (unsigned)v;
    return 0;
}

int hb_e2b_pty_size(const json_t *pty, unsigned *cols, unsigned *rows, hb_err_t *e)
{
    if (!pty || json_is_null(pty))
        return 0;
    const json_t *size = json_object_get(pty, "size");
    if (!json_is_object(pty) || !json_is_object(size))
        return hb_fail(e, HB_E_INVALID, 0, "pty.size: required, {\"cols\", \"rows\"}");
    if (pty_dim(size, "cols", cols, e) < 0 || pty_dim(size, "rows", rows, e) < 0)
        return -1;
    return 1;
}

static int parse_tag(const json_t *tag, hb_e2b_start_t *s, hb_err_t *e)
{
    if (!tag || json_is_null(tag))
        return 0;
    const char *t = plain_string(tag);
    size_t n = t ? strlen(t) : 0;
    if (!t || n == 0 || n > HB_TAG_MAX ||
        strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n ||
        strspn(t, "0123456789") == n || strcmp(t, "kill-all") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "tag: 1 to %d of A-Z a-z 0-9 . _ -, not all digits",
                       HB_TAG_MAX);
    snprintf(s->tag, sizeof s->tag, "%s", t);
    s->req.tag = s->tag;
    return 0;
}

static int parse_process(const hb_e2b_call_t *k, const json_t *p, hb_e2b_start_t *s,
                         hb_err_t *e)
{
    if (!json_is_object(p))
        return hb_fail(e, HB_E_INVALID, 0, "process: required, {\"cmd\", \"args\", ...}");
    s->command = hb_e2b_cmd_quote(json_object_get(p, "cmd"), json_object_get(p, "args"), e);
    if (!s->command || parse_envs(json_object_get(p, "envs"), s, e) < 0)
        return -1;
    const json_t *cwd = json_object_get(p, "cwd");
    if (cwd && !json_is_null(cwd) && !(json_is_string(cwd) && json_string_length(cwd) == 0)) {
        const char *c = plain_string(cwd);
        if (!c)
            return hb_fail(e, HB_E_INVALID, 0, "process.cwd: expected a path");
        s->cwd = hb_e2b_path(k, c, "process.cwd", e);
        if (!s->cwd)
            return -1;
    }
    return 0;
}

int hb_e2b_start_parse(const hb_e2b_call_t *k, const json_t *msg, int64_t timeout_ms,
                       hb_e2b_start_t *s, hb_err_t *e)
{
    memset(s, 0, sizeof *s);
    const json_t *in = json_object_get(msg, "stdin");
    if (in && !json_is_null(in) && !json_is_boolean(in))
        return hb_fail(e, HB_E_INVALID, 0, "stdin: expected true or false");
    if (parse_process(k, json_object_get(msg, "process"), s, e) < 0 ||
        hb_e2b_pty_size(json_object_get(msg, "pty"), &s->req.cols, &s->req.rows, e) < 0 ||
        parse_tag(json_object_get(msg, "tag"), s, e) < 0) {
        hb_e2b_start_clear(s);
        return -1;
    }
    s->req.command = s->command;
    s->req.cwd = s->cwd;
    s->req.env = s->env;
    s->req.user = k->user;
    /* a PTY's input is the terminal; without one, stdin is open only when asked */
    s->req.keep_stdin = json_is_true(in) || s->req.cols > 0;
    s->req.timeout_ms = timeout_ms <= 0 ? 0 : timeout_ms > UINT32_MAX ? UINT32_MAX
                                                                       : (uint32_t)timeout_ms;
    return 0;
}

void hb_e2b_start_clear(hb_e2b_start_t *s)
{
    for (size_t i = 0; s->env && s->env[i]; i++)
        free(s->env[i]);
    free(s->env);
    free(s->command);
    free(s->cwd);
    memset(s, 0, sizeof *s);
}

/* ---- selectors, signals, bytes ---- */

int hb_e2b_selector(const json_t *msg, hb_proc_sel_t *sel, hb_err_t *e)
{
    const json_t *p = json_object_get(msg, "process");
    const json_t *tag = json_object_get(p, "tag");
    int64_t pid = 0;
    sel->pid = 0;
    sel->tag = NULL;
    if (!json_is_object(p))
        return hb_fail(e, HB_E_INVALID, 0, "process: required, {\"pid\"} or {\"tag\"}");
    if (tag && !json_is_null(tag)) {
        sel->tag = plain_string(tag);
        if (!sel->tag || !sel->tag[0] || strlen(sel->tag) > HB_TAG_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "process.tag: 1 to %d characters", HB_TAG_MAX);
        return 0;
    }
    if (hb_pb_get_int64(p, "pid", 0, &pid) < 0 || pid < 1 || pid > INT32_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "process.pid: required, a pid (or give a tag)");
    sel->pid = (int)pid;
    return 0;
}

int hb_e2b_signal(const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strcmp(s, "SIGNAL_SIGKILL") == 0)
            return SIGKILL;
        if (strcmp(s, "SIGNAL_SIGTERM") == 0)
            return SIGTERM;
        return strncmp(s, "SIGNAL_", 7) == 0 ? 0 : -1;
    }
    if (!json_is_integer(v))
        return -1;
    json_int_t n = json_integer_value(v);
    return n == SIGKILL || n == SIGTERM ? (int)n : 0;
}

int hb_e2b_bytes(const json_t *o, const char *key, size_t max, unsigned char **out, size_t *n,
                 hb_err_t *e)
{
    const json_t *v = json_object_get(o, key);
    *out = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) ||
        hb_b64_decode(json_string_value(v), json_string_length(v), max, out, n) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "%s: base64 of at most %zu bytes", key, max);
    return 1;
}
