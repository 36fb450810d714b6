/* The DNS forwarder's sockets (issue 16): UDP and TCP on the bridge
 * address, port 53, bound while the runtime starts so that resolv.conf can
 * name the forwarder only when it is really there. actors/dnsfwd.c serves
 * them; they stay open for the life of the process. */
#include "net.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bound(int type, uint32_t addr)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(53),
                             .sin_addr.s_addr = htonl(addr)};
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (type == SOCK_DGRAM) {   /* room for a burst of every sandbox (net_rules.c's rate) */
        int rcv = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        (type == SOCK_STREAM && listen(fd, 64) < 0)) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

void hb_net_dns_bind(hb_net_t *n)
{
    if (n->dns_fwd)
        return;   /* a second runtime in the process: the first one's */
    n->dns_udp = bound(SOCK_DGRAM, n->subnet + 1);
    n->dns_tcp = n->dns_udp >= 0 ? bound(SOCK_STREAM, n->subnet + 1) : -1;
    if (n->dns_tcp < 0) {
        HB_LOG_WARN("network: no DNS forwarder on %s port 53 (%s): sandboxes use the resolvers "
                    "directly and egress policies cannot allow domain names", n->bridge,
                    strerror(errno));
        if (n->dns_udp >= 0)
            close(n->dns_udp);
        n->dns_udp = n->dns_tcp = -1;
        return;
    }
    n->dns_fwd = true;
}
