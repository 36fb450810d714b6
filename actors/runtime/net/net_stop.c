/* Network teardown at daemon exit (see hb_net_release in net.h): what
 * hb_net_init set up, once nothing of ours uses it. */
#include "net.h"
#include "log.h"
#include "netlink.h"

#include <net/if.h>
#include <string.h>

static void count_port(void *ud, const char *name, int ifindex)
{
    (void)name;
    (void)ifindex;
    ++*(int *)ud;
}

void hb_net_release(const hb_runtime_t *rt)
{
    const hb_net_t *n = &rt->net;
    if (n->lock_fd < 0)
        return;   /* not ours: another daemon's bridge, or no network at all */
    hb_nl_t nl;
    if (hb_nl_open(&nl) < 0)
        return;
    int idx = (int)if_nametoindex(n->bridge), ports = 0;
    if (idx > 0 && (hb_nl_links_of(&nl, idx, count_port, &ports) < 0 || ports > 0)) {
        HB_LOG_INFO("network: keeping bridge %s: %d interface(s) still attached", n->bridge, ports);
        hb_nl_close(&nl);
        return;
    }
    char err[200] = "";
    if (hb_net_rules_remove(rt, err, sizeof err) < 0)
        HB_LOG_WARN("network: removing the firewall tables %s: %s", n->bridge, err);
    int r = idx > 0 ? hb_nl_link_del(&nl, n->bridge) : 0;
    if (r < 0)
        HB_LOG_WARN("network: removing bridge %s: %s", n->bridge, strerror(-r));
    hb_nl_close(&nl);
    /* The lock file stays: unlinked, a daemon starting now could lock the
     * old file while a later one locks a new one, both on one bridge. */
    HB_LOG_INFO("network: bridge %s and its firewall removed (no sandbox left)", n->bridge);
}
