/* A sandbox's network bytes, for its usage report: the counters of the
 * host end of its veth. What the host end receives the sandbox sent, and
 * the other way round, so the two are swapped. Network mode none has no
 * interface: has_net stays false and the figures 0. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "procfs.h"
#include "runtime.h"

static int read_counter(const char *ifname, const char *which, uint64_t *out)
{
    char path[96], buf[32];
    if (snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", ifname, which) >=
        (int)sizeof path)
        return -1;
    if (hb_read_small(path, buf, sizeof buf) < 0)
        return -1;
    *out = strtoull(buf, NULL, 10);
    return 0;
}

void hb_sandbox_net_usage(const hb_sandbox_t *sb, hb_usage_t *u)
{
    u->has_net = false;
    u->net_rx_bytes = u->net_tx_bytes = 0;
    if (!sb->net_if[0])
        return;
    uint64_t host_rx = 0, host_tx = 0;
    if (read_counter(sb->net_if, "rx_bytes", &host_rx) < 0 ||
        read_counter(sb->net_if, "tx_bytes", &host_tx) < 0)
        return;
    u->has_net = true;
    u->net_rx_bytes = host_tx;
    u->net_tx_bytes = host_rx;
}
