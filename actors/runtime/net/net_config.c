/* Sandbox network configuration, checked once at start: the runtime's
 * bridge, subnet, dns and allow_private_egress (HIVEBOX_BRIDGE,
 * HIVEBOX_SUBNET, HIVEBOX_DNS, --allow-private-egress). A bad value turns
 * the network modes off with a warning; the daemon still starts. */
#include "net.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hb_net_disable(hb_net_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->error, sizeof n->error, fmt, ap);
    va_end(ap);
    n->ok = false;
    HB_LOG_WARN("network modes isolated/shared unavailable: %s", n->error);
}

/* Bridge names double as nftables table names: keep them plain. */
static bool bridge_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 12 || !isalpha((unsigned char)s[0]))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_')
            return false;
    return true;
}

/* "a.b.c.d/p", 8 <= p <= 28, no host bits set. */
static bool parse_subnet(const char *text, uint32_t *net, unsigned *prefix)
{
    char buf[40];
    struct in_addr a;
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (!slash)
        return false;
    *slash = '\0';
    char *end;
    unsigned long p = strtoul(slash + 1, &end, 10);
    if (*end || p < 8 || p > 28 || inet_pton(AF_INET, buf, &a) != 1)
        return false;
    uint32_t host_mask = 0xffffffffu >> p;
    if (ntohl(a.s_addr) & host_mask)
        return false;
    *net = ntohl(a.s_addr);
    *prefix = (unsigned)p;
    return true;
}

bool hb_net_read_config(hb_net_t *n, const hb_runtime_conf_t *c)
{
    const char *br = c->bridge, *sub = c->subnet;
    snprintf(n->bridge, sizeof n->bridge, "%s", br && *br ? br : "hivebox0");
    if (!bridge_name_ok(n->bridge)) {
        hb_net_disable(n, "HIVEBOX_BRIDGE must be a letter then up to 11 letters, digits or '_'");
        return false;
    }
    if (!parse_subnet(sub && *sub ? sub : "10.10.0.0/16", &n->subnet, &n->prefix)) {
        hb_net_disable(n, "HIVEBOX_SUBNET must look like 10.10.0.0/16 (prefix 8 to 28)");
        return false;
    }
    n->allow_private_egress = c->allow_private_egress;
    hb_net_pick_dns(n, c->dns);
    return true;
}
