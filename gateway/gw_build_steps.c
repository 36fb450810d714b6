/* The build's files and steps, in the leased build sandbox (see gw_build.h).
 * Each step is `/bin/sh -c <command>` through hb_lease_exec: every chunk of
 * output goes into the log and, with SSE, out to the client before the next
 * is read, so nothing is held beyond the log's bound; a client that leaves
 * makes the callback fail, which abandons the step (init kills its process
 * group). While a step is silent a comment line every TICK_MS probes the
 * client (SSE); every tick also checks for a daemon shutdown, which abandons
 * the step rather than hold the gateway's stop up for the step's timeout. */
#include "gw_build.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "initmsg.h"
#include "lease.h"
#include "log.h"
#include "mcp_text.h"
#include "sse_out.h"

#define TICK_MS 1000

int hb_build_event(hb_build_t *s, const char *name, json_t *data)
{
    if (!s->sse || s->gone || !data) {
        json_decref(data);
        return s->gone ? -1 : 0;
    }
    if (!s->started) {
        hb_sse_head(s->r->c);
        s->started = true;
    }
    char *t = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    int rc = -1;
    if (t && mg_send_chunk(s->r->c, "event: ", 7) > 0 &&
        mg_send_chunk(s->r->c, name, (unsigned)strlen(name)) > 0 &&
        mg_send_chunk(s->r->c, "\ndata: ", 7) > 0 &&
        mg_send_chunk(s->r->c, t, (unsigned)strlen(t)) > 0 &&
        mg_send_chunk(s->r->c, "\n\n", 2) > 0)
        rc = 0;
    free(t);
    if (rc < 0)
        s->gone = true;
    return rc;
}

/* An output event: text as it is, anything else (NUL, invalid UTF-8, or a
 * sequence cut between chunks) base64. */
static json_t *output_json(int fd, const void *data, size_t len)
{
    const char *stream = fd == 2 ? "stderr" : "stdout";
    if (hb_sse_is_text(data, len))
        return json_pack("{s:s, s:s%}", "stream", stream, "data", (const char *)data, len);
    char *b64 = mcp_base64(data, len);
    json_t *j = b64 ? json_pack("{s:s, s:s, s:s}", "stream", stream, "data", b64, "encoding",
                                "base64")
                    : NULL;
    free(b64);
    return j;
}

static int on_output(void *ud, int fd, const void *data, size_t len)
{
    hb_build_t *s = ud;
    if (fd == 0) {   /* a tick: is the daemon stopping, is the client still there? */
        if (hb_bus_deadline() != 0) {
            s->stopping = true;   /* SIGTERM: the step must not hold the shutdown up */
            return -1;
        }
        if (s->started && mg_send_chunk(s->r->c, ": tick\n\n", 8) <= 0)
            s->gone = true;
        return s->gone ? -1 : 0;
    }
    hb_build_log_add(&s->log, data, len, true);
    return hb_build_event(s, "output", output_json(fd, data, len));
}

static int src_buf(void *ud, void *buf, size_t cap, size_t *got)
{
    hb_build_file_t *f = ud;   /* a copy: len and data advance */
    size_t n = f->len < cap ? f->len : cap;
    memcpy(buf, f->data, n);
    f->data += n;
    f->len -= n;
    *got = n;
    return 0;
}

static int write_files(hb_build_t *s, const hb_lease_t *l)
{
    for (size_t i = 0; i < s->b->files_n; i++) {
        hb_build_file_t f = s->b->files[i];
        uint64_t written = 0;
        hb_build_log_printf(&s->log, "# file %s (%zu bytes)\n", f.path, f.len);
        if (hb_lease_file_write(l, f.path, 0644 | HB_FILE_KEEP, HB_BUILD_FILES_BYTES, src_buf, &f, &written,
                                &s->e) < 0)
            return hb_err_wrap(&s->e, "files: %.200s", s->b->files[i].path);
    }
    return 0;
}

/* Step i's outcome into s: 0 if it exited 0. */
static int step_outcome(hb_build_t *s, size_t i, int rc, const hb_exec_result_t *res)
{
    s->fail_step = (int)i;
    if (s->stopping)
        return hb_fail(&s->e, HB_E_UNAVAIL, 0, "run[%zu]: abandoned: the daemon is stopping", i);
    if (rc < 0 || s->gone)
        return -1;   /* s->e says why (or the client left) */
    hb_build_log_printf(&s->log, "\n# exit %d after %llu ms%s\n", res->exit_code,
                        (unsigned long long)res->duration_ms, res->timed_out ? " (timed out)" : "");
    if (res->exit_code == 0 && !res->timed_out) {
        s->fail_step = -1;
        return 0;
    }
    s->exit_code = res->exit_code;
    char *tail = hb_build_log_tail(&s->log);
    if (res->timed_out)
        hb_fail(&s->e, HB_E_INVALID, 0, "run[%zu]: timed out after %u s; output ends: %s", i,
                s->b->step_timeout_s, tail ? tail : "");
    else
        hb_fail(&s->e, HB_E_INVALID, 0, "run[%zu]: exited with %d; output ends: %s", i,
                res->exit_code, tail ? tail : "");
    free(tail);
    return -1;
}

static int run_step(hb_build_t *s, const hb_lease_t *l, size_t i)
{
    const char *cmd = s->b->run[i];
    hb_build_log_printf(&s->log, "$ %.900s%s\n", cmd, strlen(cmd) > 900 ? " ..." : "");
    hb_build_log_step(&s->log);
    if (hb_build_event(s, "step", json_pack("{s:I, s:s}", "index", (json_int_t)i, "command",
                                            cmd)) < 0)
        return -1;
    hb_exec_req_t x = {.command = cmd, .timeout_ms = s->b->step_timeout_s * 1000u,
                       .out_cap = HB_OUT_CAP_MAX, .tick_ms = TICK_MS};
    hb_exec_result_t res = {0};
    int rc = hb_lease_exec(l, &x, on_output, s, &res, &s->e);
    if (rc < 0 && !s->gone)
        hb_lease_explain_gone(l, "build step", &s->e);
    return step_outcome(s, i, rc, &res);
}

int hb_build_run_steps(hb_build_t *s)
{
    hb_lease_t *l = NULL;
    if (hb_lease_take(s->r->conf->ep.manager, s->sb_id, &l, &s->e) < 0)
        return -1;
    int rc = write_files(s, l);
    for (size_t i = 0; rc == 0 && i < s->b->run_n; i++)
        rc = run_step(s, l, i);
    hb_lease_release(&l);
    return rc;
}
