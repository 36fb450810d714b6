/* The terminals' WebSocket parser (gateway/ws_frame.c): frames of any
 * declared length pass through in pieces, fragmented messages keep their
 * first opcode, protocol errors are named, and a stream cut anywhere
 * parses the same. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"

typedef struct {
    char   data[4096];
    size_t n;
    int    ops[16], ends, ctl_ops[8], n_ctl;
    size_t ctl_len[8];
    unsigned frames_at_end;
    int    stop_on_close;
} seen_t;

static int on_data(void *ud, int op, const uint8_t *p, size_t n, bool last)
{
    seen_t *s = ud;
    cr_assert(op == HB_WSF_TEXT || op == HB_WSF_BINARY);
    cr_assert_leq(s->n + n, sizeof s->data);
    memcpy(s->data + s->n, p, n);
    s->n += n;
    s->ops[s->ends < 16 ? s->ends : 15] = op;
    s->ends += last;
    return 0;
}

static int on_control(void *ud, int op, const uint8_t *p, size_t n)
{
    seen_t *s = ud;
    cr_assert_leq(n, HB_WSF_CTL_MAX);
    s->ctl_ops[s->n_ctl] = op;
    s->ctl_len[s->n_ctl++] = n;
    return s->stop_on_close && op == HB_WSF_CLOSE;
}

static const hb_wsf_sink_t SINK = {.data = on_data, .control = on_control};

/* A masked client frame into out: its length. */
static size_t frame(uint8_t *out, int b0, const char *payload, size_t n, uint64_t declared)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t at = 0;
    out[at++] = (uint8_t)b0;
    if (declared < 126) {
        out[at++] = (uint8_t)(0x80 | declared);
    } else if (declared < 65536) {
        out[at++] = 0x80 | 126;
        out[at++] = (uint8_t)(declared >> 8);
        out[at++] = (uint8_t)declared;
    } else {
        out[at++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[at++] = (uint8_t)(declared >> (8 * i));
    }
    memcpy(out + at, mask, 4);
    at += 4;
    for (size_t i = 0; i < n; i++)
        out[at + i] = (uint8_t)payload[i] ^ mask[i & 3];
    return at + n;
}

Test(ws_frame, fragmented_message_then_ping_then_close)
{
    uint8_t buf[1024];
    size_t n = 0;
    n += frame(buf + n, 0x02, "hel", 3, 3);          /* binary, not final */
    n += frame(buf + n, 0x89, "pi", 2, 2);           /* a ping in between */
    n += frame(buf + n, 0x00, "lo ", 3, 3);          /* continuation */
    n += frame(buf + n, 0x80, "world", 5, 5);        /* final continuation */
    n += frame(buf + n, 0x81, "", 0, 0);             /* an empty text message */
    n += frame(buf + n, 0x88, "\x03\xe8", 2, 2);     /* close 1000 */
    for (size_t cut = 1; cut <= n; cut++) {           /* every split in two */
        uint8_t copy[1024];
        memcpy(copy, buf, n);
        seen_t s = {0};
        hb_wsf_t p;
        hb_wsf_init(&p);
        cr_assert_eq(hb_wsf_feed(&p, copy, cut, &SINK, &s), 0);
        cr_assert_eq(hb_wsf_feed(&p, copy + cut, n - cut, &SINK, &s), 0, "cut at %zu", cut);
        cr_assert_eq(s.n, 11);
        cr_assert_eq(memcmp(s.data, "hello world", 11), 0);
        cr_assert_eq(s.ends, 2, "two messages end");
        cr_assert_eq(s.ops[0], HB_WSF_BINARY, "a continuation keeps the first opcode");
        cr_assert_eq(s.ops[1], HB_WSF_TEXT);
        cr_assert_eq(s.n_ctl, 2);
        cr_assert(s.ctl_ops[0] == HB_WSF_PING && s.ctl_len[0] == 2);
        cr_assert(s.ctl_ops[1] == HB_WSF_CLOSE && s.ctl_len[1] == 2);
    }
}

/* A frame that says 2^62 bytes: its payload is handed on as it comes and
 * nothing waits for the rest. */
Test(ws_frame, huge_declared_length_streams)
{
    static uint8_t buf[70000];
    static char payload[65536];
    memset(payload, 'a', sizeof payload);
    size_t n = frame(buf, 0x82, payload, sizeof payload, (uint64_t)1 << 62);
    seen_t s = {0};
    hb_wsf_t p;
    hb_wsf_init(&p);
    size_t fed = 0;
    while (fed < n) {
        size_t k = n - fed < 4000 ? n - fed : 4000;
        cr_assert_eq(hb_wsf_feed(&p, buf + fed, k, &SINK, &s), 0);
        fed += k;
        s.n = 0;   /* the test's own buffer; the parser keeps nothing */
    }
    cr_assert_eq(s.ends, 0, "the message has not ended");
    cr_assert(p.in_payload && p.at == sizeof payload);
}

Test(ws_frame, protocol_errors_are_named)
{
    struct { uint8_t bytes[16]; size_t n; const char *why; } bad[] = {
        {{0x82, 0x01, 'x'}, 3, "masked"},
        {{0xc2, 0x80, 0, 0, 0, 0}, 6, "reserved"},
        {{0x83, 0x80, 0, 0, 0, 0}, 6, "opcode"},
        {{0x89, 0xfe, 0, 200}, 4, "125"},
        {{0x09, 0x80, 0, 0, 0, 0}, 6, "125"},
        {{0x80, 0x80, 0, 0, 0, 0}, 6, "continuation"},
        {{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 14, "range"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seen_t s = {0};
        hb_wsf_t p;
        hb_wsf_init(&p);
        cr_assert_eq(hb_wsf_feed(&p, bad[i].bytes, bad[i].n, &SINK, &s), -1, "case %zu", i);
        cr_assert_not_null(strstr(p.why, bad[i].why), "case %zu: %s", i, p.why);
        cr_assert_eq(hb_wsf_feed(&p, bad[i].bytes, 1, &SINK, &s), -1, "spent after an error");
    }
    uint8_t two[32];
    size_t n = frame(two, 0x01, "a", 1, 1);
    n += frame(two + n, 0x82, "b", 1, 1);
    seen_t s = {0};
    hb_wsf_t p;
    hb_wsf_init(&p);
    cr_assert_eq(hb_wsf_feed(&p, two, n, &SINK, &s), -1);
    cr_assert_not_null(strstr(p.why, "inside a fragmented"));
}

Test(ws_frame, a_sink_stops_the_feed)
{
    uint8_t buf[64];
    size_t n = frame(buf, 0x88, "", 0, 0);
    n += frame(buf + n, 0x82, "late", 4, 4);
    seen_t s = {.stop_on_close = 1};
    hb_wsf_t p;
    hb_wsf_init(&p);
    cr_assert_eq(hb_wsf_feed(&p, buf, n, &SINK, &s), 1);
    cr_assert_eq(s.n, 0, "nothing after the close is parsed");
}

Test(ws_frame, server_headers)
{
    uint8_t h[HB_WSF_HEAD_MAX];
    cr_assert_eq(hb_wsf_head(h, HB_WSF_TEXT, 125), 2);
    cr_assert(h[0] == 0x81 && h[1] == 125);
    cr_assert_eq(hb_wsf_head(h, HB_WSF_BINARY, 126), 4);
    cr_assert(h[0] == 0x82 && h[1] == 126 && h[2] == 0 && h[3] == 126);
    cr_assert_eq(hb_wsf_head(h, HB_WSF_BINARY, 65536), 10);
    cr_assert(h[1] == 127 && h[7] == 1 && h[8] == 0 && h[9] == 0);
}

/* RSV1 (permessage-deflate) is taken only when agreed, only on a data
 * message's first frame, and marks the whole message. */
Test(ws_frame, rsv1_only_when_agreed_and_on_a_first_frame)
{
    uint8_t buf[64];
    size_t n = frame(buf, 0x42, "z", 1, 1);   /* RSV1, binary, not final */
    n += frame(buf + n, 0x80, "y", 1, 1);     /* its continuation */
    seen_t s = {0};
    hb_wsf_t p;
    hb_wsf_init(&p);
    cr_assert_eq(hb_wsf_feed(&p, buf, n, &SINK, &s), -1, "not agreed: refused");
    cr_assert_not_null(strstr(p.why, "reserved"));

    hb_wsf_init(&p);
    p.allow_rsv1 = true;
    size_t first = frame(buf, 0x42, "z", 1, 1);
    cr_assert_eq(hb_wsf_feed(&p, buf, first, &SINK, &s), 0);
    cr_assert(p.msg_rsv1, "the message is compressed");
    cr_assert_eq(hb_wsf_feed(&p, buf + first, n - first, &SINK, &s), 0);
    cr_assert(!p.msg_rsv1, "reset at the message's end");

    const int bad[] = {0x40 | 0x80 /* continuation */, 0x40 | 0x89 /* ping */, 0x20 | 0x82};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_wsf_init(&p);
        p.allow_rsv1 = true;
        size_t k = 0;
        if (i == 0)
            k = frame(buf, 0x02, "a", 1, 1);
        k += frame(buf + k, bad[i], "b", 1, 1);
        cr_assert_eq(hb_wsf_feed(&p, buf, k, &SINK, &s), -1, "case %zu", i);
    }
    uint8_t h[HB_WSF_HEAD_MAX];
    hb_wsf_head(h, HB_WSF_BINARY | HB_WSF_RSV1, 3);
    cr_assert_eq(h[0], 0xc2);
}
