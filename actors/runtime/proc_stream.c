/* The proc_* streams: proc_output, proc_attach and proc_watch, each one
 * connection to init held open while its caller reads events. */
#include "proc_wire.h"
#include "initmsg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OPEN_TIMEOUT_MS  10000   /* init answers the request at once */
#define FRAME_TIMEOUT_MS 30000   /* once a frame has begun, the rest of it */

struct hb_proc_stream {
    hb_initconn_t  c;
    hb_initop_t    op;
    hb_proc_info_t info;     /* attach/output: the process; events' info */
    uint64_t       pos;      /* the offset the next `out` byte has */
    bool           ended;    /* exit or end seen: only END from here */
    msgpack_sbuffer sout;    /* the sending thread's frames (attach) */
    msgpack_packer  spk;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static hb_proc_stream_t *stream_new(hb_initop_t op)
{
    hb_proc_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->op = op;
    s->c.fd = -1;
    msgpack_sbuffer_init(&s->sout);
    msgpack_packer_init(&s->spk, &s->sout, msgpack_sbuffer_write);
    return s;
}

void hb_proc_stream_close(hb_proc_stream_t *s)
{
    if (!s)
        return;
    if (s->c.fd >= 0 || s->c.sb)
        hb_initconn_close(&s->c);
    hb_proc_info_clear(&s->info);
    msgpack_sbuffer_destroy(&s->sout);
    free(s);
}

/* Send q and read init's first answer, the process as it is now. */
static hb_proc_stream_t *open_proc(const hb_sandbox_t *sb, const hb_initreq_t *q,
                                   uint64_t offset, hb_proc_info_t *info, hb_err_t *e)
{
    hb_proc_stream_t *s = stream_new(q->op);
    if (!s) {
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    if (hb_initconn_start(&s->c, sb, q, e) < 0) {
        free(s->sout.data);
        free(s);
        return NULL;
    }
    hb_initans_t a;
    int rc = hb_initconn_next(&s->c, &a, OPEN_TIMEOUT_MS, e);
    if (rc == 0 && a.t != HB_ANS_PROC)
        rc = hb_proc_fail_set(&a, q->op, e);
    if (rc == 0 && (hb_proc_info_from(&a, &s->info) < 0 || hb_proc_info_from(&a, info) < 0))
        rc = hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (rc < 0) {
        hb_proc_stream_close(s);
        return NULL;
    }
    s->pos = offset > s->info.first ? offset : s->info.first;
    return s;
}

static hb_proc_stream_t *output_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                     uint64_t offset, bool follow, bool hold,
                                     hb_proc_info_t *info, hb_err_t *e)
{
    memset(info, 0, sizeof *info);
    if (hb_proc_sel_check(sel, e) < 0)
        return NULL;
    hb_initreq_t q = {.op = HB_OP_PROC_OUTPUT, .offset = offset, .follow = follow, .hold = hold};
    hb_proc_sel_put(&q, sel);
    return open_proc(sb, &q, offset, info, e);
}

hb_proc_stream_t *hb_proc_output_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, bool follow, hb_proc_info_t *info,
                                      hb_err_t *e)
{
    return output_open(sb, sel, offset, follow, false, info, e);
}

hb_proc_stream_t *hb_proc_output_hold_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                           uint64_t offset, hb_proc_info_t *info, hb_err_t *e)
{
    return output_open(sb, sel, offset, true, true, info, e);
}

hb_proc_stream_t *hb_proc_attach_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, hb_proc_info_t *info, hb_err_t *e)
{
    memset(info, 0, sizeof *info);
    if (hb_proc_sel_check(sel, e) < 0)
        return NULL;
    hb_initreq_t q = {.op = HB_OP_PROC_ATTACH, .offset = offset};
    hb_proc_sel_put(&q, sel);
    return open_proc(sb, &q, offset, info, e);
}

hb_proc_stream_t *hb_proc_watch_open(const hb_sandbox_t *sb, int64_t from_seq, hb_err_t *e)
{
    hb_proc_stream_t *s = stream_new(HB_OP_PROC_WATCH);
    if (!s) {
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    hb_initreq_t q = {.op = HB_OP_PROC_WATCH};
    if (from_seq >= 0) {
        q.offset = (uint64_t)from_seq;
        q.has |= HB_IRF_BIT(offset);
    }
    if (hb_initconn_start(&s->c, sb, &q, e) < 0) {
        free(s->sout.data);
        free(s);
        return NULL;
    }
    return s;
}

int hb_proc_stream_fd(const hb_proc_stream_t *s)
{
    return s ? s->c.fd : -1;
}

static int on_output(hb_proc_stream_t *s, const hb_initans_t *a, hb_proc_event_t *ev, hb_err_t *e)
{
    if (s->op == HB_OP_PROC_WATCH)
        return hb_init_unexpected(a, "proc_watch", e);
    if (a->has & HB_IAF_BIT(off))
        s->pos = a->off;
    ev->kind = HB_PEV_OUT;
    ev->fd = (int)a->fd;
    ev->data = a->data.ptr;
    ev->len = a->data.len;
    ev->off = s->pos;
    s->pos += a->data.len;
    return 0;
}

static int on_ended(hb_proc_stream_t *s, const hb_initans_t *a, hb_proc_event_t *ev, hb_err_t *e)
{
    if (s->op == HB_OP_PROC_WATCH)
        return hb_init_unexpected(a, "proc_watch", e);
    hb_proc_info_t *p = &s->info;
    p->exit_code = (int)a->code;
    p->term_signal = (int)a->signal;
    p->timed_out = a->timed_out;
    p->off = (a->has & HB_IAF_BIT(off)) ? a->off : s->pos;
    p->stdin_open = false;
    if (!p->ended_at_ms)
        p->ended_at_ms = now_ms();
    s->ended = true;
    ev->kind = HB_PEV_EXIT;
    ev->off = p->off;
    ev->info = *p;     /* shares command: owned by the stream */
    return 0;
}

static int on_proc(hb_proc_stream_t *s, const hb_initans_t *a, hb_proc_event_t *ev, hb_err_t *e)
{
    if (s->op != HB_OP_PROC_WATCH)
        return hb_init_unexpected(a, hb_initop_name(s->op), e);
    hb_proc_info_clear(&s->info);
    if (hb_proc_info_from(a, &s->info) < 0)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    ev->kind = HB_PEV_PROC;
    ev->info = s->info;
    ev->off = s->info.off;
    return 0;
}

static int dispatch(hb_proc_stream_t *s, const hb_initans_t *a, hb_proc_event_t *ev, hb_err_t *e)
{
    switch (a->t) {
    case HB_ANS_OUT:
        return on_output(s, a, ev, e);
    case HB_ANS_EXIT:
        return on_ended(s, a, ev, e);
    case HB_ANS_PROC:
        return on_proc(s, a, ev, e);
    case HB_ANS_END:
        s->ended = true;
        ev->kind = HB_PEV_END;
        ev->off = s->pos;
        return 0;
    default:
        return hb_proc_fail_set(a, s->op, e);
    }
}

int hb_proc_next(hb_proc_stream_t *s, hb_proc_event_t *ev, int timeout_ms, hb_err_t *e)
{
    memset(ev, 0, sizeof *ev);
    if (s->ended) {
        ev->kind = HB_PEV_END;
        ev->off = s->pos;
        return 0;
    }
    struct pollfd p = {.fd = s->c.fd, .events = POLLIN};
    int pr = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
    if (pr == 0 || (pr < 0 && errno == EINTR))
        return 1;
    hb_initans_t a;
    if (hb_initconn_next(&s->c, &a, FRAME_TIMEOUT_MS, e) < 0)
        return -1;
    return dispatch(s, &a, ev, e);
}

/* ---- attach: the client's frames ---- */

static int send_ans(hb_proc_stream_t *s, const hb_initans_t *a, hb_err_t *e)
{
    if (s->op != HB_OP_PROC_ATTACH)
        return hb_fail(e, HB_E_INVALID, 0, "not an attached stream");
    hb_frame_begin(&s->sout);
    hb_initans_pack(&s->spk, a);
    if (hb_frame_send(s->c.fd, &s->sout) < 0)
        return hb_fail_sys(e, HB_E_DEAD, errno, "sandbox %s: process connection",
                           s->c.sb->id);
    return 0;
}

int hb_proc_send_input(hb_proc_stream_t *s, const void *data, size_t len, hb_err_t *e)
{
    if (s->op != HB_OP_PROC_ATTACH)
        return hb_fail(e, HB_E_INVALID, 0, "not an attached stream");
    const char *p = data;
    while (len > 0) {
        size_t n = len > HB_CHUNK_MAX ? HB_CHUNK_MAX : len;
        if (hb_frame_send_chunk(s->c.fd, "data", 0, p, n) < 0)
            return hb_fail_sys(e, HB_E_DEAD, errno, "sandbox %s: process connection",
                               s->c.sb->id);
        p += n;
        len -= n;
    }
    return 0;
}

int hb_proc_send_resize(hb_proc_stream_t *s, unsigned cols, unsigned rows, hb_err_t *e)
{
    if (cols < 1 || cols > HB_PTY_DIM_MAX || rows < 1 || rows > HB_PTY_DIM_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "cols/rows: each must be 1..%d", HB_PTY_DIM_MAX);
    hb_initans_t a = {.t = HB_ANS_RESIZE, .cols = cols, .rows = rows};
    return send_ans(s, &a, e);
}

int hb_proc_send_signal(hb_proc_stream_t *s, int sig, hb_err_t *e)
{
    if (sig < 1 || sig > HB_SIG_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "signal: must be 1..%d", HB_SIG_MAX);
    hb_initans_t a = {.t = HB_ANS_KILL, .signal = sig};
    return send_ans(s, &a, e);
}

int hb_proc_send_eof(hb_proc_stream_t *s, hb_err_t *e)
{
    hb_initans_t a = {.t = HB_ANS_END};
    return send_ans(s, &a, e);
}
