/* E2B compatibility (docs/e2b.md): the official E2B SDKs, pointed at this
 * daemon with E2B_API_URL and E2B_SANDBOX_URL, drive ordinary HiveBox
 * sandboxes. One port serves both of E2B's planes:
 *
 *   - the control plane (E2B's REST API: /sandboxes, /v2/sandboxes, ...),
 *     authenticated by X-API-KEY (e2b_api.c);
 *   - the in-sandbox plane (E2B's envd: the Connect services process.Process
 *     and filesystem.Filesystem, GET /health, GET/POST /files): every request
 *     that carries an E2b-Sandbox-Id header, authenticated by the sandbox's
 *     own X-Access-Token (e2b_envd.c).
 *
 * Nothing here is a second runtime: each call becomes the lease operations
 * (lease.h) or actor messages the REST API uses. */
#ifndef HB_E2B_H
#define HB_E2B_H

#include <stdbool.h>

#include "gw_internal.h"

/* The envd version reported to the SDKs (envdVersion). The SDKs switch
 * features on by it (their envd/versions.ts), so it is never higher than
 * what is implemented here. */
#define HB_E2B_ENVD_VERSION "0.5.7"

/* The header that sends a request to the in-sandbox plane. */
#define HB_E2B_SANDBOX_HEADER "E2b-Sandbox-Id"

/* Whether the request is for the in-sandbox plane (it has the header). */
bool hb_e2b_is_envd(const struct mg_connection *c);
/* The in-sandbox plane; checks its own token. */
int  hb_e2b_envd(hb_req_t *r);
/* The control plane (route HB_RT_E2B); checks X-API-KEY itself. */
int  hb_e2b_api(hb_req_t *r);

#endif
