/* Moving bytes between a preview client and a sandbox service's socket,
 * with fixed buffers: nothing is held beyond one buffer and the sockets'
 * own, so a slow side slows the other down (back-pressure) and a 200 MiB
 * transfer costs the daemon no more memory than a small one. */
#ifndef HB_PREVIEW_RELAY_H
#define HB_PREVIEW_RELAY_H

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

#define HB_PV_BUF (64 * 1024)

/* All n bytes to fd, waiting at most idle_ms for room each time. 0 or -1. */
int hb_pv_send_all(int fd, const void *buf, size_t n, int idle_ms);
/* Read what is there (waiting at most idle_ms): bytes read, 0 at EOF, -1. */
ssize_t hb_pv_recv(int fd, void *buf, size_t cap, int idle_ms);

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

/* on: the daemon is stopping, every preview wait ends within a second
 * (the gateway's start sets it off again). */
void hb_pv_stopping(bool on);

/* The socket of this request's client connection (civetweb does not hand
 * it out): the one whose local port and peer are the request's. The
 * handler holds that socket open, so -1 (none found) means it is no longer
 * connected: the client reset it. -2 when the daemon's fds cannot be read
 * (EMFILE): nothing is known. For the tunnel, where civetweb has nothing
 * more to read or write on the connection, and to watch a quiet stream's
 * client. */
int hb_pv_client_fd(const struct mg_request_info *ri);

#endif
