/* Resolvers for the sandboxes: HIVEBOX_DNS when set, else the host's own
 * non-loopback IPv4 resolvers (a loopback one such as systemd-resolved's
 * 127.0.0.53 is unreachable from a sandbox, so its upstream list is tried
 * next; so is one on another host address), else 1.1.1.1 and 8.8.8.8. */
#include "net.h"
#include "record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A resolver on one of the host's own addresses is a host service, which
 * sandboxes may never reach: as useless to them as a loopback one. */
static bool host_address(struct in_addr a)
{
    struct ifaddrs *ifs, *i;
    bool found = false;
    if (getifaddrs(&ifs) < 0)
        return false;
    for (i = ifs; i && !found; i = i->ifa_next)
        found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
                ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr.s_addr == a.s_addr;
    freeifaddrs(ifs);
    return found;
}

static void add_dns(hb_net_t *n, const char *text)
{
    struct in_addr a;
    if (n->n_dns >= (int)(sizeof n->dns / sizeof *n->dns) || inet_pton(AF_INET, text, &a) != 1)
        return;
    if ((ntohl(a.s_addr) >> 24) == 127 || a.s_addr == 0 || host_address(a))
        return;
    for (int i = 0; i < n->n_dns; i++)
        if (strcmp(n->dns[i], text) == 0)
            return;
    inet_ntop(AF_INET, &a, n->dns[n->n_dns++], sizeof n->dns[0]);
}

static void add_list(hb_net_t *n, const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ,;\t", &save); t; t = strtok_r(NULL, " ,;\t", &save))
        add_dns(n, t);
}

static void from_resolv_conf(hb_net_t *n, const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        char word[32], addr[64];
        if (sscanf(line, "%31s %63s", word, addr) == 2 && strcmp(word, "nameserver") == 0)
            add_dns(n, addr);
    }
    fclose(f);
}

void hb_net_pick_dns(hb_net_t *n, const char *env)
{
    n->n_dns = 0;
    if (env && *env)
        add_list(n, env);
    if (!n->n_dns)
        from_resolv_conf(n, "/etc/resolv.conf");
    if (!n->n_dns)
        from_resolv_conf(n, "/run/systemd/resolve/resolv.conf");
    if (!n->n_dns)
        add_list(n, "1.1.1.1 8.8.8.8");
}

/* Written into the fresh upper dir before the sandbox starts (nothing inside
 * can race us yet), owned by the sandbox's root so it may edit it. upper/etc
 * copies the image's /etc mode and owner, as an overlay copy-up would. */
int hb_net_write_resolv(const hb_sandbox_t *sb, hb_err_t *e)
{
    const hb_net_t *n = &sb->rt->net;
    char path[HB_HOSTPATH_MAX + 160], text[256];
    struct stat st = {.st_mode = 0755, .st_uid = 0, .st_gid = 0};
    snprintf(path, sizeof path, "%s/images/%s/rootfs/etc", sb->rt->data_dir, sb->spec.image);
    if (stat(path, &st) < 0 || st.st_uid >= HB_UID_RANGE || st.st_gid >= HB_UID_RANGE)
        st.st_uid = st.st_gid = 0;
    snprintf(path, sizeof path, "%s/upper/etc", sb->dir);
    if ((mkdir(path, st.st_mode & 07777) < 0 && errno != EEXIST) ||
        lchown(path, sb->uid_base + st.st_uid, sb->uid_base + st.st_gid) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "network: %s", path);
    int len = snprintf(text, sizeof text, "# written by hivebox\n");
    if (n->dns_fwd) {   /* issue 16: the daemon's forwarder, so a policy set later applies */
        uint32_t gw = n->subnet + 1;
        len += snprintf(text + len, sizeof text - (size_t)len, "nameserver %u.%u.%u.%u\n",
                        gw >> 24, (gw >> 16) & 255, (gw >> 8) & 255, gw & 255);
    }
    for (int i = 0; !n->dns_fwd && i < n->n_dns && len > 0 && (size_t)len < sizeof text; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "nameserver %s\n", n->dns[i]);
    if (len < 0 || (size_t)len >= sizeof text)
        return hb_fail(e, HB_E_INTERNAL, 0, "network: resolv.conf too long");
    if (hb_write_atomic(path, "resolv.conf", text, (size_t)len, 0644, e) < 0)
        return hb_err_wrap(e, "network");
    snprintf(path, sizeof path, "%s/upper/etc/resolv.conf", sb->dir);
    if (lchown(path, sb->uid_base, sb->uid_base) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "network: chown %s", path);
    return 0;
}
