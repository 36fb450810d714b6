/* The DNS forwarder actor (issue 16, egress policy): serves the sockets
 * the runtime bound on the bridge address (rt->net.dns_udp, dns_tcp) and
 * forwards to the upstream (--dns-upstream ADDR[:PORT], default the first
 * resolver the runtime picked, net_dns.c).
 *
 * A query is judged by its source address (the bridge's sb_pre already
 * refuses spoofed ones): the sandbox holding it (<data>/netaddrs/<ip>) and
 * its policy file (egress.h). Without a policy it is forwarded as is. With
 * one, a name the policy does not allow is answered REFUSED; the A records
 * of an allowed name's answer go into the sandbox's egress_dyn set with
 * their TTL (at least HB_DNSFWD_TTL_MIN s) before the answer is passed on,
 * so the connection that follows the lookup is let through.
 *
 * Once a second it reads the per-sandbox denied counters (egress_nft.h)
 * and publishes network.denied for each sandbox whose count grew: at most
 * one event a second per sandbox. Its inbox answers METRICS_TEXT. */
#ifndef HB_DNSFWD_H
#define HB_DNSFWD_H

#include "actor.h"
#include "runtime.h"

#define HB_EP_DNSFWD       "inproc://hb-dnsfwd"
#define HB_DNSFWD_TTL_MIN  30      /* seconds an answered address stays allowed at least */
#define HB_DNSFWD_TTL_MAX  86400
#define HB_DNSFWD_PENDING  256     /* UDP queries in flight upstream; more are dropped */
#define HB_DNSFWD_PER_SB   32      /* of those, from one sandbox: a flood starves no other */
#define HB_DNSFWD_TCP_MAX  32      /* TCP connections served at once */
#define HB_DNSFWD_TCP_PER_SB 4     /* of those, from one source: one sandbox holds no others out */
#define HB_DNSFWD_WAIT_MS  3000    /* the upstream's time to answer */

typedef struct {
    hb_endpoints_t      ep;
    const hb_runtime_t *rt;
    const char         *upstream;   /* "ADDR[:PORT]"; NULL: rt->net.dns[0] */
} hb_dnsfwd_args_t;

/* NULL (no error) when the runtime has no forwarder sockets. */
zactor_t *hb_dnsfwd_new(const hb_dnsfwd_args_t *args, hb_err_t *e);

/* ---- internal to dnsfwd*.c ---- */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "egress_policy.h"

typedef struct {
    const hb_runtime_t *rt;
    struct sockaddr_in  up;
} dnsfwd_ctx_t;

/* dnsfwd_policy.c. What to do with query q from src (network order):
 * 0 forward (*policy: whether the answer must be learnt), DNSFWD_DROP, or
 * the length of the refusal written to out. */
#define DNSFWD_DROP ((size_t)-1)
size_t dnsfwd_judge(const dnsfwd_ctx_t *c, uint32_t src, const uint8_t *q, size_t len,
                    bool *policy, uint8_t *out, size_t cap);
/* An answer for a sandbox with a policy: its A records into egress_dyn. */
void   dnsfwd_learn(const dnsfwd_ctx_t *c, uint32_t src, const uint8_t *a, size_t len);
/* The sandbox id holding address src (false: none). */
bool   dnsfwd_owner(const hb_runtime_t *rt, uint32_t src, char id[64]);
/* dnsfwd_tcp.c: serve one accepted connection on a thread of its own. */
void   dnsfwd_tcp_serve(const dnsfwd_ctx_t *c, int fd);
/* At the actor's end: every connection shut, its thread awaited (they use
 * the runtime); bounded by an upstream wait. */
void   dnsfwd_tcp_stop(void);
/* dnsfwd_denied.c */
typedef struct dnsfwd_denied dnsfwd_denied_t;
dnsfwd_denied_t *dnsfwd_denied_new(void);
void   dnsfwd_denied_free(dnsfwd_denied_t *d);
void   dnsfwd_denied_poll(dnsfwd_denied_t *d, const hb_runtime_t *rt, zsock_t *metrics);
char  *dnsfwd_denied_text(const dnsfwd_denied_t *d, size_t *len);   /* Prometheus section */

#endif
