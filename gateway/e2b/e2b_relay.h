/* A process's output stream read ahead of its client (e2b_relay.c).
 *
 * init keeps 2 MiB of a process's output and does not hold a command back
 * while a reader lags, but E2B's envd does: its SDKs expect every byte of
 * `commands.run` and read a stream no faster than JavaScript parses it
 * (about 10 MB/s). So a thread drains init's stream into a bounded queue
 * (HB_RELAY_MAX per stream, HB_RELAY_BUDGET for all) while the civetweb
 * worker writes to the client: a burst of output up to the queue plus
 * init's ring arrives complete; past both, init drops the oldest bytes as
 * it does for every reader. */
#ifndef HB_E2B_RELAY_H
#define HB_E2B_RELAY_H

#include "proc.h"

#define HB_RELAY_MAX    (16u << 20)
#define HB_RELAY_BUDGET (256u << 20)

typedef struct hb_e2b_relay hb_e2b_relay_t;

/* Start reading st (owned from now on: closed by the reading thread).
 * NULL with *e; st is then closed. */
hb_e2b_relay_t *hb_e2b_relay_start(hb_proc_stream_t *st, hb_err_t *e);
/* As hb_proc_next: 0 with *ev (valid until the next call), 1 after
 * timeout_ms with nothing, -1 with *e (the stream's error). Events after
 * an EXIT, END or error never come. */
int hb_e2b_relay_next(hb_e2b_relay_t *r, hb_proc_event_t *ev, int timeout_ms, hb_err_t *e);
/* Stop the reader, wait for it (at most its 1 s poll) and free (NULL-safe). */
void hb_e2b_relay_stop(hb_e2b_relay_t *r);

#endif
