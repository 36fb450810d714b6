/* The DNS forwarder actor (see dnsfwd.h): UDP served in this thread with
 * one upstream socket per query in flight (so answers need no id
 * rewriting), TCP connections handed to threads of their own. */
#include "dnsfwd.h"
#include "dns_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define UDP_MAX 4096   /* EDNS answers larger than this come over TCP */

typedef struct {
    int                fd;         /* connected to the upstream; -1: free slot */
    struct sockaddr_in client;
    uint32_t           src;
    bool               policy;
    int64_t            deadline;
} pending_t;

typedef struct {
    dnsfwd_ctx_t     c;
    zsock_t         *pipe, *inbox, *metrics;
    int              udp, tcp;
    pending_t        pend[HB_DNSFWD_PENDING];
    dnsfwd_denied_t *denied;
    int64_t          next_poll;
} fwd_t;

static int parse_upstream(const char *text, const hb_net_t *n, struct sockaddr_in *sa, hb_err_t *e)
{
    char buf[64];
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(53);
    snprintf(buf, sizeof buf, "%s", text && *text ? text : (n->n_dns ? n->dns[0] : ""));
    char *colon = strchr(buf, ':');
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port < 1 || port > 65535)
            return hb_fail(e, HB_E_INVALID, 0, "dns-upstream: bad port in '%s'", buf);
        sa->sin_port = htons((uint16_t)port);
        *colon = '\0';
    }
    if (inet_pton(AF_INET, buf, &sa->sin_addr) != 1)
        return hb_fail(e, HB_E_INVALID, 0, "dns-upstream: '%s' is not an IPv4 address[:port]",
                       buf);
    return 0;
}

/* A free slot, unless src has HB_DNSFWD_PER_SB in flight already. */
static pending_t *free_slot(fwd_t *f, uint32_t src)
{
    pending_t *slot = NULL;
    int mine = 0;
    for (int i = 0; i < HB_DNSFWD_PENDING; i++) {
        if (f->pend[i].fd < 0)
            slot = slot ? slot : &f->pend[i];
        else if (f->pend[i].src == src)
            mine++;
    }
    return mine < HB_DNSFWD_PER_SB ? slot : NULL;
}

static void forward(fwd_t *f, const uint8_t *q, size_t len, const struct sockaddr_in *from,
                    bool policy)
{
    pending_t *p = free_slot(f, from->sin_addr.s_addr);
    if (!p)
        return;   /* overloaded: the client retries */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return;
    if (connect(fd, (const struct sockaddr *)&f->c.up, sizeof f->c.up) < 0 ||
        send(fd, q, len, 0) != (ssize_t)len) {
        close(fd);
        return;
    }
    *p = (pending_t){.fd = fd, .client = *from, .src = from->sin_addr.s_addr, .policy = policy,
                     .deadline = hb_now_ms() + HB_DNSFWD_WAIT_MS};
}

static void on_query(fwd_t *f)
{
    uint8_t q[UDP_MAX], out[UDP_MAX];
    struct sockaddr_in from = {0};
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(f->udp, q, sizeof q, MSG_TRUNC, (struct sockaddr *)&from, &fl);
    if (n < 12 || n > (ssize_t)sizeof q || fl != sizeof from)   /* cut: not judged */
        return;
    bool policy = false;
    size_t r = dnsfwd_judge(&f->c, from.sin_addr.s_addr, q, (size_t)n, &policy, out, sizeof out);
    if (r == 0)
        forward(f, q, (size_t)n, &from, policy);
    else if (r != DNSFWD_DROP)
        sendto(f->udp, out, r, 0, (struct sockaddr *)&from, sizeof from);
}

static void on_answer(fwd_t *f, pending_t *p)
{
    uint8_t a[UDP_MAX], tc[UDP_MAX];
    ssize_t n = recv(p->fd, a, sizeof a, MSG_TRUNC);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n > (ssize_t)sizeof a) {   /* cut: the client asks again over TCP */
        size_t t = hb_dns_reply_tc(a, sizeof a, tc, sizeof tc);
        if (t)
            sendto(f->udp, tc, t, 0, (struct sockaddr *)&p->client, sizeof p->client);
    } else if (n >= 12) {
        if (p->policy)
            dnsfwd_learn(&f->c, p->src, a, (size_t)n);   /* before the client can connect */
        sendto(f->udp, a, (size_t)n, 0, (struct sockaddr *)&p->client, sizeof p->client);
    }
    close(p->fd);
    p->fd = -1;
}

static void on_accept(fwd_t *f)
{
    int fd = accept4(f->tcp, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        dnsfwd_tcp_serve(&f->c, fd);   /* takes fd */
}

static void on_inbox(fwd_t *f)
{
    hb_msg_t m = {0};
    if (hb_bus_recv(f->inbox, &m) < 0)
        return;
    if (m.type == HB_MSG_METRICS_TEXT && m.reply_to) {
        size_t len = 0;
        char *text = dnsfwd_denied_text(f->denied, &len);
        hb_msg_t r = {.type = HB_MSG_R_TEXT, .text = {.data = (uint8_t *)text, .len = len}};
        hb_bus_post(m.reply_to, &r);   /* borrows */
        free(text);
    }
    hb_msg_clear(&m);
}

static void expire(fwd_t *f, int64_t now)
{
    for (int i = 0; i < HB_DNSFWD_PENDING; i++) {
        if (f->pend[i].fd >= 0 && f->pend[i].deadline <= now) {
            close(f->pend[i].fd);
            f->pend[i].fd = -1;
        }
    }
}

/* One wait: 0 on, -1 when $TERM came. */
static int turn(fwd_t *f)
{
    zmq_pollitem_t it[4 + HB_DNSFWD_PENDING];
    pending_t *who[HB_DNSFWD_PENDING];
    int n = 0, k = 0;
    it[n++] = (zmq_pollitem_t){.socket = zsock_resolve(f->pipe), .events = ZMQ_POLLIN};
    it[n++] = (zmq_pollitem_t){.socket = zsock_resolve(f->inbox), .events = ZMQ_POLLIN};
    it[n++] = (zmq_pollitem_t){.fd = f->udp, .events = ZMQ_POLLIN};
    it[n++] = (zmq_pollitem_t){.fd = f->tcp, .events = ZMQ_POLLIN};
    for (int i = 0; i < HB_DNSFWD_PENDING; i++) {
        if (f->pend[i].fd >= 0) {
            who[k++] = &f->pend[i];
            it[n++] = (zmq_pollitem_t){.fd = f->pend[i].fd, .events = ZMQ_POLLIN};
        }
    }
    int64_t now = hb_now_ms(), wait = f->next_poll - now;
    if (zmq_poll(it, n, wait < 0 ? 0 : (long)wait) < 0 && errno != EINTR)
        return -1;
    if (it[0].revents & ZMQ_POLLIN) {
        char *cmd = zstr_recv(f->pipe);
        bool term = !cmd || strcmp(cmd, "$TERM") == 0;
        zstr_free(&cmd);
        if (term)
            return -1;
    }
    if (it[1].revents & ZMQ_POLLIN)
        on_inbox(f);
    if (it[2].revents & ZMQ_POLLIN)
        on_query(f);
    if (it[3].revents & ZMQ_POLLIN)
        on_accept(f);
    for (int i = 0; i < k; i++)
        if (it[4 + i].revents & ZMQ_POLLIN)
            on_answer(f, who[i]);
    now = hb_now_ms();
    expire(f, now);
    if (now >= f->next_poll) {
        dnsfwd_denied_poll(f->denied, f->c.rt, f->metrics);
        f->next_poll = now + 1000;
    }
    return 0;
}

static void fwd_actor(zsock_t *pipe, void *arg)
{
    hb_dnsfwd_args_t *a = arg;
    fwd_t *f = calloc(1, sizeof *f);
    hb_err_t e = {0};
    int rc = f ? 0 : hb_fail(&e, HB_E_INTERNAL, 0, "out of memory");
    if (rc == 0) {
        f->pipe = pipe;
        f->c.rt = a->rt;
        f->udp = a->rt->net.dns_udp;
        f->tcp = a->rt->net.dns_tcp;
        for (int i = 0; i < HB_DNSFWD_PENDING; i++)
            f->pend[i].fd = -1;
        if (parse_upstream(a->upstream, &a->rt->net, &f->c.up, &e) < 0 ||
            !(f->denied = dnsfwd_denied_new()) || !(f->inbox = hb_actor_inbox(HB_EP_DNSFWD, &e)) ||
            !(f->metrics = hb_actor_pusher(a->ep.metrics, &e)))
            rc = -1;
    }
    free(a);
    hb_actor_ready(pipe, rc == 0 ? NULL : &e);
    if (rc == 0) {
        char up[16];
        inet_ntop(AF_INET, &f->c.up.sin_addr, up, sizeof up);
        HB_LOG_INFO("dns forwarder on %s port 53, upstream %s:%u", f->c.rt->net.bridge, up,
                    ntohs(f->c.up.sin_port));
        while (turn(f) == 0) {
        }
    }
    dnsfwd_tcp_stop();
    for (int i = 0; f && i < HB_DNSFWD_PENDING; i++)
        if (f->pend[i].fd >= 0)
            close(f->pend[i].fd);
    if (f) {
        zsock_destroy(&f->inbox);
        zsock_destroy(&f->metrics);
        dnsfwd_denied_free(f->denied);
    }
    free(f);
}

zactor_t *hb_dnsfwd_new(const hb_dnsfwd_args_t *args, hb_err_t *e)
{
    if (!args->rt->net.dns_fwd)
        return NULL;
    return hb_actor_start_copy("dnsfwd", fwd_actor, args, sizeof *args, e);
}
