/* RFC 6455 frames from a client, parsed as they arrive (gw_ws.h).
 *
 * Nothing is held but a frame's header and a control frame's 125 bytes: a
 * data frame's payload is unmasked in place and handed on in the pieces it
 * arrives in, so a frame of any declared length (up to 2^63 bytes) costs no
 * memory here; what the receiver keeps of a message is its own bound. */
#ifndef HB_WS_FRAME_H
#define HB_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    HB_WSF_CONT = 0x0, HB_WSF_TEXT = 0x1, HB_WSF_BINARY = 0x2,
    HB_WSF_CLOSE = 0x8, HB_WSF_PING = 0x9, HB_WSF_PONG = 0xa,
};
#define HB_WSF_RSV1     0x40  /* a compressed message (ws_deflate.h) */
#define HB_WSF_CTL_MAX  125   /* a control frame's payload */
#define HB_WSF_HEAD_MAX 10    /* a server frame's header (no mask) */

typedef struct {
    /* A piece of a data message: op is its first frame's (text or binary),
     * last says the message ends with this piece. Non-zero stops the feed. */
    int (*data)(void *ud, int op, const uint8_t *p, size_t n, bool last);
    /* A whole control frame (close, ping, pong). Non-zero stops the feed. */
    int (*control)(void *ud, int op, const uint8_t *p, size_t n);
} hb_wsf_sink_t;

typedef struct {
    uint8_t     head[14];
    size_t      have;         /* bytes of the header so far */
    size_t      need;         /* its length, once the first two bytes tell */
    bool        in_payload;
    uint8_t     op;           /* this frame's opcode */
    bool        fin;
    uint8_t     mask[4];
    uint64_t    len, at;      /* payload length; bytes of it seen */
    bool        allow_rsv1;   /* permessage-deflate was agreed (ws_deflate.h) */
    uint8_t     msg_op;       /* the data message in progress (0: none) */
    bool        msg_rsv1;     /* it is compressed (RSV1 on its first frame) */
    unsigned    msg_frames;   /* its frames so far */
    uint8_t     ctl[HB_WSF_CTL_MAX];
    const char *why;          /* the protocol error, after -1 */
} hb_wsf_t;

void hb_wsf_init(hb_wsf_t *p);
/* Parse n bytes of the client's stream (buf is unmasked in place): 0 when
 * all were taken, 1 when a sink stopped the feed (the rest is not parsed),
 * -1 on a protocol error (p->why; the parser is spent: close with 1002). */
int hb_wsf_feed(hb_wsf_t *p, uint8_t *buf, size_t n, const hb_wsf_sink_t *s, void *ud);
/* The header of an unmasked, final server frame of len bytes (op may carry
 * HB_WSF_RSV1): its length. */
size_t hb_wsf_head(uint8_t out[HB_WSF_HEAD_MAX], int op, uint64_t len);

#endif
