#include "ws_frame.h"

#include <string.h>

void hb_wsf_init(hb_wsf_t *p)
{
    memset(p, 0, sizeof *p);
    p->need = 2;
}

static int fail(hb_wsf_t *p, const char *why)
{
    p->why = why;
    return -1;
}

static bool is_control(int op) { return op >= HB_WSF_CLOSE; }

/* The first two bytes: what this frame is, and how long its header is. */
static int head_start(hb_wsf_t *p)
{
    uint8_t b0 = p->head[0], b1 = p->head[1];
    int op = b0 & 0x0f, len7 = b1 & 0x7f;
    if (b0 & 0x30)
        return fail(p, "reserved bits set (no extension was agreed)");
    if ((b0 & 0x40) && !p->allow_rsv1)
        return fail(p, "reserved bits set (no extension was agreed)");
    if ((b0 & 0x40) && op != HB_WSF_TEXT && op != HB_WSF_BINARY)
        return fail(p, "RSV1 only on a message's first frame");
    if (op != HB_WSF_CONT && op != HB_WSF_TEXT && op != HB_WSF_BINARY && op != HB_WSF_CLOSE &&
        op != HB_WSF_PING && op != HB_WSF_PONG)
        return fail(p, "unknown opcode");
    if (!(b1 & 0x80))
        return fail(p, "a client's frame must be masked");
    if (is_control(op) && (!(b0 & 0x80) || len7 > HB_WSF_CTL_MAX))
        return fail(p, "a control frame is at most 125 bytes and not fragmented");
    if (op == HB_WSF_CONT && !p->msg_op)
        return fail(p, "a continuation frame without a message");
    if ((op == HB_WSF_TEXT || op == HB_WSF_BINARY) && p->msg_op)
        return fail(p, "a new message inside a fragmented one");
    p->need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    return 0;
}

/* The whole header is in: the payload comes next. */
static int head_done(hb_wsf_t *p)
{
    int len7 = p->head[1] & 0x7f;
    size_t at = 2;
    uint64_t len = (uint64_t)len7;
    if (len7 >= 126) {
        size_t k = len7 == 126 ? 2 : 8;
        len = 0;
        for (size_t i = 0; i < k; i++)
            len = len << 8 | p->head[at + i];
        at += k;
        if (len >> 63)
            return fail(p, "frame length out of range");
    }
    memcpy(p->mask, p->head + at, 4);
    p->op = p->head[0] & 0x0f;
    p->fin = (p->head[0] & 0x80) != 0;
    p->len = len;
    p->at = 0;
    p->in_payload = true;
    if (!is_control(p->op)) {
        p->msg_frames = p->op == HB_WSF_CONT ? p->msg_frames + 1 : 1;
        if (p->op != HB_WSF_CONT) {
            p->msg_op = p->op;
            p->msg_rsv1 = (p->head[0] & 0x40) != 0;
        }
    }
    return 0;
}

static void unmask(const hb_wsf_t *p, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] ^= p->mask[(p->at + i) & 3];
}

/* The frame's last byte went by. */
static int frame_end(hb_wsf_t *p, const hb_wsf_sink_t *s, void *ud)
{
    p->in_payload = false;
    p->have = 0;
    p->need = 2;
    if (is_control(p->op))
        return s->control(ud, p->op, p->ctl, (size_t)p->len) ? 1 : 0;
    if (p->fin) {
        p->msg_op = 0;
        p->msg_rsv1 = false;
        p->msg_frames = 0;
    }
    return 0;
}

/* Up to n payload bytes of the current frame: how many were taken, or -1
 * when a sink stopped the feed. */
static long payload(hb_wsf_t *p, uint8_t *b, size_t n, const hb_wsf_sink_t *s, void *ud)
{
    uint64_t left = p->len - p->at;
    size_t k = left < n ? (size_t)left : n;
    unmask(p, b, k);
    bool ends = p->at + k == p->len;
    int stop = 0;
    if (is_control(p->op))
        memcpy(p->ctl + p->at, b, k);
    else if (k || (ends && p->fin))
        stop = s->data(ud, p->msg_op, b, k, ends && p->fin);
    p->at += k;
    if (!stop && ends)
        stop = frame_end(p, s, ud);
    return stop ? -1 : (long)k;
}

int hb_wsf_feed(hb_wsf_t *p, uint8_t *buf, size_t n, const hb_wsf_sink_t *s, void *ud)
{
    if (p->why)
        return -1;
    size_t i = 0;
    while (i < n || (p->in_payload && p->at == p->len)) {
        if (p->in_payload) {
            long k = payload(p, buf + i, n - i, s, ud);
            if (k < 0)
                return 1;
            i += (size_t)k;
            continue;
        }
        p->head[p->have++] = buf[i++];
        if (p->have == 2 && head_start(p) < 0)
            return -1;
        if (p->have == p->need && head_done(p) < 0)
            return -1;
    }
    return 0;
}

size_t hb_wsf_head(uint8_t out[HB_WSF_HEAD_MAX], int op, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (op & (0x0f | HB_WSF_RSV1)));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    size_t k = len < 65536 ? 2 : 8;
    out[1] = k == 2 ? 126 : 127;
    for (size_t i = 0; i < k; i++)
        out[2 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
    return 2 + k;
}
