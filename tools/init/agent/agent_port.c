/* port_connect (init-protocol.md, "Preview ports"): connect to a port of
 * the sandbox's own loopback and hand the connected socket to the daemon
 * over the request's Unix connection (SCM_RIGHTS). Init is inside the
 * sandbox's network namespace in every mode (`none` too: the launcher
 * brings lo up), so the daemon reaches a sandbox service without any route
 * from the host and without opening anything on the host.
 *
 * Runs on its request thread: the connect is non-blocking and bounded, so
 * a port that never answers (a full backlog) costs this thread a few
 * seconds, never init's accept loop. */
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_MS 5000   /* a listener with a full backlog: give up */

/* Wait for a non-blocking connect: 0, or -1 with errno. */
static int connect_wait(int s)
{
    struct pollfd p = {.fd = s, .events = POLLOUT};
    int n;
    do
        n = poll(&p, 1, CONNECT_MS);
    while (n < 0 && errno == EINTR);
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (n < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return -1;
    errno = err;
    return err ? -1 : 0;
}

/* A connected TCP socket to the loopback's port (family AF_INET or
 * AF_INET6), or -1 with errno. */
static int dial(int family, unsigned port)
{
    struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = family == AF_INET ? connect(s, (struct sockaddr *)&a4, sizeof a4)
                               : connect(s, (struct sockaddr *)&a6, sizeof a6);
    if (rc < 0 && (errno != EINPROGRESS || connect_wait(s) < 0)) {
        int saved = errno;
        close(s);
        errno = saved;
        return -1;
    }
    return s;
}

/* One byte carrying fd. 0, or -1 with errno. */
static int send_fd(int conn, int fd)
{
    char byte = 'F';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    do
        n = sendmsg(conn, &mh, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

void agent_op_port(int conn, const hb_initreq_t *r)
{
    unsigned port = (unsigned)r->port;
    /* IPv4 first; a service bound to ::1 only (a dev server on
     * "localhost") is reached on the IPv6 loopback. */
    int s = dial(AF_INET, port);
    if (s < 0 && errno == ECONNREFUSED)
        s = dial(AF_INET6, port);
    if (s < 0) {
        int err = errno == EAFNOSUPPORT ? ECONNREFUSED : errno;
        agent_answer_err(conn, err, "port %u: %s", port, strerror(err));
        return;
    }
    if (agent_answer_ok(conn, false, 0) == 0)
        send_fd(conn, s);   /* a failure: the daemon sees no socket and says so */
    close(s);               /* the daemon holds its own copy now */
}
