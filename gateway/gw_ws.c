/* The HTTP side of terminals (gw_ws.h): /processes/:sel/ws, /terminal and
 * their /ticket routes. Everything that can fail is checked here, while an
 * HTTP error can still be sent: a WebSocket that opens is attached. */
#include "gw_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_proc.h"
#include "gw_streams.h"
#include "gw_ticket.h"
#include "gw_ws.h"
#include "query.h"

#define TERM_COLS 80
#define TERM_ROWS 24
#define CMD_MAX   4096
/* A login shell: bash where the image has it. */
#define LOGIN_SHELL "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi"

static char *const TERM_ENV[] = {"TERM=xterm-256color", NULL};

/* RFC 6455 4.1: a base64 nonce (16 bytes: 24 characters); its hash goes
 * back in the 101, so only its length and alphabet matter here. */
static bool key_ok(const char *k)
{
    static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    size_t n = strlen(k);
    return n >= 16 && n <= 64 && strspn(k, B64) == n;
}

static bool header_has(const struct mg_connection *c, const char *name, const char *word)
{
    const char *v = mg_get_header(c, name);
    return v && strcasestr(v, word);
}

/* 0 if the request is an RFC 6455 upgrade we can answer; else the status
 * of the error sent. */
static int check_upgrade(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    if (!header_has(r->c, "Upgrade", "websocket") || !header_has(r->c, "Connection", "upgrade") ||
        !mg_get_header(r->c, "Sec-WebSocket-Key"))
        return hb_reply_error(r->c, 400, "a WebSocket upgrade is expected here (Upgrade: "
                              "websocket, Connection: Upgrade, Sec-WebSocket-Key)");
    if (!key_ok(mg_get_header(r->c, "Sec-WebSocket-Key")))
        return hb_reply_error(r->c, 400,
                              "Sec-WebSocket-Key: a base64 nonce of 16 to 64 characters");
    const char *v = mg_get_header(r->c, "Sec-WebSocket-Version");
    if (!v || strcmp(v, "13") != 0)
        return hb_reply_error(r->c, 400, "Sec-WebSocket-Version: 13 is required");
    return 0;
}

/* An optional unsigned query parameter within [lo, hi]: 0 with *out (def
 * when absent), or the status of the 400 sent. */
static int query_uint(hb_req_t *r, const char *key, uint64_t lo, uint64_t hi, uint64_t def,
                      uint64_t *out)
{
    hb_err_t e = {0};
    if (hb_query_uint(r->ri->query_string, key, lo, hi, def, out, &e) < 0)
        return hb_reply_err(r, &e);
    return 0;
}

/* Attach to sel on the leased sandbox and serve the session: 101 when it
 * ran, or the status of the error sent. Everything taken is released. */
static int attach(hb_req_t *r, hb_lease_t *l, const hb_proc_sel_t *sel, uint64_t offset)
{
    hb_err_t e = {0};
    hb_proc_info_t info = {0};
    hb_proc_stream_t *st = hb_lease_proc_attach(l, sel, offset, &info, &e);
    if (!st) {
        hb_lease_explain_gone(l, "attach", &e);
        hb_streams_leave(r->route.id);
        hb_lease_release(&l);
        return hb_reply_err(r, &e);
    }
    uint64_t from = offset < info.first ? info.first : offset;   /* init replays from there */
    int rc = hb_ws_run(r->c, l, st, &info, from, r->conf->head_timeout_s * 1000, &e);
    hb_proc_info_clear(&info);
    return rc < 0 ? hb_reply_err(r, &e) : rc;
}

/* The lease and one stream count: 0, or the status of the error sent. */
static int take(hb_req_t *r, hb_lease_t **l)
{
    hb_err_t e = {0};
    int status = hb_gw_lease_take(r, l);
    if (status)
        return status;
    if (hb_streams_enter(r->route.id, &e) < 0) {
        hb_lease_release(l);
        return hb_reply_err(r, &e);
    }
    return 0;
}

int hb_h_process_ws(hb_req_t *r)
{
    hb_proc_sel_t sel;
    uint64_t offset;
    int status = check_upgrade(r);
    if (status)
        return status;
    hb_err_t e = {0};
    if (hb_gw_proc_sel(r, &sel, &e) < 0)
        return hb_reply_err(r, &e);
    if ((status = query_uint(r, "offset", 0, UINT64_MAX >> 1, 0, &offset)))
        return status;
    hb_lease_t *l = NULL;
    if ((status = take(r, &l)))
        return status;
    return attach(r, l, &sel, offset);
}

/* ---- /terminal: a login shell (or cmd) on a new PTY, attached ---- */

static int terminal_req(hb_req_t *r, hb_proc_req_t *q, char *cmd, size_t cap)
{
    uint64_t cols, rows;
    size_t len = 0;
    int status = query_uint(r, "cols", 1, HB_PTY_DIM_MAX, TERM_COLS, &cols);
    if (status || (status = query_uint(r, "rows", 1, HB_PTY_DIM_MAX, TERM_ROWS, &rows)))
        return status;
    int f = hb_query_param(r->ri->query_string, "cmd", cmd, cap, &len);
    if (f < 0 || (f > 0 && (len == 0 || strlen(cmd) != len)))
        return hb_reply_error(r->c, 400, "cmd: a command of 1..%zu bytes without NUL", cap - 1);
    *q = (hb_proc_req_t){
        .command = f > 0 ? cmd : LOGIN_SHELL, .env = TERM_ENV, .keep_stdin = true,
        .cols = (unsigned)cols, .rows = (unsigned)rows,
    };
    return 0;
}

int hb_h_terminal(hb_req_t *r)
{
    hb_proc_req_t q;
    hb_proc_info_t p = {0};
    hb_err_t e = {0};
    char *cmd = malloc(CMD_MAX + 1);
    if (!cmd)
        return hb_reply_error(r->c, 500, "out of memory");
    int status = check_upgrade(r);
    if (!status)
        status = terminal_req(r, &q, cmd, CMD_MAX + 1);
    hb_lease_t *l = NULL;
    if (!status)
        status = take(r, &l);
    if (!status && hb_lease_proc_start(l, &q, &p, &e) < 0) {
        hb_lease_explain_gone(l, "terminal", &e);
        hb_streams_leave(r->route.id);
        hb_lease_release(&l);
        status = hb_reply_err(r, &e);
    }
    free(cmd);
    if (status)
        return status;
    hb_proc_sel_t sel = {.pid = p.pid};
    hb_proc_info_clear(&p);
    status = attach(r, l, &sel, 0);
    if (status != 101) {
        /* nothing left behind: the shell nobody ever reached goes */
        hb_lease_t *l2 = NULL;
        if (hb_lease_take(r->conf->ep.manager, r->route.id, &l2, &e) == 0)
            hb_lease_proc_forget(l2, &sel, &e);
        hb_lease_release(&l2);
    }
    return status;
}

/* ---- tickets ---- */

static int reply_ticket(hb_req_t *r, const char *target)
{
    char t[HB_TICKET_LEN + 1];
    hb_err_t e = {0};
    if (hb_ticket_issue(r->route.id, target, t, &e) < 0)
        return hb_reply_err(r, &e);
    return hb_reply_json(r->c, 200, json_pack("{s:s, s:i}", "ticket", t, "expires_in",
                                              HB_TICKET_TTL_S));
}

/* The sandbox answers (404 for sel, 409 when it failed): 0, or the status
 * of the error sent. sel NULL: any process list will do. */
static int check_target(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    int rc = hb_lease_proc_list(l, sel, &v, &n, &e);
    if (rc < 0)
        hb_lease_explain_gone(l, "sandbox", &e);
    hb_lease_release(&l);
    hb_proc_infos_free(v, n);
    return rc < 0 ? hb_reply_err(r, &e) : 0;
}

int hb_h_process_ticket(hb_req_t *r)
{
    hb_proc_sel_t sel;
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    hb_err_t e = {0};
    if (hb_gw_proc_sel(r, &sel, &e) < 0)
        return hb_reply_err(r, &e);
    int status = check_target(r, &sel);
    return status ? status : reply_ticket(r, r->route.proc);
}

int hb_h_terminal_ticket(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    int status = check_target(r, NULL);
    return status ? status : reply_ticket(r, "terminal");
}

/* ---- the ?ticket= on a WebSocket route (gateway.c, before routing) ---- */

bool hb_ws_ticket_ok(const hb_req_t *r)
{
    const char *target = r->route.kind == HB_RT_TERMINAL ? "terminal"
                         : r->route.kind == HB_RT_PROCESS && r->route.action == HB_PA_WS
                             ? r->route.proc : NULL;
    char t[HB_TICKET_LEN + 2];
    size_t len = 0;
    if (!target || r->route.bad_id || r->route.bad_proc ||
        hb_query_param(r->ri->query_string, "ticket", t, sizeof t, &len) != 1)
        return false;
    return hb_ticket_redeem(t, len, r->route.id, target);
}
