/* Route netlink through libmnl: the few link, address and route operations
 * the sandbox network needs, without spawning `ip`. Shared by the daemon
 * (bridge, deleting veths, listing leftovers) and the launcher (creating a
 * sandbox's veth pair and configuring its inside end).
 *
 * A hb_nl_t belongs to one thread and to the network namespace the thread
 * was in when it was opened. Every call returns 0 or -errno. */
#ifndef HB_NETLINK_H
#define HB_NETLINK_H

#include <stdint.h>

struct mnl_socket;

typedef struct {
    struct mnl_socket *sock;
    uint32_t           portid;
    uint32_t           seq;
} hb_nl_t;

int  hb_nl_open(hb_nl_t *nl);
void hb_nl_close(hb_nl_t *nl);

/* A bridge with a fixed MAC (so it never takes a port's address and never
 * changes under the sandboxes' ARP caches), brought up. -EEXIST if present. */
int hb_nl_bridge_create(hb_nl_t *nl, const char *name, const uint8_t mac[6]);
int hb_nl_link_up(hb_nl_t *nl, int ifindex);
int hb_nl_link_del(hb_nl_t *nl, const char *name);   /* -ENODEV if absent */
/* IPv4 address (network byte order); -EEXIST if already there. */
int hb_nl_addr_add(hb_nl_t *nl, int ifindex, uint32_t addr, unsigned prefix);
int hb_nl_route_default(hb_nl_t *nl, uint32_t gateway);
/* Forget the neighbour entry of addr on ifindex; -ENOENT if none. */
int hb_nl_neigh_del(hb_nl_t *nl, int ifindex, uint32_t addr);

/* A veth pair: `name` on this side, enslaved to `master`, in device group
 * `group`, up; its peer is created as `peer` directly inside the network
 * namespace netns_fd. */
int hb_nl_veth_create(hb_nl_t *nl, const char *name, int master, uint32_t group,
                      const char *peer, int netns_fd);

/* Call cb for every IPv4 route of the main table (dst in network order). */
typedef void (*hb_nl_route_cb)(void *ud, uint32_t dst, unsigned prefix, int oif);
int hb_nl_routes(hb_nl_t *nl, hb_nl_route_cb cb, void *ud);

/* Call cb for every link enslaved to `master` (ifindex). */
typedef void (*hb_nl_link_cb)(void *ud, const char *name, int ifindex);
int hb_nl_links_of(hb_nl_t *nl, int master, hb_nl_link_cb cb, void *ud);

#endif
