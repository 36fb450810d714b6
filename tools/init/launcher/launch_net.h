/* The launcher's part of a sandbox's network (modes isolated and shared):
 * create the veth pair with its inside end directly in the sandbox's network
 * namespace, then, from inside that namespace, give it its address, bring it
 * up and route through the bridge. Done by the single-threaded launcher as
 * host root, before it reports "ok", so the daemon never has to enter a
 * sandbox's namespace. */
#ifndef HB_LAUNCH_NET_H
#define HB_LAUNCH_NET_H

#include "launchconf.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char     ifname[16];   /* host side, e.g. "hb5v1a" */
    char     ip[16];       /* dotted quad; "" = mode none, nothing to do */
    char     gw[16];
    unsigned prefix;
    int      bridge;       /* ifindex of the bridge */
    unsigned group;        /* device group of the host side (0: isolated) */
} launch_net_t;

/* Take one launch.conf key if it is a network key (true), else false. */
bool launch_net_conf(launch_net_t *n, hb_lckey_t key, const char *val);
/* 0, or -1 with errno set and a reason in why. */
int  launch_net_setup(const launch_net_t *n, pid_t child, char *why, size_t len);

#endif
