/* Text helpers for responses: timestamps and safe UTF-8. */
#ifndef HB_TEXTUTIL_H
#define HB_TEXTUTIL_H

#include <stddef.h>
#include <stdint.h>

#define HB_RFC3339_LEN 32

/* "2025-01-15T10:30:00Z" (UTC, seconds). Returns buf; "" if out of range. */
char *hb_rfc3339(int64_t unix_s, char *buf, size_t len);

/* A malloc'd, NUL-terminated copy of data[0..len) that is valid UTF-8: each
 * invalid byte becomes U+FFFD. *out_len gets its length. NULL on OOM or if
 * the result would exceed 3 * len + 1 bytes (it never does). */
char *hb_utf8_sanitize(const void *data, size_t len, size_t *out_len);
/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid (n > 0). */
size_t hb_utf8_seq(const unsigned char *p, size_t n);

#endif
