/* Egress set elements (see egress_nft.h). */
#include "egress_nft.h"
#include "net.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct {
    uint8_t  key[8], key_end[8];
    size_t   klen, kend_len;
    uint64_t packets;
} dumped_t;

typedef struct {
    uint32_t  match;      /* keep elements whose key starts with it; 0: all */
    dumped_t *v;
    size_t    n, cap;
    int       err;
} dump_t;

static void parse_counter(const struct nlattr *expr, uint64_t *packets)
{
    const struct nlattr *a, *name = NULL, *data = NULL;
    mnl_attr_for_each_nested(a, expr) {
        if (mnl_attr_get_type(a) == NFTA_EXPR_NAME)
            name = a;
        else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA)
            data = a;
    }
    if (!name || !data || strcmp(mnl_attr_get_str(name), "counter") != 0)
        return;
    mnl_attr_for_each_nested(a, data) {
        if (mnl_attr_get_type(a) == NFTA_COUNTER_PACKETS && mnl_attr_get_payload_len(a) == 8)
            *packets = be64toh(mnl_attr_get_u64(a));
    }
}

/* The NFTA_DATA_VALUE inside a key attribute, at most 8 bytes. */
static size_t key_value(const struct nlattr *key, uint8_t out[8])
{
    const struct nlattr *a;
    mnl_attr_for_each_nested(a, key) {
        size_t len = mnl_attr_get_payload_len(a);
        if (mnl_attr_get_type(a) == NFTA_DATA_VALUE && len >= 4 && len <= 8) {
            memcpy(out, mnl_attr_get_payload(a), len);
            return len;
        }
    }
    return 0;
}

/* NFTA_SET_ELEM_EXPRESSIONS: a list of expressions (kernels from 5.12). */
static void parse_counters(const struct nlattr *list, uint64_t *packets)
{
    const struct nlattr *b;
    mnl_attr_for_each_nested(b, list) {
        parse_counter(b, packets);
    }
}

static void take_elem(dump_t *d, const struct nlattr *el)
{
    dumped_t x = {0};
    const struct nlattr *a;
    mnl_attr_for_each_nested(a, el) {
        uint16_t type = mnl_attr_get_type(a);
        if (type == NFTA_SET_ELEM_KEY)
            x.klen = key_value(a, x.key);
        else if (type == NFTA_SET_ELEM_KEY_END)
            x.kend_len = key_value(a, x.key_end);
        else if (type == NFTA_SET_ELEM_EXPR)
            parse_counter(a, &x.packets);
        else if (type == NFTA_SET_ELEM_EXPRESSIONS)
            parse_counters(a, &x.packets);
    }
    if (x.klen < 4 || (d->match && memcmp(x.key, &d->match, 4) != 0))
        return;
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        dumped_t *nv = realloc(d->v, cap * sizeof *nv);
        if (!nv) {
            d->err = -ENOMEM;
            return;
        }
        d->v = nv;
        d->cap = cap;
    }
    d->v[d->n++] = x;
}

static int on_dump_msg(const struct nlmsghdr *h, void *ud)
{
    const struct nlattr *a, *el;
    mnl_attr_for_each(a, h, sizeof(struct nfgenmsg)) {
        if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
            continue;
        mnl_attr_for_each_nested(el, a) {
            take_elem(ud, el);
        }
    }
    return MNL_CB_OK;
}

/* Every element of set (whose key starts with d->match, when set). */
static int dump_set(const char *table, const char *set, dump_t *d)
{
    char buf[16384];   /* MNL_SOCKET_BUFFER_SIZE is not a constant */
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    if (!nl)
        return -errno;
    int r = 0;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        r = -errno;
        goto out;
    }
    uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
    struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
    h->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;
    h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h->nlmsg_seq = seq;
    struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof *g);
    g->nfgen_family = NFPROTO_INET;
    g->version = NFNETLINK_V0;
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, table);
    mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, set);
    if (mnl_socket_sendto(nl, h, h->nlmsg_len) < 0) {
        r = -errno;
        goto out;
    }
    for (;;) {
        ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (got < 0) {
            r = -errno;
            break;
        }
        int cr = mnl_cb_run(buf, (size_t)got, seq, portid, on_dump_msg, d);
        if (cr <= MNL_CB_STOP) {
            r = cr < 0 ? -errno : 0;
            break;
        }
    }
out:
    mnl_socket_close(nl);
    return r ? r : d->err;
}

static void put_elem(hb_net_elem_t *el, const char *set, uint32_t a, uint32_t b)
{
    memset(el, 0, sizeof *el);
    el->set = set;
    memcpy(el->key, &a, 4);
    memcpy(el->key + 4, &b, 4);
    el->klen = 8;
}

/* Element changes in batches the size net_elem.c takes. */
static int send_all(const char *table, uint16_t msg, uint16_t flags, const hb_net_elem_t *els,
                    size_t n)
{
    for (size_t i = 0; i < n; i += HB_NET_ELEM_BATCH_MAX) {
        size_t k = n - i < HB_NET_ELEM_BATCH_MAX ? n - i : HB_NET_ELEM_BATCH_MAX;
        int r = hb_net_elem_batch(NFPROTO_INET, table, msg, flags, els + i, (int)k);
        if (r < 0)
            return r;
    }
    return 0;
}

static void flush_set(const char *table, const char *set, uint32_t ip)
{
    dump_t d = {.match = ip};
    if (dump_set(table, set, &d) == 0 && d.n) {
        hb_net_elem_t *els = calloc(d.n, sizeof *els);
        for (size_t i = 0; els && i < d.n; i++) {
            els[i].set = set;
            memcpy(els[i].key, d.v[i].key, d.v[i].klen);
            els[i].klen = d.v[i].klen;
            memcpy(els[i].key_end, d.v[i].key_end, d.v[i].kend_len);
            els[i].kend_len = d.v[i].kend_len;
        }
        if (els)
            send_all(table, NFT_MSG_DELSETELEM, 0, els, d.n);
        free(els);
    }
    free(d.v);
}

static void flush_lists(const char *table, uint32_t ip)
{
    flush_set(table, "egress_allow", ip);
    flush_set(table, "egress_deny", ip);
    flush_set(table, "egress_dyn", ip);
}

void hb_egress_nft_flush(const char *table, uint32_t ip)
{
    static const char *const one[] = {"egress_on", "egress_denied"};
    for (size_t i = 0; i < 2; i++) {
        hb_net_elem_t el = {.set = one[i], .klen = 4};
        memcpy(el.key, &ip, 4);
        hb_net_elem_batch(NFPROTO_INET, table, NFT_MSG_DELSETELEM, 0, &el, 1);  /* absent: fine */
    }
    flush_lists(table, ip);
}

static size_t put_cidrs(hb_net_elem_t *els, const char *set, uint32_t ip, const hb_eg_entry_t *v,
                        size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != HB_EG_V4)
            continue;   /* names: the forwarder; IPv6: sandboxes have no route */
        uint32_t start, host = v[i].prefix >= 32 ? 0 : 0xffffffffu >> v[i].prefix;
        memcpy(&start, v[i].addr, 4);
        put_elem(&els[k], set, ip, start);
        uint32_t end = htonl(ntohl(start) | host);
        memcpy(els[k].key_end, &ip, 4);
        memcpy(els[k].key_end + 4, &end, 4);
        els[k++].kend_len = 8;
    }
    return k;
}

/* Fail closed: the sandbox is marked first (everything denied), its lists
 * are rebuilt after; a failure leaves it denying everything, never open. */
int hb_egress_nft_apply(const char *table, uint32_t ip, const hb_egress_t *p)
{
    if (!p || hb_egress_empty(p)) {
        hb_egress_nft_flush(table, ip);
        return 0;
    }
    hb_net_elem_t on[2] = {{.set = "egress_denied", .klen = 4}, {.set = "egress_on", .klen = 4}};
    memcpy(on[0].key, &ip, 4);
    memcpy(on[1].key, &ip, 4);
    int r = hb_net_elem_batch(NFPROTO_INET, table, NFT_MSG_NEWSETELEM, NLM_F_CREATE, on, 2);
    if (r < 0)
        return r;
    flush_lists(table, ip);
    hb_net_elem_t *els = calloc(p->n_allow + p->n_deny + 1, sizeof *els);
    if (!els)
        return -ENOMEM;
    size_t n = put_cidrs(els, "egress_allow", ip, p->allow, p->n_allow);
    if (p->n_allow == 0) {   /* deny_out alone: everything else stays allowed */
        put_elem(&els[n], "egress_allow", ip, 0);
        memcpy(els[n].key_end, &ip, 4);
        memset(els[n].key_end + 4, 0xff, 4);
        els[n++].kend_len = 8;
    }
    n += put_cidrs(els + n, "egress_deny", ip, p->deny, p->n_deny);
    r = send_all(table, NFT_MSG_NEWSETELEM, NLM_F_CREATE, els, n);
    free(els);
    return r;
}

int hb_egress_nft_dyn_add(const char *table, uint32_t ip, uint32_t addr, uint64_t timeout_ms)
{
    hb_net_elem_t el;
    put_elem(&el, "egress_dyn", ip, addr);
    el.timeout_ms = timeout_ms;
    return hb_net_elem_batch(NFPROTO_INET, table, NFT_MSG_NEWSETELEM, NLM_F_CREATE, &el, 1);
}

int hb_egress_nft_denied(const char *table, void (*cb)(void *ud, uint32_t ip, uint64_t packets),
                         void *ud)
{
    dump_t d = {0};
    int r = dump_set(table, "egress_denied", &d);
    for (size_t i = 0; r == 0 && i < d.n; i++) {
        uint32_t ip;
        memcpy(&ip, d.v[i].key, 4);
        cb(ud, ip, d.v[i].packets);
    }
    free(d.v);
    return r;
}
