/* Streaming redaction of a secret (the LLM key) from proxied responses.
 *
 * OpenCode shows its providers' options, API key included, on some routes
 * (/provider, /config/providers); the key must never leave the daemon. Each
 * occurrence is overwritten with '*' of the same length, so a Content-Length
 * stays right. Bytes are held back only while they could be the start of
 * the key, so a stream (SSE) is never delayed past an event boundary.
 */
#ifndef HB_OPENCODE_REDACT_H
#define HB_OPENCODE_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define HB_REDACT_MIN 8   /* shorter keys are not searched for (they would mask noise) */

typedef int (*hb_redact_out_fn)(void *ud, const char *data, size_t len);

typedef struct {
    char  *key;    /* owned copy; NULL: pass-through */
    size_t klen;
    char  *hold;   /* klen - 1 bytes of capacity */
    size_t nhold;
} hb_redact_t;

/* key may be NULL. -1 on OOM. */
int  hb_redact_init(hb_redact_t *r, const char *key);
/* Feed len bytes; out() gets what is safe to send (possibly nothing).
 * Returns out()'s first non-zero result, or 0 (-1 on OOM). */
int  hb_redact_feed(hb_redact_t *r, const char *data, size_t len, hb_redact_out_fn out, void *ud);
/* End of stream: send what is held back. */
int  hb_redact_flush(hb_redact_t *r, hb_redact_out_fn out, void *ud);
void hb_redact_free(hb_redact_t *r);

#endif
