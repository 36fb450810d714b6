/* Moving bytes between a preview client and a sandbox service's socket,
 * with fixed buffers: nothing is held beyond one buffer and the sockets'
 * own, so a slow side slows the other down (back-pressure) and a 200 MiB
 * transfer costs the daemon no more memory than a small one. The client's
 * socket and the bounded waits are rawsock.h's. */
#ifndef HB_PREVIEW_RELAY_H
#define HB_PREVIEW_RELAY_H

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

#define HB_PV_BUF (64 * 1024)

/* The request body from the client to the service: Content-Length bytes
 * as they are, or (chunked) re-framed in chunks as civetweb decodes them.
 * buf has HB_PV_BUF bytes. 0, or -1 when either side failed. */
int hb_pv_body_up(struct mg_connection *c, int up, bool chunked, char *buf, int idle_ms);

/* The service's bytes to the client until it closes (or idle_ms pass
 * without a byte). 0, or -1 when the client left. */
int hb_pv_body_down(int up, struct mg_connection *c, char *buf, int idle_ms);

/* After a 101: raw bytes both ways between the client's socket and the
 * service's until one side closes or both stay silent for idle_ms. */
void hb_pv_tunnel(int client, int up, char *buf, int idle_ms);

#endif
