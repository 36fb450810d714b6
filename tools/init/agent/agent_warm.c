/* Warm exec (issue 19): after a plain exec has answered, PID 1 keeps one
 * pre-forked worker ready: own session, default signal dispositions and an
 * empty mask, umask 022, the command rlimits and capability set,
 * no_new_privs and the seccomp filter. The next plain root exec without a
 * terminal hands it argv, env, cwd and the stdio fds (SCM_RIGHTS) and it is
 * one execve away. exec_as and terminals keep agent_spawn: their uid/gid
 * and controlling terminal come before the capability drop; background
 * processes (agent_proc_start.c) keep it too.
 *
 * Opt-in: only when launch.conf says warm_exec (the daemon's --warm-exec,
 * agent_warm_enable); otherwise no worker is ever forked and every exec
 * takes agent_spawn, as before warm exec existed.
 *
 * Not a process of the user's while idle: the worker waits in init's own
 * cgroups, not in the user cgroups, so the user's pids count and the
 * daemon's kill-all (which skips an idle `hb-warm` child of init in init's
 * cgroup, actors/runtime/cgroup_kill.c) do not see it. The request thread
 * that takes it moves it into the user cgroups before it sends the request.
 *
 * No keeper thread: the request thread that answered forks the next worker
 * and ends, so the worker becomes a child of init's main thread. It is a
 * clone child with no exit signal, so the main thread's waitpid(-1)
 * (without __WALL) passes it by while it waits: a dead idle worker stays a
 * zombie (nobody gets SIGCHLD for it) until the next exec or refill reaps
 * it, and its pid cannot be reused meanwhile. Its execve gives it SIGCHLD
 * back, so a taken worker is claimed first and its status handed over by
 * whichever thread reaps it (agent_warm_reap.c).
 *
 * Root in the sandbox may kill (kill -9 -1) or stop the idle worker. Taking
 * one proves it alive: SIGCONT, then the worker acknowledges the request on
 * its socket before anything else; a report pipe closed without that ack,
 * a failed send, a reported set-up failure or a stall sends the request to
 * agent_spawn, so the warm path never fails an exec. A worker killed
 * between its ack and execve is the command killed by the same signal
 * (exit 137), as a cold command killed right after its execve would be. */
#include "agent_warm.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WARM_POLL_MS  100
#define WARM_ROUNDS   15                   /* 1.5 s stalled: kill it, take agent_spawn */
#define WARM_STACK    (64 * 1024)
/* Our end of the idle worker's socket lives from here up: its number then
 * does not depend on which fds other requests hold at refill time, so
 * init's fd table reads the same whenever it is idle. */
#define WARM_FD_MIN   512

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pid_t g_pid = -1;                   /* the idle worker; -1: none */
static int g_sock = -1;                    /* our end of its socket */
static cap_t g_caps;                       /* the command set, built once */
/* Written once by agent_run before any request thread starts, read only
 * after: opt-in because the idle worker costs each sandbox a pid and
 * ~0.5 MiB for a gain measured at <= 0.6 ms (docs/performance.md). */
static bool g_on;

/* ---- arming: the request thread that answered forks the next worker ---- */

/* Under g_m: a dead idle worker (killed from inside) is reaped and dropped. */
static void drop_if_dead(void)
{
    if (g_pid > 0 && waitpid(g_pid, NULL, WNOHANG | __WALL) != 0) {
        close(g_sock);
        g_pid = -1;
        g_sock = -1;
    }
}

/* Our end at WARM_FD_MIN or above when the limit allows. */
static int park_fd(int fd)
{
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, WARM_FD_MIN);
    if (hi < 0)
        return fd;
    close(fd);
    return hi;
}

/* Clone the worker named hb-warm from its first instant (a child takes
 * the calling thread's name): the daemon's kill-all tells the idle worker
 * by that name, also right after the clone. */
static pid_t clone_named(char *stack, int sock)
{
    char mine[16] = "";
    prctl(PR_GET_NAME, mine, 0, 0, 0);
    prctl(PR_SET_NAME, "hb-warm", 0, 0, 0);
    warm_start_t st = {.sock = sock, .caps = g_caps};
    pid_t pid = clone(agent_warm_worker_main, stack + WARM_STACK, 0, &st);
    int err = errno;
    prctl(PR_SET_NAME, mine, 0, 0, 0);
    errno = err;
    return pid;
}

/* Under g_m. No exit signal (see the top); its own copy of init's memory,
 * so the stack is ours to free once clone returns. */
static void fork_worker(void)
{
    int sv[2];
    char *stack = malloc(WARM_STACK);
    if (!stack || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        free(stack);
        return;
    }
    pid_t pid = clone_named(stack, sv[1]);
    int err = errno;
    free(stack);
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        HB_LOG_WARN("warm exec worker: %s", strerror(err));
        return;
    }
    g_pid = pid;
    g_sock = park_fd(sv[0]);
}

void agent_warm_enable(bool on)
{
    g_on = on;
}

void agent_warm_refill(void)
{
    if (!g_on)
        return;
    pthread_mutex_lock(&g_m);
    drop_if_dead();
    if (!g_caps)
        g_caps = agent_build_caps();
    /* Without user cgroups (v2) the idle worker could not be told apart
     * from the user's processes: no warm exec there. */
    if (g_pid < 0 && g_caps && agent_has_user_cgroups())
        fork_worker();
    pthread_mutex_unlock(&g_m);
}

/* ---- a request thread taking the worker ---- */

static bool put(char *buf, size_t *off, const char *s, size_t n)
{
    if (*off + n + 1 > WARM_MSG_MAX)
        return false;
    memcpy(buf + *off, s, n);
    buf[*off + n] = 0;
    *off += n + 1;
    return true;
}

/* The request for the worker; its length, or 0 when it does not fit. */
static size_t build_msg(char *buf, const agent_spawn_req_t *q, char **envp)
{
    const hb_initreq_t *r = q->r;
    warm_hdr_t h = {.has_cwd = r->cwd != NULL};
    size_t off = sizeof h;
    if ((r->cwd && !put(buf, &off, r->cwd, strlen(r->cwd))) ||
        !put(buf, &off, r->cmd.ptr ? r->cmd.ptr : "", r->cmd.ptr ? strnlen(r->cmd.ptr, r->cmd.len) : 0))
        return 0;
    for (; envp[h.nenv]; h.nenv++)
        if (h.nenv >= WARM_ENV_MAX || !put(buf, &off, envp[h.nenv], strlen(envp[h.nenv])))
            return 0;
    memcpy(buf, &h, sizeof h);
    return off;
}

static int send_msg(int sock, char *buf, size_t len, const agent_fds_t *f)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * WARM_NFDS)];
    } cm;
    int fds[WARM_NFDS] = {f->in_r, f->out_w, f->err_w, f->rep_w};
    struct iovec iov = {buf, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
                       .msg_controllen = sizeof cm.b};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    ssize_t n;
    while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    return n == (ssize_t)len ? 0 : -1;     /* EPIPE: the worker was killed */
}

/* 1 when fd is readable, 0 on a stall of WARM_ROUNDS, -1 on error. A
 * process of the sandbox may SIGSTOP the worker (root there holds
 * CAP_KILL): it gets SIGCONT every round. */
static int wait_readable(int fd, pid_t pid)
{
    for (int round = 0; round < WARM_ROUNDS;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, WARM_POLL_MS);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr != 0)
            return pr > 0 ? 1 : -1;
        kill(pid, SIGCONT);
        round++;
    }
    return 0;
}

/* 0 once the worker has exec'd: the report pipe closed empty and the
 * worker had acknowledged the request (the pipe also closes when it dies
 * before it received it: its socket's queue is dropped with the fds). -1
 * when it reported a failure, died before the ack or stalled. One wake-up
 * of this thread, not two. */
static int wait_exec(int rep_r, int sock, pid_t pid)
{
    agent_report_t rep;
    char ack = 0;
    ssize_t n;
    if (wait_readable(rep_r, pid) != 1)
        return -1;
    while ((n = read(rep_r, &rep, sizeof rep)) < 0 && errno == EINTR)
        ;
    if (n != 0)
        return -1;
    while ((n = recv(sock, &ack, 1, MSG_DONTWAIT)) < 0 && errno == EINTR)
        ;
    return n == 1 && ack == WARM_ACK ? 0 : -1;
}

/* Into every user cgroup before it can exec (the pid in our namespace). */
static int join_cgroups(pid_t pid)
{
    char s[16];
    int n = snprintf(s, sizeof s, "%d", (int)pid);
    return agent_move_to_user_cgroups(s, (size_t)n);
}

/* Take the idle worker, if any. */
static pid_t take(int *sock)
{
    pthread_mutex_lock(&g_m);
    pid_t pid = g_pid;
    *sock = g_sock;
    g_pid = -1;
    g_sock = -1;
    pthread_mutex_unlock(&g_m);
    return pid;
}

/* Hand the request to the worker; 0 once it has exec'd. */
static int hand_over(pid_t pid, int sock, char *buf, size_t len, agent_fds_t *f)
{
    kill(pid, SIGCONT);
    if (join_cgroups(pid) != 0 || agent_make_pipes(f) < 0 || send_msg(sock, buf, len, f) < 0)
        return -1;
    int *mine[] = {&f->in_r, &f->out_w, &f->err_w, &f->rep_w};   /* the worker's now */
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        close(*mine[i]);
        *mine[i] = -1;
    }
    return wait_exec(f->rep_r, sock, pid);
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* The message for the worker in a new buffer (*len > 0), or NULL. */
static char *request_msg(const agent_spawn_req_t *q, size_t *len)
{
    agent_user_t u = {.home = "/root"};
    char host[HB_HOSTNAME_MAX + 1];   /* issue 19: set_hostname may have renamed it */
    agent_hostname_take(host, sizeof host);
    char **envp = agent_build_env(q->r->env.obj, host, &u, false);
    char *buf = envp ? malloc(WARM_MSG_MAX) : NULL;
    *len = buf ? build_msg(buf, q, envp) : 0;
    free_env(envp);
    if (*len == 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The idle worker, claimed (agent_warm_reap.c) and with a pidfd opened
 * while nobody else can reap it; -1 when there is none or no claim. */
static pid_t take_claimed(int *sock, int *pidfd)
{
    pid_t pid = take(sock);
    if (pid <= 0)
        return -1;
    *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (*pidfd >= 0 && agent_warm_claim(pid) == 0)
        return pid;
    kill(pid, SIGKILL);         /* not exec'd: no exit signal, ours to reap */
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
        ;
    if (*pidfd >= 0)
        close(*pidfd);
    *pidfd = -1;
    return -1;
}

int agent_warm_spawn(const agent_spawn_req_t *q, agent_child_t *ch, int *pidfd)
{
    *pidfd = -1;
    if (!g_on || q->user || q->cols || q->rows || !q->stdin_pipe)
        return -1;
    size_t len = 0;
    char *buf = request_msg(q, &len);
    int sock = -1;
    pid_t pid = buf ? take_claimed(&sock, pidfd) : -1;
    agent_fds_t f = {-1, -1, -1, -1, -1, -1, -1, -1};
    int rc = pid > 0 ? hand_over(pid, sock, buf, len, &f) : -1;
    if (pid > 0 && rc < 0) {    /* dead, stalled or failed: never half-started */
        kill(pid, SIGKILL);
        agent_child_wait(pid);
        close(*pidfd);
        *pidfd = -1;
    }
    if (rc == 0) {
        if (agent_oom_reset_needed())
            agent_reset_oom(pid);
        *ch = (agent_child_t){.pid = pid, .in_w = f.in_w, .out_r = f.out_r, .err_r = f.err_r};
        f.in_w = f.out_r = f.err_r = -1;
    }
    agent_close_fds(&f);
    if (sock >= 0)
        close(sock);
    free(buf);
    return rc;
}
