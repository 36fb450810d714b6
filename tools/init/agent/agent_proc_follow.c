/* proc_output, proc_attach and proc_watch: followers. Each runs on its
 * request thread, copies at most one chunk out of the ring under the lock
 * and sends it without: a follower that cannot send (its client does not
 * read) holds back nobody but itself. It sleeps on an eventfd of its own
 * that the keeper signals on new output and on the exit. */
#include "agent_proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#define OUT_CHUNK     (64 * 1024)
#define CLIENT_FRAME_MS 10000     /* a client frame, once begun, must arrive by then */

static uint64_t g_attach_seq;     /* under g_proc.mu */

typedef struct {
    int conn;
    hb_frame_t *f;
    proc_t *p;
    uint32_t gen;
    uint64_t pos;                 /* next offset to send */
    int efd;                      /* -1: not following */
    uint64_t attach;              /* 0: not an attach */
    bool hold;                    /* holds the output back (agent_proc_hold.c) */
    char *buf;
} follow_t;

enum { GO_ON, STOP };

/* Anything from a plain follower's client (data or EOF) ends it. */
static bool client_gone(int conn)
{
    char c;
    ssize_t n = recv(conn, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    return n >= 0 || (errno != EAGAIN && errno != EINTR);
}

/* Something (a frame, or EOF) waits on an attach's connection. */
static bool client_pending(int conn)
{
    struct pollfd pf = {.fd = conn, .events = POLLIN | POLLRDHUP};
    return poll(&pf, 1, 0) > 0;
}

static void set_size(proc_t *p, uint32_t gen, uint64_t cols, uint64_t rows)
{
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    pthread_mutex_lock(&g_proc.mu);
    if (p->gen == gen && p->pty_fd >= 0 && ioctl(p->pty_fd, TIOCSWINSZ, &ws) == 0) {
        p->cols = (unsigned)cols;
        p->rows = (unsigned)rows;
    }
    pthread_mutex_unlock(&g_proc.mu);
}

static void send_kill(proc_t *p, uint32_t gen, int sig)
{
    pthread_mutex_lock(&g_proc.mu);
    if (p->gen == gen && p->live)
        kill(-p->pid, sig);
    pthread_mutex_unlock(&g_proc.mu);
}

/* One frame from an attached client: data, resize, kill, end. */
static int client_frame(follow_t *w)
{
    hb_initans_t a;
    if (hb_frame_read(w->conn, w->f, CLIENT_FRAME_MS) != 0 || hb_initans_parse(w->f, &a) < 0)
        return STOP;            /* gone, or not speaking the protocol */
    size_t done;
    switch (a.t) {
    case HB_ANS_DATA:
        if (proc_write_input(w->p, w->gen, a.data.ptr, a.data.len, &done) == EAGAIN) {
            agent_answer_err(w->conn, EAGAIN, "stdin: the process did not read it within %d s",
                             PROC_INPUT_MS / 1000);
            return STOP;
        }
        return GO_ON;           /* EPIPE: stdin closed, the bytes go nowhere */
    case HB_ANS_RESIZE:
        if (a.cols >= 1 && a.rows >= 1)
            set_size(w->p, w->gen, a.cols, a.rows);
        return GO_ON;
    case HB_ANS_KILL:
        if (a.signal >= 1)
            send_kill(w->p, w->gen, (int)a.signal);
        return GO_ON;
    case HB_ANS_END:
        proc_close_input(w->p, w->gen);
        return GO_ON;
    default:
        return STOP;
    }
}

/* Under the lock: the next frame to send, packed into sb (*have), or the
 * decision to wait (GO_ON, !*have) or to stop after sending (STOP). */
static int next_locked(follow_t *w, msgpack_sbuffer *sb, bool *have)
{
    proc_t *p = w->p;
    hb_initans_t a = {.t = HB_ANS_ERR, .err = ESRCH};
    *have = true;
    if (p->gen != w->gen || p->forgotten) {
        snprintf(a.msg, sizeof a.msg, "the process was forgotten");
    } else if (w->attach && p->attach_id != w->attach) {
        a.err = EBUSY;
        snprintf(a.msg, sizeof a.msg, "taken over by another client");
    } else {
        int fd = 1;
        size_t n = ring_read(&p->ring, &w->pos, w->buf, OUT_CHUNK, &fd);
        if (n) {
            a = (hb_initans_t){.t = HB_ANS_OUT, .fd = fd, .data = {w->buf, n},
                               .has = HB_IAF_BIT(off), .off = w->pos};
            w->pos += n;
            if (w->hold)
                proc_hold_set(p, w->efd, w->pos);
        } else if (!p->running) {
            a = (hb_initans_t){.t = HB_ANS_EXIT, .code = p->code, .signal = p->sig,
                               .timed_out = p->timed_out, .has = HB_IAF_BIT(off),
                               .off = p->ring.off,
                               .duration_us = (uint64_t)(p->ended_ms - p->started_ms) * 1000};
        } else if (w->efd < 0) {
            a = (hb_initans_t){.t = HB_ANS_END};
        } else {
            *have = false;
            return GO_ON;
        }
    }
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    hb_frame_begin(sb);
    hb_initans_pack(&pk, &a);
    return a.t == HB_ANS_OUT ? GO_ON : STOP;
}

static void follow_loop(follow_t *w)
{
    for (;;) {
        msgpack_sbuffer sb;
        bool have;
        pthread_mutex_lock(&g_proc.mu);
        int next = next_locked(w, &sb, &have);
        pthread_mutex_unlock(&g_proc.mu);
        if (have && (proc_send(w->conn, &sb) < 0 || next == STOP))
            return;
        bool ready;
        if (have) {             /* busy output must not starve a terminal's keys (^C) */
            if (w->attach && client_pending(w->conn) && client_frame(w) == STOP)
                return;
            continue;
        }
        proc_wait(w->efd, w->conn, -1, &ready);
        if (ready && (w->attach ? client_frame(w) == STOP : client_gone(w->conn)))
            return;
    }
}

/* Under the lock: find, register, pack the `proc` frame. NULL after
 * setting *err and *why. */
static proc_t *open_locked(follow_t *w, const hb_initreq_t *r, msgpack_sbuffer *sb, int *err,
                           const char **why)
{
    bool follow = r->op == HB_OP_PROC_ATTACH || r->follow;
    proc_purge();
    proc_t *p = proc_select(r, err, why);
    if (!p)
        return NULL;
    if (follow && (w->efd = proc_follow_add(p->wake, PROC_FOLLOW_MAX)) < 0) {
        *err = EAGAIN;
        *why = "too many followers of this process";
        return NULL;
    }
    if (follow && r->hold) {
        w->hold = true;
        proc_hold_set(p, w->efd, w->pos);
    }
    if (r->op == HB_OP_PROC_ATTACH) {
        w->attach = p->attach_id = ++g_attach_seq;
        proc_wake(p);           /* the older attach, if any, sees it is taken over */
    }
    w->p = p;
    w->gen = p->gen;
    proc_pack(p, sb);
    return p;
}

void agent_proc_output(int conn, hb_frame_t *f, const hb_initreq_t *r)
{
    follow_t w = {.conn = conn, .f = f, .pos = r->offset, .efd = -1, .buf = malloc(OUT_CHUNK)};
    msgpack_sbuffer sb;
    int err = ENOMEM;
    const char *why = "out of memory";
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = w.buf ? open_locked(&w, r, &sb, &err, &why) : NULL;
    pthread_mutex_unlock(&g_proc.mu);
    if (!p)
        agent_answer_err(conn, err, "%s", why);
    else if (proc_send(conn, &sb) == 0)
        follow_loop(&w);
    if (w.efd >= 0) {
        pthread_mutex_lock(&g_proc.mu);
        if (p->gen == w.gen) {
            proc_hold_drop(p, w.efd);   /* gone: the process runs on at once */
            proc_follow_del(p->wake, PROC_FOLLOW_MAX, w.efd);
        }
        pthread_mutex_unlock(&g_proc.mu);
        close(w.efd);
    }
    free(w.buf);
}

/* ---- proc_watch ---- */

/* Under the lock: the next event after *last, or end, or wait. */
static int watch_next_locked(uint64_t *last, msgpack_sbuffer *sb, bool *have)
{
    *have = true;
    if (*last < g_proc.seq) {
        uint64_t next = *last + 1, oldest = g_proc.seq > PROC_EVENTS ? g_proc.seq - PROC_EVENTS + 1 : 1;
        if (next < oldest)
            next = oldest;      /* older events are gone; the client sees the gap in seq */
        proc_pack_event(&g_proc.ev[next % PROC_EVENTS], next, sb);
        *last = next;
        return GO_ON;
    }
    if (g_proc.running > 0) {
        *have = false;
        return GO_ON;
    }
    hb_initans_t a = {.t = HB_ANS_END};
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    hb_frame_begin(sb);
    hb_initans_pack(&pk, &a);
    return STOP;
}

void agent_proc_watch(int conn, const hb_initreq_t *r)
{
    pthread_mutex_lock(&g_proc.mu);
    int efd = proc_follow_add(g_proc.watch, PROC_WATCH_MAX);
    uint64_t last = (r->has & HB_IRF_BIT(offset)) ? r->offset : g_proc.seq;
    if (last > g_proc.seq)
        last = g_proc.seq;      /* a seq of an earlier init (the sandbox restarted): from now */
    pthread_mutex_unlock(&g_proc.mu);
    if (efd < 0) {
        agent_answer_err(conn, EAGAIN, "too many watchers");
        return;
    }
    for (;;) {
        msgpack_sbuffer sb;
        bool have, ready;
        pthread_mutex_lock(&g_proc.mu);
        int next = watch_next_locked(&last, &sb, &have);
        pthread_mutex_unlock(&g_proc.mu);
        if (have && (proc_send(conn, &sb) < 0 || next == STOP))
            break;
        if (have)
            continue;
        proc_wait(efd, conn, -1, &ready);
        if (ready && client_gone(conn))
            break;
    }
    pthread_mutex_lock(&g_proc.mu);
    proc_follow_del(g_proc.watch, PROC_WATCH_MAX, efd);
    pthread_mutex_unlock(&g_proc.mu);
    close(efd);
}
