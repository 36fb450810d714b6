/* The supervisor's process watch (supervisor.h, hb_sup_watch_start): one
 * thread and one proc_watch connection per sandbox, only while processes
 * run there, so idle sandboxes cost nothing. The thread only reads init and
 * posts to the supervisor's inbox; the supervisor publishes the events.
 * It blocks on init without a timeout (no wake-ups while processes run
 * quietly); a stop shuts its socket down, which wakes it. */
#include "supervisor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "proc.h"

struct hb_sup_watch {
    const hb_sandbox_t *sb;
    char                inbox[128];
    int64_t             from;
    pthread_mutex_t     mu;     /* stop and fd: a stop never shuts a closed fd's number */
    bool                stop;
    int                 fd;     /* the open stream's socket; -1 */
};

/* Publish the stream's socket to hb_sup_watch_stop (fd -1: it is about to
 * close); false when a stop came first. */
static bool set_fd(hb_sup_watch_t *w, int fd)
{
    pthread_mutex_lock(&w->mu);
    w->fd = fd;
    bool go = !w->stop;
    pthread_mutex_unlock(&w->mu);
    return go;
}

static void post_event(const hb_sup_watch_t *w, hb_bus_outbox_t *out, const hb_proc_info_t *p)
{
    bool ended = p->ended_at_ms > 0;
    hb_msg_t m = {
        .type = ended ? HB_MSG_EV_PROC_EXITED : HB_MSG_EV_PROC_STARTED,
        .id = (char *)w->sb->id, .pid = p->pid, .tag = p->tag[0] ? (char *)p->tag : NULL,
        .command = p->command, .user = (char *)p->user,
    };
    if (ended) {
        m.exit_code = p->exit_code;
        m.term_signal = p->term_signal;
        m.timed_out = p->timed_out;
        m.duration_ms = p->ended_at_ms > p->started_at_ms
                        ? (uint64_t)(p->ended_at_ms - p->started_at_ms) : 0;
    }
    hb_bus_outbox_post(out, &m);   /* m borrows */
}

/* Events until `end`, a failure, or a stop; the last seq seen. */
static int64_t watch(hb_sup_watch_t *w, hb_bus_outbox_t *out)
{
    int64_t last = w->from;
    hb_err_t e = {0};
    hb_proc_stream_t *st = hb_proc_watch_open(w->sb, w->from, &e);
    bool go = st && set_fd(w, hb_proc_stream_fd(st));
    while (go) {
        hb_proc_event_t ev;
        if (hb_proc_next(st, &ev, -1, &e) < 0 || ev.kind == HB_PEV_END)
            break;
        if (ev.kind != HB_PEV_PROC)
            continue;
        post_event(w, out, &ev.info);
        if ((int64_t)ev.info.seq > last)
            last = (int64_t)ev.info.seq;
    }
    if (!st && e.code != HB_E_DEAD)
        HB_LOG_WARN("sandbox %s: watching its processes: %s", w->sb->id, e.msg);
    set_fd(w, -1);
    hb_proc_stream_close(st);
    return last;
}

/* One socket for the events and the end: the last process's exit reaches
 * the supervisor before the end does, so a destroy that waits for the end
 * (and then publishes sandbox.destroyed) comes after it. */
static void *watch_main(void *arg)
{
    hb_sup_watch_t *w = arg;
    hb_bus_outbox_t out;
    hb_bus_outbox_init(&out, w->inbox);
    hb_msg_t done = {.type = HB_MSG_SB_PROC_WATCHED, .seq = watch(w, &out)};
    hb_bus_outbox_post(&out, &done);   /* the last use of w: the supervisor frees it */
    hb_bus_outbox_fini(&out);
    return NULL;
}

hb_sup_watch_t *hb_sup_watch_start(const hb_sandbox_t *sb, int64_t from_seq, const char *inbox)
{
    hb_sup_watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->sb = sb;
    w->from = from_seq;
    w->fd = -1;
    snprintf(w->inbox, sizeof w->inbox, "%s", inbox);
    pthread_mutex_init(&w->mu, NULL);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &at, watch_main, w);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        hb_sup_watch_free(w);
        return NULL;
    }
    return w;
}

void hb_sup_watch_stop(hb_sup_watch_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    if (w->fd >= 0)
        shutdown(w->fd, SHUT_RDWR);   /* wakes its hb_proc_next */
    pthread_mutex_unlock(&w->mu);
}

void hb_sup_watch_free(hb_sup_watch_t *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->mu);
    free(w);
}
