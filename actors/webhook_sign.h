/* The webhooks' signature header (Stripe's scheme):
 *
 *   X-HiveBox-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * The receiver recomputes the HMAC over the raw body it got and rejects a
 * t outside its tolerance (say 5 minutes): a captured request cannot be
 * replayed later. Each attempt signs afresh, so a retry carries a current
 * t. Pure, unit tested against a known vector. */
#ifndef HB_WEBHOOK_SIGN_H
#define HB_WEBHOOK_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define HB_WEBHOOK_SIG_MAX 96   /* "t=" 20 digits ",v1=" 64 hex digits, NUL */

/* The header's value into out (cap >= HB_WEBHOOK_SIG_MAX); 0, or -1 when
 * libcrypto fails (out empty). */
int hb_webhook_sign(const char *secret, int64_t t, const char *body, size_t len, char *out,
                    size_t cap);

#endif
