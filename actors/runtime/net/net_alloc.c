/* Address and group allocators: claims are files created atomically under
 * the data dir, so they are shared by every thread, survive daemon restarts,
 * and a crash leaves at worst a stale file that the next start removes.
 *
 *   <data>/netaddrs/<a.b.c.d>   content: the sandbox id (O_EXCL create)
 *   <data>/netgroups/<8 hex>    content: the group name (link(2) of a
 *                               complete temp file, so readers never see
 *                               a half-written name) */
#include "net.h"
#include "sbdir.h"
#include "log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUP_PROBES 256

static int read_small(int dirfd, const char *name, char *buf, size_t len)
{
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static int open_dir(const hb_runtime_t *rt, const char *sub)
{
    char path[HB_HOSTPATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", rt->data_dir, sub);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void ip_str(uint32_t host_order, char out[16])
{
    struct in_addr a = {.s_addr = htonl(host_order)};
    inet_ntop(AF_INET, &a, out, 16);
}

/* Lowest first: the first sandbox gets .2 (the bridge has .1), and a
 * destroyed sandbox's address is the next one handed out. */
int hb_net_addr_claim(const hb_runtime_t *rt, const char *id, char ip[16], hb_err_t *e)
{
    int dfd = open_dir(rt, "netaddrs");
    if (dfd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "network: address pool");
    uint32_t hosts = 1u << (32 - rt->net.prefix);
    for (uint32_t h = 2; h < hosts - 1; h++) {
        char name[16];
        ip_str(rt->net.subnet + h, name);
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == EEXIST)
            continue;
        if (fd < 0) {
            int err = errno;
            close(dfd);
            return hb_fail_sys(e, HB_E_INTERNAL, err, "network: address pool");
        }
        ssize_t w = write(fd, id, strlen(id));
        close(fd);
        if (w != (ssize_t)strlen(id)) {
            unlinkat(dfd, name, 0);
            close(dfd);
            return hb_fail(e, HB_E_INTERNAL, errno, "network: address pool: write failed");
        }
        close(dfd);
        memcpy(ip, name, 16);
        return 0;
    }
    close(dfd);
    return hb_fail(e, HB_E_UNAVAIL, 0, "network: no free address left in the sandbox subnet");
}

void hb_net_addr_release(const hb_runtime_t *rt, const char *ip, const char *id)
{
    struct in_addr a;
    char owner[HB_ID_MAX];
    if (inet_pton(AF_INET, ip, &a) != 1)
        return;
    int dfd = open_dir(rt, "netaddrs");
    if (dfd < 0)
        return;
    /* Only our own claim: a crashed create's record may name an address
     * that another sandbox holds since. */
    if (read_small(dfd, ip, owner, sizeof owner) == 0 && strcmp(owner, id) == 0)
        unlinkat(dfd, ip, 0);
    close(dfd);
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Publish "name" as group file `slot` atomically. 0, -EEXIST, or -errno. */
static int publish_group(int dfd, const char *slot, const char *group)
{
    char tmp[64];
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
        r = (uint32_t)getpid();
    snprintf(tmp, sizeof tmp, ".tmp-%d-%08x", (int)getpid(), r);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, group, strlen(group));
    close(fd);
    int res = w == (ssize_t)strlen(group) ? 0 : -EIO;
    if (res == 0 && linkat(dfd, tmp, dfd, slot, 0) < 0)
        res = -errno;
    unlinkat(dfd, tmp, 0);
    return res;
}

int hb_net_group_id(const hb_runtime_t *rt, const char *group, uint32_t *gid, hb_err_t *e)
{
    int dfd = open_dir(rt, "netgroups");
    if (dfd < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "network: group table");
    uint32_t start = fnv1a(group);
    for (uint32_t i = 0; i < GROUP_PROBES; i++) {
        uint32_t g = (start + i) % 0x7ffffffeu + 1; /* 0 is every isolated port */
        char slot[16], owner[HB_ID_MAX];
        snprintf(slot, sizeof slot, "%08x", g);
        for (int tries = 0; tries < 2; tries++) {
            if (read_small(dfd, slot, owner, sizeof owner) == 0) {
                if (strcmp(owner, group) != 0)
                    break; /* taken by another group: probe on */
                close(dfd);
                *gid = g;
                return 0;
            }
            int r = publish_group(dfd, slot, group);
            if (r == 0) {
                close(dfd);
                *gid = g;
                return 0;
            }
            if (r != -EEXIST) {
                close(dfd);
                return hb_fail_sys(e, HB_E_INTERNAL, -r, "network: group table");
            }
            /* Someone published this slot meanwhile: read it again. */
        }
    }
    close(dfd);
    return hb_fail(e, HB_E_INTERNAL, 0, "network: group table full around '%s'", group);
}

static bool sandbox_exists(const hb_runtime_t *rt, const char *id)
{
    char path[HB_HOSTPATH_MAX + HB_ID_MAX + 16];
    if (!hb_name_valid(id))
        return false;
    return hb_sbdir_path(path, sizeof path, rt->data_dir, id, NULL) == 0 &&
           access(path, F_OK) == 0;
}

void hb_net_alloc_gc(const hb_runtime_t *rt, const char *const *groups, size_t n_groups)
{
    static const char *const subs[] = {"netaddrs", "netgroups"};
    for (int k = 0; k < 2; k++) {
        int dfd = open_dir(rt, subs[k]);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
            if (dfd >= 0)
                close(dfd);
            continue;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            char owner[HB_ID_MAX];
            if (de->d_name[0] == '.' && strncmp(de->d_name, ".tmp-", 5) != 0)
                continue;
            bool keep = false;
            if (de->d_name[0] != '.' && read_small(dirfd(d), de->d_name, owner, sizeof owner) == 0) {
                if (k == 0)
                    keep = sandbox_exists(rt, owner);
                for (size_t i = 0; k == 1 && i < n_groups && !keep; i++)
                    keep = strcmp(groups[i], owner) == 0;
            }
            if (!keep) {
                HB_LOG_INFO("network: dropping stale %s/%s", subs[k], de->d_name);
                unlinkat(dirfd(d), de->d_name, 0);
            }
        }
        closedir(d);
    }
}
