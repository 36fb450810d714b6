/* GET .../processes/:sel/output?offset=N&follow=1: a process's output as
 * server-sent events (README "Processes"):
 *
 *   event: stdout | stderr  data: {"data", "encoding": "utf-8"|"base64", "offset"}
 *   event: dropped          data: {"from", "to"}  (bytes the ring no longer has)
 *   event: exit             data: {"exit_code", "signal", "timed_out", "offset"}
 *   event: end              data: {"offset"}      (not following, still running)
 *   event: error            data: {"error"}
 *
 * As for a streamed exec (gw_exec_stream.c), each frame from init becomes
 * one event written before the next frame is read: a slow client slows
 * only its own connection to init (init's ring keeps the output; a reader
 * left behind gets `dropped`). While quiet, a comment every TICK_MS probes
 * the client, so a follower that left frees its worker within a tick. Each
 * response holds a stream slot (gw_streams.h) while it lasts. */
#include "gw_proc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_streams.h"
#include "sse_out.h"
#include "log.h"
#include "query.h"

#define TICK_MS 1000


typedef struct {
    struct mg_connection *c;
    char                 *piece;
    uint64_t              want;    /* the offset the client has next */
    bool                  gone;
} psse_t;

static int put_chunk(void *ud, const char *data, size_t len)
{
    return mg_send_chunk(ud, data, (unsigned)len) > 0 ? 0 : -1;
}

static int put_text(psse_t *s, const char *text, int n)
{
    if (s->gone || n <= 0 || put_chunk(s->c, text, (size_t)n) < 0) {
        s->gone = true;
        return -1;
    }
    return 0;
}

static void dropped(psse_t *s, uint64_t to)
{
    char buf[128];
    if (to <= s->want)
        return;
    int n = snprintf(buf, sizeof buf, "event: dropped\ndata: {\"from\":%" PRIu64 ",\"to\":%"
                     PRIu64 "}\n\n", s->want, to);
    put_text(s, buf, n);
    s->want = to;
}

static void output(psse_t *s, const hb_proc_event_t *ev)
{
    char extra[48];
    dropped(s, ev->off);
    snprintf(extra, sizeof extra, ",\"offset\":%" PRIu64, ev->off);
    if (!s->gone && hb_sse_output(s->c, s->piece, ev->fd, ev->data, ev->len, extra) < 0)
        s->gone = true;
    s->want = ev->off + ev->len;
}

static void exited(psse_t *s, const hb_proc_event_t *ev)
{
    char buf[256], sig[16] = "null";
    dropped(s, ev->off);
    if (ev->info.term_signal)
        snprintf(sig, sizeof sig, "%d", ev->info.term_signal);
    int n = snprintf(buf, sizeof buf, "event: exit\ndata: {\"exit_code\":%d,\"signal\":%s,"
                     "\"timed_out\":%s,\"offset\":%" PRIu64 "}\n\n", ev->info.exit_code, sig,
                     ev->info.timed_out ? "true" : "false", ev->off);
    put_text(s, buf, n);
}

static void ended(psse_t *s, uint64_t off)
{
    char buf[96];
    int n = snprintf(buf, sizeof buf, "event: end\ndata: {\"offset\":%" PRIu64 "}\n\n",
                     off > s->want ? off : s->want);
    put_text(s, buf, n);
}

static void failed(psse_t *s, const hb_err_t *e)
{
    json_t *j = json_pack("{s:s}", "error", e->msg);
    char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char buf[512];
    int n = snprintf(buf, sizeof buf, "event: error\ndata: %s\n\n", t ? t : "{\"error\":\"failed\"}");
    free(t);
    put_text(s, buf, n);
}

/* Events until the last one; 0 when the response ended normally. */
static void pump(psse_t *s, hb_proc_stream_t *st, const hb_lease_t *l, const char *id)
{
    while (!s->gone) {
        hb_proc_event_t ev;
        hb_err_t e = {0};
        int rc = hb_proc_next(st, &ev, TICK_MS, &e);
        if (rc == 1) {
            put_text(s, ": tick\n\n", 8);
            continue;
        }
        if (rc < 0) {
            hb_lease_explain_gone(l, "output", &e);
            if (e.code == HB_E_INTERNAL)
                HB_LOG_ERROR("process output %s: %s", id, e.msg);
            failed(s, &e);
            return;
        }
        if (ev.kind == HB_PEV_OUT)
            output(s, &ev);
        else if (ev.kind == HB_PEV_EXIT)
            return exited(s, &ev);
        else if (ev.kind == HB_PEV_END)
            return ended(s, ev.off);
    }
}

/* ?offset= (default 0) and ?follow= (default no). */
static int parse_query(const char *qs, uint64_t *offset, bool *follow, hb_err_t *e)
{
    char buf[32];
    size_t len = 0;
    if (hb_query_uint(qs, "offset", 0, UINT64_MAX >> 1, 0, offset, e) < 0)
        return -1;
    int f = hb_query_param(qs, "follow", buf, sizeof buf, &len);
    *follow = f == 1 && (strcmp(buf, "1") == 0 || strcmp(buf, "true") == 0);
    if (f < 0 || (f == 1 && !*follow && strcmp(buf, "0") != 0 && strcmp(buf, "false") != 0))
        return hb_fail(e, HB_E_INVALID, 0, "follow: must be 1, 0, true or false");
    return 0;
}

static int stream(hb_req_t *r, const hb_proc_sel_t *sel, uint64_t offset, bool follow)
{
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    hb_proc_info_t info = {0};
    psse_t s = {.c = r->c, .want = offset, .piece = malloc(HB_SSE_PIECE)};
    int status = s.piece ? hb_gw_lease_take(r, &l) : hb_reply_error(r->c, 500, "out of memory");
    if (status)
        goto out;
    hb_proc_stream_t *st = hb_lease_proc_output(l, sel, offset, follow, &info, &e);
    if (!st) {
        hb_lease_explain_gone(l, "output", &e);
        status = hb_reply_err(r, &e);
        goto out;
    }
    hb_sse_head(r->c);
    status = 200;
    dropped(&s, info.first);
    pump(&s, st, l, r->route.id);
    if (!s.gone)
        mg_send_chunk(r->c, "", 0);
    hb_proc_stream_close(st);
out:
    hb_proc_info_clear(&info);
    hb_lease_release(&l);
    free(s.piece);
    return status;
}

int hb_gw_proc_output(hb_req_t *r, const hb_proc_sel_t *sel)
{
    hb_err_t e = {0};
    uint64_t offset;
    bool follow;
    if (parse_query(r->ri->query_string, &offset, &follow, &e) < 0)
        return hb_reply_err(r, &e);
    if (hb_streams_enter(r->route.id, &e) < 0)
        return hb_reply_err(r, &e);
    int status = stream(r, sel, offset, follow);
    hb_streams_leave(r->route.id);
    return status;
}
