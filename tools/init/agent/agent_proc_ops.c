/* proc_list, proc_input, proc_signal, proc_resize, proc_forget. */
#include "agent_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void answer_end(int conn)
{
    hb_initans_t a = {.t = HB_ANS_END};
    hb_initans_send(conn, &a);
}

typedef struct {
    int idx;
    uint32_t gen;
    int64_t started;
    pid_t pid;
} entry_t;

static int by_start(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->started != y->started)
        return x->started < y->started ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* All listed processes, oldest first; one frame per lock hold. */
static void list_all(int conn)
{
    entry_t v[HB_PROC_MAX];
    int n = 0;
    pthread_mutex_lock(&g_proc.mu);
    proc_purge();
    for (int i = 0; i < HB_PROC_MAX; i++) {
        const proc_t *p = &g_proc.p[i];
        if (p->used && !p->forgotten && p->pid > 0)
            v[n++] = (entry_t){i, p->gen, p->started_ms, p->pid};
    }
    pthread_mutex_unlock(&g_proc.mu);
    qsort(v, (size_t)n, sizeof *v, by_start);
    for (int k = 0; k < n; k++) {
        msgpack_sbuffer sb;
        pthread_mutex_lock(&g_proc.mu);
        const proc_t *p = &g_proc.p[v[k].idx];
        bool same = p->gen == v[k].gen && !p->forgotten;
        if (same)
            proc_pack(p, &sb);
        pthread_mutex_unlock(&g_proc.mu);
        if (same && proc_send(conn, &sb) < 0)
            return;
    }
    answer_end(conn);
}

/* The selected process, packed (its `proc` frame), or NULL after err. */
static proc_t *select_locked(int conn, const hb_initreq_t *r)
{
    int err;
    const char *why;
    proc_purge();
    proc_t *p = proc_select(r, &err, &why);
    if (!p) {
        pthread_mutex_unlock(&g_proc.mu);
        agent_answer_err(conn, err, "%s", why);
        pthread_mutex_lock(&g_proc.mu);
    }
    return p;
}

void agent_proc_list(int conn, const hb_initreq_t *r)
{
    if (!(r->has & (HB_IRF_BIT(pid) | HB_IRF_BIT(tag)))) {
        list_all(conn);
        return;
    }
    msgpack_sbuffer sb;
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = select_locked(conn, r);
    if (p)
        proc_pack(p, &sb);
    pthread_mutex_unlock(&g_proc.mu);
    if (p && proc_send(conn, &sb) == 0)
        answer_end(conn);
}

/* ---- stdin ---- */

static int write_within(int fd, const char *buf, size_t n, size_t *done, int64_t deadline)
{
    while (*done < n) {
        ssize_t w = write(fd, buf + *done, n - *done);
        if (w > 0) {
            *done += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return EPIPE;       /* the reading end is gone */
        int64_t left = (deadline - agent_mono_us()) / 1000;
        if (left <= 0)
            return EAGAIN;
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
            return EIO;
    }
    return 0;
}

/* A dup of p's stdin while it is open (the original may be closed by the
 * keeper or a `close` meanwhile), or -1. */
static int dup_stdin(proc_t *p, uint32_t gen)
{
    pthread_mutex_lock(&g_proc.mu);
    int fd = p->gen == gen && p->in_fd >= 0 ? fcntl(p->in_fd, F_DUPFD_CLOEXEC, 0) : -1;
    pthread_mutex_unlock(&g_proc.mu);
    return fd;
}

int proc_write_input(proc_t *p, uint32_t gen, const void *buf, size_t n, size_t *done)
{
    pthread_mutex_t *m = &g_proc.in_mu[p - g_proc.p];
    *done = 0;
    pthread_mutex_lock(m);      /* writers in arrival order */
    int fd = dup_stdin(p, gen), rc = EPIPE;
    if (fd >= 0) {
        rc = write_within(fd, buf, n, done, agent_mono_us() + (int64_t)PROC_INPUT_MS * 1000);
        close(fd);
    }
    pthread_mutex_unlock(m);
    return rc;
}

int proc_close_input(proc_t *p, uint32_t gen)
{
    pthread_mutex_t *m = &g_proc.in_mu[p - g_proc.p];
    int rc = EPIPE;
    pthread_mutex_lock(m);
    pthread_mutex_lock(&g_proc.mu);
    if (p->gen == gen && p->in_fd >= 0) {
        if (p->cols) {          /* a PTY has no EOF of its own: its EOF character */
            struct termios t;
            char eof = tcgetattr(p->in_fd, &t) == 0 ? (char)t.c_cc[VEOF] : 4;
            if (write(p->in_fd, &eof, 1) < 0)
                eof = 0;        /* full: the process will not read it anyway */
        }
        close(p->in_fd);
        p->in_fd = -1;
        rc = 0;
    }
    pthread_mutex_unlock(&g_proc.mu);
    pthread_mutex_unlock(m);
    return rc;
}

void agent_proc_input(int conn, const hb_initreq_t *r)
{
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = select_locked(conn, r);
    uint32_t gen = p ? p->gen : 0;
    bool open = p && p->in_fd >= 0;
    pthread_mutex_unlock(&g_proc.mu);
    if (!p)
        return;
    if (!open) {
        agent_answer_err(conn, EPIPE, "stdin: not open");
        return;
    }
    size_t done = 0;
    int rc = r->stdin.len ? proc_write_input(p, gen, r->stdin.ptr, r->stdin.len, &done) : 0;
    if (rc == 0 && r->close)
        rc = proc_close_input(p, gen);
    if (rc == EAGAIN)
        agent_answer_err(conn, EAGAIN, "stdin: the process did not read it within %d s",
                         PROC_INPUT_MS / 1000);
    else if (rc != 0)
        agent_answer_err(conn, rc, "stdin: %s", rc == EPIPE ? "not open" : strerror(rc));
    else
        agent_answer_ok(conn, true, done);
}

/* ---- signal, resize, forget ---- */

void agent_proc_signal(int conn, const hb_initreq_t *r)
{
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = select_locked(conn, r);
    int rc = !p ? -1 : !p->live ? ESRCH : kill(-p->pid, (int)r->sig) < 0 ? errno : 0;
    pthread_mutex_unlock(&g_proc.mu);
    if (rc > 0)
        agent_answer_err(conn, rc, "%s", rc == ESRCH ? "the process has exited" : strerror(rc));
    else if (rc == 0)
        agent_answer_ok(conn, false, 0);
}

void agent_proc_resize(int conn, const hb_initreq_t *r)
{
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = select_locked(conn, r);
    int rc = !p ? -1 : !p->cols ? ENOTTY : 0;
    if (rc == 0) {
        struct winsize ws = {.ws_row = (unsigned short)r->rows, .ws_col = (unsigned short)r->cols};
        if (p->pty_fd >= 0 && ioctl(p->pty_fd, TIOCSWINSZ, &ws) == 0) {
            p->cols = (unsigned)r->cols;
            p->rows = (unsigned)r->rows;
        }
    }
    pthread_mutex_unlock(&g_proc.mu);
    if (rc > 0)
        agent_answer_err(conn, rc, "the process has no terminal");
    else if (rc == 0)
        agent_answer_ok(conn, false, 0);
}

void agent_proc_forget(int conn, const hb_initreq_t *r)
{
    pthread_mutex_lock(&g_proc.mu);
    proc_t *p = select_locked(conn, r);
    if (p && p->live)
        kill(-p->pid, SIGKILL);
    if (p && p->running) {
        p->forgotten = true;    /* the keeper frees it once the exit is in */
        proc_wake(p);
    } else if (p) {
        proc_release(p);
    }
    pthread_mutex_unlock(&g_proc.mu);
    if (p)
        agent_answer_ok(conn, false, 0);
}
