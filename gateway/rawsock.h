/* The client's own socket, for the connections the gateway takes over from
 * civetweb after their request head: previews' tunnels and quiet streams
 * (preview_relay.h) and terminals (gw_ws.h). Every wait is bounded and
 * ends within a second of a daemon stop. */
#ifndef HB_RAWSOCK_H
#define HB_RAWSOCK_H

#include <civetweb.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* All n bytes to fd, waiting at most idle_ms for room each time. 0 or -1. */
int hb_raw_send_all(int fd, const void *buf, size_t n, int idle_ms);
/* Read what is there (waiting at most idle_ms): bytes read, 0 at EOF, -1
 * with errno (ETIMEDOUT: idle_ms passed; ECANCELED: the daemon stops). */
ssize_t hb_raw_recv(int fd, void *buf, size_t cap, int idle_ms);
/* poll() for up to ms in slices, so that a daemon stop never waits on a
 * quiet connection: events (> 0), 0 when ms passed, -1 with errno
 * (ECANCELED: the daemon is stopping). */
int hb_raw_poll(struct pollfd *p, nfds_t n, int ms);

/* on: the daemon is stopping, every wait above ends within a second (the
 * gateway's start sets it off again). */
void hb_raw_stopping(bool on);

/* The socket of this request's client connection (civetweb does not hand
 * it out): the one whose local port and peer are the request's. The
 * handler holds that socket open, so -1 (none found) means it is no longer
 * connected: the client reset it. -2 when the daemon's fds cannot be read
 * (EMFILE): nothing is known. A scan of the daemon's fds: once a
 * connection, where civetweb has nothing more to read or write on it. */
int hb_raw_client_fd(const struct mg_request_info *ri);

#endif
