/* Warm exec (issue 19): PID 1 keeps one pre-forked worker ready, already
 * in the user cgroups, in its own session, with default signal
 * dispositions and an empty mask, umask 022, the command rlimits, the
 * command capability set, no_new_privs and the seccomp filter. A plain
 * root exec without a terminal hands it argv, env, cwd and the stdio fds
 * (SCM_RIGHTS) in one message; it dup2s them, closes every other fd,
 * chdirs and execs /bin/sh. exec_as and terminals keep agent_spawn: their
 * uid/gid and controlling terminal come before the capability drop.
 *
 * Who waits: the worker is forked by the warm keeper thread, which lives as
 * long as init and never waits. The request thread that takes the worker
 * waits for it by pid (without __WNOTHREAD, wait finds a child of any
 * thread of the process), and init's main thread reaps only its own
 * children (__WNOTHREAD), so nobody else can take its status. A worker
 * forked by a request thread would be reparented, when that thread exits,
 * to another thread of init, possibly the main one, which would reap it.
 *
 * Nothing of one command reaches the next: every worker is a fresh fork of
 * init, used once; the keeper forks the next one after the answer is sent
 * (agent_warm_refill), never while a command waits for it. Any failure of
 * this path kills the worker and the caller takes agent_spawn instead. */
#include "agent.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WARM_MSG_MAX   (128 * 1024)    /* a longer request takes agent_spawn */
#define WARM_ENV_MAX   (HB_ENV_MAX + 16)  /* extra entries plus the defaults */
#define WARM_POLL_MS   100
#define WARM_ROUNDS    50              /* 5 s stalled before exec: kill it, go cold */
#define WARM_NFDS      4               /* stdin, stdout, stderr, report */
#define KEEPER_STACK   (128 * 1024)

typedef struct {
    uint32_t has_cwd, nenv;            /* then [cwd\0] cmd\0 env\0... */
} warm_hdr_t;

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static pid_t g_pid = -1;               /* the ready worker; -1: none */
static int g_sock = -1;                /* our end of its socket */
static bool g_want, g_keeper;
static cap_t g_caps;                   /* the command set, built by the keeper */

/* ---- the worker (a forked child: system calls only) ---- */

static __attribute__((noreturn)) void worker_fail(int rep)
{
    agent_report_t r = {0, errno};
    if (rep >= 0) {
        ssize_t w = write(rep, &r, sizeof r);
        (void)w;
    }
    _exit(127);
}

/* Everything that does not depend on the request, in agent_spawn's order. */
static void worker_harden(int sock)
{
    if (agent_join_user_cgroups() != 0)
        _exit(127);             /* never run outside the user cgroups */
    if (sock > 3)
        syscall(SYS_close_range, 3, sock - 1, 0);
    syscall(SYS_close_range, sock + 1, ~0U, 0);
    setsid();
    prctl(PR_SET_NAME, "hb-warm", 0, 0, 0);
    agent_reset_signals();
    umask(022);
    /* Not dumpable, as init (fork keeps the flag; set again so that no
     * step above can have changed it): the worker holds a copy of init's
     * memory until execve, which makes the command dumpable as before. */
    if (agent_drop_bounding() < 0 || agent_set_rlimits() < 0 || cap_set_proc(g_caps) < 0 ||
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        agent_seccomp_apply() < 0)
        _exit(127);
}

/* The next NUL-terminated string in [*p, end), or NULL. */
static char *next_str(char **p, char *end)
{
    char *s = *p, *z = memchr(s, 0, (size_t)(end - s));
    if (!z)
        return NULL;
    *p = z + 1;
    return s;
}

static int recv_req(int sock, char *buf, int fds[WARM_NFDS])
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * WARM_NFDS)];
    } cm;
    struct iovec iov = {buf, WARM_MSG_MAX};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
                       .msg_controllen = sizeof cm.b};
    ssize_t n;
    while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (n < (ssize_t)sizeof(warm_hdr_t) || !c || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len != CMSG_LEN(sizeof(int) * WARM_NFDS))
        return -1;
    memcpy(fds, CMSG_DATA(c), sizeof(int) * WARM_NFDS);
    return (int)n;
}

static __attribute__((noreturn)) void worker_main(int sock)
{
    worker_harden(sock);
    char *buf = mmap(NULL, WARM_MSG_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fds[WARM_NFDS];
    int n = buf == MAP_FAILED ? -1 : recv_req(sock, buf, fds);
    if (n < 0)
        _exit(127);
    warm_hdr_t h;
    memcpy(&h, buf, sizeof h);
    char *p = buf + sizeof h, *end = buf + n, *cwd = NULL;
    char *envp[WARM_ENV_MAX + 1];
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        _exit(127);
    if (fds[3] != 3 ? dup3(fds[3], 3, O_CLOEXEC) < 0 : fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        _exit(127);
    syscall(SYS_close_range, 4, ~0U, 0);        /* the socket and the received copies */
    char *argv[4] = {"sh", "-c", NULL, NULL};
    if ((h.has_cwd && !(cwd = next_str(&p, end))) || !(argv[2] = next_str(&p, end)) ||
        h.nenv > WARM_ENV_MAX)
        worker_fail(3);
    for (uint32_t i = 0; i < h.nenv; i++)
        if (!(envp[i] = next_str(&p, end)))
            worker_fail(3);
    envp[h.nenv] = NULL;
    if (cwd ? chdir(cwd) < 0 : chdir("/root") < 0 && chdir("/") < 0)
        worker_fail(3);
    execve("/bin/sh", argv, envp);
    worker_fail(3);
}

/* ---- the keeper thread: forks a worker whenever one is wanted ---- */

static pid_t fork_worker(int *sock)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0)
        worker_main(sv[1]);
    close(sv[1]);
    if (pid < 0)
        close(sv[0]);
    *sock = sv[0];
    return pid;
}

static void *keeper_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_m);
        while (!g_want || g_pid > 0)
            pthread_cond_wait(&g_c, &g_m);
        g_want = false;
        pthread_mutex_unlock(&g_m);
        int sock = -1;
        pid_t pid = fork_worker(&sock);
        if (pid < 0) {
            HB_LOG_WARN("warm exec worker: %s", strerror(errno));
            continue;           /* the next answer asks again */
        }
        pthread_mutex_lock(&g_m);
        g_pid = pid;
        g_sock = sock;
        pthread_mutex_unlock(&g_m);
    }
    return NULL;
}

/* Under g_m: the keeper starts with the first refill, so a sandbox that
 * never runs a command has neither it nor a worker. */
static void start_keeper(void)
{
    pthread_attr_t at;
    pthread_t t;
    if (!(g_caps = agent_build_caps()))
        return;
    if (pthread_attr_init(&at) == 0 && pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) == 0 &&
        pthread_attr_setstacksize(&at, KEEPER_STACK) == 0 && pthread_create(&t, &at, keeper_main, NULL) == 0)
        g_keeper = true;
    pthread_attr_destroy(&at);
}

void agent_warm_refill(void)
{
    pthread_mutex_lock(&g_m);
    if (!g_keeper && !g_caps)
        start_keeper();
    g_want = true;
    pthread_cond_signal(&g_c);
    pthread_mutex_unlock(&g_m);
}

/* ---- a request thread using the worker ---- */

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

/* 0 once the worker has exec'd (the report pipe closed), -1 when it
 * reported a failure or stalls. A process of the sandbox may SIGSTOP the
 * worker (root there holds CAP_KILL): it gets SIGCONT every round. */
static int wait_exec(int rep_r, pid_t pid)
{
    for (int round = 0; round < WARM_ROUNDS;) {
        struct pollfd p = {.fd = rep_r, .events = POLLIN};
        int pr = poll(&p, 1, WARM_POLL_MS);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            return -1;
        if (pr == 0) {
            kill(pid, SIGCONT);
            round++;
            continue;
        }
        agent_report_t rep;
        ssize_t n;
        while ((n = read(rep_r, &rep, sizeof rep)) < 0 && errno == EINTR)
            ;
        return n == 0 ? 0 : -1;
    }
    return -1;
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* Take the ready worker, if any. */
static pid_t take(int *sock)
{
    pthread_mutex_lock(&g_m);
    pid_t pid = g_pid;
    *sock = g_sock;
    g_pid = -1;
    g_sock = -1;
    g_want = false;             /* the next one only after this answer */
    pthread_mutex_unlock(&g_m);
    return pid;
}

/* Hand the request to the worker; 0 once it has exec'd. */
static int hand_over(pid_t pid, int sock, char *buf, size_t len, agent_fds_t *f)
{
    if (agent_make_pipes(f) < 0 || send_msg(sock, buf, len, f) < 0)
        return -1;
    int *mine[] = {&f->in_r, &f->out_w, &f->err_w, &f->rep_w};   /* the worker's now */
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        close(*mine[i]);
        *mine[i] = -1;
    }
    return wait_exec(f->rep_r, pid);
}

int agent_warm_spawn(const agent_spawn_req_t *q, agent_child_t *ch)
{
    if (q->user || q->cols || q->rows || !q->stdin_pipe)
        return -1;
    agent_user_t u = {.home = "/root"};
    char host[HB_HOSTNAME_MAX + 1];   /* issue 19: set_hostname may have renamed it */
    agent_hostname_take(host, sizeof host);
    char **envp = agent_build_env(q->r->env.obj, host, &u, false);
    char *buf = envp ? malloc(WARM_MSG_MAX) : NULL;
    size_t len = buf ? build_msg(buf, q, envp) : 0;
    free_env(envp);
    int sock = -1;
    pid_t pid = len ? take(&sock) : -1;
    agent_fds_t f = {-1, -1, -1, -1, -1, -1, -1, -1};
    int rc = pid > 0 ? hand_over(pid, sock, buf, len, &f) : -1;
    if (pid > 0 && rc < 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
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
