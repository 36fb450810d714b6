/* Bearer-token check. */
#ifndef HB_AUTH_H
#define HB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Constant-time equality: the time taken depends only on the lengths. */
bool hb_ct_equal(const char *a, size_t alen, const char *b, size_t blen);
/* True if header is "Bearer <key>" (scheme case-insensitive) for this key. */
bool hb_auth_bearer_ok(const char *header, const char *key);

#endif
