/* Message bus helpers: see bus.h for the addressing scheme. */
#include "bus.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define LINGER_MS 5000
#define CALL_SLICE_MS 200

static _Atomic int64_t g_deadline_ms = 0;   /* 0: no shutdown in progress */
static _Atomic uint64_t g_call_seq = 0;

void hb_bus_set_deadline(int64_t deadline_ms) { atomic_store(&g_deadline_ms, deadline_ms); }
int64_t hb_bus_deadline(void) { return atomic_load(&g_deadline_ms); }

int64_t hb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* issue 19: a list or analytics answer is megabytes, and every copy of it
 * costs its page faults; a message that large goes out in the encoded
 * buffer itself (zmq frees it once the message is gone, sent or dropped;
 * inproc hands it over without a copy). A small one is copied: zmq's own
 * small-message path is cheaper than a second allocation. */
#define ZERO_COPY_MIN (64u << 10)

static void free_buf(void *data, void *hint) { free(data); }

/* Sends buf (len bytes) as one frame and frees it, sent or not: 0 or -1. */
static int send_buf(zsock_t *s, void *buf, size_t len)
{
    if (len < ZERO_COPY_MIN) {
        zframe_t *f = zframe_new(buf, len);
        free(buf);
        if (f && zframe_send(&f, s, 0) == 0)
            return 0;
        zframe_destroy(&f);
        return -1;
    }
    zmq_msg_t msg;
    if (zmq_msg_init_data(&msg, buf, len, free_buf, NULL) < 0) {
        free(buf);
        return -1;
    }
    if (zmq_msg_send(&msg, zsock_resolve(s), 0) >= 0)
        return 0;   /* zmq owns buf now */
    zmq_msg_close(&msg);   /* frees buf */
    return -1;
}

int hb_bus_send(zsock_t *s, const hb_msg_t *m)
{
    void *buf = NULL;
    size_t len = 0;
    if (hb_msg_encode(m, &buf, &len) < 0) {
        HB_LOG_ERROR("bus: cannot encode %s", hb_msg_name(m->type));
        return -1;
    }
    if (send_buf(s, buf, len) < 0) {
        HB_LOG_WARN("bus: cannot send %s: %s", hb_msg_name(m->type), zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int hb_bus_recv(zsock_t *s, hb_msg_t *m)
{
    memset(m, 0, sizeof *m);   /* callers clear m whatever we return */
    zframe_t *f = zframe_recv(s);
    if (!f)
        return -1;
    int rc = hb_msg_decode(zframe_data(f), zframe_size(f), m);
    if (rc < 0)
        HB_LOG_ERROR("bus: dropped a malformed message of %zu bytes", zframe_size(f));
    /* drain any further frames: we only ever send one */
    while (zsock_rcvmore(s)) {
        zframe_t *extra = zframe_recv(s);
        zframe_destroy(&extra);
    }
    zframe_destroy(&f);
    return rc;
}

zsock_t *hb_bus_pusher(const char *endpoint)
{
    zsock_t *s = zsock_new(ZMQ_PUSH);
    if (!s)
        return NULL;
    zsock_set_linger(s, LINGER_MS);
    zsock_set_sndtimeo(s, 1000);
    if (zsock_connect(s, "%s", endpoint) < 0) {
        zsock_destroy(&s);
        return NULL;
    }
    return s;
}

/* The payload is encoded before the key frame goes out: a failure after it
 * would leave half a message on s that the next send would complete. */
int hb_bus_send_keyed(zsock_t *s, uint64_t key, const hb_msg_t *m)
{
    void *buf = NULL;
    size_t len = 0;
    if (hb_msg_encode(m, &buf, &len) < 0) {
        HB_LOG_ERROR("bus: cannot encode %s", hb_msg_name(m->type));
        return -1;
    }
    int rc = -1;
    if (zmq_send(zsock_resolve(s), &key, sizeof key, ZMQ_SNDMORE) < 0)
        HB_LOG_WARN("bus: cannot send a key frame: %s", zmq_strerror(zmq_errno()));
    else if (zmq_send(zsock_resolve(s), buf, len, 0) < 0)   /* the rest of a started message */
        HB_LOG_WARN("bus: cannot send %s: %s", hb_msg_name(m->type), zmq_strerror(zmq_errno()));
    else
        rc = 0;
    free(buf);
    return rc;
}

/* "<endpoint>#<key>": the endpoint into base and the key; false if there
 * is no key (or it does not fit). */
static bool split_key(const char *endpoint, char *base, size_t len, uint64_t *key)
{
    const char *hash = strrchr(endpoint, '#');
    if (!hash || (size_t)(hash - endpoint) >= len)
        return false;
    char *end = NULL;
    *key = strtoull(hash + 1, &end, 10);
    if (end == hash + 1 || *end)
        return false;
    memcpy(base, endpoint, (size_t)(hash - endpoint));
    base[hash - endpoint] = '\0';
    return true;
}

void hb_bus_outbox_init(hb_bus_outbox_t *o, const char *endpoint)
{
    *o = (hb_bus_outbox_t){0};
    snprintf(o->endpoint, sizeof o->endpoint, "%s", endpoint);
}

int hb_bus_outbox_post(hb_bus_outbox_t *o, const hb_msg_t *m)
{
    char base[sizeof o->endpoint];
    uint64_t key = 0;
    bool keyed = split_key(o->endpoint, base, sizeof base, &key);
    if (!o->s)
        o->s = hb_bus_pusher(keyed ? base : o->endpoint);
    if (!o->s) {
        HB_LOG_WARN("bus: cannot connect to %s", o->endpoint);
        return -1;
    }
    return keyed ? hb_bus_send_keyed(o->s, key, m) : hb_bus_send(o->s, m);
}

void hb_bus_outbox_fini(hb_bus_outbox_t *o)
{
    zsock_destroy(&o->s);
}

int hb_bus_post(const char *endpoint, const hb_msg_t *m)
{
    if (!endpoint)
        return 0;
    hb_bus_outbox_t o;
    hb_bus_outbox_init(&o, endpoint);
    int rc = hb_bus_outbox_post(&o, m);
    hb_bus_outbox_fini(&o);
    return rc;
}

void hb_bus_reply_text(const char *reply_to, char *text, size_t len)
{
    if (!text) {
        hb_bus_reply_error(reply_to, HB_E_INTERNAL, "out of memory");
        return;
    }
    hb_msg_t rep = {.type = HB_MSG_R_TEXT, .text = {.data = text, .len = len}};
    if (reply_to)
        hb_bus_post(reply_to, &rep);
    free(text);
}

void hb_bus_reply_error(const char *reply_to, hb_errcode_t code, const char *fmt, ...)
{
    if (!reply_to)
        return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hb_msg_t r = {.type = HB_MSG_R_ERROR, .code = code, .error = text};
    hb_bus_post(reply_to, &r);   /* r borrows text: not cleared */
}

void hb_bus_reply_err(const char *reply_to, const hb_err_t *e)
{
    hb_bus_reply_error(reply_to, e->code, "%s", e->msg);
}

/* The reply's frame (the first; any more are dropped), or -1 with e. */
static int wait_reply(zsock_t *pull, zframe_t **f, int64_t timeout_ms, hb_err_t *e)
{
    int64_t start = hb_now_ms();
    zpoller_t *p = zpoller_new(pull, NULL);
    if (!p)
        return hb_fail(e, HB_E_INTERNAL, 0, "bus: no poller");
    int rc = -1;
    for (;;) {
        if (zpoller_wait(p, CALL_SLICE_MS) == pull) {
            *f = zframe_recv(pull);
            rc = *f ? 0 : hb_fail(e, HB_E_INTERNAL, 0, "bus: bad reply");
            while (zsock_rcvmore(pull)) {
                zframe_t *extra = zframe_recv(pull);
                zframe_destroy(&extra);
            }
            break;
        }
        int64_t now = hb_now_ms(), dl = hb_bus_deadline();
        if (dl && now >= dl) {
            rc = hb_fail(e, HB_E_UNAVAIL, 0, "the daemon is shutting down");
            break;
        }
        if (timeout_ms >= 0 && now - start >= timeout_ms) {
            rc = hb_fail(e, HB_E_INTERNAL, 0, "timed out waiting for the daemon's actors");
            break;
        }
    }
    zpoller_destroy(&p);
    return rc;
}

/* Post req with a private reply endpoint and wait for the reply's frame. */
static int call_frame(const char *endpoint, hb_msg_t *req, zframe_t **f, int64_t timeout_ms,
                      hb_err_t *e)
{
    *f = NULL;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://hb-call-%llu",
             (unsigned long long)atomic_fetch_add(&g_call_seq, 1));
    zsock_t *pull = zsock_new(ZMQ_PULL);
    if (!pull || zsock_bind(pull, "%s", ep) < 0) {
        zsock_destroy(&pull);
        return hb_fail(e, HB_E_INTERNAL, 0, "bus: cannot bind %s", ep);
    }
    int rc;
    if (hb_str_set(&req->reply_to, ep) < 0)
        rc = hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    else if (hb_bus_post(endpoint, req) < 0)
        rc = hb_fail(e, HB_E_INTERNAL, 0, "bus: cannot reach %s", endpoint);
    else
        rc = wait_reply(pull, f, timeout_ms, e);
    zsock_destroy(&pull);
    return rc;
}

/* The frame decoded into rep; an R_ERROR as -1 with e. */
static int decode_reply(zframe_t *f, hb_msg_t *rep, hb_err_t *e)
{
    if (hb_msg_decode(zframe_data(f), zframe_size(f), rep) < 0) {
        HB_LOG_ERROR("bus: dropped a malformed message of %zu bytes", zframe_size(f));
        return hb_fail(e, HB_E_INTERNAL, 0, "bus: bad reply");
    }
    if (rep->type != HB_MSG_R_ERROR)
        return 0;
    hb_errcode_t code = (rep->code > HB_OK && rep->code <= HB_E_LAST)
                            ? (hb_errcode_t)rep->code : HB_E_INTERNAL;
    int rc = hb_fail(e, code, 0, "%s", rep->error ? rep->error : "error");
    hb_msg_clear(rep);
    return rc;
}

int hb_bus_call(const char *endpoint, hb_msg_t *req, hb_msg_t *rep, int64_t timeout_ms,
                hb_err_t *e)
{
    memset(rep, 0, sizeof *rep);
    zframe_t *f = NULL;
    int rc = call_frame(endpoint, req, &f, timeout_ms, e);
    if (rc == 0)
        rc = decode_reply(f, rep, e);
    zframe_destroy(&f);
    return rc;
}

int hb_bus_call_text(const char *endpoint, hb_msg_t *req, hb_bus_text_t *out,
                     int64_t timeout_ms, hb_err_t *e)
{
    memset(out, 0, sizeof *out);
    zframe_t *f = NULL;
    if (call_frame(endpoint, req, &f, timeout_ms, e) < 0)
        return -1;
    if (hb_msg_peek_text(zframe_data(f), zframe_size(f), &out->data, &out->len) == 0) {
        out->frame = f;   /* the text lies in it */
        return 0;
    }
    hb_msg_t rep;
    int rc = decode_reply(f, &rep, e);
    zframe_destroy(&f);
    if (rc == 0) {
        hb_msg_clear(&rep);
        rc = hb_fail(e, HB_E_INTERNAL, 0, "bus: expected a text reply");
    }
    return rc;
}

void hb_bus_text_free(hb_bus_text_t *t)
{
    zframe_destroy(&t->frame);
    memset(t, 0, sizeof *t);
}
