/* POST /:id/exec with "stream": true (or Accept: text/event-stream): the
 * command's output as server-sent events while it runs.
 *
 *   event: stdout | stderr   data: {"data": "...", "encoding": "utf-8"|"base64"}
 *   event: exit              data: {"exit_code", "duration_ms", "timed_out", "oom_killed"}
 *   event: error             data: {"error": "..."}   (the sandbox failed mid-run)
 *
 * The worker borrows the sandbox's handle (lease.h) and runs the command
 * itself through hb_lease_exec: each chunk init sends becomes one event,
 * written to the client before the next chunk is read. So nothing is
 * buffered beyond one chunk and the socket buffers: a slow reader slows
 * the read from init, init's send blocks, the command blocks on its full
 * pipe. Errors before the command starts (bad cwd, sandbox unknown) are
 * the usual JSON answers: the 200 goes out only once init says the command
 * started. While the command is silent, a comment line every TICK_MS
 * probes the client; a failed write abandons the command, which closes
 * init's connection, and init kills the command's process group. */
#include "gw_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "initmsg.h"
#include "gw_streams.h"
#include "log.h"
#include "sse_out.h"

#define TICK_MS 1000

typedef struct {
    struct mg_connection *c;
    char                 *piece;
    bool                  started, gone;
} sse_t;

static int put_chunk(void *ud, const char *data, size_t len)
{
    return mg_send_chunk(ud, data, (unsigned)len) > 0 ? 0 : -1;
}

static void start(sse_t *s)
{
    hb_sse_head(s->c);
    s->started = true;
}

static int on_output(void *ud, int fd, const void *data, size_t len)
{
    sse_t *s = ud;
    if (!s->started)
        start(s);
    int rc = fd == 0 ? put_chunk(s->c, ": tick\n\n", 8)
                     : hb_sse_output(s->c, s->piece, fd, data, len, "");
    if (rc < 0)
        s->gone = true;
    return rc;
}

static void final_event(sse_t *s, int rc, const hb_exec_result_t *res, const hb_err_t *e)
{
    char buf[768];
    int n;
    if (rc == 0) {
        n = snprintf(buf, sizeof buf,
                     "event: exit\ndata: {\"exit_code\":%d,\"duration_ms\":%" PRIu64
                     ",\"timed_out\":%s,\"oom_killed\":%s}\n\n",
                     res->exit_code, res->duration_ms, res->timed_out ? "true" : "false",
                     res->oom_killed ? "true" : "false");
    } else {
        json_t *j = json_pack("{s:s}", "error", e->msg);
        char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        n = snprintf(buf, sizeof buf, "event: error\ndata: %s\n\n", t ? t : "{\"error\":\"failed\"}");
        free(t);
    }
    if (n > 0 && (size_t)n < sizeof buf && put_chunk(s->c, buf, (size_t)n) == 0)
        mg_send_chunk(s->c, "", 0);
}

int hb_exec_stream(hb_req_t *r, const hb_msg_t *q)
{
    hb_err_t e = {0};
    hb_lease_t *l = NULL;
    hb_exec_result_t res = {0};
    sse_t s = {.c = r->c, .piece = malloc(HB_SSE_PIECE)};
    hb_exec_req_t x = hb_exec_req_of(q);
    x.out_cap = HB_OUT_CAP_MAX;   /* nothing is held: no cap but the client's pace */
    x.tick_ms = TICK_MS;
    int status = 200, rc = -1;
    if (!s.piece) {
        status = hb_reply_error(r->c, 500, "out of memory");
        goto out;
    }
    /* A held stream like a followed output (gw_streams.h): 429 past the cap. */
    if (hb_streams_enter(r->route.id, &e) < 0) {
        status = hb_reply_err(r, &e);
        goto out;
    }
    if (hb_lease_take(r->conf->ep.manager, r->route.id, &l, &e) < 0) {
        hb_streams_leave(r->route.id);
        status = hb_reply_err(r, &e);
        goto out;
    }
    rc = hb_lease_exec(l, &x, on_output, &s, &res, &e);
    hb_streams_leave(r->route.id);
    if (rc < 0 && !s.gone)
        hb_lease_explain_gone(l, "command", &e);
    if (rc == 0)
        hb_lease_executed(l, &res);
    if (!s.started) {           /* it did not start: tick_ms makes rc == 0 start */
        status = hb_reply_err(r, &e);
    } else if (s.gone) {
        HB_LOG_INFO("exec stream %s: the client left; the command was killed", r->route.id);
    } else {
        if (rc < 0 && e.code == HB_E_INTERNAL)
            HB_LOG_ERROR("exec stream %s: %s", r->route.id, e.msg);
        final_event(&s, rc, &res, &e);
    }
out:
    hb_lease_release(&l);
    free(s.piece);
    return status;
}
