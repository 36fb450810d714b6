/* The `exec` request: start a hardened /bin/sh -c <cmd> (agent_spawn.c),
 * stream its output, enforce out_cap and timeout, answer `exit` as
 * soon as the shell exits. Runs on a request thread of PID 1; the command is
 * that thread's child (or the warm worker it took, agent_warm.c) and only
 * that thread waits for it (agent_child_wait: the main thread may reap a
 * warm command and hands its status over, agent_warm_reap.c). */
#include "agent.h"
#include "init.h"
#include "log.h"

#define PIPE_SIZE    (256 * 1024)

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- streaming ---- */

typedef struct {
    int conn;
    int fd[3];                  /* [0] stdin write end, [1] stdout, [2] stderr read ends */
    const char *in;             /* stdin left to write */
    size_t in_left;
    uint64_t cap, sent[3];
    bool trunc[3], client_gone, killed;
    char *buf;                  /* PIPE_SIZE */
} stream_t;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read once from an output pipe and forward within the cap. Returns bytes
 * read, 0 at EOF (pipe closed), -1 when nothing was ready. */
static ssize_t pump(stream_t *s, int i)
{
    ssize_t n = read(s->fd[i], s->buf, PIPE_SIZE);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? -1 : 0;
    if (n == 0) {
        close_fd(&s->fd[i]);
        return 0;
    }
    uint64_t room = s->cap - s->sent[i];
    size_t send = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if ((uint64_t)n > room)
        s->trunc[i] = true;
    if (send && !s->client_gone) {
        if (hb_frame_send_chunk(s->conn, "out", i, s->buf, send) < 0)
            s->client_gone = true;
        s->sent[i] += send;
    }
    return n;
}

static void feed_stdin(stream_t *s)
{
    ssize_t n = write(s->fd[0], s->in, s->in_left);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        s->in_left = 0;         /* EPIPE: the command does not read it */
    } else {
        s->in += n;
        s->in_left -= (size_t)n;
    }
    if (s->in_left == 0)
        close_fd(&s->fd[0]);
}

/* After the shell exited: take only what is already in the pipes, bounded,
 * so a background writer cannot keep the answer open. */
static void drain(stream_t *s)
{
    for (int i = 1; i <= 2; i++) {
        size_t total = 0;
        while (s->fd[i] >= 0 && total < 4 * PIPE_SIZE) {
            ssize_t n = pump(s, i);
            if (n <= 0)
                break;
            total += (size_t)n;
        }
    }
}

static bool client_closed(int conn)
{
    char c;
    ssize_t n = recv(conn, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    /* Data after the request is a protocol violation: treat it as gone. */
    return n >= 0 || (errno != EAGAIN && errno != EINTR);
}

/* Poll until the shell exits. Returns its wait status. */
/* How long poll may sleep: until the deadline (-1: none), at most a minute. */
static int poll_wait_ms(int64_t deadline, bool timed_out)
{
    if (deadline < 0 || timed_out)
        return -1;
    int64_t left = (deadline - agent_mono_us() + 999) / 1000;
    return left < 0 ? 0 : (left > 60000 ? 60000 : (int)left);
}

/* One round of poll results: the client, stdin, stdout and stderr. */
static void stream_events(stream_t *s, const struct pollfd p[5], pid_t pid)
{
    if (p[4].revents && client_closed(s->conn))
        s->client_gone = true;
    if (p[3].revents)
        feed_stdin(s);
    for (int i = 1; i <= 2; i++)
        if (p[i].revents)
            pump(s, i);
    if (s->client_gone && !s->killed) {
        s->killed = true;
        kill(-pid, SIGKILL);
    }
}

static int stream_loop(stream_t *s, pid_t pid, int pidfd, uint64_t timeout_ms, bool *timed_out)
{
    int64_t deadline = timeout_ms ? agent_mono_us() + (int64_t)timeout_ms * 1000 : -1;
    for (;;) {
        struct pollfd p[5] = {
            {.fd = pidfd, .events = POLLIN},
            {.fd = s->fd[1], .events = POLLIN},
            {.fd = s->fd[2], .events = POLLIN},
            {.fd = s->fd[0], .events = POLLOUT},
            {.fd = s->client_gone ? -1 : s->conn, .events = POLLIN | POLLRDHUP},
        };
        int pr = poll(p, 5, poll_wait_ms(deadline, *timed_out));
        if (pr < 0 && errno != EINTR)
            break;
        if (deadline >= 0 && !*timed_out && agent_mono_us() >= deadline) {
            *timed_out = true;
            kill(-pid, SIGKILL);
        }
        if (pr <= 0)
            continue;
        stream_events(s, p, pid);
        if (p[0].revents)
            break;
    }
    return agent_child_wait(pid);
}

static void send_exit(stream_t *s, int st, bool timed_out, int64_t t0)
{
    int code = 0, sig = 0;
    if (WIFEXITED(st)) {
        code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        sig = WTERMSIG(st);
        code = 128 + sig;
    }
    hb_initans_t a = {.t = HB_ANS_EXIT, .code = code, .signal = sig, .timed_out = timed_out,
                      .out_trunc = s->trunc[1], .err_trunc = s->trunc[2],
                      .duration_us = (uint64_t)(agent_mono_us() - t0)};
    hb_initans_send(s->conn, &a);
}

static void send_started(int conn, pid_t pid)
{
    hb_initans_t a = {.t = HB_ANS_STARTED, .pid = pid};
    hb_initans_send(conn, &a);
}

void agent_op_exec(int conn, const hb_initreq_t *r, const char *hostname)
{
    agent_spawn_req_t q = {.r = r, .user = r->op == HB_OP_EXEC_AS ? &r->user : NULL,
                           .hostname = hostname, .stdin_pipe = true};
    agent_child_t ch;
    int pidfd = -1;             /* the warm path opens it before its exec (agent_warm_reap.c) */
    int64_t t0 = agent_mono_us();
    /* The warm worker when one is ready, else today's path (agent_warm.c). */
    bool plain = r->op == HB_OP_EXEC;
    if (agent_warm_spawn(&q, &ch, &pidfd) < 0 && agent_spawn(conn, &q, &ch) < 0) {
        if (plain)
            agent_warm_refill();
        return;
    }
    pid_t pid = ch.pid;
    if (pidfd < 0)
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    stream_t s = {
        .conn = conn, .fd = {ch.in_w, ch.out_r, ch.err_r},
        .in = r->stdin.ptr, .in_left = r->stdin.ptr ? r->stdin.len : 0,
        .cap = r->out_cap ? r->out_cap : HB_DEFAULT_OUT_CAP,
        .buf = malloc(PIPE_SIZE),
    };
    if (pidfd < 0 || !s.buf) {
        kill(-pid, SIGKILL);
        agent_answer_err(conn, pidfd < 0 ? errno : ENOMEM, "exec: cannot supervise the command");
        agent_child_wait(pid);
    } else {
        send_started(conn, pid);
        if (s.in_left == 0)
            close_fd(&s.fd[0]);
        bool timed_out = false;
        int st = stream_loop(&s, pid, pidfd, r->timeout_ms, &timed_out);
        if (!s.client_gone)
            drain(&s);
        if (!s.client_gone)
            send_exit(&s, st, timed_out, t0);
    }
    for (int i = 0; i < 3; i++)
        close_fd(&s.fd[i]);
    if (pidfd >= 0)
        close(pidfd);
    free(s.buf);
    if (plain)
        agent_warm_refill();    /* after the answer: off this command's latency */
}
