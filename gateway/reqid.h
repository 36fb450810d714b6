/* X-Request-Id: the client's own when it is sane, else a fresh one. Pure
 * but for getrandom, so it is unit tested and fuzzed. */
#ifndef HB_REQID_H
#define HB_REQID_H

#include <stdbool.h>

#include "log.h"   /* HB_LOG_REQID_MAX */

#define HB_REQID_HEADER "X-Request-Id"

/* 1..HB_LOG_REQID_MAX characters of [A-Za-z0-9._:-]: safe in a header, a
 * log line and a metric-free label, with no room for injection. */
bool hb_reqid_sane(const char *s);
/* A new id: 16 random bytes in hex (32 characters). */
void hb_reqid_new(char out[HB_LOG_REQID_MAX + 1]);
/* The id for a request whose header said hdr (NULL when absent). */
void hb_reqid_take(const char *hdr, char out[HB_LOG_REQID_MAX + 1]);

#endif
