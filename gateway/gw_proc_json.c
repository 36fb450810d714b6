/* The process object of the HTTP API (README "Processes"), from what init
 * says about a process. */
#include "gw_proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textutil.h"

static json_t *time_json(int64_t ms)
{
    char buf[HB_RFC3339_LEN];
    return ms > 0 ? json_string(hb_rfc3339(ms / 1000, buf, sizeof buf)) : json_null();
}

json_t *hb_gw_proc_json(const hb_proc_info_t *p)
{
    bool ended = p->ended_at_ms > 0;
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "pid", json_integer(p->pid));
    json_object_set_new(j, "tag", p->tag[0] ? json_string(p->tag) : json_null());
    json_object_set_new(j, "command", json_string(p->command ? p->command : ""));
    json_object_set_new(j, "user", json_string(p->user));
    json_object_set_new(j, "state", json_string(ended ? "exited" : "running"));
    json_object_set_new(j, "exit_code", ended ? json_integer(p->exit_code) : json_null());
    json_object_set_new(j, "signal", ended && p->term_signal ? json_integer(p->term_signal)
                                                              : json_null());
    json_object_set_new(j, "timed_out", json_boolean(p->timed_out));
    json_object_set_new(j, "started_at", time_json(p->started_at_ms));
    json_object_set_new(j, "ended_at", time_json(p->ended_at_ms));
    json_object_set_new(j, "pty", p->cols ? json_pack("{s:i, s:i}", "cols", (int)p->cols,
                                                      "rows", (int)p->rows) : json_null());
    json_object_set_new(j, "stdin", json_boolean(p->stdin_open));
    json_object_set_new(j, "output", json_pack("{s:I, s:I}", "first", (json_int_t)p->first,
                                               "end", (json_int_t)p->off));
    return j;
}

int hb_gw_proc_sel(const hb_req_t *r, hb_proc_sel_t *sel, hb_err_t *e)
{
    const char *s = r->route.proc;
    size_t n = strlen(s);
    memset(sel, 0, sizeof *sel);
    if (r->route.bad_proc || n == 0)
        return hb_fail(e, HB_E_NOTFOUND, 0, "process: no such pid or tag");
    if (strspn(s, "0123456789") == n) {
        long long v = n <= 10 ? strtoll(s, NULL, 10) : 0;
        if (v < 1 || v > INT32_MAX)
            return hb_fail(e, HB_E_NOTFOUND, 0, "process: no such pid %.20s", s);
        sel->pid = (int)v;
        return 0;
    }
    if (n > HB_TAG_MAX ||
        strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return hb_fail(e, HB_E_NOTFOUND, 0, "process: no such pid or tag");
    sel->tag = s;
    return 0;
}
