/* PTY terminals over WebSocket, framed by us (ws_frame.h), not civetweb.
 *
 * civetweb 1.15 collects each incoming frame whole before a handler sees
 * it, as long as its header says (up to 2^63 bytes): one client could make
 * the daemon hold gigabytes. So the gateway answers the upgrade itself:
 * begin_request validates (auth or ticket, upgrade headers, the process,
 * the stream limit), attaches to the process and runs the session to its
 * end on the civetweb worker, on the connection's socket:
 *   - the worker reads the client's frames as they arrive (binary: input,
 *     passed on in the pieces read; text: JSON control, resize and signal,
 *     at most HB_WS_TEXT_MAX) and sends them to init;
 *   - a pump thread of the session reads init (hb_proc_next) and writes
 *     frames; every frame goes out whole under the session's write lock.
 * With permessage-deflate agreed (ws_deflate.h) the pump compresses output
 * and the worker inflates input: each owns its half of the zlib state.
 * The worker stays "busy" for the idle-connection limits (gw_conns.h) for
 * the whole session, so a terminal is never closed for being quiet; a
 * silent client is pinged every HB_WS_PING_MS (its pong is a byte heard)
 * and dropped after HB_WS_DEAD_MS; one that takes no bytes for the request
 * timeout is dropped too. */
#ifndef HB_GW_WS_H
#define HB_GW_WS_H

#include <civetweb.h>
#include <stdint.h>

#include "lease.h"
#include "proc.h"

#define HB_WS_PING_MS    30000   /* a silent client is pinged this often */
#define HB_WS_DEAD_MS    180000  /* and dropped after this long without a byte */
#define HB_WS_TEXT_MAX   4096    /* a control frame */
#define HB_WS_CLOSE_WAIT_MS 5000 /* after our close: the client's answer */
#define HB_WS_CLOSE_TAKEN 4001   /* another client attached */
#define HB_WS_READ_BUF   (16 * 1024)

/* Take over the lease, the attached stream and one stream count of its
 * sandbox (hb_streams_enter done), answer the upgrade with 101 and serve
 * the session until it ends; everything is released in every case. hello
 * is the process as the attach found it, offset where its output starts,
 * send_ms how long a client may take no bytes. 101 when the session ran;
 * -1 with *e when nothing was sent (the caller answers). */
int hb_ws_run(struct mg_connection *c, hb_lease_t *l, hb_proc_stream_t *st,
              const hb_proc_info_t *hello, uint64_t offset, int send_ms, hb_err_t *e);

#endif
