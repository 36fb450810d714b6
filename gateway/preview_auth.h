/* Who may open a preview (DESIGN.md decision 15: no admin key in a URL).
 *
 *   admin key       Authorization: Bearer <key> (API clients);
 *   preview token   X-HiveBox-Preview-Token: <token>: per sandbox, derived
 *                   from its MCP token (so it survives restarts and dies
 *                   with the sandbox), shown at create and by GET .../ports;
 *   signed URL      ?hb_exp=<unix s>&hb_sig=<hex>: HMAC-SHA256 under the
 *                   daemon's preview secret (<data-dir>/preview_secret,
 *                   0600, kept across restarts) over the sandbox's id and
 *                   creation time, the port and the expiry; a GET with a
 *                   valid one sets the same pair as a cookie for that host
 *                   (or path) and redirects to the URL without them;
 *   public port     PUT .../ports/:port {"public": true}.
 * Everything of ours is stripped before the request reaches the service. */
#ifndef HB_PREVIEW_AUTH_H
#define HB_PREVIEW_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hberr.h"
#include "lease.h"

#define HB_PV_TOKEN_LEN  40
#define HB_PV_SIG_LEN    64
#define HB_PV_TOKEN_HDR  "X-HiveBox-Preview-Token"
#define HB_PV_COOKIE     "hb_preview"
#define HB_PV_EXPIRES_MAX (30LL * 24 * 3600)   /* a signed URL lives at most 30 days */

/* Once at start, before any request: the secret (made on first use), the
 * host form's domain (NULL: off), the connection caps. */
int hb_pv_setup(const char *data_dir, const char *domain, int per_sandbox, int total,
                hb_err_t *e);
const char *hb_pv_domain(void);
int hb_pv_cap_sandbox(void);
int hb_pv_cap_total(void);

/* The sandbox's preview token from its MCP token. */
void hb_pv_token_of(const char *mcp_token, char out[HB_PV_TOKEN_LEN + 1]);
/* Its "preview_token" member in a create (or fork) answer j. */
void hb_pv_token_show(json_t *j, const char *mcp_token);
/* The leased sandbox's: 0, or -1 when it has no MCP token. */
int hb_pv_token(const hb_lease_t *l, char out[HB_PV_TOKEN_LEN + 1]);

/* The signature of (sandbox, port, expiry). */
void hb_pv_sign(const hb_lease_t *l, unsigned port, int64_t exp, char out[HB_PV_SIG_LEN + 1]);
/* A presented expiry and signature: 1 valid, 0 wrong, -1 expired (a
 * correct signature past its time). Constant time in the signature. */
int hb_pv_sig_check(const hb_lease_t *l, unsigned port, const char *exp, const char *sig);

#endif
