#include "initclient.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Sends and connects give up after this: init's request threads cannot be
 * stopped from inside, but the host may freeze a sandbox, and a daemon
 * thread must not wait on it for ever. Reads have their own per-request
 * deadlines. */
#define SEND_TIMEOUT_S 30

/* The socket path may be longer than sun_path: then connect through an
 * O_PATH handle on its directory. */
static int do_connect(int fd, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n < sizeof sa.sun_path) {
        memcpy(sa.sun_path, path, n + 1);
        return connect(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char dir[HB_HOSTPATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
    int r = strlen(sa.sun_path) + 1 >= sizeof sa.sun_path ? (errno = ENAMETOOLONG, -1)
            : connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int saved = errno;
    close(dfd);
    errno = saved;
    return r;
}

int hb_initconn_open(hb_initconn_t *c, const hb_sandbox_t *sb, hb_err_t *e)
{
    memset(c, 0, sizeof *c);
    c->sb = sb;
    hb_frame_init(&c->frame);
    msgpack_sbuffer_init(&c->out);
    msgpack_packer_init(&c->pk, &c->out, msgpack_sbuffer_write);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "socket");
    struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);   /* connect() honours it too */
    if (do_connect(c->fd, sb->sock_path) < 0) {
        int err = errno;
        close(c->fd);
        c->fd = -1;
        if (err == ENOENT || err == ECONNREFUSED)
            return hb_fail(e, HB_E_DEAD, err, "sandbox %s: init is not running", sb->id);
        if (err == EAGAIN)
            return hb_fail(e, HB_E_UNAVAIL, ETIMEDOUT, "sandbox %s: init accepted no "
                           "connection in %ds (it is frozen or overloaded)", sb->id,
                           SEND_TIMEOUT_S);
        return hb_fail_sys(e, HB_E_INTERNAL, err, "sandbox %s: connect", sb->id);
    }
    return 0;
}

void hb_initconn_close(hb_initconn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    hb_frame_free(&c->frame);
    msgpack_sbuffer_destroy(&c->out);
}

msgpack_packer *hb_initconn_begin(hb_initconn_t *c)
{
    hb_frame_begin(&c->out);
    return &c->pk;
}

/* Init hung up or broke off: dead if its process is gone. */
static int lost(hb_initconn_t *c, int err, hb_err_t *e)
{
    if (!hb_sandbox_alive(c->sb))
        return hb_fail(e, HB_E_DEAD, err, "sandbox %s: init died", c->sb->id);
    if (err == ETIMEDOUT)
        return hb_fail(e, HB_E_UNAVAIL, err, "sandbox %s: init read nothing for %ds (it is "
                       "frozen or overloaded)", c->sb->id, SEND_TIMEOUT_S);
    return hb_fail_sys(e, HB_E_INTERNAL, err, "sandbox %s: init connection", c->sb->id);
}

int hb_initconn_send(hb_initconn_t *c, hb_err_t *e)
{
    if (c->out.size > HB_FRAME_MAX + 4)
        return hb_fail(e, HB_E_TOOBIG, EMSGSIZE, "request too large");
    if (hb_frame_send(c->fd, &c->out) < 0) {
        int err = errno;
        /* Init refuses a request it has no thread for at once, without
         * reading it, and hangs up: its answer is still queued for us. */
        hb_initans_t a;
        if ((err == EPIPE || err == ECONNRESET) && hb_frame_read(c->fd, &c->frame, 100) == 0 &&
            hb_initans_parse(&c->frame, &a) == 0 && a.t == HB_ANS_ERR)
            return hb_init_fail(&a, c->sb->id, e);
        return lost(c, err, e);
    }
    return 0;
}

int hb_initconn_next(hb_initconn_t *c, hb_initans_t *a, int timeout_ms, hb_err_t *e)
{
    int r = hb_frame_read(c->fd, &c->frame, timeout_ms);
    if (r == 1)
        return lost(c, ECONNRESET, e);
    if (r < 0 && errno == EPROTO)
        return hb_fail(e, HB_E_INTERNAL, EPROTO, "sandbox %s: malformed frame from init",
                       c->sb->id);
    if (r < 0 && errno == ETIMEDOUT)
        return hb_fail(e, HB_E_UNAVAIL, ETIMEDOUT, "sandbox %s: init did not answer in time",
                       c->sb->id);
    if (r < 0)
        return lost(c, errno, e);
    if (hb_initans_parse(&c->frame, a) < 0)
        return hb_fail(e, HB_E_INTERNAL, EPROTO, "sandbox %s: invalid answer from init",
                       c->sb->id);
    return 0;
}

hb_errcode_t hb_init_errcode(int err)
{
    switch (err) {
    case ENOENT:
        return HB_E_NOTFOUND;
    case EFBIG:
        return HB_E_TOOBIG;
    case ENOSPC: case EDQUOT:
        return HB_E_NOSPACE;
    case EEXIST:
        return HB_E_EXISTS;
    case EAGAIN:                /* init busy, or no task left to start a command */
        return HB_E_UNAVAIL;
    case ENOTDIR: case EISDIR: case EINVAL: case ELOOP: case ENAMETOOLONG:
    case EACCES: case EPERM: case EROFS: case ENOTEMPTY: case EBUSY: case EXDEV:
        return HB_E_INVALID;
    default:
        return HB_E_INTERNAL;
    }
}

void hb_init_fail_set(const hb_initans_t *a, const char *what, hb_err_t *e)
{
    hb_fail_set(e, hb_init_errcode((int)a->err), (int)a->err, "%s: %s", what, a->msg);
}

void hb_init_unexpected_set(const hb_initans_t *a, const char *what, hb_err_t *e)
{
    if (a->t == HB_ANS_ERR)
        hb_init_fail_set(a, what, e);
    else
        hb_fail_set(e, HB_E_INTERNAL, EPROTO, "%s: unexpected answer %d from init", what,
                    (int)a->t);
}

int hb_initconn_start(hb_initconn_t *c, const hb_sandbox_t *sb, const hb_initreq_t *r,
                      hb_err_t *e)
{
    if (hb_initconn_open(c, sb, e) < 0)
        return -1;
    hb_initreq_pack(hb_initconn_begin(c), r);
    if (hb_initconn_send(c, e) < 0) {
        hb_initconn_close(c);
        return -1;
    }
    return 0;
}

/* Stream the body; -1 on a local failure (e set), 0 when sent or when init
 * hung up early (its answer says why). */
static int upload(hb_initconn_t *c, const char *what, uint64_t max, hb_src_cb src, void *ud,
                  char *buf, uint64_t *total, hb_err_t *e)
{
    for (;;) {
        size_t got = 0;
        if (src(ud, buf, HB_CHUNK_MAX, &got) < 0)
            return hb_fail(e, HB_E_INVALID, 0, "upload aborted by the source");
        if (got > HB_CHUNK_MAX)
            return hb_fail(e, HB_E_INTERNAL, 0, "upload source overran its buffer");
        if (got == 0)
            break;
        *total += got;
        if (max && *total > max)
            return hb_fail(e, HB_E_TOOBIG, EFBIG, "%s larger than %llu bytes", what,
                           (unsigned long long)max);
        /* An answer before the end means init refused the upload: stop
         * sending and read it. */
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0 || hb_frame_send_chunk(c->fd, "data", 0, buf, got) < 0)
            return 0;
    }
    hb_initans_t end = {.t = HB_ANS_END};
    hb_initans_pack(hb_initconn_begin(c), &end);
    hb_frame_send(c->fd, &c->out);
    return 0;
}

int hb_init_put(const hb_sandbox_t *sb, const hb_initreq_t *r, const char *what,
                uint64_t max, hb_src_cb src, void *ud, int timeout_ms, uint64_t *total,
                hb_err_t *e)
{
    *total = 0;
    hb_initconn_t c;
    char *buf = malloc(HB_CHUNK_MAX);
    if (!buf)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (hb_initconn_start(&c, sb, r, e) < 0) {
        free(buf);
        return -1;
    }
    int rc = upload(&c, what, max, src, ud, buf, total, e);
    free(buf);
    hb_initans_t a;
    if (rc == 0 && (rc = hb_initconn_next(&c, &a, timeout_ms, e)) == 0 && a.t != HB_ANS_OK)
        rc = hb_init_unexpected(&a, what, e);
    if (rc == 0 && (!(a.has & HB_IAF_BIT(size)) || a.size != *total))
        rc = hb_fail(e, HB_E_INTERNAL, EIO, "%s: init took %llu of %llu bytes", what,
                     (unsigned long long)a.size, (unsigned long long)*total);
    hb_initconn_close(&c);
    return rc;
}
