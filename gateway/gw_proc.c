/* The background process routes (README "Processes"):
 *   POST/GET  /api/v1/hiveboxes/:id/processes
 *   GET/DELETE .../processes/:sel, GET .../output (gw_proc_sse.c),
 *   POST .../stdin, .../stdin/close, .../signal, .../resize
 * Each borrows the sandbox's handle (lease.h) for one proc_* request to its
 * init; init keeps the processes, so nothing here outlives the request. */
#include "gw_proc.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "req_parse.h"

#define SMALL_BODY_MAX 4096   /* signal, resize */

/* ---- /processes ---- */

static int start(hb_req_t *r)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q;
    hb_proc_extra_t x;
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_proc(body, len, &q, &x, &e);
    free(body);
    if (rc < 0)
        return hb_reply_err(r, &e);
    hb_proc_req_t req = {
        .command = q.command, .cwd = q.cwd, .user = q.user, .env = q.env,
        .tag = x.tag[0] ? x.tag : NULL, .keep_stdin = x.keep_stdin,
        .cols = x.cols, .rows = x.rows,
        .timeout_ms = q.timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)q.timeout_ms,
    };
    hb_lease_t *l = NULL;
    hb_proc_info_t info = {0};
    int status = hb_gw_lease_take(r, &l);
    if (status == 0) {
        if (hb_lease_proc_start(l, &req, &info, &e) < 0) {
            hb_lease_explain_gone(l, "process", &e);
            status = hb_reply_err(r, &e);
        } else {
            status = hb_reply_json(r->c, 201, hb_gw_proc_json(&info));
        }
    }
    hb_lease_release(&l);
    hb_proc_info_clear(&info);
    hb_msg_clear(&q);
    return status;
}

static int list(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_lease_t *l = NULL;
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    if (hb_lease_proc_list(l, sel, &v, &n, &e) < 0) {
        hb_lease_explain_gone(l, "process list", &e);
        status = hb_reply_err(r, &e);
    } else if (sel) {
        status = hb_reply_json(r->c, 200, hb_gw_proc_json(&v[0]));
    } else {
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
            json_array_append_new(a, hb_gw_proc_json(&v[i]));
        status = hb_reply_json(r->c, 200, json_pack("{s:o}", "processes", a));
    }
    hb_proc_infos_free(v, n);
    hb_lease_release(&l);
    return status;
}

int hb_h_processes(hb_req_t *r)
{
    if (hb_method_is(r, "POST"))
        return start(r);
    if (hb_method_is(r, "GET"))
        return list(r, NULL);
    return hb_reply_405(r);
}

/* ---- /processes/:sel ---- */

/* DELETE: say which process went (by pid too when named by tag). */
static int forget(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_lease_t *l = NULL;
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    if (hb_lease_proc_list(l, sel, &v, &n, &e) < 0 || hb_lease_proc_forget(l, sel, &e) < 0) {
        hb_lease_explain_gone(l, "process", &e);
        status = hb_reply_err(r, &e);
    } else {
        status = hb_reply_json(r->c, 200, json_pack("{s:i, s:o, s:b}", "pid", v[0].pid, "tag",
                                                    v[0].tag[0] ? json_string(v[0].tag)
                                                                : json_null(),
                                                    "forgotten", 1));
    }
    hb_proc_infos_free(v, n);
    hb_lease_release(&l);
    return status;
}

static int stdin_post(hb_req_t *r, const hb_proc_sel_t *sel, bool close_only)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (!close_only && hb_read_body(r->c, HB_STDIN_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status == 0 && hb_lease_proc_input(l, sel, body, len, close_only, &e) < 0) {
        hb_lease_explain_gone(l, "stdin", &e);
        status = hb_reply_err(r, &e);
    } else if (status == 0) {
        status = close_only ? hb_reply_json(r->c, 200, json_pack("{s:b}", "closed", 1))
                            : hb_reply_json(r->c, 200, json_pack("{s:I}", "written",
                                                                 (json_int_t)len));
    }
    hb_lease_release(&l);
    free(body);
    return status;
}

/* A small JSON object body; NULL with *e. */
static json_t *small_object(hb_req_t *r, hb_err_t *e)
{
    char *body = NULL;
    size_t len = 0;
    if (hb_read_body(r->c, SMALL_BODY_MAX, &body, &len, e) < 0)
        return NULL;
    json_t *j = hb_req_load_object(body, len, e);
    free(body);
    return j;
}

static int signal_post(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_err_t e = {0};
    json_t *j = small_object(r, &e);
    if (!j)
        return hb_reply_err(r, &e);
    json_t *v = json_object_get(j, "signal");
    int sig = hb_req_signal(v);
    bool missing = !v;
    json_decref(j);
    if (missing)
        return hb_reply_error(r->c, 400, "signal: required (a name like \"TERM\" or a number)");
    if (sig < 0)
        return hb_reply_error(r->c, 400, "signal: not a signal name (TERM, INT, KILL, HUP, "
                              "...) or number (1-64)");
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status == 0 && hb_lease_proc_signal(l, sel, sig, &e) < 0) {
        hb_lease_explain_gone(l, "signal", &e);
        status = hb_reply_err(r, &e);
    } else if (status == 0) {
        status = hb_reply_json(r->c, 200, json_pack("{s:i}", "signal", sig));
    }
    hb_lease_release(&l);
    return status;
}

static int resize_post(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_err_t e = {0};
    json_t *j = small_object(r, &e);
    if (!j)
        return hb_reply_err(r, &e);
    unsigned cols = 0, rows = 0;
    int bad_cols = hb_req_pty_dim(j, "cols", &cols), bad_rows = hb_req_pty_dim(j, "rows", &rows);
    json_decref(j);
    if (bad_cols < 0 || bad_rows < 0)
        return hb_reply_error(r->c, 400, "%s: must be an integer from 1 to %d",
                              bad_cols < 0 ? "cols" : "rows", HB_PTY_DIM_MAX);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status == 0 && hb_lease_proc_resize(l, sel, cols, rows, &e) < 0) {
        hb_lease_explain_gone(l, "resize", &e);
        status = hb_reply_err(r, &e);
    } else if (status == 0) {
        status = hb_reply_json(r->c, 200, json_pack("{s:i, s:i}", "cols", (int)cols, "rows",
                                                    (int)rows));
    }
    hb_lease_release(&l);
    return status;
}

static int action(hb_req_t *r, const hb_proc_sel_t *sel)
{
    bool get = hb_method_is(r, "GET"), post = hb_method_is(r, "POST");
    switch (r->route.action) {
    case HB_PA_NONE:
        if (hb_method_is(r, "DELETE"))
            return forget(r, sel);
        return get ? list(r, sel) : hb_reply_405(r);
    case HB_PA_OUTPUT:
        return get ? hb_gw_proc_output(r, sel) : hb_reply_405(r);
    case HB_PA_STDIN:
        return post ? stdin_post(r, sel, false) : hb_reply_405(r);
    case HB_PA_STDIN_CLOSE:
        return post ? stdin_post(r, sel, true) : hb_reply_405(r);
    case HB_PA_SIGNAL:
        return post ? signal_post(r, sel) : hb_reply_405(r);
    case HB_PA_RESIZE:
        return post ? resize_post(r, sel) : hb_reply_405(r);
    default:
        return hb_reply_error(r->c, 404, "no such process route: %s", r->ri->local_uri);
    }
}

int hb_h_process(hb_req_t *r)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    if (hb_gw_proc_sel(r, &sel, &e) < 0)
        return hb_reply_err(r, &e);
    return action(r, &sel);
}
