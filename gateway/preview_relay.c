/* Byte pumps of the preview proxy (preview_relay.h). */
#include "preview_relay.h"
#include "rawsock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUIET_MS 2000   /* a quiet service: from then on the client is watched too */

static int chunk_up(int up, const char *data, size_t n, int idle_ms)
{
    char head[24];
    int hn = snprintf(head, sizeof head, "%zx\r\n", n);
    return hb_raw_send_all(up, head, (size_t)hn, idle_ms) < 0 ||
                   hb_raw_send_all(up, data, n, idle_ms) < 0 ||
                   hb_raw_send_all(up, "\r\n", 2, idle_ms) < 0
               ? -1 : 0;
}

int hb_pv_body_up(struct mg_connection *c, int up, bool chunked, char *buf, int idle_ms)
{
    for (;;) {
        int got = mg_read(c, buf, HB_PV_BUF);
        if (got < 0)
            return -1;
        if (got == 0)
            return chunked ? hb_raw_send_all(up, "0\r\n\r\n", 5, idle_ms) : 0;
        if (chunked ? chunk_up(up, buf, (size_t)got, idle_ms) < 0
                    : hb_raw_send_all(up, buf, (size_t)got, idle_ms) < 0)
            return -1;
    }
}

/* Wait up to idle_ms for the service's bytes while watching the client: a
 * quiet stream (events that do not come) must not hold a worker and a cap
 * slot after its client left. The client's socket is looked for only once
 * the service has been quiet for QUIET_MS (a scan of the daemon's fds: not
 * for every response), *client -2 until then. A client that closed is seen
 * by poll; one that reset its connection before the look is not found
 * (hb_raw_client_fd): gone too. 1 readable, 0 idle, -1 the client left. */
static int wait_down(int up, int *client, const struct mg_request_info *ri, int idle_ms)
{
    int waited = 0;
    for (;;) {
        int step = *client == -2 ? QUIET_MS : idle_ms - waited;
        struct pollfd p[2] = {{.fd = up, .events = POLLIN},
                              {.fd = *client >= 0 ? *client : -1, .events = POLLRDHUP}};
        int n = hb_raw_poll(p, 2, step > 0 ? step : 0);
        if (n < 0 || (n > 0 && p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)))
            return -1;
        if (n != 0)
            return 1;   /* readable, or an error recv will report */
        waited += step;
        if (waited >= idle_ms)
            return 0;
        if (*client == -2) {
            *client = hb_raw_client_fd(ri);
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
        ssize_t n = w ? hb_raw_recv(up, buf, HB_PV_BUF, 0) : 0;
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
    ssize_t n = hb_raw_recv(from, buf, HB_PV_BUF, 0);
    if (n < 0 && errno == ETIMEDOUT)
        return 0;   /* spurious wake-up */
    return n <= 0 || hb_raw_send_all(to, buf, (size_t)n, idle_ms) < 0 ? -1 : 0;
}

void hb_pv_tunnel(int client, int up, char *buf, int idle_ms)
{
    for (;;) {
        struct pollfd p[2] = {{.fd = client, .events = POLLIN}, {.fd = up, .events = POLLIN}};
        if (hb_raw_poll(p, 2, idle_ms) <= 0)
            return;
        if (p[0].revents && move(client, up, buf, idle_ms) < 0)
            return;
        if (p[1].revents && move(up, client, buf, idle_ms) < 0)
            return;
    }
}
