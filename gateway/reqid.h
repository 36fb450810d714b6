/* X-Request-Id: the client's own when it is sane, else a fresh one; and
 * the bytes sent, from civetweb's access line. Pure but for getrandom, so
 * it is unit tested and fuzzed (tests/fuzz/fuzz_reqlog.c). */
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

/* The status and bytes sent in civetweb's access line (its log_access
 * format), -1 each when the line does not have them (civetweb cuts it at
 * 4 KiB). The line holds the raw URL: it is parsed, never logged. */
void hb_reqid_parse_civetweb(const char *line, int *status, long long *bytes);

#endif
