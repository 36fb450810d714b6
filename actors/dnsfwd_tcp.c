/* DNS over TCP for the forwarder (see dnsfwd.h): each connection on a
 * detached thread of its own (at most HB_DNSFWD_TCP_MAX at once, of them
 * HB_DNSFWD_TCP_PER_SB from one source address), queries
 * read one at a time with a time limit, each answered through a new TCP
 * connection to the upstream. */
#include "dnsfwd.h"
#include "dns_msg.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define IDLE_S 10

/* The live connections: counted per source, and shut at stop. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  g_gone = PTHREAD_COND_INITIALIZER;
static struct {
    int      fd;
    uint32_t src;
    bool     used;
} g_live[HB_DNSFWD_TCP_MAX];

typedef struct {
    dnsfwd_ctx_t c;    /* a copy: the actor's state may go first */
    int          fd;
    uint32_t     src;
    int          slot;
} conn_t;

/* A slot for src, or -1 when all are taken or src holds its share. */
static int take(int fd, uint32_t src)
{
    int slot = -1, mine = 0;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < HB_DNSFWD_TCP_MAX; i++) {
        if (!g_live[i].used)
            slot = slot < 0 ? i : slot;
        else if (g_live[i].src == src)
            mine++;
    }
    if (mine >= HB_DNSFWD_TCP_PER_SB)
        slot = -1;
    if (slot >= 0) {
        g_live[slot].fd = fd;
        g_live[slot].src = src;
        g_live[slot].used = true;
    }
    pthread_mutex_unlock(&g_mu);
    return slot;
}

static void give_back(int slot)
{
    pthread_mutex_lock(&g_mu);
    g_live[slot].used = false;
    pthread_cond_broadcast(&g_gone);
    pthread_mutex_unlock(&g_mu);
}

/* All len bytes, or -1 (the socket's time limit, an error, the end). */
static int read_full(int fd, uint8_t *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv(fd, buf, len, MSG_WAITALL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)len ? 0 : -1;
}

static int write_full(int fd, const uint8_t *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

static void timeouts(int fd)
{
    struct timeval tv = {.tv_sec = IDLE_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* One length-prefixed message into buf (cap bytes): its length, or -1. */
static ssize_t read_msg(int fd, uint8_t *buf, size_t cap)
{
    uint8_t l[2];
    if (read_full(fd, l, 2) < 0)
        return -1;
    size_t len = (size_t)l[0] << 8 | l[1];
    if (len < 12 || len > cap || read_full(fd, buf, len) < 0)
        return -1;
    return (ssize_t)len;
}

static int write_msg(int fd, const uint8_t *buf, size_t len)
{
    uint8_t l[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    return write_full(fd, l, 2) < 0 ? -1 : write_full(fd, buf, len);
}

static ssize_t ask_upstream(const dnsfwd_ctx_t *c, const uint8_t *q, size_t len, uint8_t *a,
                            size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = HB_DNSFWD_WAIT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ssize_t n = -1;
    if (connect(fd, (const struct sockaddr *)&c->up, sizeof c->up) == 0 &&
        write_msg(fd, q, len) == 0)
        n = read_msg(fd, a, cap);
    close(fd);
    return n;
}

static void *serve(void *arg)
{
    conn_t *k = arg;
    uint8_t *q = malloc(HB_DNS_MAX_MSG), *a = malloc(HB_DNS_MAX_MSG);
    for (ssize_t n; q && a && (n = read_msg(k->fd, q, HB_DNS_MAX_MSG)) > 0;) {
        bool policy = false;
        size_t r = dnsfwd_judge(&k->c, k->src, q, (size_t)n, &policy, a, HB_DNS_MAX_MSG);
        if (r == DNSFWD_DROP)
            break;
        if (r == 0) {
            ssize_t got = ask_upstream(&k->c, q, (size_t)n, a, HB_DNS_MAX_MSG);
            if (got < 0)
                break;
            if (policy)
                dnsfwd_learn(&k->c, k->src, a, (size_t)got);
            r = (size_t)got;
        }
        if (write_msg(k->fd, a, r) < 0)
            break;
    }
    free(q);
    free(a);
    pthread_mutex_lock(&g_mu);
    g_live[k->slot].fd = -1;   /* before the close: stop must not shut a reused number */
    pthread_mutex_unlock(&g_mu);
    close(k->fd);
    give_back(k->slot);
    free(k);
    return NULL;
}

void dnsfwd_tcp_serve(const dnsfwd_ctx_t *c, int fd)
{
    struct sockaddr_in peer = {0};
    socklen_t pl = sizeof peer;
    conn_t *k = NULL;
    pthread_t t;
    pthread_attr_t at;
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) < 0 || pl != sizeof peer) {
        close(fd);
        return;
    }
    int slot = take(fd, peer.sin_addr.s_addr);
    if (slot < 0 || !(k = malloc(sizeof *k))) {
        if (slot >= 0)
            give_back(slot);
        close(fd);
        return;
    }
    timeouts(fd);
    *k = (conn_t){.c = *c, .fd = fd, .src = peer.sin_addr.s_addr, .slot = slot};
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &at, serve, k) != 0) {
        close(fd);
        free(k);
        give_back(slot);
    }
    pthread_attr_destroy(&at);
}

void dnsfwd_tcp_stop(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += HB_DNSFWD_WAIT_MS / 1000 + 2;   /* an upstream wait, then the writes */
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < HB_DNSFWD_TCP_MAX; i++)
        if (g_live[i].used && g_live[i].fd >= 0)
            shutdown(g_live[i].fd, SHUT_RDWR);   /* its reads and writes end now */
    for (int rc = 0;; rc = pthread_cond_timedwait(&g_gone, &g_mu, &until)) {
        int n = 0;
        for (int i = 0; i < HB_DNSFWD_TCP_MAX; i++)
            n += g_live[i].used;
        if (n == 0 || rc == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&g_mu);
}
