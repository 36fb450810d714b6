/* Each sandbox's part of the network, host side: its address, name and
 * group, resolv.conf and set elements before launch, the launcher's lines,
 * and the teardown. See net.h. */
#include "net.h"
#include "egress.h"
#include "launchconf.h"
#include "log.h"
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int hb_net_claim(hb_sandbox_t *sb, hb_err_t *e)
{
    const hb_net_t *n = &sb->rt->net;
    if (sb->spec.net_mode == HB_NET_NONE)
        return 0;
    if (!n->ok)
        return hb_fail(e, HB_E_NOTSUP, 0, "network: %s", n->error);
    snprintf(sb->net_if, sizeof sb->net_if, "hb%xv%x", (unsigned)n->bridge_index, sb->uid_slot);
    if (hb_net_addr_claim(sb->rt, sb->id, sb->ip, e) < 0)
        return -1;
    if (sb->spec.net_mode == HB_NET_SHARED &&
        hb_net_group_id(sb->rt, sb->spec.net_group[0] ? sb->spec.net_group : "default",
                        &sb->net_gid, e) < 0)
        return -1;
    return 0;
}

static void port_of(const hb_sandbox_t *sb, hb_net_port_t *p)
{
    snprintf(p->ifname, sizeof p->ifname, "%s", sb->net_if);
    snprintf(p->ip, sizeof p->ip, "%s", sb->ip);
    p->gid = sb->net_gid;
}

int hb_net_prepare(const hb_sandbox_t *sb, hb_err_t *e)
{
    if (!sb->ip[0])
        return hb_egress_prepare(sb, e);   /* refuses a policy without a network */
    hb_net_port_t p = {0};
    char err[200];
    port_of(sb, &p);
    if (hb_net_write_resolv(sb, e) < 0)
        return -1;
    if (hb_net_rules_add(sb->rt, &p, err, sizeof err) < 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "network: firewall: %s", err);
    return hb_egress_prepare(sb, e);
}

int hb_net_launch_conf(const hb_sandbox_t *sb, char *buf, size_t len, int at)
{
    const hb_net_t *n = &sb->rt->net;
    uint32_t gw = n->subnet + 1;
    if (!sb->ip[0])
        return at;
    at = hb_lc_append(buf, len, at, HB_LC_NET_IF, "%s", sb->net_if);
    at = hb_lc_append(buf, len, at, HB_LC_NET_IP, "%s", sb->ip);
    at = hb_lc_append(buf, len, at, HB_LC_NET_PREFIX, "%u", n->prefix);
    at = hb_lc_append(buf, len, at, HB_LC_NET_GW, "%u.%u.%u.%u", gw >> 24, (gw >> 16) & 255,
                      (gw >> 8) & 255, gw & 255);
    at = hb_lc_append(buf, len, at, HB_LC_NET_BRIDGE, "%d", n->bridge_index);
    return hb_lc_append(buf, len, at, HB_LC_NET_GROUP, "%u", sb->net_gid);
}

bool hb_net_ifname_ours(const char *s)
{
    if (strncmp(s, "hb", 2) != 0)
        return false;
    s += 2;
    size_t a = strspn(s, "0123456789abcdef");
    if (a == 0 || s[a] != 'v')
        return false;
    s += a + 1;
    size_t b = strspn(s, "0123456789abcdef");
    return b > 0 && s[b] == '\0';
}

/* The veth goes, and with it the host's ARP entry for the address, which
 * the next sandbox may get with another MAC: the host must not keep
 * sending it to the old one. */
void hb_net_teardown(const hb_sandbox_t *sb)
{
    hb_nl_t nl;
    struct in_addr a;
    if (sb->net_if[0] && hb_net_ifname_ours(sb->net_if) && hb_nl_open(&nl) == 0) {
        int r = hb_nl_link_del(&nl, sb->net_if);
        if (r < 0 && r != -ENODEV)
            HB_LOG_WARN("network: delete %s: %s", sb->net_if, strerror(-r));
        if (sb->rt->net.bridge_index > 0 && inet_pton(AF_INET, sb->ip, &a) == 1)
            hb_nl_neigh_del(&nl, sb->rt->net.bridge_index, a.s_addr);
        hb_nl_close(&nl);
    }
    if (sb->ip[0]) {
        if (sb->net_if[0] && sb->rt->net.ok) {
            hb_net_port_t p = {0};
            port_of(sb, &p);
            hb_net_rules_del(sb->rt, &p);
            hb_egress_teardown(sb);
        }
        hb_net_addr_release(sb->rt, sb->ip, sb->id);
    }
}
