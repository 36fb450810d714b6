/* Images as the API shows them (gw_image.c), shared by GET /api/v1/images
 * (gw_catalog.c), GET|DELETE /api/v1/images/:name and the snapshot routes
 * (gw_snapshot.c). */
#ifndef HB_GW_IMAGE_H
#define HB_GW_IMAGE_H

#include <jansson.h>

#include "gw_internal.h"
#include "messages.h"

/* {name, ready, state, os?, created_at?, parent, kind, size_bytes, source?}
 * (progress is the caller's). NULL on OOM. */
json_t *hb_json_image(const hb_catitem_t *it);

/* SB_SNAPSHOT of sandbox id as image name (kind snapshot | fork | build):
 * 0 with *rep (items[0] the image, duration_ms, frozen_ms) to clear, or -1
 * with *e (gw_snapshot.c). */
int hb_gw_snapshot_call(hb_req_t *r, const char *id, const char *name, const char *kind,
                        hb_msg_t *rep, hb_err_t *e);

#endif
