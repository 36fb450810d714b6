/* The client's socket of a connection the gateway takes over from civetweb
 * (rawsock.h). */
#include "rawsock.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SLICE_MS 1000   /* how soon a daemon stop ends every wait */

static atomic_bool g_stopping;

void hb_raw_stopping(bool on) { atomic_store(&g_stopping, on); }

int hb_raw_poll(struct pollfd *p, nfds_t n, int ms)
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
    int n = hb_raw_poll(&p, 1, ms);
    if (n == 0)
        errno = ETIMEDOUT;
    return n > 0 ? 0 : -1;
}

int hb_raw_send_all(int fd, const void *buf, size_t n, int idle_ms)
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

ssize_t hb_raw_recv(int fd, void *buf, size_t cap, int idle_ms)
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

/* The local port first: most of the daemon's descriptors are unix sockets
 * to the sandboxes' inits (one each), which that one call rules out, as it
 * does anything that is no socket (ENOTSOCK). */
static bool same_peer(int fd, const struct mg_request_info *ri)
{
    struct sockaddr_storage local = {0}, peer = {0};
    socklen_t ll = sizeof local, pl = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &ll) < 0)
        return false;
    const struct sockaddr_in *l4 = (void *)&local;
    const struct sockaddr_in6 *l6 = (void *)&local;
    if (!(local.ss_family == AF_INET && ntohs(l4->sin_port) == ri->server_port) &&
        !(local.ss_family == AF_INET6 && ntohs(l6->sin6_port) == ri->server_port))
        return false;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 || peer.ss_family != local.ss_family)
        return false;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *p4 = (void *)&peer;
        struct in_addr want;
        return ntohs(p4->sin_port) == ri->remote_port && peer_of(ri, AF_INET, &want) &&
               want.s_addr == p4->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *p6 = (void *)&peer;
    struct in6_addr want;
    return ntohs(p6->sin6_port) == ri->remote_port && peer_of(ri, AF_INET6, &want) &&
           memcmp(&want, &p6->sin6_addr, sizeof want) == 0;
}

int hb_raw_client_fd(const struct mg_request_info *ri)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -2;
    int found = -1;
    const struct dirent *de;
    while (found < 0 && (de = readdir(d))) {
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end || end == de->d_name || fd == dirfd(d))
            continue;
        if (same_peer((int)fd, ri))
            found = (int)fd;
    }
    closedir(d);
    return found;
}
