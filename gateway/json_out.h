/* Actor replies -> the API's JSON shapes (the seed's field names and forms).
 * Each returns a new json_t (caller decrefs) or NULL on OOM. */
#ifndef HB_JSON_OUT_H
#define HB_JSON_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

/* opencode: the daemon has OpenCode enabled, so each sandbox shows its
 * agent's opencode_url (the seed). */
/* 201 of POST /hiveboxes. */
json_t *hb_json_created(const hb_sbinfo_t *s, bool opencode);
/* GET /hiveboxes/:id: the seed's fields plus expires_at, ttl_seconds,
 * commands_executed and live usage. */
json_t *hb_json_sandbox(const hb_sbinfo_t *s, int64_t now, bool opencode);
/* GET /hiveboxes. */
json_t *hb_json_list(const hb_sbinfo_t *s, size_t n, int64_t now, bool opencode);
/* One row of it (issue 19: rendered once per change by list_row.c). */
json_t *hb_json_list_item(const hb_sbinfo_t *s, int64_t now, bool opencode);
/* GET /:id/files/list; truncated appears only when true. */
json_t *hb_json_entries(const hb_msg_t *r);
/* GET /hiveboxes/:id/stats from two readings window_ms apart (a: the
 * first; CPU % over that window, the rest from b). */
json_t *hb_json_stats(const hb_sbinfo_t *a, const hb_sbinfo_t *b, int64_t window_ms, int64_t now);
/* GET /analytics. */
json_t *hb_json_samples(const hb_msg_t *r, int interval_s);
/* One sample of it (issue 19: rendered once per sample by the metrics actor). */
json_t *hb_json_sample(const hb_sample_t *s);
/* {"error": msg} */
json_t *hb_json_error(const char *msg);

/* Serialise compactly, reals with sensible precision; malloc'd. */
char *hb_json_text(const json_t *j, size_t *len);

#endif
