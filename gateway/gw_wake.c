/* Waking civetweb's accept loop while mg_stop runs (gw_wake.h). */
#include "gw_wake.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KNOCK_EVERY_MS 20

struct hb_gw_waker {
    struct sockaddr_storage addr;
    socklen_t               len;
    atomic_bool             done;
    pthread_t               th;
};

/* The address to connect to for a listener on host:port; false for a host
 * that is not a numeric address (nothing to knock on then). */
static bool listen_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    const char *h = strcmp(host, "0.0.0.0") == 0 ? "127.0.0.1" : strcmp(host, "::") == 0 ? "::1"
                                                                                           : host;
    if (inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof *v4;
        return true;
    }
    if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof *v6;
        return true;
    }
    return false;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {0, ms * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* One connection, closed as soon as it is made (or after a turn): never
 * blocks, whatever the listener's backlog. */
static void knock(const hb_gw_waker_t *w)
{
    int fd = socket(w->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (const struct sockaddr *)&w->addr, w->len) < 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, KNOCK_EVERY_MS);
    }
    close(fd);
}

static void *knocker(void *arg)
{
    hb_gw_waker_t *w = arg;
    while (!atomic_load(&w->done)) {
        knock(w);
        sleep_ms(KNOCK_EVERY_MS);
    }
    return NULL;
}

hb_gw_waker_t *hb_gw_waker_start(const char *host, int port)
{
    hb_gw_waker_t *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (!host || !listen_addr(host, port, &w->addr, &w->len) ||
        pthread_create(&w->th, NULL, knocker, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void hb_gw_waker_stop(hb_gw_waker_t *w)
{
    if (!w)
        return;
    atomic_store(&w->done, true);
    pthread_join(w->th, NULL);
    free(w);
}
