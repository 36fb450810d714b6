/* proc_start and the keeper threads. Each background process has a keeper:
 * a thread of PID 1 that spawns it (so the process is the keeper's own
 * child, which only the keeper waits for; a request thread that exits
 * would leave its children to another thread and possibly the main one,
 * whose orphan reaping would take their exit status), reads its output
 * into the ring, enforces its timeout and records its exit. The request
 * thread only reserves the slot, waits for the spawn and answers. */
#include "agent_proc.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEEPER_STACK (256 * 1024)
#define DRAIN_MAX    (1024 * 1024)   /* per stream after the exit */

/* Handed from the request thread to the keeper until the spawn is done. */
typedef struct {
    int conn;
    const hb_initreq_t *r;
    proc_t *p;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
    int rc;
} start_t;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* One read from stream i (0 stdout or the PTY, 1 stderr) into the ring.
 * false at EOF or error (the fd is then closed). */
static bool pump(proc_t *p, int fds[2], int i, char *buf)
{
    ssize_t n = read(fds[i], buf, PROC_READ_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return true;
    pthread_mutex_lock(&g_proc.mu);
    if (n > 0) {
        ring_write(&p->ring, &g_proc.budget, i + 1, buf, (size_t)n);
        proc_wake(p);
    } else {
        if (fds[i] == p->pty_fd)
            p->pty_fd = -1;     /* EIO: no slave left; resize has nothing to act on */
        close_fd(&fds[i]);
    }
    pthread_mutex_unlock(&g_proc.mu);
    return n > 0;
}

static int poll_ms(int64_t deadline)
{
    if (deadline < 0)
        return -1;
    int64_t left = (deadline - agent_mono_us() + 999) / 1000;
    return left < 0 ? 0 : (left > 60000 ? 60000 : (int)left);
}

/* Under the lock: whether to read the output now (agent_proc_hold.c). */
static bool may_read(proc_t *p)
{
    pthread_mutex_lock(&g_proc.mu);
    p->paused = proc_hold_full(p);
    bool ok = !p->paused;
    pthread_mutex_unlock(&g_proc.mu);
    return ok;
}

/* Until the process exits: output into the ring (unless a holding
 * follower lags: the fds are then not polled, and the holder's progress
 * wakes kwake), the timeout. */
static void keep_running(proc_t *p, int fds[2], int pidfd, uint64_t timeout_ms, char *buf)
{
    int64_t deadline = timeout_ms ? agent_mono_us() + (int64_t)timeout_ms * 1000 : -1;
    for (;;) {
        bool rd = may_read(p);
        struct pollfd pf[4] = {{.fd = pidfd, .events = POLLIN},
                               {.fd = rd ? fds[0] : -1, .events = POLLIN},
                               {.fd = rd ? fds[1] : -1, .events = POLLIN},
                               {.fd = p->kwake, .events = POLLIN}};
        int ms = poll_ms(deadline);
        if (!rd && (ms < 0 || ms > 1000))
            ms = 1000;          /* a start's hold may lapse: look again */
        if (poll(pf, 4, ms) < 0 && errno != EINTR) {
            kill(-p->pid, SIGKILL);     /* cannot read it any more: do not wait on a full pipe */
            return;
        }
        uint64_t v;
        if (pf[3].revents && read(p->kwake, &v, sizeof v) < 0)
            v = 0;              /* EAGAIN: another wake-up took it */
        if (deadline >= 0 && agent_mono_us() >= deadline) {
            deadline = -1;
            pthread_mutex_lock(&g_proc.mu);
            p->timed_out = true;
            kill(-p->pid, SIGKILL);
            pthread_mutex_unlock(&g_proc.mu);
        }
        for (int i = 0; i < 2; i++)
            if (pf[i + 1].revents)
                pump(p, fds, i, buf);
        if (pf[0].revents)
            return;
    }
}

/* After the exit: what is already in the pipes, bounded, so that a
 * descendant holding them open cannot keep the process "running". */
static void drain(proc_t *p, int fds[2], char *buf)
{
    for (int i = 0; i < 2; i++) {
        for (size_t total = 0; fds[i] >= 0 && total < DRAIN_MAX; total += PROC_READ_CHUNK) {
            struct pollfd pf = {.fd = fds[i], .events = POLLIN};
            if (poll(&pf, 1, 0) <= 0 || !pump(p, fds, i, buf))
                break;
        }
    }
}

static void record_exit(proc_t *p, int st, int fds[2])
{
    pthread_mutex_lock(&g_proc.mu);
    p->pty_fd = -1;
    close_fd(&fds[0]);
    close_fd(&fds[1]);
    close_fd(&p->in_fd);
    p->code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    p->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    if (p->sig)
        p->code = 128 + p->sig;
    p->ended_ms = wall_ms();
    p->ended_us = agent_mono_us();
    p->running = false;
    g_proc.running--;
    proc_event(p);
    proc_wake(p);
    if (p->forgotten)
        proc_release(p);
    pthread_mutex_unlock(&g_proc.mu);
}

/* The keeper's eventfd, which holding followers signal as they advance
 * (none: followers cannot hold, as with an older init). */
static void kwake_set(proc_t *p, int fd)
{
    pthread_mutex_lock(&g_proc.mu);
    if (fd < 0 && p->kwake >= 0)
        close(p->kwake);
    p->kwake = fd;
    p->paused = false;
    pthread_mutex_unlock(&g_proc.mu);
}

static void keep(proc_t *p, agent_child_t *ch, int pidfd, uint64_t timeout_ms)
{
    int fds[2] = {ch->out_r, ch->err_r};
    char *buf = malloc(PROC_READ_CHUNK);
    int st = 0;
    kwake_set(p, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (buf)
        keep_running(p, fds, pidfd, timeout_ms, buf);
    else
        kill(-ch->pid, SIGKILL);    /* cannot keep it: do not leave it unread */
    kwake_set(p, -1);           /* from here nothing holds it back */
    pthread_mutex_lock(&g_proc.mu);
    p->live = false;            /* from here its pid may be reused: no more signals */
    pthread_mutex_unlock(&g_proc.mu);
    while (waitpid(ch->pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (buf)
        drain(p, fds, buf);
    record_exit(p, st, fds);
    free(buf);
}

/* Spawn as this thread's child; fill the slot or give it back. */
static int keeper_spawn(start_t *s, agent_child_t *ch, int *pidfd)
{
    const hb_initreq_t *r = s->r;
    proc_t *p = s->p;
    agent_spawn_req_t q = {.r = r, .user = (r->has & HB_IRF_BIT(user)) ? &r->user : NULL,
                           .hostname = g_proc.hostname, .stdin_pipe = r->keep_stdin,
                           .cols = (unsigned)r->cols, .rows = (unsigned)r->rows};
    int rc = agent_spawn(s->conn, &q, ch);
    *pidfd = rc == 0 ? (int)syscall(SYS_pidfd_open, ch->pid, 0) : -1;
    if (rc == 0 && *pidfd < 0) {
        agent_answer_err(s->conn, errno, "proc_start: cannot supervise the process: %s",
                         strerror(errno));
        kill(-ch->pid, SIGKILL);
        while (waitpid(ch->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        close(ch->in_w);
        close(ch->out_r);
        if (ch->err_r >= 0)
            close(ch->err_r);
        rc = -1;
    }
    pthread_mutex_lock(&g_proc.mu);
    if (rc == 0) {
        p->pid = ch->pid;
        p->live = true;
        p->in_fd = ch->in_w;
        p->pty_fd = p->cols ? ch->out_r : -1;
        p->started_ms = wall_ms();
        proc_event(p);
        p->start_seq = p->seq;
    } else {
        g_proc.running--;
        proc_release(p);
        proc_wake_watchers();
    }
    pthread_mutex_unlock(&g_proc.mu);
    return rc;
}

static void *keeper_main(void *arg)
{
    start_t *s = arg;
    proc_t *p = s->p;
    uint64_t timeout_ms = s->r->timeout_ms;
    agent_child_t ch;
    int pidfd = -1;
    int rc = keeper_spawn(s, &ch, &pidfd);
    pthread_mutex_lock(&s->m);
    s->rc = rc;
    s->done = true;
    pthread_cond_signal(&s->c);
    pthread_mutex_unlock(&s->m);    /* s is the request thread's: gone from here */
    if (rc == 0) {
        keep(p, &ch, pidfd, timeout_ms);
        close(pidfd);
    }
    return NULL;
}

/* A free slot: an unused one, else the exited one that ended first. */
static proc_t *free_slot(void)
{
    proc_t *oldest = NULL;
    for (int i = 0; i < HB_PROC_MAX; i++) {
        proc_t *p = &g_proc.p[i];
        if (!p->used)
            return p;
        if (!p->running && (!oldest || p->ended_us < oldest->ended_us))
            oldest = p;
    }
    if (oldest)
        proc_release(oldest);
    return oldest;
}

static bool tag_in_use(const hb_initstr_t *t)
{
    for (int i = 0; i < HB_PROC_MAX; i++) {
        const proc_t *p = &g_proc.p[i];
        if (p->used && !p->forgotten && strlen(p->tag) == t->len &&
            memcmp(p->tag, t->ptr, t->len) == 0)
            return true;
    }
    return false;
}

/* Under the lock: take a slot for r. NULL with *err and *why. */
static proc_t *reserve(const hb_initreq_t *r, int *err, const char **why)
{
    bool has_tag = r->has & HB_IRF_BIT(tag);
    proc_purge();
    *err = EINVAL;
    if (!(r->cols && r->rows) && (r->cols || r->rows)) {
        *why = "cols, rows: give both or neither";
        return NULL;
    }
    *err = EEXIST;
    *why = "tag: in use";
    if (has_tag && tag_in_use(&r->tag))
        return NULL;
    *err = EAGAIN;
    *why = "too many processes running";
    char *cmd = malloc(r->cmd.len ? r->cmd.len : 1);
    proc_t *p = g_proc.running < HB_PROC_MAX && cmd ? free_slot() : NULL;
    if (!p) {
        free(cmd);
        return NULL;
    }
    memcpy(cmd, r->cmd.ptr, r->cmd.len);
    p->used = p->running = true;
    p->cmd = cmd;
    p->cmd_len = r->cmd.len;
    p->ring.max = HB_PROC_RING;
    p->cols = (unsigned)r->cols;
    p->rows = (unsigned)r->rows;
    p->start_hold_us = r->hold ? agent_mono_us() + (int64_t)PROC_START_HOLD_MS * 1000 : 0;
    snprintf(p->tag, sizeof p->tag, "%.*s", has_tag ? (int)r->tag.len : 0, has_tag ? r->tag.ptr : "");
    if (r->has & HB_IRF_BIT(user))
        snprintf(p->user, sizeof p->user, "%.*s", (int)r->user.len, r->user.ptr);
    else
        snprintf(p->user, sizeof p->user, "root");
    g_proc.running++;
    return p;
}

/* The keeper, detached. 0 or an errno (the slot is then given back). */
static int start_keeper(start_t *s)
{
    pthread_attr_t at;
    pthread_t t;
    int rc = pthread_attr_init(&at);
    if (rc == 0) {
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&at, KEEPER_STACK);
        rc = pthread_create(&t, &at, keeper_main, s);
        pthread_attr_destroy(&at);
    }
    if (rc != 0) {
        pthread_mutex_lock(&g_proc.mu);
        g_proc.running--;
        proc_release(s->p);
        pthread_mutex_unlock(&g_proc.mu);
    }
    return rc;
}

void agent_proc_start(int conn, const hb_initreq_t *r)
{
    int err = 0;
    const char *why = "";
    start_t s = {.conn = conn, .r = r, .m = PTHREAD_MUTEX_INITIALIZER, .c = PTHREAD_COND_INITIALIZER};
    pthread_mutex_lock(&g_proc.mu);
    s.p = reserve(r, &err, &why);
    pthread_mutex_unlock(&g_proc.mu);
    if (!s.p) {
        agent_answer_err(conn, err, "%s", why);
        return;
    }
    uint32_t gen = s.p->gen;
    int rc = start_keeper(&s);
    if (rc != 0) {
        agent_answer_err(conn, EAGAIN, "cannot start a keeper thread: %s", strerror(rc));
        return;
    }
    pthread_mutex_lock(&s.m);
    while (!s.done)
        pthread_cond_wait(&s.c, &s.m);
    pthread_mutex_unlock(&s.m);
    if (s.rc != 0)
        return;                 /* the spawn answered err */
    msgpack_sbuffer sb;
    pthread_mutex_lock(&g_proc.mu);
    bool same = s.p->gen == gen;
    if (same)
        proc_pack_started(s.p, &sb);
    pthread_mutex_unlock(&g_proc.mu);
    if (same)
        proc_send(conn, &sb);
    else
        agent_answer_err(conn, ESRCH, "the process was forgotten at once");
}
