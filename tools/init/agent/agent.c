/* PID 1 of a sandbox: reap orphans, accept connections on the init socket
 * and serve each one on a thread of its own. The main loop never blocks on
 * a client; everything slow happens on request threads.
 *
 * Threads of PID 1, not forked worker processes: root in the sandbox holds
 * CAP_KILL over every process of its user namespace and could stop or kill
 * a worker process (SIGSTOP left exec and files hanging), but the kernel
 * makes the whole thread group of a pid namespace's init unkillable from
 * inside it (SIGNAL_UNKILLABLE: SIGKILL and SIGSTOP from the namespace, and
 * every signal init has no handler for, are dropped; kill(-1) skips it).
 * The threads reap only their own children: a command is the child of the
 * thread that started it and waited for by it alone, while the main thread
 * reaps orphans with __WNOTHREAD, so it never takes a command's status;
 * the one exception, a command started in the warm worker, is handed over
 * (agent_warm.c, agent_warm_reap.c). */
#include "agent.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_TIMEOUT_MS 30000   /* a client must send its request promptly */
#define STARVED_MS     100     /* out of fds or memory: the pause before accepting again */
#define THREAD_STACK   (512 * 1024)

static atomic_int g_live;      /* request threads running */

int64_t agent_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int agent_answer_err(int conn, int err, const char *fmt, ...)
{
    hb_initans_t a = {.t = HB_ANS_ERR, .err = err > 0 && err < 4096 ? err : EIO};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a.msg, sizeof a.msg, fmt, ap);
    va_end(ap);
    return hb_initans_send(conn, &a);
}

int agent_answer_ok(int conn, bool has_size, uint64_t size)
{
    hb_initans_t a = {.t = HB_ANS_OK, .has = has_size ? HB_IAF_BIT(size) : 0, .size = size};
    return hb_initans_send(conn, &a);
}

void agent_op_signal(int conn, const hb_initreq_t *r)
{
    /* Never our own group (init's). */
    if (r->pgid == getpgrp()) {
        agent_answer_err(conn, EPERM, "pgid: refused");
        return;
    }
    if (kill(-(pid_t)r->pgid, (int)r->sig) < 0) {
        agent_answer_err(conn, errno, "kill: %s", strerror(errno));
        return;
    }
    agent_answer_ok(conn, false, 0);
}

/* One request: read it, dispatch, free everything. */
static void serve(int conn, const char *id)
{
    hb_frame_t f;
    hb_initreq_in_t *in = malloc(sizeof *in);   /* path buffers: keep off the stack */
    const hb_initreq_t *r = in ? &in->r : NULL;
    hb_frame_init(&f);
    int rc = hb_frame_read(conn, &f, REQ_TIMEOUT_MS);
    const char *why = "frame";
    if (rc != 0 || !in || hb_initreq_parse(&f, in, &why) < 0) {
        if (rc == 0)
            agent_answer_err(conn, r ? EINVAL : ENOMEM, "bad request: %s", r ? why : "out of memory");
    } else if (r->op == HB_OP_EXEC || r->op == HB_OP_EXEC_AS) {
        agent_op_exec(conn, r, id);
    } else if (r->op == HB_OP_SET_HOSTNAME) {   /* issue 19: the warm pool */
        agent_op_set_hostname(conn, r);
    } else if (r->op == HB_OP_SIGNAL) {
        agent_op_signal(conn, r);
    } else if (r->op == HB_OP_PORT_CONNECT) {
        agent_op_port(conn, r);
    } else if (r->op >= HB_OP_PROC_START && r->op <= HB_OP_PROC_WATCH) {
        agent_op_proc(conn, &f, r);
    } else {
        agent_op_files(conn, &f, r);
    }
    free(in);
    hb_frame_free(&f);
}

typedef struct {
    int conn;
    const char *id;
} job_t;

static void *request_main(void *arg)
{
    job_t j = *(job_t *)arg;
    free(arg);
    serve(j.conn, j.id);
    close(j.conn);
    /* The last request out gives the freed heap back (issue 19): an idle
     * init otherwise keeps what its busiest moment left, charged to the
     * sandbox for its whole life. */
    if (atomic_fetch_sub(&g_live, 1) == 1)
        malloc_trim(0);
    return NULL;
}

/* Answer at once without reading the request (the daemon reads an answer
 * even when its request could not be sent whole), then hang up. */
static void refuse(int conn, int err, const char *what)
{
    struct timeval tv = {.tv_usec = 200000};
    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    agent_answer_err(conn, err, "init: %s", what);
    close(conn);
}

static void start_request(int conn, const char *id, const pthread_attr_t *at)
{
    if (atomic_load(&g_live) >= HB_INIT_MAX_REQUESTS) {
        refuse(conn, EAGAIN, "busy: too many requests in flight; retry later");
        return;
    }
    job_t *j = malloc(sizeof *j);
    pthread_t t;
    atomic_fetch_add(&g_live, 1);
    agent_hostname_settle();   /* issue 19: the warm pool */
    int rc = j ? 0 : ENOMEM;
    if (j) {
        *j = (job_t){conn, id};
        rc = pthread_create(&t, at, request_main, j);
    }
    if (rc != 0) {
        atomic_fetch_sub(&g_live, 1);
        free(j);
        refuse(conn, EAGAIN, rc == EAGAIN ? "cannot start a request thread (no task left)"
                                          : "cannot start a request thread");
    }
}

/* Reap the orphans handed to PID 1 (they are the main thread's children);
 * commands are their request thread's own and stay untouched, but for a
 * warm command, whose status goes to the request thread that runs it
 * (agent_warm_reap.c). */
static void reap_orphans(void)
{
    for (;;) {
        int st = 0;
        pid_t p = waitpid(-1, &st, WNOHANG | __WNOTHREAD);
        if (p > 0)
            agent_warm_reaped(p, st);
        if (p > 0 || (p < 0 && errno == EINTR))
            continue;
        break;
    }
}

static void drain_signalfd(int sfd)
{
    struct signalfd_siginfo si[16];
    while (read(sfd, si, sizeof si) > 0)
        ;
}

/* Commands need 0-2 to exist so their pipes never land there. */
static void ensure_stdio(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) >= 0)
            continue;
        int n = open("/dev/null", O_RDWR);
        if (n >= 0 && n != fd) {
            dup2(n, fd);
            close(n);
        }
    }
}

/* Every signal blocked in every thread (threads inherit the mask) and
 * ignored, but SIGCHLD, read from a signalfd (SIG_IGN on SIGCHLD would
 * auto-reap and break the request threads' waitpid). */
static int setup_signals(void)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    struct sigaction sa = {.sa_handler = SIG_IGN};
    for (int s = 1; s < NSIG; s++)
        if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The host lowered our oom_score_adj (launcher.c); commands inherit it and
 * must get it back to 0. */
static bool oom_lowered(void)
{
    char buf[16] = "";
    int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    return n > 0 && atoi(buf) < 0;
}

/* false when no fd or memory was left for a connection: it is still
 * pending, so poll would report it at once again and PID 1 would spin. */
static bool accept_all(int lfd, const char *id, const pthread_attr_t *at)
{
    for (;;) {
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0 && errno == EINTR)
            continue;
        if (conn < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK;
        start_request(conn, id, at);
    }
}

void agent_run(const agent_cfg_t *cfg)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "init %s", cfg->id);
    hb_log_set_prefix(prefix);
    /* Not dumpable: nothing in the sandbox may ptrace init or open
     * /proc/1/mem, and /proc/1/oom_score_adj stays host root's. Subreaper
     * matters only in serve mode (as PID 1 the kernel gives us orphans
     * anyway, and a subreaper would hand them to any of our threads). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    if (getpid() != 1)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    umask(022);
    mallopt(M_ARENA_MAX, 2);    /* a few arenas, not one per request thread */
    ensure_stdio();
    int sfd = setup_signals();
    pthread_attr_t at;
    if (sfd < 0 || pthread_attr_init(&at) != 0 ||
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) != 0 ||
        pthread_attr_setstacksize(&at, THREAD_STACK) != 0) {
        HB_LOG_ERROR("signalfd/thread attributes: %s", strerror(errno));
        _exit(1);
    }
    if (agent_seccomp_prepare() < 0)
        HB_LOG_ERROR("seccomp filter unavailable: exec requests will be refused");
    agent_exec_setup(cfg->cg_fds, cfg->n_cg, oom_lowered());
    agent_proc_setup(cfg->id);
    agent_hostname_init(cfg->id, cfg->last_pid_fd);
    agent_warm_enable(cfg->warm_exec);
    /* Give back whatever start-up freed (issue 19: every page counts in an
     * idle sandbox; the seccomp filter, once ~550 KiB of it, is prebuilt). */
    malloc_trim(0);
    int lfd = cfg->listen_fd;
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    bool starved = false;   /* leave the listener alone for a moment (accept_all) */
    for (;;) {
        struct pollfd p[2] = {{.fd = starved ? -1 : lfd, .events = POLLIN},
                              {.fd = sfd, .events = POLLIN}};
        /* No timer while idle (issue 19): 10,000 inits waking every second
         * cost 1.4 ms of CPU per sandbox every 10 s here. The kernel sends
         * SIGCHLD for every orphan handed to PID 1 (also a zombie, when
         * it is reparented), and every connection reaps too. */
        if (poll(p, 2, starved ? STARVED_MS : -1) < 0 && errno != EINTR)
            HB_LOG_WARN("poll: %s", strerror(errno));
        if (p[1].revents)
            drain_signalfd(sfd);
        reap_orphans();
        starved = starved ? false : (p[0].revents & POLLIN) && !accept_all(lfd, cfg->id, &at);
    }
}
