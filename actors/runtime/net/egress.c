/* Egress policy of one sandbox, host side (see egress.h). */
#include "egress.h"
#include "egress_nft.h"
#include "log.h"
#include "sbdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POLICY_FILE_MAX (HB_EGRESS_MAX * 300 + 64)

/* Two PUTs on one sandbox must not interleave file and elements, nor may
 * the forwarder's learning of an answer (hb_egress_learn_lock). */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void hb_egress_learn_lock(void)
{
    pthread_mutex_lock(&g_lock);
}

void hb_egress_learn_unlock(void)
{
    pthread_mutex_unlock(&g_lock);
}

static uint32_t addr_of(const char *ip)
{
    struct in_addr a = {0};
    return inet_pton(AF_INET, ip, &a) == 1 ? a.s_addr : 0;
}

static char *read_policy(const char *dir, size_t *len)
{
    char path[2 * HB_HOSTPATH_MAX];
    if (hb_sbdir_file(path, sizeof path, dir, HB_SBDIR_EGRESS, NULL) < 0)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    char *buf = malloc(POLICY_FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, POLICY_FILE_MAX + 1) : -1;
    close(fd);
    if (n < 0 || n > POLICY_FILE_MAX) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

bool hb_egress_load(const char *dir, hb_egress_t *p)
{
    size_t len = 0;
    char *text = read_policy(dir, &len);
    hb_err_t e = {0};
    memset(p, 0, sizeof *p);
    if (!text)
        return false;
    int rc = hb_egress_parse(text, len, p, &e);
    free(text);
    if (rc < 0) {
        HB_LOG_WARN("egress policy in %s unreadable: %s", dir, e.msg);
        return false;
    }
    return !hb_egress_empty(p);
}

/* File first (the forwarder reads it), then the elements. */
static int store_and_apply(const hb_sandbox_t *sb, const hb_egress_t *p, hb_err_t *e)
{
    char path[2 * HB_HOSTPATH_MAX];
    if (hb_egress_empty(p)) {
        if (hb_sbdir_file(path, sizeof path, sb->dir, HB_SBDIR_EGRESS, e) < 0)
            return -1;
        if (unlink(path) < 0 && errno != ENOENT)
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "egress: remove %s", path);
    } else {
        char *text = hb_egress_text(p);
        int rc = text ? hb_sandbox_put_file(sb, HB_SBDIR_EGRESS, text, strlen(text), 0600, e) :
                        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        free(text);
        if (rc < 0)
            return -1;
    }
    int r = hb_egress_nft_apply(sb->rt->net.bridge, addr_of(sb->ip), p);
    if (r < 0)
        return hb_fail(e, HB_E_INTERNAL, -r, "egress: firewall elements: %s (the sandbox now "
                       "reaches nothing until its policy is set again)", strerror(-r));
    return 0;
}

static int needs_network(const hb_sandbox_t *sb, hb_err_t *e)
{
    if (!sb->ip[0])
        return hb_fail(e, HB_E_INVALID, 0, "allow_out: an egress policy needs network "
                       "\"isolated\" or \"shared\" (this sandbox has network \"none\")");
    return 0;
}

int hb_egress_prepare(const hb_sandbox_t *sb, hb_err_t *e)
{
    if (!sb->spec.egress)
        return 0;
    hb_egress_t p;
    if (hb_egress_parse(sb->spec.egress, strlen(sb->spec.egress), &p, e) < 0)
        return -1;
    int rc = hb_egress_empty(&p) ? 0 : needs_network(sb, e);
    if (rc == 0 && !hb_egress_empty(&p)) {
        pthread_mutex_lock(&g_lock);
        rc = store_and_apply(sb, &p, e);
        pthread_mutex_unlock(&g_lock);
    }
    hb_egress_free(&p);
    return rc;
}

int hb_egress_set(const hb_sandbox_t *sb, const char *text, char **canon, hb_err_t *e)
{
    hb_egress_t p;
    *canon = NULL;
    if (hb_egress_parse(text, strlen(text), &p, e) < 0)
        return -1;
    int rc = needs_network(sb, e);
    if (rc == 0) {
        pthread_mutex_lock(&g_lock);
        rc = store_and_apply(sb, &p, e);
        pthread_mutex_unlock(&g_lock);
    }
    if (rc == 0 && !(*canon = hb_egress_empty(&p) ? strdup("") : hb_egress_text(&p)))
        rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    hb_egress_free(&p);
    return rc;
}

typedef struct {
    uint32_t ip;
    uint64_t packets;
} count_t;

static void pick(void *ud, uint32_t ip, uint64_t packets)
{
    count_t *c = ud;
    if (ip == c->ip)
        c->packets = packets;
}

int hb_egress_get(const hb_sandbox_t *sb, char **text, uint64_t *denied)
{
    hb_egress_t p;
    *text = NULL;
    *denied = 0;
    if (!sb->ip[0] || !hb_egress_load(sb->dir, &p))
        return 0;
    *text = hb_egress_text(&p);
    hb_egress_free(&p);
    count_t c = {.ip = addr_of(sb->ip)};
    if (hb_egress_nft_denied(sb->rt->net.bridge, pick, &c) == 0)
        *denied = c.packets;
    return *text ? 0 : -1;
}

void hb_egress_teardown(const hb_sandbox_t *sb)
{
    char path[2 * HB_HOSTPATH_MAX];
    uint32_t a = addr_of(sb->ip);
    pthread_mutex_lock(&g_lock);
    if (hb_sbdir_file(path, sizeof path, sb->dir, HB_SBDIR_EGRESS, NULL) == 0)
        unlink(path);
    if (a && sb->rt->net.ok)
        hb_egress_nft_flush(sb->rt->net.bridge, a);
    pthread_mutex_unlock(&g_lock);
}

void hb_egress_refill(const hb_runtime_t *rt, const char *ip, const char *dir)
{
    hb_egress_t p;
    if (!hb_egress_load(dir, &p))
        return;   /* marked but unreadable: it stays denying everything */
    int r = hb_egress_nft_apply(rt->net.bridge, addr_of(ip), &p);
    if (r < 0)
        HB_LOG_WARN("egress policy of %s: %s (it reaches nothing until set again)", ip,
                    strerror(-r));
    hb_egress_free(&p);
}
