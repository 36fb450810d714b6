/* Byte pumps of the preview proxy (preview_relay.h). */
#include "preview_relay.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUIET_MS 2000   /* a quiet service: from then on the client is watched too */
#define SLICE_MS 1000   /* how soon a daemon stop ends every wait */

static atomic_bool g_stopping;

void hb_pv_stopping(bool on) { atomic_store(&g_stopping, on); }

/* poll() for up to ms in slices, so that a daemon stop never waits on a
 * quiet preview: events (> 0), 0 when ms passed, -1 with errno (ECANCELED:
 * the daemon is stopping). */
static int poll_sliced(struct pollfd *p, nfds_t n, int ms)
{
    for (int left = ms;;) {
        if (atomic_load(&g_stopping)) {
            errno = ECANCELED;
            return -1;
        }
        int k = poll(p, n, left < SLICE_MS ? left : SLICE_MS);
        if (k < 0 && errno == EINTR)
            continue;
        if (k != 0)
            return k;
        left -= SLICE_MS;
        if (left <= 0)
            return 0;
    }
}

static int wait_fd(int fd, short ev, int ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int n = poll_sliced(&p, 1, ms);
    if (n == 0)
        errno = ETIMEDOUT;
    return n > 0 ? 0 : -1;
}

int hb_pv_send_all(int fd, const void *buf, size_t n, int idle_ms)
{
    const char *p = buf;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_fd(fd, POLLOUT, idle_ms) < 0)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

ssize_t hb_pv_recv(int fd, void *buf, size_t cap, int idle_ms)
{
    for (;;) {
        ssize_t r = recv(fd, buf, cap, MSG_DONTWAIT);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        if ((errno != EAGAIN && errno != EWOULDBLOCK) || wait_fd(fd, POLLIN, idle_ms) < 0)
            return -1;
    }
}

static int chunk_up(int up, const char *data, size_t n, int idle_ms)
{
    char head[24];
    int hn = snprintf(head, sizeof head, "%zx\r\n", n);
    return hb_pv_send_all(up, head, (size_t)hn, idle_ms) < 0 ||
                   hb_pv_send_all(up, data, n, idle_ms) < 0 ||
                   hb_pv_send_all(up, "\r\n", 2, idle_ms) < 0
               ? -1 : 0;
}

int hb_pv_body_up(struct mg_connection *c, int up, bool chunked, char *buf, int idle_ms)
{
    for (;;) {
        int got = mg_read(c, buf, HB_PV_BUF);
        if (got < 0)
            return -1;
        if (got == 0)
            return chunked ? hb_pv_send_all(up, "0\r\n\r\n", 5, idle_ms) : 0;
        if (chunked ? chunk_up(up, buf, (size_t)got, idle_ms) < 0
                    : hb_pv_send_all(up, buf, (size_t)got, idle_ms) < 0)
            return -1;
    }
}

/* Wait up to idle_ms for the service's bytes while watching the client: a
 * quiet stream (events that do not come) must not hold a worker and a cap
 * slot after its client left. The client's socket is looked for only once
 * the service has been quiet for QUIET_MS (a scan of the daemon's fds: not
 * for every response), *client -2 until then. A client that closed is seen
 * by poll; one that reset its connection before the look is not found
 * (hb_pv_client_fd): gone too. 1 readable, 0 idle, -1 the client left. */
static int wait_down(int up, int *client, const struct mg_request_info *ri, int idle_ms)
{
    int waited = 0;
    for (;;) {
        int step = *client == -2 ? QUIET_MS : idle_ms - waited;
        struct pollfd p[2] = {{.fd = up, .events = POLLIN},
                              {.fd = *client >= 0 ? *client : -1, .events = POLLRDHUP}};
        int n = poll_sliced(p, 2, step > 0 ? step : 0);
        if (n < 0 || (n > 0 && p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)))
            return -1;
        if (n != 0)
            return 1;   /* readable, or an error recv will report */
        waited += step;
        if (waited >= idle_ms)
            return 0;
        if (*client == -2) {
            *client = hb_pv_client_fd(ri);
            if (*client == -1)
                return -1;
        }
    }
}

int hb_pv_body_down(int up, struct mg_connection *c, char *buf, int idle_ms)
{
    int client = -2;
    for (;;) {
        int w = wait_down(up, &client, mg_get_request_info(c), idle_ms);
        if (w < 0)
            return -1;
        ssize_t n = w ? hb_pv_recv(up, buf, HB_PV_BUF, 0) : 0;
        if (n < 0 && errno == ETIMEDOUT)
            continue;
        if (n <= 0)
            return 0;   /* the end, or the service broke off: the client sees it end */
        if (mg_write(c, buf, (size_t)n) != (int)n)
            return -1;
    }
}

/* One readable side's bytes to the other: 0, or -1 when it is over. */
static int move(int from, int to, char *buf, int idle_ms)
{
    ssize_t n = hb_pv_recv(from, buf, HB_PV_BUF, 0);
    if (n < 0 && errno == ETIMEDOUT)
        return 0;   /* spurious wake-up */
    return n <= 0 || hb_pv_send_all(to, buf, (size_t)n, idle_ms) < 0 ? -1 : 0;
}

void hb_pv_tunnel(int client, int up, char *buf, int idle_ms)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = client, .events = POLLIN}, {.fd = up, .events = POLLIN}};
        if (poll_sliced(p, 2, idle_ms) <= 0)
            return;
        if (p[0].revents && move(client, up, buf, idle_ms) < 0)
            return;
        if (p[1].revents && move(up, client, buf, idle_ms) < 0)
            return;
    }
}

/* The request's peer address as civetweb wrote it, in binary: a link-local
 * IPv6 address may carry a "%scope" that inet_ntop would not write. */
static bool peer_of(const struct mg_request_info *ri, int family, void *out)
{
    char addr[INET6_ADDRSTRLEN];
    size_t n = strcspn(ri->remote_addr, "%");
    if (n >= sizeof addr)
        return false;
    memcpy(addr, ri->remote_addr, n);
    addr[n] = '\0';
    return inet_pton(family, addr, out) == 1;
}

static bool same_peer(int fd, const struct mg_request_info *ri)
{
    struct sockaddr_storage local = {0}, peer = {0};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0 ||
        getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 || local.ss_family != peer.ss_family)
        return false;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *l4 = (void *)&local, *p4 = (void *)&peer;
        struct in_addr want;
        return ntohs(l4->sin_port) == ri->server_port && ntohs(p4->sin_port) == ri->remote_port &&
               peer_of(ri, AF_INET, &want) && want.s_addr == p4->sin_addr.s_addr;
    }
    if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *l6 = (void *)&local, *p6 = (void *)&peer;
        struct in6_addr want;
        return ntohs(l6->sin6_port) == ri->server_port &&
               ntohs(p6->sin6_port) == ri->remote_port && peer_of(ri, AF_INET6, &want) &&
               memcmp(&want, &p6->sin6_addr, sizeof want) == 0;
    }
    return false;
}

int hb_pv_client_fd(const struct mg_request_info *ri)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -2;
    int found = -1;
    const struct dirent *de;
    while (found < 0 && (de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        struct stat st;
        if (*end || end == de->d_name || fd == dirfd(d) || fstat((int)fd, &st) < 0 ||
            !S_ISSOCK(st.st_mode))
            continue;
        if (same_peer((int)fd, ri))
            found = (int)fd;
    }
    closedir(d);
    return found;
}
