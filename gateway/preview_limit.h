/* Concurrent preview connections. Each holds a civetweb worker for as long
 * as it lasts (a WebSocket, an event stream, a download), so they are
 * capped per sandbox (--preview-max-conns) and in all
 * (--preview-max-total, kept below the request workers so that previews
 * can never take the API's workers): past either, 429. */
#ifndef HB_PREVIEW_LIMIT_H
#define HB_PREVIEW_LIMIT_H

#include "hberr.h"

/* One more for sandbox id under caps per_sandbox and total: 0, or -1 with
 * HB_E_LIMIT naming the cap reached. */
int  hb_pv_enter(const char *id, int per_sandbox, int total, hb_err_t *e);
void hb_pv_leave(const char *id);   /* once per successful enter */

#endif
