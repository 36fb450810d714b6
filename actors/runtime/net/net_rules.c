/* The firewall of the sandbox network, installed once through libnftables.
 * Two tables named after the bridge, replaced atomically in one transaction
 * at start (re-filled with the ports of the sandboxes still alive):
 *
 * bridge <br>: what crosses the bridge between sandbox ports ("hb<idx>v*")
 *   sb_pre  a port may only send IPv4/ARP from its own address (set ports:
 *           ifname . ip, one element per sandbox): no spoofing, no IPv6.
 *   sb_fwd  port to port only within one shared group: the host end of a
 *           veth carries its group as device group, set pairs holds "g . g"
 *           per group in use; isolated ports are group 0, never paired.
 *   sb_out  the host never routes one sandbox's packets to another (that
 *           would bypass sb_fwd): sources in the subnet other than the
 *           bridge address are dropped on the way out to a port.
 * inet <br>: what the host does with the bridge's traffic
 *   sb_input   nothing from the bridge reaches a host service (daemon port,
 *              any host address) except replies to the host's own traffic
 *              and the daemon's DNS forwarder (bridge address, port 53).
 *   sb_forward to the uplink yes, but never 169.254.0.0/16 and the other
 *              special ranges, nor private ranges unless allowed; the DNS
 *              resolvers picked for resolv.conf are the one exception.
 *              Bridged frames (br_netfilter passes them here too) were judged
 *              by the bridge table already. Nothing new enters the bridge
 *              from outside.
 *   sb_post    masquerade to the uplink.
 *
 * Each sandbox's set elements are added and removed by net_elem.c, without
 * libnftables: its cache refresh dumps every table and set of the host on
 * each command, which would cost a create tens of milliseconds.
 *
 * libnftables contexts are not meant to be shared between threads: one
 * context, created on first use, serialised by a mutex. */
#include "net.h"
#include "log.h"

#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HB_DNS_RATE "200/second burst 400 packets"

static pthread_mutex_t g_nft_lock = PTHREAD_MUTEX_INITIALIZER;
static struct nft_ctx *g_nft;

/* Run a command buffer; on failure copy nft's first error line to err. */
static int nft_run(const char *cmds, char *err, size_t len)
{
    pthread_mutex_lock(&g_nft_lock);
    if (!g_nft) {
        g_nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (g_nft) {
            nft_ctx_buffer_output(g_nft);
            nft_ctx_buffer_error(g_nft);
        }
    }
    int r = -1;
    if (!g_nft) {
        snprintf(err, len, "libnftables: cannot create a context");
    } else {
        r = nft_run_cmd_from_buffer(g_nft, cmds);
        const char *msg = nft_ctx_get_error_buffer(g_nft);
        if (r != 0 && err) {
            snprintf(err, len, "%s", msg && *msg ? msg : "nftables refused the command");
            err[strcspn(err, "\n")] = '\0';
        }
    }
    pthread_mutex_unlock(&g_nft_lock);
    return r == 0 ? 0 : -1;
}

static void subnet_str(const hb_net_t *n, char *out, size_t len)
{
    char a[16];
    struct in_addr in = {.s_addr = htonl(n->subnet)};
    inet_ntop(AF_INET, &in, a, sizeof a);
    snprintf(out, len, "%s/%u", a, n->prefix);
}

static void gw_str(const hb_net_t *n, char out[16])
{
    struct in_addr in = {.s_addr = htonl(n->subnet + 1)};
    inet_ntop(AF_INET, &in, out, 16);
}

static void put_elements(FILE *f, const hb_net_port_t *live, size_t n, bool pairs)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (pairs && live[i].gid == 0)
            continue;
        fprintf(f, "%s", first ? "; elements = { " : ", ");
        if (pairs)
            fprintf(f, "%u . %u", live[i].gid, live[i].gid);
        else
            fprintf(f, "\"%s\" . %s", live[i].ifname, live[i].ip);
        first = false;
    }
    if (!first)
        fputs(" }", f);
}

static void put_bridge_table(FILE *f, const hb_net_t *n, const hb_net_port_t *live, size_t cnt)
{
    char sub[32], gw[16], ports[24];
    subnet_str(n, sub, sizeof sub);
    gw_str(n, gw);
    snprintf(ports, sizeof ports, "hb%xv*", (unsigned)n->bridge_index);
    fprintf(f, "table bridge %s {\n", n->bridge);
    fputs("  set ports { type ifname . ipv4_addr", f);
    put_elements(f, live, cnt, false);
    fputs("; }\n  set pairs { typeof meta iifgroup . meta oifgroup", f);
    put_elements(f, live, cnt, true);
    fprintf(f, "; }\n"
               "  chain sb_pre { type filter hook prerouting priority -200; policy accept;\n"
               "    iifname != \"%s\" accept\n"
               "    ether type arp iifname . arp saddr ip @ports accept\n"
               "    ether type ip iifname . ip saddr @ports accept\n"
               "    counter drop\n  }\n"
               "  chain sb_fwd { type filter hook forward priority -200; policy accept;\n"
               "    iifname != \"%s\" accept\n"
               "    meta iifgroup . meta oifgroup @pairs accept\n"
               "    counter drop\n  }\n"
               "  chain sb_out { type filter hook output priority -200; policy accept;\n"
               "    oifname != \"%s\" accept\n"
               "    ether type ip ip saddr %s ip saddr != %s counter drop\n  }\n"
               "}\n",
            ports, ports, ports, sub, gw);
}

/* issue 16, egress policy (egress_nft.h): the sets, and the sandboxes
 * still alive with a policy already marked in the same transaction, so a
 * restart never leaves one unrestricted (their lists follow: net_start.c). */
static void put_egress_sets(FILE *f, const hb_net_port_t *live, size_t cnt)
{
    static const char *const marked[] = {"egress_on { type ipv4_addr",
                                         "egress_denied { type ipv4_addr; counter"};
    for (size_t k = 0; k < 2; k++) {
        bool first = true;
        fprintf(f, "  set %s", marked[k]);
        for (size_t i = 0; i < cnt; i++) {
            if (!live[i].egress)
                continue;
            fprintf(f, "%s%s", first ? "; elements = { " : ", ", live[i].ip);
            first = false;
        }
        fputs(first ? "; }\n" : " }; }\n", f);
    }
    fputs("  set dns_rate { type ipv4_addr; flags dynamic, timeout; timeout 10s; }\n"
          "  set egress_allow { type ipv4_addr . ipv4_addr; flags interval; }\n"
          "  set egress_deny { type ipv4_addr . ipv4_addr; flags interval; }\n"
          "  set egress_dyn { type ipv4_addr . ipv4_addr; flags timeout; }\n"
          "  chain sb_egress {\n"
          "    ct state established,related return\n"
          "    ip saddr . ip daddr @egress_deny goto sb_denied\n"
          "    meta l4proto { tcp, udp } th dport { 53, 853 } goto sb_denied\n"
          "    ip saddr . ip daddr @egress_allow return\n"
          "    ip saddr . ip daddr @egress_dyn return\n"
          "    goto sb_denied\n  }\n"
          "  chain sb_denied {\n    ip saddr @egress_denied drop\n    drop\n  }\n", f);
}

static void put_inet_table(FILE *f, const hb_net_t *n, const hb_net_port_t *live, size_t cnt)
{
    static const char *const always[] = {"0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16",
                                         "192.0.0.0/24", "224.0.0.0/3"};
    static const char *const private_[] = {"10.0.0.0/8", "100.64.0.0/10", "172.16.0.0/12",
                                           "192.168.0.0/16"};
    char sub[32], gw[16];
    const char *br = n->bridge;
    subnet_str(n, sub, sizeof sub);
    gw_str(n, gw);
    fprintf(f, "table inet %s {\n  set dns { type ipv4_addr", br);
    for (int i = 0; i < n->n_dns; i++)
        fprintf(f, "%s%s", i ? ", " : "; elements = { ", n->dns[i]);
    fprintf(f, "%s; }\n  set blocked { type ipv4_addr; flags interval; elements = { ",
            n->n_dns ? " }" : "");
    for (size_t i = 0; i < sizeof always / sizeof *always; i++)
        fprintf(f, "%s%s", i ? ", " : "", always[i]);
    for (size_t i = 0; !n->allow_private_egress && i < sizeof private_ / sizeof *private_; i++)
        fprintf(f, ", %s", private_[i]);
    fputs(" }; }\n", f);
    put_egress_sets(f, live, cnt);
    /* The DNS forwarder (dnsfwd.c) on the bridge address is the one host
     * service sandboxes reach, at most HB_DNS_RATE packets from each (the
     * kernel drops the rest before they fill the forwarder's socket, so
     * one sandbox's flood costs the others no lookup); a sandbox with a
     * policy goes through sb_egress before anything else lets it out. */
    fprintf(f, "  chain sb_input { type filter hook input priority -10; policy accept;\n"
               "    iifname \"%s\" ct state established,related accept\n"
               "    iifname \"%s\" ip daddr %s meta l4proto { tcp, udp } th dport 53 update @dns_rate "
               "{ ip saddr limit rate over " HB_DNS_RATE " } counter drop\n"
               "    iifname \"%s\" ip daddr %s meta l4proto { tcp, udp } th dport 53 accept\n"
               "    iifname \"%s\" counter drop\n  }\n"
               "  chain sb_forward { type filter hook forward priority -10; policy accept;\n"
               "    iifname \"%s\" oifname \"%s\" accept\n"
               "    iifname \"%s\" ip saddr @egress_on jump sb_egress\n"
               "    iifname \"%s\" ip daddr @dns meta l4proto { tcp, udp } th dport 53 accept\n"
               "    iifname \"%s\" ip daddr @blocked counter drop\n"
               "    iifname \"%s\" meta nfproto ipv4 accept\n"
               "    iifname \"%s\" counter drop\n"
               "    oifname \"%s\" ct state established,related accept\n"
               "    oifname \"%s\" counter drop\n  }\n"
               "  chain sb_post { type nat hook postrouting priority srcnat; policy accept;\n"
               "    ip saddr %s oifname != \"%s\" masquerade\n  }\n"
               "}\n",
            br, br, gw, br, gw, br, br, br, br, br, br, br, br, br, br, sub, br);
}

int hb_net_rules_remove(const hb_runtime_t *rt, char *err, size_t len)
{
    char cmd[200];
    const char *br = rt->net.bridge;
    snprintf(cmd, sizeof cmd, "add table bridge %s\ndelete table bridge %s\nadd table inet %s\n"
                              "delete table inet %s\n", br, br, br, br);
    return nft_run(cmd, err, len);
}

int hb_net_rules_install(const hb_runtime_t *rt, const hb_net_port_t *live, size_t n,
                         char *err, size_t len)
{
    char *text = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&text, &tlen);
    if (!f) {
        snprintf(err, len, "out of memory");
        return -1;
    }
    const char *br = rt->net.bridge;
    /* "add" first so that "delete" never fails on a first start. */
    fprintf(f, "add table bridge %s\ndelete table bridge %s\nadd table inet %s\n"
               "delete table inet %s\n", br, br, br, br);
    put_bridge_table(f, &rt->net, live, n);
    put_inet_table(f, &rt->net, live, n);
    if (fclose(f) != 0) {
        free(text);
        snprintf(err, len, "out of memory");
        return -1;
    }
    int r = nft_run(text, err, len);
    if (r < 0)
        HB_LOG_DEBUG("network: rejected ruleset:\n%s", text);
    free(text);
    return r;
}
