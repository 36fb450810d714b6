/* A sandbox's egress policy (issue 16), host side: kept in its state dir
 * (HB_SBDIR_EGRESS, canonical JSON), enforced by its nftables elements
 * (egress_nft.h) and by the DNS forwarder (dnsfwd.h), which reads the
 * file. See README "Egress policy". */
#ifndef HB_EGRESS_H
#define HB_EGRESS_H

#include <stdint.h>

#include "egress_policy.h"
#include "runtime.h"

/* At create, after the address is claimed: spec.egress (NULL: none)
 * stored and enforced before the sandbox's first packet. */
int  hb_egress_prepare(const hb_sandbox_t *sb, hb_err_t *e);
/* Replace the policy (text: a PUT body; an empty policy removes it);
 * *canon: the policy now in force (malloc'd, "" when none). Applies to new
 * connections at once; established ones are kept (conntrack). */
int  hb_egress_set(const hb_sandbox_t *sb, const char *text, char **canon, hb_err_t *e);
/* The policy in force (malloc'd JSON text, NULL: none) and the packets it
 * dropped so far. 0, or -1 when the stored policy cannot be read. */
int  hb_egress_get(const hb_sandbox_t *sb, char **text, uint64_t *denied);
/* The policy stored in the state dir dir into p; false when there is none
 * (or it is unreadable: logged). */
bool hb_egress_load(const char *dir, hb_egress_t *p);
/* Held by the forwarder from reading a policy to adding what an answer
 * taught (dnsfwd_learn): a PUT or a teardown then comes wholly before
 * (its flush removes the addresses) or wholly after (the answer is judged
 * by the new policy), never between. */
void hb_egress_learn_lock(void);
void hb_egress_learn_unlock(void);
/* Teardown: the policy file first (an answer still upstream then learns
 * nothing, dnsfwd.h), then every element of the address (a failure
 * halfway included). */
void hb_egress_teardown(const hb_sandbox_t *sb);
/* Daemon start, after the ruleset: the lists of a live sandbox marked egress. */
void hb_egress_refill(const hb_runtime_t *rt, const char *ip, const char *dir);

#endif
