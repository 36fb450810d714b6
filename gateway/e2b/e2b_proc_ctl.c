/* process.Process's unary methods: List, SendInput, SendSignal, CloseStdin,
 * Update. Each is one proc_* request to the sandbox's init (lease.h);
 * an unknown pid or tag is init's HB_E_NOTFOUND, Connect's not_found
 * (the SDKs' kill() then answers false). */
#include "e2b_proc.h"

#include <stdlib.h>
#include <string.h>

#include "e2b_cx.h"

static int failed(hb_e2b_call_t *k, hb_err_t *e, const char *what)
{
    hb_lease_explain_gone(k->lease, what, e);
    return hb_cx_fail_err(k, e);
}

/* One ProcessInfo: the config is what HiveBox kept (the command; envs and
 * cwd are not kept by init, so they come back empty). */
static json_t *process_info(const hb_proc_info_t *p)
{
    json_t *cmd = NULL, *args = NULL;
    hb_e2b_cmd_split(p->command, &cmd, &args);
    json_t *o = json_pack("{s:{s:o, s:o, s:{}}, s:i}", "config", "cmd", cmd, "args", args,
                          "envs", "pid", p->pid);
    if (o && p->tag[0])
        json_object_set_new(o, "tag", json_string(p->tag));
    return o;
}

int hb_e2b_proc_list(hb_e2b_call_t *k)
{
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    if (hb_lease_proc_list(k->lease, NULL, &v, &n, &e) < 0)
        return failed(k, &e, "process list");
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (v[i].ended_at_ms == 0)   /* envd lists the running ones */
            json_array_append_new(a, process_info(&v[i]));
    hb_proc_infos_free(v, n);
    return hb_cx_reply(k, json_pack("{s:o}", "processes", a));
}

int hb_e2b_proc_input(hb_e2b_call_t *k)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    unsigned char *data = NULL;
    size_t n = 0;
    const json_t *in = json_object_get(k->msg, "input");
    if (hb_e2b_selector(k->msg, &sel, &e) < 0)
        return hb_cx_fail_err(k, &e);
    if (!json_is_object(in))
        return hb_cx_fail(k, "invalid_argument", "input: required, {\"stdin\"} or {\"pty\"}");
    int got = hb_e2b_bytes(in, "stdin", HB_STDIN_MAX, &data, &n, &e);
    if (got == 0)
        got = hb_e2b_bytes(in, "pty", HB_STDIN_MAX, &data, &n, &e);
    if (got < 0)
        return hb_cx_fail_err(k, &e);
    if (got == 0)
        return hb_cx_fail(k, "unimplemented", "input: neither stdin nor pty");
    int rc = n ? hb_lease_proc_input(k->lease, &sel, data, n, false, &e) : 0;
    free(data);
    return rc < 0 ? failed(k, &e, "stdin") : hb_cx_reply(k, json_object());
}

int hb_e2b_proc_signal(hb_e2b_call_t *k)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    if (hb_e2b_selector(k->msg, &sel, &e) < 0)
        return hb_cx_fail_err(k, &e);
    int sig = hb_e2b_signal(json_object_get(k->msg, "signal"));
    if (sig < 0)
        return hb_cx_fail(k, "invalid_argument", "signal: expected SIGNAL_SIGKILL or "
                          "SIGNAL_SIGTERM");
    if (sig == 0)   /* envd knows only these two */
        return hb_cx_fail(k, "unimplemented", "signal: only SIGNAL_SIGKILL and SIGNAL_SIGTERM");
    if (hb_lease_proc_signal(k->lease, &sel, sig, &e) < 0)
        return failed(k, &e, "signal");
    return hb_cx_reply(k, json_object());
}

int hb_e2b_proc_close(hb_e2b_call_t *k)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    if (hb_e2b_selector(k->msg, &sel, &e) < 0)
        return hb_cx_fail_err(k, &e);
    if (hb_lease_proc_input(k->lease, &sel, NULL, 0, true, &e) < 0)
        return failed(k, &e, "stdin");
    return hb_cx_reply(k, json_object());
}

int hb_e2b_proc_update(hb_e2b_call_t *k)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    unsigned cols = 0, rows = 0;
    if (hb_e2b_selector(k->msg, &sel, &e) < 0)
        return hb_cx_fail_err(k, &e);
    int got = hb_e2b_pty_size(json_object_get(k->msg, "pty"), &cols, &rows, &e);
    if (got < 0)
        return hb_cx_fail_err(k, &e);
    if (got == 1 && hb_lease_proc_resize(k->lease, &sel, cols, rows, &e) < 0)
        return failed(k, &e, "resize");
    return hb_cx_reply(k, json_object());
}
