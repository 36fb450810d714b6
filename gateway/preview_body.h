/* Request bodies of the preview routes (untrusted: fuzzed by
 * tests/fuzz/fuzz_preview.c). Unknown members are refused by name. */
#ifndef HB_PREVIEW_BODY_H
#define HB_PREVIEW_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"

#define HB_PV_EXPIRES_DEFAULT 3600

/* PUT .../ports/:port {"public": bool} (required). */
int hb_pv_parse_public(const char *body, size_t len, bool *public_port, hb_err_t *e);
/* POST .../ports/:port/url {"expires_in": s} (optional, 1 s to 30 days;
 * an empty body: the default). */
int hb_pv_parse_expires(const char *body, size_t len, int64_t *secs, hb_err_t *e);

#endif
