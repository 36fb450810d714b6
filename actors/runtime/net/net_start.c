/* Network start-up: the bridge, forwarding, the firewall (re)installed with
 * the ports of the sandboxes still alive, and the removal of what dead ones
 * left behind. See net.h. */
#include "net.h"
#include "egress.h"
#include "log.h"
#include "netlink.h"
#include "sbdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_DIR "/run/hivebox"

/* One daemon per bridge: two would hand out the same addresses and
 * remove each other's interfaces as leftovers. Held until exit; a second
 * hb_runtime_init in the same process reuses it. */
static bool take_lock(hb_net_t *n)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static int held_fd = -1;
    static char held_bridge[16];
    char path[64];
    pthread_mutex_lock(&mu);
    bool mine = held_fd >= 0 && strcmp(held_bridge, n->bridge) == 0;
    pthread_mutex_unlock(&mu);
    if (mine) {
        n->lock_fd = held_fd;
        return true;
    }
    mkdir(LOCK_DIR, 0711);
    snprintf(path, sizeof path, LOCK_DIR "/%s.lock", n->bridge);
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (n->lock_fd < 0) {
        hb_net_disable(n, "cannot open %s: %s", path, strerror(errno));
        return false;
    }
    if (flock(n->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        hb_net_disable(n, "bridge %s is in use by another hivebox daemon (give each daemon its "
                       "own HIVEBOX_BRIDGE and HIVEBOX_SUBNET)", n->bridge);
        close(n->lock_fd);
        n->lock_fd = -1;
        return false;
    }
    pthread_mutex_lock(&mu);
    held_fd = n->lock_fd;
    snprintf(held_bridge, sizeof held_bridge, "%s", n->bridge);
    pthread_mutex_unlock(&mu);
    return true;
}

static bool setup_bridge(hb_net_t *n, hb_nl_t *nl)
{
    int idx = (int)if_nametoindex(n->bridge);
    int r = 0;
    if (idx == 0) {
        uint8_t mac[6];
        if (getrandom(mac, sizeof mac, 0) != sizeof mac)
            memset(mac, 0x5a, sizeof mac);
        mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
        r = hb_nl_bridge_create(nl, n->bridge, mac);
        if (r < 0 && r != -EEXIST) {
            hb_net_disable(n, "cannot create bridge %s: %s%s", n->bridge, strerror(-r),
                        r == -EOPNOTSUPP ? " (kernel feature bridge missing)" : "");
            return false;
        }
        idx = (int)if_nametoindex(n->bridge);
    }
    if (idx == 0 || (r = hb_nl_link_up(nl, idx)) < 0 ||
        ((r = hb_nl_addr_add(nl, idx, htonl(n->subnet + 1), n->prefix)) < 0 && r != -EEXIST)) {
        hb_net_disable(n, "cannot set up bridge %s: %s", n->bridge, strerror(r ? -r : ENODEV));
        return false;
    }
    n->bridge_index = idx;
    return true;
}

typedef struct {
    const hb_net_t *n;
    char            clash[48];
} clash_t;

static void check_route(void *ud, uint32_t dst, unsigned prefix, int oif)
{
    clash_t *c = ud;
    const hb_net_t *n = c->n;
    if (prefix == 0 || (n->bridge_index > 0 && oif == n->bridge_index) || c->clash[0])
        return; /* the default route, or our own subnet */
    unsigned p = prefix < n->prefix ? prefix : n->prefix;
    uint32_t mask = 0xffffffffu << (32 - p);
    if ((ntohl(dst) & mask) == (n->subnet & mask)) {
        struct in_addr a = {.s_addr = dst};
        char text[16];
        inet_ntop(AF_INET, &a, text, sizeof text);
        snprintf(c->clash, sizeof c->clash, "%s/%u", text, prefix);
    }
}

/* The sandbox subnet must not shadow a network the host already routes. */
static bool subnet_is_free(hb_net_t *n, hb_nl_t *nl)
{
    clash_t c = {.n = n};
    int r = hb_nl_routes(nl, check_route, &c);
    if (r < 0) {
        hb_net_disable(n, "listing the host's routes: %s", strerror(-r));
        return false;
    }
    if (c.clash[0]) {
        hb_net_disable(n, "the sandbox subnet overlaps the host's route to %s: set "
                          "HIVEBOX_SUBNET to a free range", c.clash);
        return false;
    }
    return true;
}

static bool enable_forwarding(hb_net_t *n)
{
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "1\n", 2) != 2) {
        hb_net_disable(n, "cannot enable net.ipv4.ip_forward: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    return true;
}

typedef struct {
    hb_net_port_t *ports;
    size_t         n;
    char         **groups;
    size_t         n_groups;
    char         **stale;    /* bridge ports without a live sandbox */
    size_t         n_stale;
} live_set_t;

static int push(void *arr, size_t *n, size_t size, const void *item)
{
    void **a = arr;
    void *nv = realloc(*a, (*n + 1) * size);
    if (!nv)
        return -1;
    *a = nv;
    memcpy((char *)nv + *n * size, item, size);
    (*n)++;
    return 0;
}

/* The ports of every sandbox still alive, from their records. */
static void collect_live(const hb_runtime_t *rt, live_set_t *ls)
{
    char **ids = NULL;
    size_t n = 0;
    if (hb_sandbox_list_ids(rt, &ids, &n, NULL) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        hb_sandbox_t *sb = NULL;
        /* the record says whether it has a port before /proc is read */
        if (hb_sandbox_open(rt, ids[i], &sb, NULL) == 0 && sb->ip[0] && sb->net_if[0] &&
            hb_sandbox_alive(sb)) {
            hb_egress_t pol;
            hb_net_port_t p = {.gid = sb->net_gid, .egress = hb_egress_load(sb->dir, &pol)};
            hb_egress_free(&pol);
            snprintf(p.ifname, sizeof p.ifname, "%s", sb->net_if);
            snprintf(p.ip, sizeof p.ip, "%s", sb->ip);
            snprintf(p.id, sizeof p.id, "%s", sb->id);
            push(&ls->ports, &ls->n, sizeof p, &p);
            char *g = sb->spec.net_mode == HB_NET_SHARED ? strdup(sb->spec.net_group) : NULL;
            if (g && push(&ls->groups, &ls->n_groups, sizeof g, &g) < 0)
                free(g);
        }
        hb_sandbox_free(sb);
    }
    hb_strv_free(ids, n);
}

static void note_port(void *ud, const char *name, int ifindex)
{
    live_set_t *ls = ud;
    (void)ifindex;
    for (size_t i = 0; i < ls->n; i++)
        if (strcmp(ls->ports[i].ifname, name) == 0)
            return;
    char *s = strdup(name);
    if (s && push(&ls->stale, &ls->n_stale, sizeof s, &s) < 0)
        free(s);
}

/* Interfaces on our bridge that no live sandbox owns: a crash, a sandbox
 * that died while the daemon was down. */
static void remove_stale_ports(hb_net_t *n, hb_nl_t *nl, live_set_t *ls)
{
    int r = hb_nl_links_of(nl, n->bridge_index, note_port, ls);
    if (r < 0)
        HB_LOG_WARN("network: listing the ports of %s: %s", n->bridge, strerror(-r));
    for (size_t i = 0; i < ls->n_stale; i++) {
        if (!hb_net_ifname_ours(ls->stale[i]))
            continue;   /* someone else's, on a bridge we were told to share */
        HB_LOG_INFO("network: removing leftover interface %s", ls->stale[i]);
        hb_nl_link_del(nl, ls->stale[i]);
    }
}

/* Their lists: the ruleset marked them already (everything denied till now). */
static void refill_egress(const hb_runtime_t *rt, const live_set_t *ls)
{
    char dir[HB_HOSTPATH_MAX + 80];
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->ports[i].egress && hb_sbdir_path(dir, sizeof dir, rt->data_dir,
                                                 ls->ports[i].id, NULL) == 0)
            hb_egress_refill(rt, ls->ports[i].ip, dir);
    }
}

static void live_free(live_set_t *ls)
{
    free(ls->ports);
    hb_strv_free(ls->groups, ls->n_groups);
    hb_strv_free(ls->stale, ls->n_stale);
}

void hb_net_init(hb_runtime_t *rt)
{
    hb_net_t *n = &rt->net;
    n->ok = false;
    n->lock_fd = -1;
    hb_nl_t nl = {0};
    int r;
    if (!hb_net_read_config(n, &rt->conf) || !take_lock(n))
        return;
    if ((r = hb_nl_open(&nl)) < 0) {
        hb_net_disable(n, "route netlink: %s", strerror(-r));
        return;
    }
    live_set_t ls = {0};
    char err[200];
    n->bridge_index = (int)if_nametoindex(n->bridge);
    if (!subnet_is_free(n, &nl) || !setup_bridge(n, &nl) || !enable_forwarding(n))
        goto out;
    collect_live(rt, &ls);
    if (hb_net_rules_install(rt, ls.ports, ls.n, err, sizeof err) < 0) {
        hb_net_disable(n, "nftables ruleset refused: %s%s", err,
                    strstr(err, "not supported") ? " (kernel features needed: nf_tables with "
                                                   "the bridge and inet families, nft_masq)" : "");
        goto out;
    }
    n->ok = true;   /* the egress elements need it */
    hb_net_dns_bind(n);
    refill_egress(rt, &ls);
    remove_stale_ports(n, &nl, &ls);
    hb_net_alloc_gc(rt, (const char *const *)ls.groups, ls.n_groups);
    n->ok = true;
    HB_LOG_INFO("network: bridge %s (%u.%u.%u.%u/%u), %zu live sandbox port(s)%s", n->bridge,
             (n->subnet + 1) >> 24, ((n->subnet + 1) >> 16) & 255, ((n->subnet + 1) >> 8) & 255,
             (n->subnet + 1) & 255, n->prefix, ls.n,
             n->allow_private_egress ? ", private egress allowed" : "");
out:
    live_free(&ls);
    hb_nl_close(&nl);
}
