/* PTY terminals over WebSocket (civetweb's own framing; no framer here).
 *
 * The gateway answers every request from begin_request; a WebSocket route
 * validates there (auth or ticket, upgrade headers, the process, the stream
 * limit), attaches to the process and parks the session as the
 * connection's user data, then returns 0 so that civetweb completes the
 * upgrade and runs the handlers hb_ws_register installed. From then on:
 *   - the civetweb worker reads the client's frames (binary: input; text:
 *     JSON control, resize and signal) and sends them to init;
 *   - a pump thread of the session reads init (hb_proc_next) and writes
 *     frames (mg_websocket_write, which holds mg_lock_connection).
 * The worker stays "busy" for the idle-connection limits (gw_conns.h) for
 * the whole session, so a terminal is never closed for being quiet; a dead
 * peer is found by civetweb's ping-pong (HB_WS_PING_MS). end_request frees
 * whatever a session still holds, also when civetweb never ran it. */
#ifndef HB_GW_WS_H
#define HB_GW_WS_H

#include <civetweb.h>
#include <stdint.h>

#include "lease.h"
#include "proc.h"

#define HB_WS_PING_MS    30000   /* civetweb pings a quiet client this often */
#define HB_WS_TEXT_MAX   4096    /* a control frame */
#define HB_WS_CLOSE_WAIT_MS 5000 /* after our close: the client's answer */
#define HB_WS_CLOSE_TAKEN 4001   /* another client attached */

typedef struct hb_ws_sess hb_ws_sess_t;

/* After mg_start: the handlers for every /api/v1/hiveboxes/... upgrade. */
void hb_ws_register(struct mg_context *ctx);
/* Whether hb_ws_register ran (upgrades before it answer 503). */
bool hb_ws_ready(void);
/* Take over the lease, the attached stream and one stream count of
 * id (hb_streams_enter done): parked on c for the WebSocket handlers.
 * hello is the process as the attach found it, offset where its output
 * starts. Everything is released on failure too: 0, or -1 with *e. */
int  hb_ws_park(struct mg_connection *c, hb_lease_t *l, hb_proc_stream_t *st,
                const hb_proc_info_t *hello, uint64_t offset, hb_err_t *e);
/* end_request: release what the connection's session still holds. */
void hb_ws_end(const struct mg_connection *c);

#endif
