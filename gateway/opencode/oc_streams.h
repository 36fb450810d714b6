/* Notes HiveBox adds to a sandbox's proxied OpenCode event streams.
 *
 * A prompt the gateway refuses (gw_agent.c) never reaches OpenCode, so
 * OpenCode cannot tell the clients that follow /event. HiveBox writes the
 * session.error event OpenCode would have sent into every open event stream
 * of that sandbox. A stream registers while it is open and all its writes go
 * through hb_oc_stream_write, under the stream's own lock; a note waits for
 * an event boundary (a blank line), so it never lands inside an upstream
 * event, and it is written by whichever thread finds the boundary first. */
#ifndef HB_OC_STREAMS_H
#define HB_OC_STREAMS_H

#include <stddef.h>

typedef struct hb_oc_stream hb_oc_stream_t;
/* Writes len bytes to the client; non-zero when it is gone. */
typedef int (*hb_oc_out_fn)(void *ud, const char *data, size_t len);

/* Register an open stream of sandbox id; out(ud, ...) stays valid until
 * close. NULL on OOM (the stream then simply gets no notes). */
hb_oc_stream_t *hb_oc_stream_open(const char *id, hb_oc_out_fn out, void *ud);
int  hb_oc_stream_write(hb_oc_stream_t *s, const char *data, size_t len);
/* Unregister and free (NULL is fine); notes still waiting are dropped. */
void hb_oc_stream_close(hb_oc_stream_t *s);

/* A session.error event for session (may be "") with message, to every
 * open stream of sandbox id. */
void hb_oc_streams_note_error(const char *id, const char *session, const char *message);

#endif
