/* Route netlink requests through libmnl. Each request is sent with
 * NLM_F_ACK and answered by exactly one ack (or a dump), so a request is
 * one sendto and one or a few recvfrom: cheap enough for every create. */
#include "netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Big enough for any request here and for one datagram of a link dump. */
#define NLBUF 16384

int hb_nl_open(hb_nl_t *nl)
{
    nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!nl->sock)
        return -errno;
    if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
        int err = errno;
        mnl_socket_close(nl->sock);
        nl->sock = NULL;
        return -err;
    }
    nl->portid = mnl_socket_get_portid(nl->sock);
    nl->seq = (uint32_t)time(NULL);
    return 0;
}

void hb_nl_close(hb_nl_t *nl)
{
    if (nl->sock)
        mnl_socket_close(nl->sock);
    nl->sock = NULL;
}

static struct nlmsghdr *put_req(hb_nl_t *nl, char *buf, uint16_t type, uint16_t flags)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = ++nl->seq;
    return h;
}

/* Send one request and wait for its ack (or the end of its dump), feeding
 * data messages to cb. Returns 0 or -errno from the kernel's answer. */
static int talk(hb_nl_t *nl, struct nlmsghdr *h, mnl_cb_t cb, void *ud)
{
    char buf[NLBUF];
    if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
        return -errno;
    uint32_t seq = h->nlmsg_seq;
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof buf);
        if (n < 0)
            return errno == EINTR ? -EINTR : -errno;
        int r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, ud);
        if (r == MNL_CB_STOP)
            return 0;
        if (r == MNL_CB_ERROR)
            return -errno;
    }
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *h, int ifindex)
{
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    return ifi;
}

int hb_nl_bridge_create(hb_nl_t *nl, const char *name, const uint8_t mac[6])
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = put_ifinfo(h, 0);
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
    struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
    mnl_attr_nest_end(h, li);
    return talk(nl, h, NULL, NULL);
}

int hb_nl_link_up(hb_nl_t *nl, int ifindex)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_NEWLINK, 0);
    struct ifinfomsg *ifi = put_ifinfo(h, ifindex);
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    return talk(nl, h, NULL, NULL);
}

int hb_nl_link_del(hb_nl_t *nl, const char *name)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_DELLINK, 0);
    put_ifinfo(h, 0);
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    return talk(nl, h, NULL, NULL);
}

int hb_nl_addr_add(hb_nl_t *nl, int ifindex, uint32_t addr, unsigned prefix)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (unsigned)ifindex;
    mnl_attr_put_u32(h, IFA_LOCAL, addr);
    mnl_attr_put_u32(h, IFA_ADDRESS, addr);
    if (prefix < 31) {
        uint32_t host = (prefix == 0) ? 0xffffffffu : (0xffffffffu >> prefix);
        mnl_attr_put_u32(h, IFA_BROADCAST, addr | __builtin_bswap32(host));
    }
    return talk(nl, h, NULL, NULL);
}

int hb_nl_route_default(hb_nl_t *nl, uint32_t gateway)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    rtm->rtm_table = RT_TABLE_MAIN;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_UNIVERSE;
    rtm->rtm_type = RTN_UNICAST;
    mnl_attr_put_u32(h, RTA_GATEWAY, gateway);
    return talk(nl, h, NULL, NULL);
}

int hb_nl_neigh_del(hb_nl_t *nl, int ifindex, uint32_t addr)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_DELNEIGH, 0);
    struct ndmsg *nd = mnl_nlmsg_put_extra_header(h, sizeof *nd);
    nd->ndm_family = AF_INET;
    nd->ndm_ifindex = ifindex;
    mnl_attr_put_u32(h, NDA_DST, addr);
    return talk(nl, h, NULL, NULL);
}

int hb_nl_veth_create(hb_nl_t *nl, const char *name, int master, uint32_t group,
                      const char *peer, int netns_fd)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    struct ifinfomsg *ifi = put_ifinfo(h, 0);
    ifi->ifi_flags = ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(h, IFLA_IFNAME, name);
    mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
    mnl_attr_put_u32(h, IFLA_GROUP, group);
    struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
    mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
    struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
    struct nlattr *pe = mnl_attr_nest_start(h, VETH_INFO_PEER);
    /* The peer's attributes follow an ifinfomsg of their own. */
    struct ifinfomsg *pifi = mnl_nlmsg_put_extra_header(h, sizeof *pifi);
    memset(pifi, 0, sizeof *pifi);
    pifi->ifi_family = AF_UNSPEC;
    mnl_attr_put_strz(h, IFLA_IFNAME, peer);
    mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)netns_fd);
    mnl_attr_nest_end(h, pe);
    mnl_attr_nest_end(h, data);
    mnl_attr_nest_end(h, li);
    return talk(nl, h, NULL, NULL);
}

typedef struct {
    hb_nl_route_cb cb;
    void          *ud;
} route_ctx_t;

static int route_attr_cb(const struct nlattr *a, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(a);
    if (mnl_attr_type_valid(a, RTA_MAX) < 0 ||
        ((type == RTA_DST || type == RTA_OIF) && mnl_attr_validate(a, MNL_TYPE_U32) < 0))
        return MNL_CB_OK;
    tb[type] = a;
    return MNL_CB_OK;
}

static int route_msg_cb(const struct nlmsghdr *h, void *data)
{
    route_ctx_t *c = data;
    const struct nlattr *tb[RTA_MAX + 1] = {0};
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
    if (h->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET ||
        rtm->rtm_table != RT_TABLE_MAIN || mnl_attr_parse(h, sizeof *rtm, route_attr_cb, tb) < 0)
        return MNL_CB_OK;
    c->cb(c->ud, tb[RTA_DST] ? mnl_attr_get_u32(tb[RTA_DST]) : 0, rtm->rtm_dst_len,
          tb[RTA_OIF] ? (int)mnl_attr_get_u32(tb[RTA_OIF]) : 0);
    return MNL_CB_OK;
}

int hb_nl_routes(hb_nl_t *nl, hb_nl_route_cb cb, void *ud)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_GETROUTE, NLM_F_DUMP);
    h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(h, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    route_ctx_t c = {.cb = cb, .ud = ud};
    return talk(nl, h, route_msg_cb, &c);
}

typedef struct {
    int           master;
    hb_nl_link_cb cb;
    void         *ud;
} dump_ctx_t;

static int link_attr_cb(const struct nlattr *a, void *data)
{
    const struct nlattr **tb = data;
    int type = mnl_attr_get_type(a);
    if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
        return MNL_CB_OK;
    if ((type == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) ||
        (type == IFLA_MASTER && mnl_attr_validate(a, MNL_TYPE_U32) < 0))
        return MNL_CB_OK;
    tb[type] = a;
    return MNL_CB_OK;
}

static int link_msg_cb(const struct nlmsghdr *h, void *data)
{
    dump_ctx_t *c = data;
    const struct nlattr *tb[IFLA_MAX + 1] = {0};
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
    if (h->nlmsg_type != RTM_NEWLINK ||
        mnl_attr_parse(h, sizeof *ifi, link_attr_cb, tb) < 0)
        return MNL_CB_OK;
    if (tb[IFLA_IFNAME] && tb[IFLA_MASTER] &&
        (int)mnl_attr_get_u32(tb[IFLA_MASTER]) == c->master)
        c->cb(c->ud, mnl_attr_get_str(tb[IFLA_IFNAME]), ifi->ifi_index);
    return MNL_CB_OK;
}

int hb_nl_links_of(hb_nl_t *nl, int master, hb_nl_link_cb cb, void *ud)
{
    char buf[NLBUF];
    struct nlmsghdr *h = put_req(nl, buf, RTM_GETLINK, NLM_F_DUMP);
    h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
    put_ifinfo(h, 0);
    mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master); /* kernel-side filter */
    dump_ctx_t c = {.master = master, .cb = cb, .ud = ud};
    return talk(nl, h, link_msg_cb, &c);
}
