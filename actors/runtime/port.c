/* port_connect's daemon side (port.h). Init is trusted code, but the
 * sandbox's root may have found a way to talk on its socket; so what comes
 * back is checked like any other input from a sandbox: one descriptor, a
 * stream socket, nothing truncated, or everything received is closed. */
#include "port.h"
#include "initclient.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define ANSWER_MS 8000   /* init's connect gives up after 5 s */
#define FDS_SEEN  4      /* room to notice (and close) more than one fd */

static void close_all(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

static int is_stream_socket(int fd)
{
    struct stat st;
    int type = 0;
    socklen_t len = sizeof type;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
           getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* The fds of every SCM_RIGHTS header in mh, at most cap; -1 if more. */
static ssize_t collect(struct msghdr *mh, int *fds, size_t cap)
{
    size_t n = 0;
    bool over = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (n < cap)
                fds[n++] = fd;
            else
                over = true;   /* the kernel never gives more than the buffer holds */
        }
    }
    return over ? -1 : (ssize_t)n;
}

int hb_port_recv_fd(int conn, int timeout_ms, int *fd)
{
    struct pollfd p = {.fd = conn, .events = POLLIN};
    int pr;
    do
        pr = poll(&p, 1, timeout_ms);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0) {
        errno = pr == 0 ? ETIMEDOUT : errno;
        return -1;
    }
    char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(FDS_SEEN * sizeof(int))];
    } u;
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf};
    ssize_t got;
    do
        got = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;
    int fds[FDS_SEEN];
    ssize_t n = collect(&mh, fds, FDS_SEEN);
    bool ok = got == 1 && byte == 'F' && n == 1 && !(mh.msg_flags & MSG_CTRUNC) &&
              is_stream_socket(fds[0]);
    if (!ok) {
        close_all(fds, n > 0 ? (size_t)n : 0);
        errno = got == 0 ? ECONNRESET : EPROTO;
        return -1;
    }
    *fd = fds[0];
    return 0;
}

int hb_port_connect(const hb_sandbox_t *sb, unsigned port, int *fd, hb_err_t *e)
{
    hb_initconn_t c;
    hb_initreq_t q = {.op = HB_OP_PORT_CONNECT, .port = port};
    hb_initans_t a;
    *fd = -1;
    if (hb_initconn_start(&c, sb, &q, e) < 0)
        return -1;
    int rc = hb_initconn_next(&c, &a, ANSWER_MS, e);
    if (rc == 0 && a.t == HB_ANS_ERR) {
        rc = hb_fail(e, HB_E_UPSTREAM, (int)a.err, "port %u: nothing accepts connections "
                     "there inside the sandbox (%s)", port, a.msg);
    } else if (rc == 0 && a.t != HB_ANS_OK) {
        rc = hb_init_unexpected(&a, "port_connect", e);
    } else if (rc == 0 && hb_port_recv_fd(c.fd, ANSWER_MS, fd) < 0) {
        rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "sandbox %s: port %u: init passed no "
                         "usable socket", sb->id, port);
    }
    hb_initconn_close(&c);
    return rc;
}
