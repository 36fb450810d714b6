/* What a webhook carries: which events go out, their id, and the body
 *
 *   {"id": "evt_<24 hex>", "type": "<topic>", "timestamp": <unix s>,
 *    "data": {...the event's map, as schemas/events.md lists it...}}
 *
 * `data` is the event's msgpack map converted by gateway/ev_json.c, the
 * converter GET /api/v1/events uses, so both carry the same JSON. Pure
 * apart from the id's randomness; unit tested. */
#ifndef HB_WEBHOOK_PAYLOAD_H
#define HB_WEBHOOK_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"
#include "messages.h"

#define HB_WEBHOOK_ID_MAX 32   /* "evt_" 24 hex digits, NUL */

/* The lifecycle events webhooks deliver: sandbox.created, .destroyed,
 * .expired, .oom, .failed and process.exited. Not exec.finished (one per
 * command: a busy agent would flood its receiver), process.started or
 * metrics.sample (scrape /metrics instead). */
bool hb_webhook_wanted(hb_msg_type_t t);

/* A fresh id (96 random bits): one per event, the same on every retry and
 * for every URL, so a receiver can drop a duplicate. -1 if getrandom fails. */
int hb_webhook_new_id(char out[HB_WEBHOOK_ID_MAX]);

/* The body for the event map[0..len) of topic type (malloc'd, one line of
 * JSON, *out_len its length); NULL with *e when the map cannot be
 * converted (ev_json.h's bounds). */
char *hb_webhook_body(const char *id, const char *type, int64_t timestamp, const void *map,
                      size_t len, size_t *out_len, hb_err_t *e);

#endif
