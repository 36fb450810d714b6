/* hb_proc_*: background processes through the sandbox's init (the proc_*
 * requests, schemas/init-protocol.md "Processes"). One-shot requests here;
 * the streams (output, attach, watch) are proc_stream.c. */
#include "proc_wire.h"
#include "initmsg.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROC_TIMEOUT_MS   10000   /* init answers these at once */
#define INPUT_TIMEOUT_MS  15000   /* init gives a reader 10 s, then says EAGAIN */
#define LIST_HARD_MAX     1024    /* init keeps 64; more is init misbehaving */
#define START_FRAME_OVERHEAD 1024

void hb_proc_info_clear(hb_proc_info_t *p)
{
    free(p->command);
    p->command = NULL;
}

void hb_proc_infos_free(hb_proc_info_t *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        hb_proc_info_clear(&v[i]);
    free(v);
}

/* ---- validation ---- */

static int check_tag(const char *tag, hb_err_t *e)
{
    size_t n = strnlen(tag, HB_TAG_MAX + 1), digits = 0;
    if (n == 0 || n > HB_TAG_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "tag: must be 1 to %d characters", HB_TAG_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = tag[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return hb_fail(e, HB_E_INVALID, 0, "tag: only A-Z a-z 0-9 . _ - are allowed");
        digits += ch >= '0' && ch <= '9';
    }
    if (digits == n)
        return hb_fail(e, HB_E_INVALID, 0, "tag: must not be all digits (that is a pid)");
    if (strcmp(tag, "kill-all") == 0)
        return hb_fail(e, HB_E_INVALID, 0, "tag: \"kill-all\" is reserved");
    return 0;
}

int hb_proc_sel_check(const hb_proc_sel_t *sel, hb_err_t *e)
{
    if (sel->pid > 0)
        return 0;
    if (!sel->tag)
        return hb_fail(e, HB_E_INVALID, 0, "process: a pid or a tag is needed");
    return check_tag(sel->tag, e);
}

/* env: NAME=value strings, counted into *n; their bytes added to *total. */
static int check_env(char *const *env, size_t *n, size_t *total, hb_err_t *e)
{
    for (*n = 0; env && env[*n]; (*n)++) {
        const char *kv = env[*n], *eq = strchr(kv, '=');
        size_t len = strnlen(kv, HB_ENVSTR_MAX + 1);
        if (*n >= HB_ENV_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_ENV_MAX);
        if (!eq || eq == kv)
            return hb_fail(e, HB_E_INVALID, 0, "env: entry %zu must be NAME=value", *n);
        if (len > HB_ENVSTR_MAX)
            return hb_fail(e, HB_E_TOOBIG, 0, "env: entry %zu is longer than %u bytes", *n,
                           HB_ENVSTR_MAX);
        *total += len + 8;
    }
    return 0;
}

static int check_start(const hb_proc_req_t *r, size_t *nenv, hb_err_t *e)
{
    const char *why;
    if (!r->command || !r->command[0] || strnlen(r->command, HB_CMD_MAX + 1) > HB_CMD_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "command: missing, empty or longer than %u bytes",
                       HB_CMD_MAX);
    if (r->cwd && hb_path_check(r->cwd, &why) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "cwd: %s", why);
    if (r->user && (!r->user[0] || strnlen(r->user, HB_USER_MAX + 1) > HB_USER_MAX))
        return hb_fail(e, HB_E_INVALID, 0, "user: empty or longer than %u bytes", HB_USER_MAX);
    if (r->tag && check_tag(r->tag, e) < 0)
        return -1;
    if ((r->cols || r->rows) && (r->cols < 1 || r->cols > HB_PTY_DIM_MAX || r->rows < 1 ||
                                 r->rows > HB_PTY_DIM_MAX))
        return hb_fail(e, HB_E_INVALID, 0, "pty: cols and rows must each be 1..%d",
                       HB_PTY_DIM_MAX);
    size_t total = strlen(r->command) + (r->cwd ? strlen(r->cwd) : 0);
    if (check_env(r->env, nenv, &total, e) < 0)
        return -1;
    if (total + START_FRAME_OVERHEAD > HB_FRAME_MAX)
        return hb_fail(e, HB_E_TOOBIG, 0, "command, cwd and env: %zu bytes together, over "
                       "the %u a request to the sandbox may carry", total,
                       HB_FRAME_MAX - START_FRAME_OVERHEAD);
    return 0;
}

/* ---- errors ---- */

hb_errcode_t hb_proc_errcode(hb_initop_t op, int err)
{
    switch (err) {
    case ESRCH:
        return HB_E_NOTFOUND;
    case EEXIST:
        return HB_E_EXISTS;
    case EAGAIN:   /* 64 running, stdin unread for 10 s; or a process's 16 followers */
        return op == HB_OP_PROC_OUTPUT || op == HB_OP_PROC_ATTACH ? HB_E_LIMIT : HB_E_UNAVAIL;
    case EPIPE: case ENOTTY: case EBUSY:
        return HB_E_CONFLICT;
    case ENOENT: case ENOTDIR: case EACCES: case ELOOP: case ENAMETOOLONG: case EINVAL:
    case EPERM: case E2BIG:
        return op == HB_OP_PROC_START || err == EINVAL ? HB_E_INVALID : HB_E_INTERNAL;
    default:
        return hb_init_errcode(err);
    }
}

int hb_proc_fail_set(const hb_initans_t *a, hb_initop_t op, hb_err_t *e)
{
    if (a->t != HB_ANS_ERR)
        return hb_init_unexpected(a, hb_initop_name(op), e);
    if (a->err == EBUSY && op == HB_OP_PROC_ATTACH)
        return hb_fail(e, HB_E_CONFLICT, EBUSY, "taken over by another client");
    return hb_fail(e, hb_proc_errcode(op, (int)a->err), (int)a->err, "%s", a->msg);
}

/* ---- the `proc` answer ---- */

int hb_proc_info_from(const hb_initans_t *a, hb_proc_info_t *p)
{
    memset(p, 0, sizeof *p);
    p->pid = (int)a->pid;
    snprintf(p->tag, sizeof p->tag, "%.*s", (int)a->tag.len, a->tag.ptr ? a->tag.ptr : "");
    snprintf(p->user, sizeof p->user, "%.*s", (int)a->user.len,
             a->user.ptr ? a->user.ptr : "");
    if (!p->user[0])
        snprintf(p->user, sizeof p->user, "root");
    p->command = strndup(a->cmd.ptr ? a->cmd.ptr : "", a->cmd.len);
    if (!p->command)
        return -1;
    p->started_at_ms = a->started_at;
    p->ended_at_ms = a->ended_at;
    p->exit_code = (int)a->code;
    p->term_signal = (int)a->signal;
    p->timed_out = a->timed_out;
    p->cols = (unsigned)a->cols;
    p->rows = (unsigned)a->rows;
    p->stdin_open = a->stdin_open;
    p->first = a->first <= a->off ? a->first : a->off;   /* init is not trusted */
    p->off = a->off;
    p->seq = a->seq;
    return 0;
}

void hb_proc_sel_put(hb_initreq_t *q, const hb_proc_sel_t *sel)
{
    if (sel->pid > 0)
        q->pid = sel->pid;
    else
        q->tag = (hb_initstr_t){sel->tag, strlen(sel->tag)};
}

/* One request, one final answer. */
static int simple(const hb_sandbox_t *sb, const hb_initreq_t *q, hb_ansty_t want,
                  hb_initans_t *a, int tmo, hb_err_t *e)
{
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, q, e) < 0)
        return -1;
    int rc = hb_initconn_next(&c, a, tmo, e);
    if (rc == 0 && a->t != want)
        rc = hb_proc_fail_set(a, q->op, e);
    hb_initconn_close(&c);
    return rc;
}

/* ---- requests ---- */

int hb_proc_start(const hb_sandbox_t *sb, const hb_proc_req_t *req, hb_proc_info_t *out,
                  hb_err_t *e)
{
    size_t nenv = 0;
    memset(out, 0, sizeof *out);
    hb_proc_req_t r = *req;   /* with the sandbox's own env merged in */
    const char **env = NULL;
    if (hb_sandbox_env(sb, (const char *const *)req->env, &env, e) < 0)
        return -1;
    r.env = (char *const *)env;
    hb_sandbox_cmd_defaults(sb, &r.cwd, &r.user);   /* the image's WorkingDir and User */
    req = &r;
    if (check_start(req, &nenv, e) < 0) {
        free(env);
        return -1;
    }
    hb_initreq_t q = {
        .op = HB_OP_PROC_START,
        .cmd = {req->command, strlen(req->command)},
        .cwd = req->cwd,
        .env = {.v = (const char *const *)req->env, .n = nenv},
        .user = {req->user, req->user ? strlen(req->user) : 0},
        .tag = {req->tag, req->tag ? strlen(req->tag) : 0},
        .keep_stdin = req->keep_stdin,
        .cols = req->cols,
        .rows = req->rows,
        .timeout_ms = req->timeout_ms,
        .hold = req->hold,
    };
    hb_initconn_t c;
    int started = hb_initconn_start(&c, sb, &q, e);
    free(env);   /* packed and sent (or not): no longer needed */
    if (started < 0)
        return -1;
    hb_initans_t a;
    int rc = hb_initconn_next(&c, &a, PROC_TIMEOUT_MS, e);
    /* An init older than proc_start does not know the op. */
    if (rc == 0 && a.t == HB_ANS_ERR && a.err == EINVAL &&
        (strcmp(a.msg, "bad request: op") == 0 || strcmp(a.msg, "unknown op") == 0))
        rc = hb_fail(e, HB_E_NOTSUP, EINVAL, "this sandbox's init predates background "
                     "processes (it was started by an older HiveBox); recreate the sandbox");
    else if (rc == 0 && a.t != HB_ANS_PROC)
        rc = hb_proc_fail_set(&a, q.op, e);
    if (rc == 0 && hb_proc_info_from(&a, out) < 0)
        rc = hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    hb_initconn_close(&c);
    return rc;
}

static int list_add(hb_proc_info_t **v, size_t *n, size_t *cap, const hb_initans_t *a,
                    hb_err_t *e)
{
    if (*n >= LIST_HARD_MAX)
        return hb_fail(e, HB_E_INTERNAL, EPROTO, "proc_list: init listed over %d processes",
                       LIST_HARD_MAX);
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        hb_proc_info_t *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        *v = nv;
        *cap = nc;
    }
    if (hb_proc_info_from(a, &(*v)[*n]) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    (*n)++;
    return 0;
}

static int list_read(hb_initconn_t *c, hb_proc_info_t **v, size_t *n, hb_err_t *e)
{
    size_t cap = 0;
    for (;;) {
        hb_initans_t a;
        if (hb_initconn_next(c, &a, PROC_TIMEOUT_MS, e) < 0)
            return -1;
        if (a.t == HB_ANS_END)
            return 0;
        if (a.t != HB_ANS_PROC)
            return hb_proc_fail_set(&a, HB_OP_PROC_LIST, e);
        if (list_add(v, n, &cap, &a, e) < 0)
            return -1;
    }
}

int hb_proc_list(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_proc_info_t **v,
                 size_t *n, hb_err_t *e)
{
    *v = NULL;
    *n = 0;
    hb_initreq_t q = {.op = HB_OP_PROC_LIST};
    if (sel && hb_proc_sel_check(sel, e) < 0)
        return -1;
    if (sel)
        hb_proc_sel_put(&q, sel);
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, &q, e) < 0)
        return -1;
    int rc = list_read(&c, v, n, e);
    hb_initconn_close(&c);
    if (rc == 0 && sel && *n == 0)
        rc = hb_fail(e, HB_E_NOTFOUND, ESRCH, "no such process");
    if (rc < 0) {
        hb_proc_infos_free(*v, *n);
        *v = NULL;
        *n = 0;
    }
    return rc;
}

int hb_proc_input(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, const void *data, size_t len,
                  bool close, hb_err_t *e)
{
    if (hb_proc_sel_check(sel, e) < 0)
        return -1;
    if (len > HB_STDIN_MAX)
        return hb_fail(e, HB_E_TOOBIG, 0, "stdin: over %u bytes", HB_STDIN_MAX);
    hb_initreq_t q = {.op = HB_OP_PROC_INPUT, .stdin = {data, len}, .close = close};
    hb_proc_sel_put(&q, sel);
    hb_initans_t a;
    if (simple(sb, &q, HB_ANS_OK, &a, INPUT_TIMEOUT_MS, e) < 0)
        return e && e->sys_errno == EPIPE
               ? hb_fail(e, HB_E_CONFLICT, EPIPE, "stdin: the process's stdin is not open "
                         "(started without stdin, or closed)")
               : -1;
    if ((a.has & HB_IAF_BIT(size)) && a.size != len)
        return hb_fail(e, HB_E_INTERNAL, EIO, "stdin: init wrote %llu of %zu bytes",
                       (unsigned long long)a.size, len);
    return 0;
}

int hb_proc_signal(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, int sig, hb_err_t *e)
{
    if (hb_proc_sel_check(sel, e) < 0)
        return -1;
    if (sig < 1 || sig > HB_SIG_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "signal: must be 1..%d", HB_SIG_MAX);
    hb_initreq_t q = {.op = HB_OP_PROC_SIGNAL, .sig = sig};
    hb_proc_sel_put(&q, sel);
    hb_initans_t a;
    return simple(sb, &q, HB_ANS_OK, &a, PROC_TIMEOUT_MS, e);
}

int hb_proc_resize(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, unsigned cols,
                   unsigned rows, hb_err_t *e)
{
    if (hb_proc_sel_check(sel, e) < 0)
        return -1;
    if (cols < 1 || cols > HB_PTY_DIM_MAX || rows < 1 || rows > HB_PTY_DIM_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "cols/rows: each must be 1..%d", HB_PTY_DIM_MAX);
    hb_initreq_t q = {.op = HB_OP_PROC_RESIZE, .cols = cols, .rows = rows};
    hb_proc_sel_put(&q, sel);
    hb_initans_t a;
    if (simple(sb, &q, HB_ANS_OK, &a, PROC_TIMEOUT_MS, e) < 0)
        return e && e->sys_errno == ENOTTY
               ? hb_fail(e, HB_E_CONFLICT, ENOTTY, "resize: the process has no terminal")
               : -1;
    return 0;
}

int hb_proc_forget(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_err_t *e)
{
    if (hb_proc_sel_check(sel, e) < 0)
        return -1;
    hb_initreq_t q = {.op = HB_OP_PROC_FORGET};
    hb_proc_sel_put(&q, sel);
    hb_initans_t a;
    return simple(sb, &q, HB_ANS_OK, &a, PROC_TIMEOUT_MS, e);
}
