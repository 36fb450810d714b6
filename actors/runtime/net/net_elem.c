/* A sandbox's set elements, added and removed in one nfnetlink batch sent
 * through libmnl: a few microseconds, where libnftables would first dump the
 * host's whole ruleset into its cache. The sets are those of net_rules.c:
 *
 *   ports  type ifname . ipv4_addr      key: 16-byte zero-padded name, then
 *                                       the address in network order
 *   pairs  typeof meta iifgroup . meta oifgroup
 *                                       key: the group twice, host order
 *
 * Elements are added with NLM_F_CREATE but not NLM_F_EXCL, so adding a
 * group's pair again is not an error. */
#include "net.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH_BUF 8192   /* HB_NET_ELEM_BATCH_MAX of the largest (~160 bytes) fit */

static void put_batch_marker(char *buf, uint16_t type, uint32_t seq)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = type;
    h->nlmsg_flags = NLM_F_REQUEST;
    h->nlmsg_seq = seq;
    struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof *g);
    g->nfgen_family = AF_UNSPEC;
    g->version = NFNETLINK_V0;
    g->res_id = htons(NFNL_SUBSYS_NFTABLES);
}

static void put_elem_msg(char *buf, uint8_t family, uint16_t msg, uint16_t flags, uint32_t seq,
                         const char *table, const hb_net_elem_t *el)
{
    struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | msg;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    h->nlmsg_seq = seq;
    struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof *g);
    g->nfgen_family = family;
    g->version = NFNETLINK_V0;
    g->res_id = 0;
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, el->set);
    struct nlattr *list = mnl_attr_nest_start(h, NFTA_SET_ELEM_LIST_ELEMENTS);
    struct nlattr *one = mnl_attr_nest_start(h, NFTA_LIST_ELEM);
    struct nlattr *key = mnl_attr_nest_start(h, NFTA_SET_ELEM_KEY);
    mnl_attr_put(h, NFTA_DATA_VALUE, el->klen, el->key);
    mnl_attr_nest_end(h, key);
    if (el->kend_len) {   /* a range of a concatenation (egress sets) */
        struct nlattr *end = mnl_attr_nest_start(h, NFTA_SET_ELEM_KEY_END);
        mnl_attr_put(h, NFTA_DATA_VALUE, el->kend_len, el->key_end);
        mnl_attr_nest_end(h, end);
    }
    if (el->timeout_ms)
        mnl_attr_put_u64(h, NFTA_SET_ELEM_TIMEOUT, htobe64(el->timeout_ms));
    mnl_attr_nest_end(h, one);
    mnl_attr_nest_end(h, list);
}

/* Send one transaction of n element changes; 0 or -errno of the first
 * failure (the kernel then applies none of them). */
int hb_net_elem_batch(uint8_t family, const char *table, uint16_t msg, uint16_t flags,
                      const hb_net_elem_t *els, int n)
{
    char buf[BATCH_BUF];
    if (n < 0 || n > HB_NET_ELEM_BATCH_MAX)
        return -EINVAL;
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!nl)
        return -errno;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int err = errno;
        mnl_socket_close(nl);
        return -err;
    }
    uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
    size_t len = 0;
    put_batch_marker(buf, NFNL_MSG_BATCH_BEGIN, seq++);
    len += ((struct nlmsghdr *)buf)->nlmsg_len;
    for (int i = 0; i < n; i++) {
        put_elem_msg(buf + len, family, msg, flags, seq++, table, &els[i]);
        len += ((struct nlmsghdr *)(buf + len))->nlmsg_len;
    }
    put_batch_marker(buf + len, NFNL_MSG_BATCH_END, seq);
    len += ((struct nlmsghdr *)(buf + len))->nlmsg_len;
    int r = 0;
    if (mnl_socket_sendto(nl, buf, len) < 0)
        r = -errno;
    /* One ack per element message; an error ends the transaction early. */
    for (int acks = 0; r == 0 && acks < n;) {
        ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (got < 0) {
            r = -errno;
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)got);
             h = mnl_nlmsg_next(h, (int *)&got)) {
            if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_pid != portid)
                continue;
            const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);
            if (err->error != 0) {
                r = err->error;
                break;
            }
            acks++;
        }
    }
    mnl_socket_close(nl);
    return r;
}

static int port_elem(const hb_net_port_t *p, hb_net_elem_t *el)
{
    struct in_addr a;
    if (inet_pton(AF_INET, p->ip, &a) != 1 || strlen(p->ifname) >= 16)
        return -1;
    memset(el, 0, sizeof *el);
    el->set = "ports";
    memcpy(el->key, p->ifname, strlen(p->ifname));
    memcpy(el->key + 16, &a.s_addr, 4);
    el->klen = 20;
    return 0;
}

int hb_net_rules_add(const hb_runtime_t *rt, const hb_net_port_t *p, char *err, size_t len)
{
    hb_net_elem_t els[2];
    int n = 1;
    if (port_elem(p, &els[0]) < 0) {
        snprintf(err, len, "bad port %s / %s", p->ifname, p->ip);
        return -1;
    }
    if (p->gid) {
        memset(&els[1], 0, sizeof els[1]);
        els[1].set = "pairs";
        memcpy(els[1].key, &p->gid, 4);
        memcpy(els[1].key + 4, &p->gid, 4);
        els[1].klen = 8;
        n = 2;
    }
    int r = hb_net_elem_batch(NFPROTO_BRIDGE, rt->net.bridge, NFT_MSG_NEWSETELEM, NLM_F_CREATE, els, n);
    if (r < 0) {
        snprintf(err, len, "add set elements to table bridge %s: %s", rt->net.bridge,
                 strerror(-r));
        return -1;
    }
    return 0;
}

/* A group's pair stays: other members may still use it, and it costs
 * nothing; the next start drops the pairs of groups nobody uses. */
void hb_net_rules_del(const hb_runtime_t *rt, const hb_net_port_t *p)
{
    hb_net_elem_t el;
    if (port_elem(p, &el) == 0)
        hb_net_elem_batch(NFPROTO_BRIDGE, rt->net.bridge, NFT_MSG_DELSETELEM, 0, &el, 1);
        /* absent: fine */
}
