/* The output of one REST exec, shared by the gateway thread that answers
 * the request and the operation thread that runs the command (sup_ops.c),
 * so megabytes of output never go through a message: the op thread writes
 * into the sink, the reply message carries only the exit status, and the
 * gateway streams the JSON answer straight from the sink.
 *
 * The gateway opens a sink and sends its id in SB_EXEC (`handle`); the op
 * thread adopts it by id. Ids, not pointers, travel in messages, because
 * the gateway may give up waiting (timeout, shutdown) and close the sink
 * while the request is still queued: a closed id is simply not found, and
 * the op thread then discards the output. A sink is freed, with its budget
 * (hb_outbuf_free), when both sides have let go. */
#ifndef HB_EXEC_SINK_H
#define HB_EXEC_SINK_H

#include <stdint.h>

#include "runtime.h"

typedef struct hb_sink hb_sink_t;

/* Gateway: a new registered sink and its id; NULL when out of memory. */
hb_sink_t   *hb_sink_open(uint64_t *id);
/* Gateway: unregister and let go. */
void         hb_sink_close(hb_sink_t *s);
/* Op thread: take a reference, or NULL when the gateway closed it already. */
hb_sink_t   *hb_sink_adopt(uint64_t id);
/* Op thread: let go (after the last write, before replying). */
void         hb_sink_put(hb_sink_t *s);
/* The buffers: written by the op thread between adopt and put, read by the
 * gateway only after the reply arrived (the put's lock orders the two). */
hb_outbuf_t *hb_sink_buf(hb_sink_t *s);
/* Sinks open now (for tests). */
size_t       hb_sink_count(void);

#endif
