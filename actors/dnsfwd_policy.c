/* The forwarder's decisions (see dnsfwd.h): who asks, may it ask, and
 * what an answer lets it reach. Reads files only: any thread may call. */
#include "dnsfwd.h"
#include "dns_msg.h"
#include "egress.h"
#include "egress_nft.h"
#include "sbdir.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool dnsfwd_owner(const hb_runtime_t *rt, uint32_t src, char id[64])
{
    char path[HB_HOSTPATH_MAX + 40], ip[16];
    struct in_addr a = {.s_addr = src};
    inet_ntop(AF_INET, &a, ip, sizeof ip);
    snprintf(path, sizeof path, "%s/netaddrs/%s", rt->data_dir, ip);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, id, 63);
    close(fd);
    if (n <= 0)
        return false;
    id[n] = '\0';
    return hb_name_valid(id);
}

/* The policy of the sandbox at src; false: none (or no such sandbox). */
static bool policy_of(const hb_runtime_t *rt, uint32_t src, hb_egress_t *p)
{
    char id[64], dir[HB_HOSTPATH_MAX + 80];
    memset(p, 0, sizeof *p);
    return dnsfwd_owner(rt, src, id) &&
           hb_sbdir_path(dir, sizeof dir, rt->data_dir, id, NULL) == 0 && hb_egress_load(dir, p);
}

size_t dnsfwd_judge(const dnsfwd_ctx_t *c, uint32_t src, const uint8_t *q, size_t len,
                    bool *policy, uint8_t *out, size_t cap)
{
    hb_egress_t p;
    *policy = policy_of(c->rt, src, &p);
    if (!*policy)
        return 0;
    char name[HB_DNS_NAME_MAX];
    uint16_t qtype = 0;
    int qend = hb_dns_question(q, len, name, &qtype);
    bool ok = qend > 0 && hb_egress_name_allowed(&p, name);
    hb_egress_free(&p);
    if (ok)
        return 0;
    if (qend <= 0)
        return DNSFWD_DROP;   /* not a plain query: nothing to answer it with */
    size_t n = hb_dns_reply_empty(q, (size_t)qend, HB_DNS_RCODE_REFUSED, out, cap);
    return n ? n : DNSFWD_DROP;
}

typedef struct {
    const dnsfwd_ctx_t *c;
    uint32_t            src;
} learn_t;

static void on_a(void *ud, const uint8_t addr[4], uint32_t ttl)
{
    const learn_t *l = ud;
    uint32_t a;
    memcpy(&a, addr, 4);
    if (ttl < HB_DNSFWD_TTL_MIN)
        ttl = HB_DNSFWD_TTL_MIN;
    if (ttl > HB_DNSFWD_TTL_MAX)
        ttl = HB_DNSFWD_TTL_MAX;
    hb_egress_nft_dyn_add(l->c->rt->net.bridge, l->src, a, (uint64_t)ttl * 1000);
}

/* Judged again against the policy in force now: a PUT (or a destroy) that
 * came while the query was upstream must not be undone by its answer. */
void dnsfwd_learn(const dnsfwd_ctx_t *c, uint32_t src, const uint8_t *a, size_t len)
{
    hb_egress_t p;
    char name[HB_DNS_NAME_MAX];
    uint16_t qtype = 0;
    hb_egress_learn_lock();   /* read and add as one step against a PUT */
    if (policy_of(c->rt, src, &p)) {
        bool ok = hb_dns_answer_question(a, len, name, &qtype) > 0 &&
                  hb_egress_name_allowed(&p, name);
        hb_egress_free(&p);
        learn_t l = {.c = c, .src = src};
        if (ok)
            hb_dns_each_a(a, len, on_a, &l);
    }
    hb_egress_learn_unlock();
}
