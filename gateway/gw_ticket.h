/* WebSocket tickets: a browser cannot set an Authorization header on a
 * WebSocket, and the API key must never travel in a URL (logs, history,
 * Referer). So a client with the key asks for a ticket (POST .../ticket)
 * and opens the socket with ?ticket=: single use, valid HB_TICKET_TTL_S
 * seconds, good only for the sandbox and the target it was made for.
 *
 * The table is fixed (HB_TICKET_MAX entries, one mutex): expired and used
 * entries are reused; when every entry is live, a new ticket is refused
 * with HB_E_LIMIT (429) rather than growing or evicting a live one. */
#ifndef HB_GW_TICKET_H
#define HB_GW_TICKET_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"

#define HB_TICKET_TTL_S 30
#define HB_TICKET_MAX   1024
#define HB_TICKET_LEN   43    /* 32 random bytes, base64url without padding */

/* What a ticket opens: sandbox id and target ("terminal", or the pid or
 * tag of /processes/:sel/ws exactly as the ticket request named it). */
int  hb_ticket_issue(const char *id, const char *target, char out[HB_TICKET_LEN + 1], hb_err_t *e);
/* Use up ticket for (id, target): true if it was live and matched; it is
 * gone afterwards either way when it matched the text (single use). */
bool hb_ticket_redeem(const char *ticket, size_t len, const char *id, const char *target);
/* Live tickets now (tests, analytics). */
size_t hb_ticket_live(void);

#endif
