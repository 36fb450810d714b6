/* The egress policy routes and JSON (issue 16, gw_network.c). */
#ifndef HB_GW_NETWORK_H
#define HB_GW_NETWORK_H

#include <jansson.h>
#include <stdint.h>

#include "gw_internal.h"

/* GET/PUT /api/v1/hiveboxes/:id/network. */
int hb_h_network(hb_req_t *r);
/* {"enabled", "allow_out", "deny_out", "denied"} of a policy text (NULL or
 * "": none). */
json_t *hb_json_egress(const char *policy, uint64_t denied);

#endif
