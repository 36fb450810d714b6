/* One attached WebSocket (gw_ws.h): the handshake, the worker's read loop,
 * the pump thread. Ownership: the session owns its lease, its stream and
 * one count in gw_streams, and frees them when hb_ws_run returns. The
 * client's socket stays civetweb's (it closes it after the request). */
#include "gw_ws.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bus.h"
#include "gw_reqlog.h"
#include "gw_streams.h"
#include "json_out.h"
#include "log.h"
#include "rawsock.h"
#include "reqid.h"
#include "req_parse.h"
#include "ws_deflate.h"
#include "ws_frame.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

typedef struct {
    int                   fd;        /* the client's socket */
    int                   send_ms;
    pthread_mutex_t       wlock;     /* frames out whole, from either thread */
    bool                  close_sent; /* under wlock: nothing follows it */
    atomic_bool           broken;    /* a write failed: the session ends */
    hb_lease_t           *lease;
    hb_proc_stream_t     *st;
    hb_wsd_t             *pmd;       /* permessage-deflate, when agreed */
    char                  id[HB_ID_MAX];
    pthread_t             pump;
    bool                  pumping;   /* the thread was started (joined once) */
    atomic_bool           stop;      /* the worker's side is done */
    atomic_bool           closed;    /* a close frame went out */
    _Atomic int64_t       closed_at; /* when (ms; 0 until then) */
    bool                  heard_close;
    bool                  deaf;      /* init closed its end: input is dropped */
    hb_wsf_t              in;
    char                  text[HB_WS_TEXT_MAX];
    size_t                text_len;  /* of the control message so far */
    bool                  text_long; /* it went past HB_WS_TEXT_MAX */
} sess_t;

/* ---- frames out (either thread) ---- */

/* A client that takes no bytes for send_ms, or has gone: the socket is
 * shut so the worker's read ends too. Nothing goes out after the close
 * frame (RFC 6455 5.5.1: a browser fails the connection on it): the pump
 * may be about to send output while the worker answers the client's close,
 * so the check is made under the lock that orders the frames. */
static int send_frame(sess_t *s, int op, const void *p, size_t n)
{
    uint8_t head[HB_WSF_HEAD_MAX];
    size_t hn = hb_wsf_head(head, op, n);
    pthread_mutex_lock(&s->wlock);
    int rc = -1;
    if (!s->close_sent && !atomic_load(&s->broken)) {
        rc = hb_raw_send_all(s->fd, head, hn, s->send_ms) < 0 ||
                     (n && hb_raw_send_all(s->fd, p, n, s->send_ms) < 0)
                 ? -1 : 0;
        if (rc < 0 && !atomic_exchange(&s->broken, true))
            shutdown(s->fd, SHUT_RDWR);
        s->close_sent = op == HB_WSF_CLOSE;
    }
    pthread_mutex_unlock(&s->wlock);
    return rc;
}

static int send_json(sess_t *s, json_t *j)
{
    size_t len = 0;
    char *text = j ? hb_json_text(j, &len) : NULL;
    json_decref(j);
    int rc = text ? send_frame(s, HB_WSF_TEXT, text, len) : -1;
    free(text);
    return rc;
}

static void send_error(sess_t *s, const char *msg)
{
    send_json(s, json_pack("{s:s, s:s}", "type", "error", "error", msg));
}

/* Once per session: the close frame (code, reason). */
static void send_close(sess_t *s, unsigned code, const char *reason)
{
    if (atomic_exchange(&s->closed, true))
        return;
    atomic_store(&s->closed_at, hb_now_ms());
    uint8_t buf[HB_WSF_CTL_MAX];
    size_t n = strlen(reason);
    n = n > sizeof buf - 2 ? sizeof buf - 2 : n;
    buf[0] = (uint8_t)(code >> 8);
    buf[1] = (uint8_t)(code & 0xff);
    memcpy(buf + 2, reason, n);
    send_frame(s, HB_WSF_CLOSE, buf, n + 2);
}

/* Output, compressed when that was agreed and makes it smaller (only the
 * pump calls it: the deflate stream is the pump's). */
static int send_output(sess_t *s, const void *p, size_t n)
{
    const uint8_t *z;
    size_t zn;
    if (s->pmd && hb_wsd_deflate(s->pmd, p, n, &z, &zn) == 1)
        return send_frame(s, HB_WSF_BINARY | HB_WSF_RSV1, z, zn);
    return send_frame(s, HB_WSF_BINARY, p, n);
}

static json_t *tag_json(const hb_proc_info_t *p)
{
    return p->tag[0] ? json_string(p->tag) : json_null();
}

/* ---- the pump: init -> client ---- */

/* false when the session is over. */
static bool pump_event(sess_t *s, const hb_proc_event_t *ev)
{
    switch (ev->kind) {
    case HB_PEV_OUT:
        /* a failed write: the client is gone or stopped reading */
        return !ev->len || send_output(s, ev->data, ev->len) == 0;
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
    sess_t *s = arg;
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

static void stop_pump(sess_t *s)
{
    atomic_store(&s->stop, true);
    if (s->pumping) {
        shutdown(hb_proc_stream_fd(s->st), SHUT_RDWR);   /* wakes its hb_proc_next */
        pthread_join(s->pump, NULL);
    }
    s->pumping = false;
}

/* ---- frames in (the worker) ---- */

/* init closed the connection (EPIPE, ECONNRESET): the process ended and
 * its exit, already sent, is for the pump to pass on (a client's ^D or
 * resize crossing the exit must not turn it into an error), or init is
 * gone and the pump says so. What the client sends from then on is
 * dropped. */
static bool init_closed(sess_t *s, const hb_err_t *e)
{
    if (e->sys_errno != EPIPE && e->sys_errno != ECONNRESET)
        return false;
    s->deaf = true;
    return true;
}

/* A JSON control message: resize or signal. A bad one is answered with an
 * error frame and the session goes on; false when init could not be told
 * (the connection to it may be mid-frame: the session ends). */
static bool control(sess_t *s, const char *data, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(data, len, 0, &je);
    const char *type = json_string_value(json_object_get(j, "type"));
    hb_err_t e = {0};
    int rc = 0;
    if (!j) {
        send_error(s, "control frame: not JSON");
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

/* A text message, kept up to HB_WS_TEXT_MAX and judged at its end. */
static void text_piece(sess_t *s, const uint8_t *p, size_t n, bool last)
{
    if (!s->text_long && n <= sizeof s->text - s->text_len) {
        if (n)
            memcpy(s->text + s->text_len, p, n);
        s->text_len += n;
    } else {
        s->text_long = true;
    }
    if (!last)
        return;
    if (s->in.msg_frames > 1)
        send_error(s, "control frame: must not be fragmented");
    else if (s->text_long)
        send_error(s, "control frame: longer than 4096 bytes");
    else if (!control(s, s->text, s->text_len))
        send_close(s, 1011, "the sandbox stopped taking input");   /* error sent */
    s->text_len = 0;
    s->text_long = false;
}

/* init stopped taking what the client sends (the process has not read its
 * input for the send timeout): say so and close. */
static void sink_failed(sess_t *s, const hb_err_t *e)
{
    if (init_closed(s, e))
        return;
    send_error(s, e->msg);
    send_close(s, 1011, "the sandbox stopped taking input");
}

/* What the client sends is taken until our close frame or init's end. */
static bool taking(sess_t *s)
{
    return !atomic_load(&s->closed) && !s->deaf;
}

/* A piece of a message as the client meant it (inflated, if it was not
 * sent so): true while more of it is wanted. */
static bool plain_piece(sess_t *s, int op, const uint8_t *p, size_t n, bool last)
{
    hb_err_t e = {0};
    if (op == HB_WSF_TEXT)
        text_piece(s, p, n, last);
    else if (n && hb_proc_send_input(s->st, p, n, &e) < 0)
        sink_failed(s, &e);
    return taking(s) && !(op == HB_WSF_TEXT && s->text_long);
}

static int inflated_text(void *ud, const uint8_t *p, size_t n)
{
    return !plain_piece(ud, HB_WSF_TEXT, p, n, false);
}

static int inflated_binary(void *ud, const uint8_t *p, size_t n)
{
    return !plain_piece(ud, HB_WSF_BINARY, p, n, false);
}

/* After our close frame, what the client sent before it saw it is read and
 * dropped until its answer: closing the socket on unread input would reset
 * the connection, and the client's kernel would drop the exit and close
 * frames it had not read. A compressed message is inflated as it comes. */
static int on_data(void *ud, int op, const uint8_t *p, size_t n, bool last)
{
    sess_t *s = ud;
    if (!taking(s))
        return 0;
    if (!s->in.msg_rsv1) {
        plain_piece(s, op, p, n, last);
        return 0;
    }
    if (hb_wsd_inflate(s->pmd, p, n, last, op == HB_WSF_TEXT ? inflated_text : inflated_binary,
                       s) < 0)
        send_close(s, 1007, "a compressed message is not a deflate stream");
    else if (last && op == HB_WSF_TEXT && taking(s))
        text_piece(s, NULL, 0, true);   /* the message is whole: judge it */
    return 0;
}

static int on_control(void *ud, int op, const uint8_t *p, size_t n)
{
    sess_t *s = ud;
    if (op == HB_WSF_PING && !atomic_load(&s->closed))
        send_frame(s, HB_WSF_PONG, p, n);
    if (op != HB_WSF_CLOSE)
        return 0;
    send_close(s, 1000, "");   /* the answer, unless we closed first */
    s->heard_close = true;
    return 1;
}

static const hb_wsf_sink_t SINK = {.data = on_data, .control = on_control};

/* How long to wait for the client now: until the close wait ends after
 * ours, else until the next ping is due (every HB_WS_PING_MS of silence)
 * or the silence reaches HB_WS_DEAD_MS. -1: the wait is over. */
static int next_wait(sess_t *s, int64_t heard_at, int64_t *pinged_at)
{
    int64_t now = hb_now_ms();
    if (atomic_load(&s->closed)) {
        int64_t at = atomic_load(&s->closed_at);
        int64_t left = (at ? at : now) + HB_WS_CLOSE_WAIT_MS - now;
        return left > 0 ? (int)left : -1;
    }
    if (now - heard_at >= HB_WS_DEAD_MS)
        return -1;
    int64_t last = *pinged_at > heard_at ? *pinged_at : heard_at;
    if (now - last >= HB_WS_PING_MS) {
        if (send_frame(s, HB_WSF_PING, NULL, 0) < 0)
            return -1;
        *pinged_at = last = now;
    }
    int64_t ping = last + HB_WS_PING_MS - now, dead = heard_at + HB_WS_DEAD_MS - now;
    return (int)(ping < dead ? ping : dead);
}

/* The worker's loop: the client's bytes until it closes, stays silent
 * past HB_WS_DEAD_MS, breaks, or the daemon stops. */
static void serve(sess_t *s, uint8_t *buf)
{
    int64_t heard_at = hb_now_ms(), pinged_at = 0;
    while (!s->heard_close && !atomic_load(&s->broken)) {
        int wait = next_wait(s, heard_at, &pinged_at);
        if (wait < 0)
            return;
        ssize_t n = hb_raw_recv(s->fd, buf, HB_WS_READ_BUF, wait);
        if (n < 0 && errno == ETIMEDOUT)
            continue;
        if (n < 0 && errno == ECANCELED) {
            send_close(s, 1001, "the daemon is stopping");
            return;
        }
        if (n <= 0)
            return;
        heard_at = hb_now_ms();
        if (hb_wsf_feed(&s->in, buf, (size_t)n, &SINK, s) < 0) {
            send_close(s, 1002, s->in.why);
            return;
        }
    }
}

/* ---- the handshake and the session's life ---- */

static int accept_key(const char *key, char out[64])
{
    char in[128];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int n = snprintf(in, sizeof in, "%s" WS_GUID, key);
    if (n < 0 || (size_t)n >= sizeof in || !EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha1(), NULL))
        return -1;
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);   /* 20 bytes: 28 characters */
    return 0;
}

static int handshake(sess_t *s, const char *key, const char *ext_offer)
{
    char acc[64], head[640], ext[160], ext_line[200] = "";
    if (accept_key(key, acc) < 0)
        return -1;
    s->pmd = hb_wsd_negotiate(ext_offer, ext, sizeof ext);
    s->in.allow_rsv1 = s->pmd != NULL;
    if (s->pmd)
        snprintf(ext_line, sizeof ext_line, "Sec-WebSocket-Extensions: %s\r\n", ext);
    int n = snprintf(head, sizeof head, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s: %s\r\n\r\n", acc,
                     ext_line, HB_REQID_HEADER, hb_reqlog_id());
    return n > 0 && (size_t)n < sizeof head ? hb_raw_send_all(s->fd, head, (size_t)n, s->send_ms)
                                            : -1;
}

static void sess_free(sess_t *s)
{
    stop_pump(s);
    hb_proc_stream_close(s->st);
    hb_lease_release(&s->lease);
    hb_streams_leave(s->id);
    hb_wsd_free(s->pmd);
    pthread_mutex_destroy(&s->wlock);
    free(s);
}

static sess_t *sess_new(hb_lease_t *l, hb_proc_stream_t *st, int send_ms)
{
    sess_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->lease = l;
    s->st = st;
    s->send_ms = send_ms;
    snprintf(s->id, sizeof s->id, "%s", hb_lease_id(l));
    pthread_mutex_init(&s->wlock, NULL);
    hb_wsf_init(&s->in);
    return s;
}

/* Everything after the 101: hello, the pump, the loop, the end. */
static void run(sess_t *s, const hb_proc_info_t *p, uint64_t offset)
{
    uint8_t *buf = malloc(HB_WS_READ_BUF);
    send_json(s, json_pack("{s:s, s:i, s:o, s:i, s:i, s:I}", "type", "hello", "pid", p->pid,
                           "tag", tag_json(p), "cols", (int)p->cols, "rows", (int)p->rows,
                           "offset", (json_int_t)offset));
    s->pumping = buf && pthread_create(&s->pump, NULL, pump, s) == 0;
    if (!s->pumping) {
        send_error(s, buf ? "out of threads" : "out of memory");
        send_close(s, 1011, buf ? "out of threads" : "out of memory");
    } else {
        serve(s, buf);
    }
    stop_pump(s);
    free(buf);
}

int hb_ws_run(struct mg_connection *c, hb_lease_t *l, hb_proc_stream_t *st,
              const hb_proc_info_t *hello, uint64_t offset, int send_ms, hb_err_t *e)
{
    sess_t *s = sess_new(l, st, send_ms);
    if (!s) {
        hb_proc_stream_close(st);
        hb_streams_leave(hb_lease_id(l));
        hb_lease_release(&l);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    s->fd = hb_raw_client_fd(mg_get_request_info(c));
    int rc = s->fd >= 0 ? handshake(s, mg_get_header(c, "Sec-WebSocket-Key"),
                                    mg_get_header(c, "Sec-WebSocket-Extensions"))
                        : -1;
    if (rc < 0) {
        sess_free(s);
        return hb_fail(e, HB_E_INTERNAL, 0, "the connection could not be taken over");
    }
    run(s, hello, offset);
    shutdown(s->fd, SHUT_RDWR);   /* civetweb closes it after the request */
    sess_free(s);
    return 101;
}
