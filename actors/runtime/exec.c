/* hb_exec / hb_exec_collect: run a command through the sandbox's init. */
#include "initclient.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_GRACE_MS 15000   /* after timeout_ms, init must have answered */
#define EXEC_FRAME_OVERHEAD 1024   /* keys, lengths and numbers around the strings */

static int check_req(const hb_exec_req_t *r, size_t *nenv, hb_err_t *e)
{
    const char *why;
    if (!r->command || strnlen(r->command, HB_CMD_MAX + 1) > HB_CMD_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "command: missing or longer than %u bytes",
                       HB_CMD_MAX);
    if (r->cwd && hb_path_check(r->cwd, &why) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "cwd: %s", why);
    if (r->user && (!r->user[0] || strnlen(r->user, HB_USER_MAX + 1) > HB_USER_MAX))
        return hb_fail(e, HB_E_INVALID, 0, "user: empty or longer than %u bytes", HB_USER_MAX);
    if (r->stdin_len > HB_STDIN_MAX || (r->stdin_len && !r->stdin_data))
        return hb_fail(e, HB_E_TOOBIG, 0, "stdin: over %u bytes", HB_STDIN_MAX);
    if (r->out_cap > HB_OUT_CAP_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "out_cap: too large");
    /* All of it goes to init in one frame: what does not fit is refused
     * here, by name, rather than as a frame too large. */
    size_t n = 0, total = strlen(r->command) + (r->cwd ? strlen(r->cwd) : 0) + r->stdin_len;
    for (; r->env && r->env[n]; n++) {
        const char *kv = r->env[n], *eq = strchr(kv, '=');
        size_t len = strnlen(kv, HB_ENVSTR_MAX + 1);
        if (n >= HB_ENV_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "env: more than %d variables", HB_ENV_MAX);
        if (!eq || eq == kv)
            return hb_fail(e, HB_E_INVALID, 0, "env: entry %zu must be NAME=value", n);
        if (len > HB_ENVSTR_MAX)
            return hb_fail(e, HB_E_TOOBIG, 0, "env: entry %zu is longer than %u bytes", n,
                           HB_ENVSTR_MAX);
        total += len + 8;
    }
    if (total + EXEC_FRAME_OVERHEAD > HB_FRAME_MAX)
        return hb_fail(e, HB_E_TOOBIG, 0, "command, cwd, env and stdin: %zu bytes together, "
                       "over the %u a request to the sandbox may carry", total,
                       HB_FRAME_MAX - EXEC_FRAME_OVERHEAD);
    *nenv = n;
    return 0;
}

static void pack_req(msgpack_packer *pk, const hb_exec_req_t *r, size_t nenv)
{
    hb_initreq_t q = {
        .op = r->user ? HB_OP_EXEC_AS : HB_OP_EXEC,
        .cmd = {r->command, strlen(r->command)},
        .user = {r->user, r->user ? strlen(r->user) : 0},
        .cwd = r->cwd,
        .env = {.v = r->env, .n = nenv},
        .stdin = {r->stdin_data, r->stdin_len},
        .timeout_ms = r->timeout_ms,
        .out_cap = r->out_cap ? r->out_cap : HB_DEFAULT_OUT_CAP,
    };
    hb_initreq_pack(pk, &q);
}

static void fill_result(hb_exec_result_t *res, const hb_initans_t *a, bool trunc[3])
{
    res->exit_code = (int)a->code;
    res->term_signal = (int)a->signal;
    res->timed_out = a->timed_out;
    res->stdout_truncated = a->out_trunc || trunc[1];
    res->stderr_truncated = a->err_trunc || trunc[2];
    res->duration_ms = a->duration_us / 1000;
}

/* A missing or unusable cwd is the caller's input, not a missing sandbox. */
static hb_errcode_t start_errcode(int err)
{
    switch (err) {
    case ENOENT: case ENOTDIR: case EACCES: case ELOOP: case ENAMETOOLONG: case EINVAL:
        return HB_E_INVALID;
    case EAGAIN:                /* init busy, or no task left for the command */
        return HB_E_UNAVAIL;
    default:
        return HB_E_INTERNAL;
    }
}

/* The next answer; with ticks, the wait is cut into tick_ms slices with a
 * call of cb between them (the frame itself is then read with tmo). */
static int next_answer(hb_initconn_t *c, const hb_exec_req_t *r, hb_output_cb cb, void *ud,
                       hb_initans_t *a, int tmo, hb_err_t *e)
{
    int64_t waited = 0;
    while (cb && r->tick_ms > 0 && (tmo < 0 || waited < tmo)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&p, 1, r->tick_ms);
        if (pr > 0 || (pr < 0 && errno != EINTR))
            break;              /* a frame, or an error hb_initconn_next reports */
        if (pr < 0)
            continue;
        waited += r->tick_ms;
        if (cb(ud, 0, NULL, 0) != 0)
            return hb_fail(e, HB_E_INTERNAL, ECANCELED, "exec abandoned by the caller");
    }
    return hb_initconn_next(c, a, tmo, e);
}

/* Read answers until `exit`. Output beyond out_cap is dropped here too:
 * init is not trusted to have enforced it. */
static int stream(hb_initconn_t *c, const hb_exec_req_t *r, hb_output_cb cb, void *ud,
                  hb_exec_result_t *res, hb_err_t *e)
{
    uint64_t cap = r->out_cap ? r->out_cap : HB_DEFAULT_OUT_CAP, got[3] = {0};
    bool trunc[3] = {false};
    hb_initans_t a;
    int tmo = r->timeout_ms ? (int)((r->timeout_ms > INT32_MAX - EXIT_GRACE_MS ?
                                     INT32_MAX - EXIT_GRACE_MS : r->timeout_ms) + EXIT_GRACE_MS)
                            : -1;
    if (hb_initconn_next(c, &a, 10000, e) < 0)
        return -1;
    /* An init older than exec_as does not know the op (its words for it). */
    if (a.t == HB_ANS_ERR && r->user && a.err == EINVAL &&
        (strstr(a.msg, "bad request") || strstr(a.msg, "unknown op")))
        return hb_fail(e, HB_E_INVALID, EINVAL, "user: this sandbox's init predates `user` "
                       "(it was started by an older HiveBox); recreate the sandbox to use it");
    if (a.t == HB_ANS_ERR)      /* the command could not start: bad cwd, ... */
        return hb_fail(e, start_errcode((int)a.err), (int)a.err, "exec: %s", a.msg);
    if (a.t != HB_ANS_STARTED)
        return hb_init_unexpected(&a, "exec", e);
    if (cb && r->tick_ms > 0 && cb(ud, 0, NULL, 0) != 0)   /* it started */
        return hb_fail(e, HB_E_INTERNAL, ECANCELED, "exec abandoned by the caller");
    for (;;) {
        /* Per-frame timeout: generous, the whole run is bounded by init. */
        if (next_answer(c, r, cb, ud, &a, tmo, e) < 0)
            return -1;
        if (a.t == HB_ANS_EXIT) {
            fill_result(res, &a, trunc);
            return 0;
        }
        if (a.t != HB_ANS_OUT)
            return hb_init_unexpected(&a, "exec", e);
        size_t n = a.data.len;
        if (got[a.fd] + n > cap) {
            n = (size_t)(cap - got[a.fd]);
            trunc[a.fd] = true;
        }
        got[a.fd] += n;
        if (n && cb && cb(ud, (int)a.fd, a.data.ptr, n) != 0)
            return hb_fail(e, HB_E_INTERNAL, ECANCELED, "exec abandoned by the caller");
    }
}

int hb_exec(const hb_sandbox_t *sb, const hb_exec_req_t *req, hb_output_cb cb, void *ud,
            hb_exec_result_t *res, hb_err_t *e)
{
    size_t nenv = 0;
    memset(res, 0, sizeof *res);
    hb_exec_req_t r = *req;   /* with the sandbox's own env merged in */
    const char **env = NULL;
    if (hb_sandbox_env(sb, req->env, &env, e) < 0)
        return -1;
    r.env = env;
    hb_sandbox_cmd_defaults(sb, &r.cwd, &r.user);   /* the image's WorkingDir and User */
    hb_initconn_t c;
    if (check_req(&r, &nenv, e) < 0 || hb_initconn_open(&c, sb, e) < 0) {
        free(env);
        return -1;
    }
    uint64_t ooms = hb_sandbox_oom_kills(sb);
    pack_req(hb_initconn_begin(&c), &r, nenv);
    free(env);   /* packed: a copy is in the frame */
    int rc = hb_initconn_send(&c, e);
    if (rc == 0)
        rc = stream(&c, req, cb, ud, res, e);
    hb_initconn_close(&c);     /* on abandon, closing makes init kill the group */
    if (rc == 0 && (res->term_signal == SIGKILL || res->exit_code == 137) &&
        hb_sandbox_oom_kills(sb) > ooms)
        res->oom_killed = true;
    return rc;
}

/* ---- collect ---- */

static int collect_cb(void *ud, int fd, const void *data, size_t len)
{
    return hb_outbuf_add(ud, fd, data, len, HB_OUT_WAIT_MS);
}

int hb_exec_collect(const hb_sandbox_t *sb, const hb_exec_req_t *req, hb_exec_result_t *res,
                    hb_outbuf_t *ob, hb_err_t *e)
{
    if (ob)
        hb_outbuf_init(ob, req->out_cap);
    if (ob && hb_outbuf_reserve(ob, e) < 0) {
        memset(res, 0, sizeof *res);
        return -1;
    }
    int rc = hb_exec(sb, req, ob ? collect_cb : NULL, ob, res, e);
    if (rc < 0 && ob && e && e->sys_errno == ECANCELED)   /* collect_cb: malloc failed */
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "exec: out of memory collecting output");
    if (rc == 0 && ob) {
        res->stdout_truncated |= ob->cut[1];
        res->stderr_truncated |= ob->cut[2];
    }
    return rc;
}
