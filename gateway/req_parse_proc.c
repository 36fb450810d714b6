/* POST /:id/processes: the body of a background process. The fields it
 * shares with exec (command, cwd, env, user, timeout) are parsed by
 * req_parse.c's exec code, so both validate them alike; the rest here.
 * Pure, like req_parse.c. */
#include "req_parse.h"

#include "initmsg.h"   /* HB_SIG_MAX */
#include "proc.h"      /* hb_signal_parse */

#include <stdio.h>
#include <string.h>

static int x_tag(json_t *v, hb_proc_extra_t *x, hb_err_t *e)
{
    if (!json_is_string(v))
        return hb_fail(e, HB_E_INVALID, 0, "tag: expected a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v), digits = strspn(s, "0123456789");
    if (n == 0 || n >= sizeof x->tag || strlen(s) != n)
        return hb_fail(e, HB_E_INVALID, 0, "tag: must be 1 to %zu characters",
                       sizeof x->tag - 1);
    if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return hb_fail(e, HB_E_INVALID, 0, "tag: only A-Z a-z 0-9 . _ - are allowed");
    if (digits == n)
        return hb_fail(e, HB_E_INVALID, 0, "tag: must not be all digits (that is a pid)");
    if (strcmp(s, "kill-all") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "tag: \"kill-all\" is reserved");
    snprintf(x->tag, sizeof x->tag, "%s", s);
    return 0;
}

int hb_req_signal(const json_t *v)
{
    if (json_is_string(v))
        return hb_signal_parse(json_string_value(v));
    json_int_t n = json_integer_value(v);
    return json_is_integer(v) && n >= 1 && n <= HB_SIG_MAX ? (int)n : -1;
}

int hb_req_pty_dim(const json_t *o, const char *key, unsigned *out)
{
    const json_t *v = json_object_get(o, key);
    json_int_t n = json_integer_value(v);
    if (!json_is_integer(v) || n < 1 || n > HB_PTY_DIM_MAX)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int dim(json_t *o, const char *key, unsigned *out, hb_err_t *e)
{
    if (hb_req_pty_dim(o, key, out) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "pty.%s: must be an integer from 1 to %d", key,
                       HB_PTY_DIM_MAX);
    return 0;
}

static int x_pty(json_t *v, hb_proc_extra_t *x, hb_err_t *e)
{
    if (!json_is_object(v))
        return hb_fail(e, HB_E_INVALID, 0, "pty: expected {\"cols\": N, \"rows\": N}");
    const char *k;
    json_t *val;
    json_object_foreach(v, k, val) {
        if (strcmp(k, "cols") != 0 && strcmp(k, "rows") != 0)
            return hb_fail(e, HB_E_INVALID, 0, "pty.%.32s: unknown field", k);
    }
    if (dim(v, "cols", &x->cols, e) < 0 || dim(v, "rows", &x->rows, e) < 0)
        return -1;
    return 0;
}

static int proc_field(const char *key, json_t *v, hb_msg_t *q, void *ud, hb_err_t *e)
{
    hb_proc_extra_t *x = ud;
    if (strcmp(key, "stream") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "stream: unknown field (follow the output with "
                       "GET .../processes/:pid/output?follow=1)");
    if (json_is_null(v) && strcmp(key, "command") != 0)
        return 0;
    if (strcmp(key, "tag") == 0)
        return x_tag(v, x, e);
    if (strcmp(key, "pty") == 0)
        return x_pty(v, x, e);
    if (strcmp(key, "stdin") == 0) {
        if (!json_is_boolean(v))
            return hb_fail(e, HB_E_INVALID, 0, "stdin: expected true or false (keep stdin "
                           "open for POST .../stdin)");
        x->keep_stdin = json_is_true(v);
        return 0;
    }
    int stream = -1;
    return hb_req_exec_field(key, v, q, &stream, e);
}

int hb_req_parse_proc(const char *body, size_t len, hb_msg_t *q, hb_proc_extra_t *x,
                      hb_err_t *e)
{
    memset(x, 0, sizeof *x);
    return hb_req_parse_command(body, len, q, proc_field, x, e);
}
