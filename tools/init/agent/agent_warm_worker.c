/* The warm exec worker (issue 19; agent_warm.c arms and takes it): a
 * clone of init that hardens itself as agent_spawn's child would, then
 * waits for one request (cwd, command, environment, and the stdio and
 * report fds by SCM_RIGHTS), acknowledges it and execs /bin/sh -c. It has
 * its own copy of init's memory but other threads may have held any libc
 * lock at the clone: system calls only. */
#include "agent_warm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static __attribute__((noreturn)) void worker_fail(void)
{
    agent_report_t r = {0, errno};
    ssize_t w = write(3, &r, sizeof r);
    (void)w;
    _exit(127);
}

/* Everything that does not depend on the request, in agent_spawn's order
 * (the cgroups come with the request: the taker moves us). */
static void worker_harden(int sock, cap_t caps)
{
    if (sock > 3)
        syscall(SYS_close_range, 3, sock - 1, 0);
    syscall(SYS_close_range, sock + 1, ~0U, 0);
    setsid();
    agent_reset_signals();
    umask(022);
    /* Not dumpable, as init (fork keeps the flag; set again so that no
     * step above can have changed it): the worker holds a copy of init's
     * memory until execve, which makes the command dumpable as before. */
    if (agent_drop_bounding() < 0 || agent_set_rlimits() < 0 || cap_set_proc(caps) < 0 ||
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
    char ack = WARM_ACK;        /* alive, holding the request: the taker stops doubting */
    return send(sock, &ack, 1, MSG_NOSIGNAL) == 1 ? (int)n : -1;
}

/* The stdio fds in 0-2, the report pipe in 3, nothing else open. */
static void worker_fds(const int fds[WARM_NFDS])
{
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        _exit(127);
    if (fds[3] != 3 ? dup3(fds[3], 3, O_CLOEXEC) < 0 : fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        _exit(127);
    syscall(SYS_close_range, 4, ~0U, 0);        /* the socket and the received copies */
}

int agent_warm_worker_main(void *arg)
{
    const warm_start_t *st = arg;
    int sock = st->sock;
    worker_harden(sock, st->caps);
    char *buf = mmap(NULL, WARM_MSG_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int fds[WARM_NFDS];
    int n = buf == MAP_FAILED ? -1 : recv_req(sock, buf, fds);
    if (n < 0)
        _exit(127);
    worker_fds(fds);
    warm_hdr_t h;
    memcpy(&h, buf, sizeof h);
    char *p = buf + sizeof h, *end = buf + n, *cwd = NULL;
    char *envp[WARM_ENV_MAX + 1];
    char *argv[4] = {"sh", "-c", NULL, NULL};
    if ((h.has_cwd && !(cwd = next_str(&p, end))) || !(argv[2] = next_str(&p, end)) ||
        h.nenv > WARM_ENV_MAX)
        worker_fail();
    for (uint32_t i = 0; i < h.nenv; i++)
        if (!(envp[i] = next_str(&p, end)))
            worker_fail();
    envp[h.nenv] = NULL;
    if (cwd ? chdir(cwd) < 0 : chdir("/root") < 0 && chdir("/") < 0)
        worker_fail();
    execve("/bin/sh", argv, envp);
    worker_fail();
}
