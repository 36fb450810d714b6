/* The egress sets of a sandbox (issue 16) in the inet table of net_rules.c,
 * changed with libmnl (net_elem.c), never libnftables (whose cache refresh
 * dumps the host's whole ruleset per command):
 *
 *   egress_on      ipv4_addr                  sandboxes with a policy
 *   egress_denied  ipv4_addr, counter         same; counts the denied packets
 *   egress_allow   ipv4_addr . ipv4_addr, interval   allow_out CIDRs (an empty
 *                                             allow_out: sandbox . 0.0.0.0/0)
 *   egress_deny    ipv4_addr . ipv4_addr, interval   deny_out CIDRs
 *   egress_dyn     ipv4_addr . ipv4_addr, timeout    addresses the DNS forwarder
 *                                             answered for an allowed name
 *
 * Every key starts with the sandbox's address, so one sandbox's elements
 * are found by a dump of its sets filtered on the first four bytes. */
#ifndef HB_EGRESS_NFT_H
#define HB_EGRESS_NFT_H

#include <stdint.h>

#include "egress_policy.h"

/* Replace sb_ip's elements by those of p (NULL or empty: none, the
 * sandbox is unrestricted). 0 or -errno; after a failure the sandbox
 * is left denying everything (hb_egress_nft_flush removes that). */
int hb_egress_nft_apply(const char *table, uint32_t sb_ip, const hb_egress_t *p);
/* Remove every element of sb_ip (absent: fine). */
void hb_egress_nft_flush(const char *table, uint32_t sb_ip);
/* sb_ip may reach addr (both network order) for timeout_ms. 0 or -errno. */
int hb_egress_nft_dyn_add(const char *table, uint32_t sb_ip, uint32_t addr, uint64_t timeout_ms);
/* cb(sandbox address, denied packets) for each sandbox with a policy. 0 or -errno. */
int hb_egress_nft_denied(const char *table, void (*cb)(void *ud, uint32_t ip, uint64_t packets),
                         void *ud);

#endif
