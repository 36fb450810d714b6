/* Sandbox networking, host side (modes isolated and shared).
 *
 *   bridge   HIVEBOX_BRIDGE (default hivebox0) holding the subnet's first
 *            address (HIVEBOX_SUBNET, default 10.10.0.0/16 -> 10.10.0.1).
 *   sandbox  a veth pair: host end "hb<bridge ifindex hex>v<uid slot hex>"
 *            (unique while the slot is held, never derived from the id),
 *            enslaved to the bridge; inside end "eth0" with the sandbox's
 *            address and a default route via the bridge. The launcher makes
 *            the pair (tools/init/launcher/launch_net.c) from lines of launch.conf.
 *   address  the lowest free host address, claimed by an O_EXCL file
 *            <data>/netaddrs/<ip> naming its sandbox: reused after destroy,
 *            kept across daemon restarts.
 *   groups   shared:<g> puts the host end in device group N(g), allocated by
 *            <data>/netgroups/<N hex> files naming the group; isolated = 0.
 *   firewall one nftables ruleset installed at start (net_rules.c); each
 *            sandbox only adds set elements.
 *
 * hb_net_init never fails the runtime: without a usable network (missing
 * kernel feature, another daemon on the bridge) mode "none" still works and
 * the other modes are refused with rt->net.error. */
#ifndef HB_NET_H
#define HB_NET_H

#include "runtime.h"

#include <stddef.h>

void hb_net_init(hb_runtime_t *rt);
/* Pick the sandbox's address, interface name and group (before its first record). */
int  hb_net_claim(hb_sandbox_t *sb, hb_err_t *e);
/* resolv.conf into the fresh upper dir, firewall set elements. */
int  hb_net_prepare(const hb_sandbox_t *sb, hb_err_t *e);
/* Append the launcher's network lines (launch.conf, schemas/launchconf.h)
 * to buf, which holds at bytes; the new length, as hb_lc_append. */
int  hb_net_launch_conf(const hb_sandbox_t *sb, char *buf, size_t len, int at);
/* Remove veth, set elements and the address claim. Idempotent. */
void hb_net_teardown(const hb_sandbox_t *sb);
/* At daemon exit with no sandbox left: the bridge (when no interface is
 * attached to it) and its firewall tables go; only by the daemon holding
 * the bridge's lock. */
void hb_net_release(const hb_runtime_t *rt);
/* An interface name of the form we make ("hb<hex>v<hex>"): only those are
 * ever deleted, so a damaged record or a shared bridge costs the host none
 * of its own interfaces. */
bool hb_net_ifname_ours(const char *ifname);

/* ---- internal to net*.c ---- */
/* net_config.c */
bool hb_net_read_config(hb_net_t *n, const hb_runtime_conf_t *c);   /* false: disabled, n->error says why */
void hb_net_disable(hb_net_t *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef struct {
    char     ifname[16];
    char     ip[16];
    uint32_t gid;
    bool     egress;   /* it has an egress policy (issue 16) */
    char     id[64];   /* its sandbox (net_start.c's refill) */
} hb_net_port_t;

/* net_alloc.c */
int  hb_net_addr_claim(const hb_runtime_t *rt, const char *id, char ip[16], hb_err_t *e);
void hb_net_addr_release(const hb_runtime_t *rt, const char *ip, const char *id);
int  hb_net_group_id(const hb_runtime_t *rt, const char *group, uint32_t *gid, hb_err_t *e);
/* Remove claims whose sandbox no longer exists and groups nobody uses. */
void hb_net_alloc_gc(const hb_runtime_t *rt, const char *const *groups, size_t n_groups);

/* net_rules.c */
int  hb_net_rules_install(const hb_runtime_t *rt, const hb_net_port_t *live, size_t n,
                          char *err, size_t len);
int  hb_net_rules_add(const hb_runtime_t *rt, const hb_net_port_t *p, char *err, size_t len);
void hb_net_rules_del(const hb_runtime_t *rt, const hb_net_port_t *p);
/* Both tables gone (absent already is fine). */
int  hb_net_rules_remove(const hb_runtime_t *rt, char *err, size_t len);

/* net_elem.c: one nfnetlink transaction of set element changes (libmnl).
 * key_end: the upper bound of a range of a concatenation (sets with flags
 * interval); timeout_ms: 0 = the set's own. At most HB_NET_ELEM_BATCH_MAX. */
#define HB_NET_ELEM_BATCH_MAX 40
typedef struct {
    const char *set;
    uint8_t     key[24];
    size_t      klen;
    uint8_t     key_end[24];
    size_t      kend_len;
    uint64_t    timeout_ms;
} hb_net_elem_t;
int  hb_net_elem_batch(uint8_t family, const char *table, uint16_t msg, uint16_t flags,
                       const hb_net_elem_t *els, int n);

/* net_dnsbind.c: the forwarder's sockets (sets n->dns_fwd; a failure is
 * logged, and sandboxes then use the resolvers in n->dns directly). */
void hb_net_dns_bind(hb_net_t *n);

/* net_dns.c */
void hb_net_pick_dns(hb_net_t *n, const char *list);   /* list: HIVEBOX_DNS, or NULL */
int  hb_net_write_resolv(const hb_sandbox_t *sb, hb_err_t *e);

#endif
