/* permessage-deflate (RFC 7692) for the terminals' WebSocket (gw_ws.h).
 *
 * Agreed without context takeover in either direction, so every message is
 * compressed and inflated on its own: nothing of one message is kept for
 * the next, and a session that has sent or received none costs no zlib
 * state (both streams start on first use). Incoming messages are inflated
 * as their pieces arrive, into a fixed buffer handed on as it fills, so a
 * message that inflates a thousandfold costs no more memory than any other;
 * what the receiver keeps of it is its own bound. */
#ifndef HB_WS_DEFLATE_H
#define HB_WS_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_WSD_OUT_CHUNK (16 * 1024)   /* inflated bytes handed on at a time */
#define HB_WSD_MIN_LEN   64            /* shorter messages go out uncompressed */

typedef struct hb_wsd hb_wsd_t;

/* The client's Sec-WebSocket-Extensions (NULL: none). When it offers
 * permessage-deflate with parameters we can honour, the session's state
 * (the caller frees it with hb_wsd_free) and the response's extension in
 * resp; NULL when nothing is agreed: no offer, one we cannot honour (a
 * server window under 9 bits, which zlib cannot keep to), or a malformed
 * header, all declined as RFC 7692 allows (the session runs uncompressed).
 * Also NULL, with resp empty, when out of memory. */
hb_wsd_t *hb_wsd_negotiate(const char *offer, char *resp, size_t cap);
void hb_wsd_free(hb_wsd_t *d);

/* One whole outgoing message. 1 with *out (d's buffer, valid until the next
 * call) holding the compressed payload to send with RSV1 set; 0 when it is
 * better sent as it is (short, or no smaller compressed, or zlib failed). */
int hb_wsd_deflate(hb_wsd_t *d, const void *p, size_t n, const uint8_t **out, size_t *outn);

/* A piece of an incoming compressed message, last when it ends it. Its
 * inflated bytes go to emit in pieces of at most HB_WSD_OUT_CHUNK (a
 * non-zero return stops this piece; the stream is still reset at the
 * message's end). 0, or -1 when the data is not a deflate stream (the
 * connection fails: 1007). */
typedef int (*hb_wsd_emit_fn)(void *ud, const uint8_t *p, size_t n);
int hb_wsd_inflate(hb_wsd_t *d, const uint8_t *p, size_t n, bool last, hb_wsd_emit_fn emit,
                   void *ud);

#endif
