/* Forwarding a request to the node that holds its sandbox (gw_cluster.h):
 * the preview relay (gw_preview.h) does the work -- the head rewritten
 * without our API key, the body streamed up, the answer (SSE, chunks, a
 * 50 MiB download) streamed down as it comes, a WebSocket tunnelled. */
#include "gw_cluster.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster.h"
#include "gw_preview.h"
#include "preview_auth.h"   /* hb_pv_cap_* */
#include "preview_limit.h"

#define CONNECT_MS 3000

/* "http://host:port[/...]" (host may be "[v6]") into host and port ("80"
 * when none). */
static int url_split(const char *url, char *host, size_t hcap, char *port, size_t pcap)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *end = h + strcspn(h, "/");
    const char *hend = h[0] == '[' ? memchr(h, ']', (size_t)(end - h)) : NULL;
    if (h[0] == '[' && !hend)
        return -1;
    if (h[0] == '[')
        h++;
    else
        hend = h + strcspn(h, ":/");
    const char *after = hend + (*hend == ']');
    bool has_port = after < end && *after == ':';
    const char *p = has_port ? after + 1 : "80";
    size_t hn = (size_t)(hend - h), pn = has_port ? (size_t)(end - p) : 2;
    if (hn == 0 || hn >= hcap || pn == 0 || pn >= pcap)
        return -1;
    memcpy(host, h, hn);
    host[hn] = '\0';
    memcpy(port, p, pn);
    port[pn] = '\0';
    return 0;
}

static int connect_to(const char *url, char *why, size_t cap)
{
    char host[256], port[16];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (url_split(url, host, sizeof host, port, sizeof port) < 0) {
        snprintf(why, cap, "bad URL");
        return -1;
    }
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(why, cap, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        if (poll(&p, 1, CONNECT_MS) != 1)
            err = ETIMEDOUT;
        else
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err;
        rc = err ? -1 : 0;
    } else {
        rc = fd < 0 ? -1 : 0;
    }
    freeaddrinfo(ai);
    int one = 1;   /* the head and the body go in separate writes: no Nagle wait between */
    if (rc == 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rc < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int hb_gw_cluster_forward(hb_req_t *r, const char *node, const char *url, bool admin)
{
    char why[128], extra[HB_CL_TOKEN_MAX + 96];
    int up = connect_to(url, why, sizeof why);
    if (up < 0 && !hb_cluster_node_registered(node))
        return -1;   /* its lease expired a moment ago: lost, the caller says so */
    if (up < 0)
        return hb_reply_error(r->c, 503, "sandbox %s is on node %s, which cannot be reached "
                              "(%s: %s)", r->route.id, node, url, why);
    /* Requests with their own credential (a ticket, the MCP token) go
     * without ours: the owner checks theirs. */
    if (admin)
        snprintf(extra, sizeof extra, "%s: 1\r\n%s: %s\r\n", HB_CL_FWD_HDR, HB_CL_TOKEN_HDR,
                 hb_cluster_token());
    else
        snprintf(extra, sizeof extra, "%s: 1\r\n", HB_CL_FWD_HDR);
    char host[256], port[16];
    url_split(url, host, sizeof host, port, sizeof port);
    hb_pv_t p = {.r = r, .port = (unsigned)atoi(port), .extra = extra, .cluster_fwd = true,
                 .path = r->ri->local_uri ? r->ri->local_uri : "/"};
    /* A preview holds this node's worker as long as the owner's: the same
     * caps here, so that forwarded previews never take every worker. */
    hb_err_t e = {0};
    bool preview = r->route.kind == HB_RT_PORT;
    if (preview && hb_pv_enter(r->route.id, hb_pv_cap_sandbox(), hb_pv_cap_total(), &e) < 0) {
        close(up);
        return hb_reply_err(r, &e);
    }
    int status = hb_pv_proxy(&p, up);
    close(up);
    if (preview)
        hb_pv_leave(r->route.id);
    return status;
}
