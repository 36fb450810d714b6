/* One event of the ZeroMQ feed (a msgpack map, schemas/events.md) as JSON,
 * for GET /api/v1/events. The maps come from our own actors, but the
 * conversion is bounded anyway: a frame over HB_EV_FRAME_MAX bytes or
 * nested deeper than HB_EV_DEPTH_MAX is refused, never half converted. Pure,
 * so it is unit tested. */
#ifndef HB_EV_JSON_H
#define HB_EV_JSON_H

#include <stddef.h>

#include "hberr.h"

#define HB_EV_FRAME_MAX (1u << 20)   /* a metrics.sample of 1,000 sandboxes is ~100 KiB */
#define HB_EV_DEPTH_MAX 8            /* the deepest event today: sample -> sandboxes -> one */

/* The map in buf[0..len) as compact JSON (malloc'd, NUL-terminated, one
 * line); NULL with *e set (HB_E_INVALID) when it is not one bounded map of
 * string keys, or HB_E_INTERNAL on out of memory. Strings that are not
 * UTF-8 and binary values are refused: JSON cannot carry them as they are. */
char *hb_ev_json(const void *buf, size_t len, size_t *out_len, hb_err_t *e);

#endif
