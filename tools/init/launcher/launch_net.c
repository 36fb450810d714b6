/* Network setup of a sandbox from the launcher. See launch_net.h. */
#include "launch_net.h"
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEER_NAME "eth0"

bool launch_net_conf(launch_net_t *n, hb_lckey_t key, const char *val)
{
    switch (key) {
    case HB_LC_NET_IF: snprintf(n->ifname, sizeof n->ifname, "%s", val); return true;
    case HB_LC_NET_IP: snprintf(n->ip, sizeof n->ip, "%s", val); return true;
    case HB_LC_NET_GW: snprintf(n->gw, sizeof n->gw, "%s", val); return true;
    case HB_LC_NET_PREFIX: n->prefix = (unsigned)strtoul(val, NULL, 10); return true;
    case HB_LC_NET_BRIDGE: n->bridge = (int)strtol(val, NULL, 10); return true;
    case HB_LC_NET_GROUP: n->group = (unsigned)strtoul(val, NULL, 10); return true;
    default: return false;
    }
}

static int step(int r, const char *what, char *why, size_t len)
{
    if (r == 0)
        return 0;
    snprintf(why, len, "%s", what);
    errno = -r;
    return -1;
}

/* Host side: the pair, its outer end enslaved to the bridge. A leftover of
 * the same name (a dead sandbox that held this uid slot, whose namespace the
 * kernel has not finished tearing down) is removed and the create retried. */
static int make_pair(const launch_net_t *n, int nsfd, char *why, size_t len)
{
    hb_nl_t nl;
    int r = hb_nl_open(&nl);
    if (r < 0)
        return step(r, "route netlink socket", why, len);
    r = hb_nl_veth_create(&nl, n->ifname, n->bridge, n->group, PEER_NAME, nsfd);
    if (r == -EEXIST && hb_nl_link_del(&nl, n->ifname) == 0)
        r = hb_nl_veth_create(&nl, n->ifname, n->bridge, n->group, PEER_NAME, nsfd);
    hb_nl_close(&nl);
    if (r == -EOPNOTSUPP || r == -ENODEV)
        return step(r, "create the veth pair (kernel feature veth missing?)", why, len);
    return step(r, "create the veth pair", why, len);
}

/* After setns, /proc/sys/net shows the sandbox's namespace. Best effort. */
static void write_sysctl(const char *path, const char *val)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t w = write(fd, val, strlen(val));
        (void)w;
        close(fd);
    }
}

/* Inside: address, link up, default route via the bridge. */
static int configure_inside(const launch_net_t *n, uint32_t ip, uint32_t gw, char *why,
                            size_t len)
{
    hb_nl_t nl;
    int r = hb_nl_open(&nl);
    if (r < 0)
        return step(r, "route netlink socket in the sandbox", why, len);
    int idx = (int)if_nametoindex(PEER_NAME);
    if (idx == 0)
        r = -errno;
    /* A gratuitous ARP when the link comes up: the host and group peers
     * learn this address's new MAC at once (addresses are reused). */
    write_sysctl("/proc/sys/net/ipv4/conf/" PEER_NAME "/arp_notify", "1\n");
    if (r == 0 && (r = hb_nl_addr_add(&nl, idx, ip, n->prefix)) < 0)
        snprintf(why, len, "address %s/%u", n->ip, n->prefix);
    else if (r == 0 && (r = hb_nl_link_up(&nl, idx)) < 0)
        snprintf(why, len, "bring %s up", PEER_NAME);
    else if (r == 0 && (r = hb_nl_route_default(&nl, gw)) < 0)
        snprintf(why, len, "default route via %s", n->gw);
    else if (r < 0)
        snprintf(why, len, "find %s in the sandbox", PEER_NAME);
    hb_nl_close(&nl);
    if (r < 0) {
        errno = -r;
        return -1;
    }
    /* No IPv6: the bridge drops it anyway; this makes clients fail fast. */
    write_sysctl("/proc/sys/net/ipv6/conf/" PEER_NAME "/disable_ipv6", "1\n");
    return 0;
}

int launch_net_setup(const launch_net_t *n, pid_t child, char *why, size_t len)
{
    struct in_addr ip, gw;
    if (!n->ip[0])
        return 0;
    if (inet_pton(AF_INET, n->ip, &ip) != 1 || inet_pton(AF_INET, n->gw, &gw) != 1 ||
        n->prefix < 1 || n->prefix > 30 || n->bridge <= 0 || !n->ifname[0]) {
        snprintf(why, len, "launch.conf: bad network settings");
        errno = EINVAL;
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
        snprintf(why, len, "open the sandbox's network namespace");
        return -1;
    }
    int r = make_pair(n, nsfd, why, len);
    /* The launcher exits right after this: staying in the sandbox's network
     * namespace costs nothing. */
    if (r == 0 && setns(nsfd, CLONE_NEWNET) < 0) {
        snprintf(why, len, "enter the sandbox's network namespace");
        r = -1;
    }
    int saved = errno;
    close(nsfd);
    errno = saved;
    if (r < 0)
        return -1;
    return configure_inside(n, ip.s_addr, gw.s_addr, why, len);
}
