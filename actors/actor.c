/* The actor skeleton (see actor.h).
 *
 * The start handshake: zactor_new waits for the actor's first czmq signal
 * and drops its value, so the actor follows the signal with its status,
 * one message (code, text) on the pipe, which hb_actor_start reads next. */
#include "actor.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    hb_actor_fn *fn;
    void        *args;
    const char  *name;   /* the starter's: read before the actor signals */
} shim_t;

/* The actor's thread. czmq detaches it and lets zactor_destroy return
 * when fn does, so the thread ends while the daemon goes on (and may
 * exit): OpenSSL's per-thread state (an actor that used libcurl or a
 * digest) is freed here, before that, not by a thread-exit handler that
 * may run after OpenSSL's own atexit cleanup (then the state is lost). */
static void shim_run(zsock_t *pipe, void *arg)
{
    shim_t sh = *(shim_t *)arg;   /* first: the starter's copy lives until we signal */
    /* `top -H`, perf and gdb then tell the actors apart; the kernel keeps
     * 15 bytes of it */
    char comm[16];
    snprintf(comm, sizeof comm, "%s", sh.name);
    pthread_setname_np(pthread_self(), comm);
    sh.fn(pipe, sh.args);
    OPENSSL_thread_stop();
}

zactor_t *hb_actor_start(const char *name, hb_actor_fn *fn, void *args, hb_err_t *e)
{
    /* zactor_new returns once the actor has signalled (hb_actor_ready),
     * which shim_run's copy of sh comes before */
    shim_t sh = {fn, args, name};
    zactor_t *a = zactor_new(shim_run, &sh);   /* czmq aborts rather than return NULL */
    int code = HB_E_INTERNAL;
    char *text = NULL;
    if (!a) {
        hb_fail(e, HB_E_INTERNAL, 0, "%s: cannot start its thread", name);
        goto out;
    }
    if (zsock_recv(a, "is", &code, &text) < 0) {
        hb_fail(e, HB_E_INTERNAL, 0, "%s: ended before it reported", name);
        zactor_destroy(&a);
        goto out;
    }
    if (code != HB_OK) {
        hb_errcode_t c = code > HB_OK && code <= HB_E_LAST ? (hb_errcode_t)code : HB_E_INTERNAL;
        hb_fail(e, c, 0, "%s: %s", name, text ? text : "setup failed");
        zactor_destroy(&a);
    }
out:
    zstr_free(&text);
    return a;
}

zactor_t *hb_actor_start_copy(const char *name, hb_actor_fn *fn, const void *args, size_t size,
                              hb_err_t *e)
{
    void *copy = malloc(size);
    if (!copy) {
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "%s: out of memory", name);
        return NULL;
    }
    memcpy(copy, args, size);
    return hb_actor_start(name, fn, copy, e);
}

void hb_actor_ready(zsock_t *pipe, const hb_err_t *err)
{
    bool failed = err && err->code != HB_OK;
    zsock_signal(pipe, 0);
    zsock_send(pipe, "is", failed ? (int)err->code : HB_OK, failed ? err->msg : "");
}

zsock_t *hb_actor_inbox(const char *endpoint, hb_err_t *e)
{
    zsock_t *s = zsock_new(ZMQ_PULL);
    if (!s) {
        hb_fail(e, HB_E_INTERNAL, 0, "no socket for %s", endpoint);
        return NULL;
    }
    if (zsock_bind(s, "%s", endpoint) < 0) {
        hb_fail(e, HB_E_INTERNAL, zmq_errno(), "cannot bind %s: %s", endpoint,
                zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
    }
    return s;
}

zsock_t *hb_actor_pusher(const char *endpoint, hb_err_t *e)
{
    zsock_t *s = hb_bus_pusher(endpoint);
    if (!s)
        hb_fail(e, HB_E_INTERNAL, 0, "cannot connect to %s", endpoint);
    return s;
}

/* ---- the loop ---- */

/* One frame off the pipe: false on $TERM or a broken pipe. */
static bool pipe_msg(const hb_loop_t *l, void *self)
{
    zframe_t *f = zframe_recv(l->pipe);
    if (!f || zframe_streq(f, "$TERM")) {
        zframe_destroy(&f);
        return false;
    }
    hb_msg_t m = {0};
    if (!l->on_pipe)
        HB_LOG_WARN("%s: unexpected message on its pipe", l->name);
    else if (hb_msg_decode(zframe_data(f), zframe_size(f), &m) < 0)
        HB_LOG_ERROR("%s: malformed request dropped", l->name);
    else
        l->on_pipe(self, &m);
    hb_msg_clear(&m);
    zframe_destroy(&f);
    return true;
}

static void inbox_msg(const hb_loop_t *l, void *self)
{
    zframe_t *f = zframe_recv(l->inbox);
    if (!f)
        return;
    while (zsock_rcvmore(l->inbox)) {   /* we only ever send one frame */
        zframe_t *extra = zframe_recv(l->inbox);
        zframe_destroy(&extra);
    }
    hb_msg_t m = {0};
    if (hb_msg_decode(zframe_data(f), zframe_size(f), &m) < 0)
        HB_LOG_ERROR("%s: dropped a malformed message of %zu bytes", l->name, zframe_size(f));
    else
        l->on_inbox(self, &m, f);
    hb_msg_clear(&m);
    zframe_destroy(&f);
}

/* How long the next wait may be: the tighter of due() and until_ms. */
static int wait_ms(const hb_loop_t *l, void *self, int64_t until_ms)
{
    int64_t w = l->due ? l->due(self) : -1;
    if (until_ms >= 0) {
        int64_t left = until_ms - hb_now_ms();
        left = left > 0 ? left : 0;
        w = w < 0 || left < w ? left : w;
    }
    return w > INT32_MAX ? INT32_MAX : (int)w;
}

/* zpoller cannot watch a plain descriptor safely (it probes it as a zmq
 * socket), so a loop with one polls with zmq_poll: the pipe, the inbox and
 * the descriptor. Returns the socket that is readable, NULL otherwise (the
 * descriptor's handler has run then). */
static void *wait_with_fd(const hb_loop_t *l, void *self, int timeout_ms)
{
    zmq_pollitem_t it[3] = {
        {.socket = zsock_resolve(l->pipe), .events = ZMQ_POLLIN},
        {.socket = l->inbox ? zsock_resolve(l->inbox) : NULL, .fd = -1, .events = ZMQ_POLLIN},
        {.socket = NULL, .fd = l->watch_fd(self), .events = ZMQ_POLLIN},
    };
    errno = 0;
    if (zmq_poll(it, 3, timeout_ms) <= 0)
        return NULL;
    if (it[0].revents)
        return l->pipe;
    if (it[1].revents)
        return l->inbox;
    if (it[2].revents)
        l->on_fd(self);
    return NULL;
}

hb_loop_end_t hb_loop_run(const hb_loop_t *l, void *self, int64_t until_ms)
{
    hb_loop_end_t end = HB_LOOP_TERM;
    zpoller_t *p = zpoller_new(l->pipe, NULL);
    if (!p || (l->inbox && zpoller_add(p, l->inbox) < 0))
        goto out;
    for (;;) {
        if (l->done && l->done(self)) {
            end = HB_LOOP_DONE;
            break;
        }
        if (until_ms >= 0 && hb_now_ms() >= until_ms) {
            end = HB_LOOP_TIMEOUT;
            break;
        }
        void *which = l->watch_fd ? wait_with_fd(l, self, wait_ms(l, self, until_ms))
                                  : zpoller_wait(p, wait_ms(l, self, until_ms));
        if (which == l->pipe && !pipe_msg(l, self))
            break;
        if (which && which == l->inbox)
            inbox_msg(l, self);
        if (!which && (l->watch_fd ? zmq_errno() == ETERM : zpoller_terminated(p)))
            break;
    }
out:
    zpoller_destroy(&p);
    return end;
}
