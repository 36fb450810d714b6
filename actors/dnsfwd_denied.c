/* Denied counters of the egress policies (see dnsfwd.h). The kernel counts
 * (egress_denied set, one counter per sandbox with a policy); this reads
 * them once a second with one netlink dump, rather than taking every
 * dropped packet to user space (NFLOG), so a sandbox hammering a denied
 * address costs the daemon nothing more. */
#include "dnsfwd.h"
#include "egress_nft.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACKED_MAX 16384   /* a /18's worth of sandboxes with a policy */

typedef struct {
    uint32_t ip;
    uint64_t packets;   /* as last read */
    bool     seen;      /* in this round's dump */
    char     id[64];    /* its sandbox when first seen ("" unknown) */
} seen_t;

struct dnsfwd_denied {
    seen_t  *v;
    size_t   n;
    uint64_t total;     /* all sandboxes, since the daemon started */
};

typedef struct {
    dnsfwd_denied_t    *d;
    const hb_runtime_t *rt;
    zsock_t            *metrics;
} round_t;

dnsfwd_denied_t *dnsfwd_denied_new(void)
{
    dnsfwd_denied_t *d = calloc(1, sizeof *d);
    if (d && !(d->v = calloc(TRACKED_MAX, sizeof *d->v))) {
        free(d);
        d = NULL;
    }
    return d;
}

void dnsfwd_denied_free(dnsfwd_denied_t *d)
{
    if (d)
        free(d->v);
    free(d);
}

static seen_t *find(dnsfwd_denied_t *d, uint32_t ip)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].ip == ip)
            return &d->v[i];
    if (d->n == TRACKED_MAX)
        return NULL;
    d->v[d->n] = (seen_t){.ip = ip};
    return &d->v[d->n++];
}

/* The sandbox holding ip now, remembered (an address changes hands only
 * after its elements are gone, and with them this entry). */
static const char *id_of(seen_t *s, const hb_runtime_t *rt)
{
    if (!s->id[0] && !dnsfwd_owner(rt, s->ip, s->id))
        s->id[0] = '\0';
    return s->id[0] ? s->id : NULL;
}

static void publish(const round_t *r, seen_t *s, uint64_t delta, uint64_t packets)
{
    char text[16];
    struct in_addr a = {.s_addr = s->ip};
    const char *id = id_of(s, r->rt);
    if (!id)
        return;
    inet_ntop(AF_INET, &a, text, sizeof text);
    hb_msg_t m = {.type = HB_MSG_EV_NET_DENIED, .id = (char *)id, .net_ip = text, .count = delta,
                  .denied = packets, .timestamp = (int64_t)time(NULL)};
    hb_bus_send(r->metrics, &m);   /* borrows */
}

static void on_count(void *ud, uint32_t ip, uint64_t packets)
{
    const round_t *r = ud;
    seen_t *s = find(r->d, ip);
    if (!s)
        return;
    s->seen = true;
    if (packets < s->packets) {   /* a new sandbox on the address */
        s->packets = 0;
        s->id[0] = '\0';
    }
    if (packets > s->packets) {
        r->d->total += packets - s->packets;
        publish(r, s, packets - s->packets, packets);
    }
    s->packets = packets;
}

void dnsfwd_denied_poll(dnsfwd_denied_t *d, const hb_runtime_t *rt, zsock_t *metrics)
{
    round_t r = {.d = d, .rt = rt, .metrics = metrics};
    for (size_t i = 0; i < d->n; i++)
        d->v[i].seen = false;
    if (hb_egress_nft_denied(rt->net.bridge, on_count, &r) < 0)
        return;
    for (size_t i = 0; i < d->n;) {   /* gone with their sandbox */
        if (!d->v[i].seen)
            d->v[i] = d->v[--d->n];
        else
            i++;
    }
}

char *dnsfwd_denied_text(const dnsfwd_denied_t *d, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    fprintf(f, "# HELP hivebox_egress_denied_packets_total Packets egress policies dropped, "
               "all sandboxes, since the daemon started.\n"
               "# TYPE hivebox_egress_denied_packets_total counter\n"
               "hivebox_egress_denied_packets_total %" PRIu64 "\n"
               "# HELP hivebox_egress_policies Sandboxes with an egress policy.\n"
               "# TYPE hivebox_egress_policies gauge\nhivebox_egress_policies %zu\n",
            d->total, d->n);
    fputs("# HELP hivebox_sandbox_egress_denied_packets Packets a sandbox's egress policy "
          "dropped since it was set or the daemon started.\n"
          "# TYPE hivebox_sandbox_egress_denied_packets counter\n", f);
    for (size_t i = 0; i < d->n; i++) {   /* ids are names: nothing to escape */
        if (d->v[i].id[0])
            fprintf(f, "hivebox_sandbox_egress_denied_packets{id=\"%s\"} %" PRIu64 "\n",
                    d->v[i].id, d->v[i].packets);
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
