/* A sandbox's egress policy (issue 16): allow_out / deny_out lists of
 * CIDRs (v4, v6), single addresses, domain names and wildcards "*.d".
 * Parsed from untrusted JSON (create body, PUT .../network, the record's
 * egress.json), bounded: at most HB_EGRESS_MAX entries in all.
 *
 * Meaning (README "Egress policy"):
 *   no entry at all       no policy: the sandbox egresses as without one
 *   allow_out non-empty   only what it names (and names resolved through an
 *                         allowed domain) is reachable
 *   deny_out              refused even when allow_out also matches
 * IPv6 entries are kept and shown; sandboxes have no IPv6 route. */
#ifndef HB_EGRESS_POLICY_H
#define HB_EGRESS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"

#define HB_EGRESS_MAX     512
#define HB_EGRESS_NAME_MAX 253   /* a domain name, text form without the final dot */

typedef enum { HB_EG_V4, HB_EG_V6, HB_EG_NAME, HB_EG_WILD } hb_eg_kind_t;

typedef struct {
    hb_eg_kind_t kind;
    uint8_t      prefix;                        /* CIDR length; 32/128 for an address */
    uint8_t      addr[16];                      /* network order, host bits cleared */
    char         name[HB_EGRESS_NAME_MAX + 1];  /* NAME: the name; WILD: after "*." */
} hb_eg_entry_t;

typedef struct {
    hb_eg_entry_t *allow, *deny;
    size_t         n_allow, n_deny;
} hb_egress_t;

/* obj: a JSON object text with optional "allow_out", "deny_out" arrays of
 * strings and no other member (len bytes, not NUL-terminated). Errors are
 * HB_E_INVALID naming the field and entry: "allow_out[3]: ...". */
int  hb_egress_parse(const char *text, size_t len, hb_egress_t *p, hb_err_t *e);
/* Same from an already parsed jansson value (json_t *), for the create body. */
int  hb_egress_parse_json(const void *json, hb_egress_t *p, hb_err_t *e);
void hb_egress_free(hb_egress_t *p);
bool hb_egress_empty(const hb_egress_t *p);
/* {"allow_out":[...],"deny_out":[...]} in canonical form (lower case,
 * host bits cleared); malloc'd, NULL when out of memory. */
char *hb_egress_text(const hb_egress_t *p);
/* Whether a query for name (as asked: any case, final dot or not) may be
 * answered. deny_out first; then an empty allow_out allows any name. */
bool hb_egress_name_allowed(const hb_egress_t *p, const char *name);

#endif
