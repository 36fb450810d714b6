/* One attached WebSocket (gw_ws.h): the session, its pump thread and the
 * civetweb handlers. Ownership: the session owns its lease, its stream and
 * one count in gw_streams; hb_ws_end frees it (and only it). */
#include "gw_ws.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bus.h"
#include "gw_streams.h"
#include "json_out.h"
#include "log.h"
#include "req_parse.h"


struct hb_ws_sess {
    struct mg_connection *c;
    hb_lease_t           *lease;
    hb_proc_stream_t     *st;
    char                  id[HB_ID_MAX];
    hb_proc_info_t        hello;     /* pid, tag, size; for the first frame */
    uint64_t              offset;
    pthread_t             pump;
    bool                  pumping;   /* the thread was started (joined once) */
    atomic_bool           stop;      /* the worker's side is done */
    atomic_bool           closed;    /* a close frame went out */
    _Atomic int64_t       closed_at; /* when (ms; 0 until then) */
    bool                  deaf;      /* init closed its end: input is dropped */
    int                   last_op;   /* of a fragmented message */
};

static atomic_bool g_ready;

bool hb_ws_ready(void) { return atomic_load(&g_ready); }

/* ---- frames out (either thread; civetweb locks the connection) ---- */

static int send_json(hb_ws_sess_t *s, json_t *j)
{
    size_t len = 0;
    char *text = j ? hb_json_text(j, &len) : NULL;
    json_decref(j);
    int rc = text ? mg_websocket_write(s->c, MG_WEBSOCKET_OPCODE_TEXT, text, len) : -1;
    free(text);
    return rc;
}

static void send_error(hb_ws_sess_t *s, const char *msg)
{
    send_json(s, json_pack("{s:s, s:s}", "type", "error", "error", msg));
}

/* Once per session: the close frame (code, reason). */
static void send_close(hb_ws_sess_t *s, unsigned code, const char *reason)
{
    if (atomic_exchange(&s->closed, true))
        return;
    atomic_store(&s->closed_at, hb_now_ms());
    char buf[125];
    size_t n = strlen(reason);
    n = n > sizeof buf - 2 ? sizeof buf - 2 : n;
    buf[0] = (char)(code >> 8);
    buf[1] = (char)(code & 0xff);
    memcpy(buf + 2, reason, n);
    mg_websocket_write(s->c, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, buf, n + 2);
}

static json_t *tag_json(const hb_proc_info_t *p)
{
    return p->tag[0] ? json_string(p->tag) : json_null();
}

/* ---- the pump: init -> client ---- */

/* false when the session is over. */
static bool pump_event(hb_ws_sess_t *s, const hb_proc_event_t *ev)
{
    switch (ev->kind) {
    case HB_PEV_OUT:
        if (ev->len && mg_websocket_write(s->c, MG_WEBSOCKET_OPCODE_BINARY, ev->data,
                                          ev->len) <= 0)
            return false;   /* the client is gone or stopped reading */
        return true;
    case HB_PEV_EXIT:
        send_json(s, json_pack("{s:s, s:i, s:o, s:b, s:I}", "type", "exit", "exit_code",
                               ev->info.exit_code, "signal",
                               ev->info.term_signal ? json_integer(ev->info.term_signal)
                                                    : json_null(),
                               "timed_out", ev->info.timed_out, "offset",
                               (json_int_t)ev->info.off));
        send_close(s, 1000, "process exited");
        return false;
    case HB_PEV_END:
    case HB_PEV_PROC:
        send_close(s, 1000, "end of output");
        return false;
    }
    return true;
}

static void *pump(void *arg)
{
    hb_ws_sess_t *s = arg;
    while (!atomic_load(&s->stop)) {
        hb_proc_event_t ev;
        hb_err_t e = {0};
        /* no timeout: an idle terminal costs no wake-ups; stop_pump
         * shuts the socket down to end the wait */
        int rc = hb_proc_next(s->st, &ev, -1, &e);
        if (rc == 1)
            continue;
        if (rc < 0 && atomic_load(&s->stop))
            break;
        if (rc < 0) {
            if (e.code == HB_E_CONFLICT) {
                send_close(s, HB_WS_CLOSE_TAKEN, "taken over by another client");
            } else {
                send_error(s, e.msg);
                send_close(s, 1011, "the sandbox stopped answering");
            }
            break;
        }
        if (!pump_event(s, &ev))
            break;
    }
    return NULL;
}

/* ---- frames in (the civetweb worker) ---- */

/* init closed the connection (EPIPE, ECONNRESET): the process ended and
 * its exit, already sent, is for the pump to pass on (a client's ^D or
 * resize crossing the exit must not turn it into an error), or init is
 * gone and the pump says so. What the client sends from then on is
 * dropped. */
static bool init_closed(hb_ws_sess_t *s, const hb_err_t *e)
{
    if (e->sys_errno != EPIPE && e->sys_errno != ECONNRESET)
        return false;
    s->deaf = true;
    return true;
}

/* A JSON control frame: resize or signal. A bad frame is answered with an
 * error frame and the session goes on; false when init could not be told
 * (the connection to it may be mid-frame: the session ends). */
static bool control(hb_ws_sess_t *s, const char *data, size_t len)
{
    json_error_t je;
    json_t *j = len <= HB_WS_TEXT_MAX ? json_loadb(data, len, 0, &je) : NULL;
    const char *type = json_string_value(json_object_get(j, "type"));
    hb_err_t e = {0};
    int rc = 0;
    if (!j) {
        send_error(s, len > HB_WS_TEXT_MAX ? "control frame: longer than 4096 bytes"
                                           : "control frame: not JSON");
    } else if (type && strcmp(type, "resize") == 0) {
        unsigned cols, rows;
        if (hb_req_pty_dim(j, "cols", &cols) < 0)
            send_error(s, "cols: an integer 1..1000");
        else if (hb_req_pty_dim(j, "rows", &rows) < 0)
            send_error(s, "rows: an integer 1..1000");
        else
            rc = hb_proc_send_resize(s->st, cols, rows, &e);
    } else if (type && strcmp(type, "signal") == 0) {
        int sig = hb_req_signal(json_object_get(j, "signal"));
        if (sig < 0)
            send_error(s, "signal: a signal name (INT, TERM, ...) or number");
        else
            rc = hb_proc_send_signal(s->st, sig, &e);
    } else {
        send_error(s, "type: \"resize\" or \"signal\"");
    }
    json_decref(j);
    if (rc < 0 && init_closed(s, &e))
        return true;
    if (rc < 0)
        send_error(s, e.msg);
    return rc == 0;
}

/* init stopped taking what the client sends (the process has not read its
 * input for the send timeout): say so and close (closing_reads then waits
 * for the client's answer). */
static void sink_failed(hb_ws_sess_t *s, const hb_err_t *e)
{
    if (init_closed(s, e))
        return;
    send_error(s, e->msg);
    send_close(s, 1011, "the sandbox stopped taking input");
}

/* After our close frame, what the client sent before it saw it is read
 * and dropped until its answer (a close frame, above) or HB_WS_CLOSE_WAIT_MS:
 * closing the socket on unread input would reset the connection, and the
 * client's kernel would drop the exit and close frames it had not read. A
 * client that never answers goes at its first frame after the wait (civetweb
 * pings a quiet one). */
static int closing_reads(const hb_ws_sess_t *s)
{
    int64_t at = atomic_load(&s->closed_at);
    return at == 0 || hb_now_ms() - at < HB_WS_CLOSE_WAIT_MS;   /* 0: stored in a moment */
}

static int on_data(struct mg_connection *c, int bits, char *data, size_t len, void *cbdata)
{
    hb_ws_sess_t *s = mg_get_user_connection_data(c);
    int op = bits & 0xf;
    if (!s)
        return 0;
    if (op == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
        send_close(s, 1000, "");   /* the answer, unless we closed first */
        return 0;
    }
    if (atomic_load(&s->closed))
        return closing_reads(s);
    if (s->deaf)
        return 1;   /* the pump ends the session (init_closed) */
    if (op == MG_WEBSOCKET_OPCODE_CONTINUATION)
        op = s->last_op;
    else if (!(bits & 0x80))
        s->last_op = op;   /* the first of a fragmented message */
    hb_err_t e = {0};
    if (op == MG_WEBSOCKET_OPCODE_BINARY) {
        if (len && hb_proc_send_input(s->st, data, len, &e) < 0)
            sink_failed(s, &e);
    } else if (op == MG_WEBSOCKET_OPCODE_TEXT) {
        if (!(bits & 0x80) || (bits & 0xf) == MG_WEBSOCKET_OPCODE_CONTINUATION)
            send_error(s, "control frame: must not be fragmented");
        else if (!control(s, data, len))
            send_close(s, 1011, "the sandbox stopped taking input");   /* error sent */
    }
    return 1;
}

static int on_connect(const struct mg_connection *c, void *cbdata)
{
    return mg_get_user_connection_data(c) ? 0 : 1;   /* only what begin_request parked */
}

static void on_ready(struct mg_connection *c, void *cbdata)
{
    hb_ws_sess_t *s = mg_get_user_connection_data(c);
    if (!s)
        return;
    const hb_proc_info_t *p = &s->hello;
    send_json(s, json_pack("{s:s, s:i, s:o, s:i, s:i, s:I}", "type", "hello", "pid", p->pid,
                           "tag", tag_json(p), "cols", (int)p->cols, "rows", (int)p->rows,
                           "offset", (json_int_t)s->offset));
    s->pumping = pthread_create(&s->pump, NULL, pump, s) == 0;
    if (!s->pumping) {
        send_error(s, "out of threads");
        send_close(s, 1011, "out of threads");
    }
}

/* The worker is leaving: stop the pump before civetweb closes the socket. */
static void stop_pump(hb_ws_sess_t *s)
{
    atomic_store(&s->stop, true);
    if (s->pumping) {
        shutdown(hb_proc_stream_fd(s->st), SHUT_RDWR);   /* wakes its hb_proc_next */
        pthread_join(s->pump, NULL);
    }
    s->pumping = false;
}

static void on_close(const struct mg_connection *c, void *cbdata)
{
    hb_ws_sess_t *s = mg_get_user_connection_data(c);
    if (s)
        stop_pump(s);
}

void hb_ws_register(struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, "/api/v1/hiveboxes", on_connect, on_ready, on_data, on_close,
                             NULL);
    atomic_store(&g_ready, true);
}

/* ---- life cycle ---- */

static void sess_free(hb_ws_sess_t *s)
{
    stop_pump(s);
    hb_proc_stream_close(s->st);
    hb_lease_release(&s->lease);
    hb_streams_leave(s->id);
    hb_proc_info_clear(&s->hello);
    free(s);
}

int hb_ws_park(struct mg_connection *c, hb_lease_t *l, hb_proc_stream_t *st,
               const hb_proc_info_t *hello, uint64_t offset, hb_err_t *e)
{
    hb_ws_sess_t *s = calloc(1, sizeof *s);
    if (!s) {
        hb_proc_stream_close(st);
        hb_streams_leave(hb_lease_id(l));
        hb_lease_release(&l);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    s->c = c;
    s->lease = l;
    s->st = st;
    snprintf(s->id, sizeof s->id, "%s", hb_lease_id(l));
    s->hello.pid = hello->pid;
    memcpy(s->hello.tag, hello->tag, sizeof s->hello.tag);
    s->hello.cols = hello->cols;
    s->hello.rows = hello->rows;
    s->offset = offset;
    mg_set_user_connection_data(c, s);
    return 0;
}

void hb_ws_end(const struct mg_connection *c)
{
    hb_ws_sess_t *s = mg_get_user_connection_data(c);
    if (!s)
        return;
    mg_set_user_connection_data(c, NULL);
    sess_free(s);
}
