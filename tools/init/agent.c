/* PID 1 of a sandbox: reap orphans, accept connections on the init socket
 * and fork one worker per connection. The main loop never blocks on a
 * client; everything slow happens in workers. */
#include "agent.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int answer_err(int conn, int err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hb_answer_begin(&sb, &pk, "err", 3);
    hb_pk_kint(&pk, "errno", err > 0 && err < 4096 ? err : EIO);
    hb_pk_kstr(&pk, "msg", msg);
    int r = hb_frame_send(conn, &sb);
    msgpack_sbuffer_destroy(&sb);
    return r;
}

int answer_ok(int conn, bool has_size, uint64_t size)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    hb_answer_begin(&sb, &pk, "ok", has_size ? 2 : 1);
    if (has_size)
        hb_pk_kuint(&pk, "size", size);
    int r = hb_frame_send(conn, &sb);
    msgpack_sbuffer_destroy(&sb);
    return r;
}

void op_signal(int conn, const hb_initreq_t *r)
{
    /* Never our own group (init and the workers share it). */
    if (r->pgid == getpgrp()) {
        answer_err(conn, EPERM, "pgid: refused");
        return;
    }
    if (kill(-(pid_t)r->pgid, r->sig) < 0) {
        answer_err(conn, errno, "kill: %s", strerror(errno));
        return;
    }
    answer_ok(conn, false, 0);
}

static __attribute__((noreturn)) void worker(int conn, const char *id)
{
    hb_frame_t f;
    hb_initreq_t *r = malloc(sizeof *r);   /* two path buffers: keep off the stack */
    hb_frame_init(&f);
    int rc = hb_frame_read(conn, &f, REQ_TIMEOUT_MS);
    const char *why = "frame";
    if (rc != 0 || !r || hb_initreq_parse(&f, r, &why) < 0) {
        if (rc == 0)
            answer_err(conn, EINVAL, "bad request: %s", why);
        _exit(1);
    }
    switch (r->op) {
    case HB_OP_EXEC:
        op_exec(conn, r, id);
        break;
    case HB_OP_SIGNAL:
        op_signal(conn, r);
        break;
    default:
        op_files(conn, &f, r);
        break;
    }
    _exit(0);
}

/* Reap every exited child; true if `watch` was among them. */
static bool reap(pid_t watch)
{
    bool hit = false;
    for (;;) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p > 0) {
            hit |= p == watch;
            continue;
        }
        if (p < 0 && errno == EINTR)
            continue;
        break;
    }
    return hit;
}

static void drain_signalfd(int sfd)
{
    struct signalfd_siginfo si[16];
    while (read(sfd, si, sizeof si) > 0)
        ;
}

/* Workers and commands need 0-2 to exist so their pipes never land there. */
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

static int setup_signals(void)
{
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    /* Ignore everything but SIGCHLD (SIG_IGN on SIGCHLD would auto-reap and
     * break the workers' waitpid). SIGTERM from inside is thereby ignored. */
    struct sigaction sa = {.sa_handler = SIG_IGN};
    for (int s = 1; s < NSIG; s++)
        if (s != SIGCHLD && s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* One spare worker waits in accept() so that a request does not pay for a
 * fork (slow on some virtual machines) before being served. When it takes a
 * connection it writes a byte to init, which forks the next spare. */
static __attribute__((noreturn)) void spare(int lfd, int sfd, int notify_r, int notify_w,
                                            pid_t parent, const char *id)
{
    close(sfd);
    close(notify_r);
    /* Go with init (serve mode; in a sandbox the pid namespace does this). */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != parent)
        _exit(0);               /* init died before the line above */
    for (;;) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            _exit(1);
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
            continue;           /* EAGAIN, or the peer already left */
        ssize_t w = write(notify_w, "x", 1);
        (void)w;
        close(notify_w);
        close(lfd);
        worker(conn, id);
    }
}

void agent_run(const agent_cfg_t *cfg)
{
    char prefix[96];
    snprintf(prefix, sizeof prefix, "init %s", cfg->id);
    hb_log_set_prefix(prefix);
    /* Not dumpable: nothing in the sandbox may ptrace init or its workers or
     * open /proc/1/mem. Subreaper matters only in serve mode (as PID 1 the
     * kernel gives us orphans anyway). */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    umask(022);
    ensure_stdio();
    int sfd = setup_signals();
    int nfd[2];
    if (sfd < 0 || pipe2(nfd, O_CLOEXEC | O_NONBLOCK) < 0) {
        LOG_ERROR("signalfd/pipe: %s", strerror(errno));
        _exit(1);
    }
    if (seccomp_prepare() < 0)
        LOG_ERROR("seccomp filter unavailable: exec requests will be refused");
    int lfd = cfg->listen_fd;
    fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
    pid_t spare_pid = 0, self = getpid();
    bool fork_failing = false;
    for (;;) {
        if (spare_pid <= 0) {
            spare_pid = fork();
            if (spare_pid == 0)
                spare(lfd, sfd, nfd[0], nfd[1], self, cfg->id);
            /* Once per streak: init.log is a host file a fork bomb would grow. */
            if (spare_pid < 0 && !fork_failing)
                LOG_WARN("fork: %s (retrying every 100 ms)", strerror(errno));
            fork_failing = spare_pid < 0;
        }
        struct pollfd p[2] = {{.fd = nfd[0], .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        /* Without a spare (fork failed), retry soon. */
        if (poll(p, 2, spare_pid > 0 ? -1 : 100) < 0 && errno != EINTR)
            LOG_WARN("poll: %s", strerror(errno));
        if (p[0].revents & POLLIN) {
            char b[64];
            if (read(nfd[0], b, sizeof b) > 0)
                spare_pid = 0;  /* it took a connection: fork the next */
        }
        if (p[1].revents) {
            drain_signalfd(sfd);
            if (reap(spare_pid))
                spare_pid = 0;  /* the spare died idle (killed from inside?) */
        }
    }
}
