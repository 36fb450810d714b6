/* process.Process/Start and /Connect: server streams of ProcessEvents.
 *
 *   start{pid}, then data{stdout|stderr|pty} (base64) as init reports
 *   output, keepalive{} while quiet, then end{exitCode, exited, status,
 *   error} (envd's fields, Go's wording: "exit status 1", "signal: killed").
 *
 * The SDKs expect all of a command's output (envd back-pressures a
 * command while its stream's reader lags) and read slower than commands
 * write, so the stream asks init to hold the process (`hold`,
 * init-protocol.md): init stops reading its output while this stream has
 * not taken it, and nothing is buffered here beyond one chunk. A client
 * that stops reading thus stops only its own command; one that leaves
 * ends only its stream and frees the command at once (it lives in init).
 * Start gives the process the call's Connect-Timeout-Ms as its timeout
 * (envd kills it then too); Connect's deadline only ends the stream. A
 * destroyed sandbox ends the stream with `unavailable`, which the SDKs
 * report as the sandbox gone.
 *
 * civetweb cannot tell that a client left without a write, so a quiet
 * stream writes a keepalive every PROBE_MS (or the client's shorter
 * interval): a departed client then frees its worker and its stream slot
 * (gw_streams.h, 16 per sandbox) within seconds, not at the SDK's 50 s. */
#include "e2b_proc.h"

#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "e2b_cx.h"
#include "gw_streams.h"
#include "log.h"

#define TICK_MS  1000
#define PROBE_MS 5000

typedef struct {
    hb_e2b_call_t *k;
    bool           pty;
    int64_t        last_ms;   /* the last write */
    uint64_t       next;      /* the offset the next output should have */
    bool           timed;     /* the process's timeout is this call's deadline (Start) */
} pump_t;

static int send_event(pump_t *p, const char *kind, json_t *body)
{
    p->last_ms = hb_now_ms();
    return hb_cx_stream_send(p->k, json_pack("{s:{s:o}}", "event", kind, body));
}

static int send_start(pump_t *p, int pid)
{
    return send_event(p, "start", json_pack("{s:i}", "pid", pid));
}

static int send_data(pump_t *p, const hb_proc_event_t *ev)
{
    char *b64 = hb_b64_encode(ev->data, ev->len);
    const char *fd = p->pty ? "pty" : ev->fd == 2 ? "stderr" : "stdout";
    json_t *d = b64 ? json_pack("{s:s}", fd, b64) : NULL;
    free(b64);
    return d ? send_event(p, "data", d) : -1;
}

/* Go's os.ProcessState wording, which the SDKs show as the error. */
static json_t *end_of(const hb_proc_info_t *i)
{
    char status[64];
    bool signalled = i->term_signal > 0;
    if (signalled) {
        const char *d = sigdescr_np(i->term_signal);
        snprintf(status, sizeof status, "signal: %s", d ? d : "unknown");
        status[8] = (char)tolower((unsigned char)status[8]);
    } else {
        snprintf(status, sizeof status, "exit status %d", i->exit_code);
    }
    json_t *end = json_pack("{s:i, s:b, s:s}", "exitCode", signalled ? -1 : i->exit_code,
                            "exited", !signalled, "status", status);
    if (end && (signalled || i->exit_code != 0))
        json_object_set_new(end, "error", json_string(status));
    return end;
}

/* The sandbox went away under the stream (or is going: a destroy's SIGKILL
 * may reach the process before init's connection breaks). */
static bool sandbox_gone(const hb_e2b_call_t *k, hb_err_t *e)
{
    hb_lease_explain_gone(k->lease, "process", e);
    return e->code == HB_E_GONE || e->code == HB_E_DEAD;
}

static int gone_end(hb_e2b_call_t *k, const hb_err_t *e)
{
    return hb_cx_fail(k, "unavailable", "%s: the sandbox was killed", e->msg);
}

static int exited(pump_t *p, const hb_proc_event_t *ev)
{
    hb_err_t e = {.code = HB_E_INTERNAL};
    if (ev->info.term_signal == SIGKILL && sandbox_gone(p->k, &e))
        return gone_end(p->k, &e);
    /* killed at the call's deadline: envd's stream ends with its context's
     * deadline, which the SDKs raise as a timeout, not as an exit (an end
     * event here raced the SDK's own timer and, when it won, the SDK said
     * "signal: killed") */
    if (p->timed && ev->info.timed_out)
        return hb_cx_fail(p->k, "deadline_exceeded", "the call's Connect-Timeout-Ms passed");
    send_event(p, "end", end_of(&ev->info));
    return hb_cx_stream_end(p->k);
}

/* Quiet for a tick: the deadline, then a keepalive when one is due.
 * 1 to go on, else the stream is over (its status in *status). */
static int quiet(pump_t *p, int *status)
{
    int64_t now = hb_now_ms();
    int every = p->k->keepalive_ms < PROBE_MS ? p->k->keepalive_ms : PROBE_MS;
    if (p->k->deadline_ms && now >= p->k->deadline_ms) {
        *status = hb_cx_fail(p->k, "deadline_exceeded", "the call's Connect-Timeout-Ms passed");
        return 0;
    }
    if (now - p->last_ms >= every && send_event(p, "keepalive", json_object()) < 0) {
        *status = 200;   /* the client left */
        return 0;
    }
    return 1;
}

static int pump(pump_t *p, hb_proc_stream_t *st)
{
    int status = 200;
    for (;;) {
        hb_proc_event_t ev;
        hb_err_t e = {0};
        int rc = hb_proc_next(st, &ev, TICK_MS, &e);
        if (rc == 1) {
            if (!quiet(p, &status))
                return status;
            continue;
        }
        if (rc < 0)
            return sandbox_gone(p->k, &e) ? gone_end(p->k, &e) : hb_cx_fail_err(p->k, &e);
        if (ev.kind == HB_PEV_EXIT)
            return exited(p, &ev);
        if (ev.kind == HB_PEV_END)   /* not following: never asked for */
            return hb_cx_stream_end(p->k);
        if (ev.kind == HB_PEV_OUT && ev.off > p->next)   /* cannot while held */
            HB_LOG_WARN("e2b: process output: %" PRIu64 " bytes dropped at %" PRIu64,
                        ev.off - p->next, p->next);
        if (ev.kind == HB_PEV_OUT)
            p->next = ev.off + ev.len;
        if (ev.kind == HB_PEV_OUT && send_data(p, &ev) < 0)
            return 200;
        if (p->k->deadline_ms && hb_now_ms() >= p->k->deadline_ms)
            return hb_cx_fail(p->k, "deadline_exceeded", "the call's Connect-Timeout-Ms passed");
    }
}

/* Follow sel's output from offset: the stream after its start event. */
static int follow(hb_e2b_call_t *k, const hb_proc_sel_t *sel, uint64_t offset, int pid, bool pty,
                  bool timed)
{
    hb_err_t e = {0};
    hb_proc_info_t info = {0};
    hb_proc_stream_t *st = hb_lease_proc_output_held(k->lease, sel, offset, &info, &e);
    hb_proc_info_clear(&info);
    if (!st)
        return sandbox_gone(k, &e) ? gone_end(k, &e) : hb_cx_fail_err(k, &e);
    pump_t p = {.k = k, .pty = pty, .next = offset, .timed = timed};
    int status = send_start(&p, pid) < 0 ? 200 : pump(&p, st);
    hb_proc_stream_close(st);
    return status;
}

static int start(hb_e2b_call_t *k)
{
    hb_e2b_start_t s;
    hb_err_t e = {0};
    hb_proc_info_t info = {0};
    int64_t timeout = k->deadline_ms ? k->deadline_ms - hb_now_ms() : 0;
    if (hb_e2b_start_parse(k, k->msg, timeout > 0 ? timeout : 1, &s, &e) < 0)
        return hb_cx_fail_err(k, &e);
    if (k->deadline_ms == 0)
        s.req.timeout_ms = 0;
    s.req.hold = true;          /* nothing lost before follow() holds it */
    int status;
    if (hb_lease_proc_start(k->lease, &s.req, &info, &e) < 0) {
        if (e.code == HB_E_INVALID && strncmp(e.msg, "cwd", 3) == 0)   /* name the path */
            hb_err_wrap(&e, "process.cwd '%.200s'", s.cwd ? s.cwd : "~");
        if (sandbox_gone(k, &e))
            status = gone_end(k, &e);
        else if (e.code == HB_E_UNAVAIL)   /* init's 64 running: not a dead sandbox */
            status = hb_cx_fail(k, "resource_exhausted", "%s", e.msg);
        else
            status = hb_cx_fail_err(k, &e);
    } else {
        hb_proc_sel_t sel = {.pid = info.pid};
        status = follow(k, &sel, 0, info.pid, s.req.cols > 0, s.req.timeout_ms > 0);
    }
    hb_proc_info_clear(&info);
    hb_e2b_start_clear(&s);
    return status;
}

int hb_e2b_proc_start(hb_e2b_call_t *k)
{
    hb_err_t e = {0};
    if (hb_streams_enter(k->sandbox_id, &e) < 0)
        return hb_cx_fail_err(k, &e);
    int status = start(k);
    hb_streams_leave(k->sandbox_id);
    return status;
}

/* A process that has ended: start and end at once (envd keeps the end of a
 * finished process for a late Connect). */
static int connect_ended(hb_e2b_call_t *k, const hb_proc_info_t *i)
{
    pump_t p = {.k = k};
    if (send_start(&p, i->pid) == 0 && send_event(&p, "end", end_of(i)) == 0)
        return hb_cx_stream_end(k);
    return 200;
}

static int connect_to(hb_e2b_call_t *k)
{
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    hb_proc_info_t *v = NULL;
    size_t n = 0;
    if (hb_e2b_selector(k->msg, &sel, &e) < 0)
        return hb_cx_fail_err(k, &e);
    if (hb_lease_proc_list(k->lease, &sel, &v, &n, &e) < 0 || n == 0) {
        if (n == 0 && e.code == HB_OK)
            hb_fail(&e, HB_E_NOTFOUND, 0, "process not found");
        return sandbox_gone(k, &e) ? gone_end(k, &e) : hb_cx_fail_err(k, &e);
    }
    hb_proc_sel_t by_pid = {.pid = v[0].pid};
    int status = v[0].ended_at_ms ? connect_ended(k, &v[0])
                                  : follow(k, &by_pid, v[0].off, v[0].pid, v[0].cols > 0, false);
    hb_proc_infos_free(v, n);
    return status;
}

int hb_e2b_proc_connect(hb_e2b_call_t *k)
{
    hb_err_t e = {0};
    if (hb_streams_enter(k->sandbox_id, &e) < 0)
        return hb_cx_fail_err(k, &e);
    int status = connect_to(k);
    hb_streams_leave(k->sandbox_id);
    return status;
}
