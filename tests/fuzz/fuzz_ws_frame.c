/* libFuzzer target: the terminals' WebSocket parser (gateway/ws_frame.c),
 * fed what a client may send. The first byte picks where the stream is cut;
 * the rest is parsed whole and in three pieces, which must agree on every
 * message, every control frame and the outcome. Whether RSV1 is allowed
 * (permessage-deflate agreed) is the parity of the first two bytes. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"

typedef struct {
    uint64_t hash;    /* of everything handed on, in order (not of the pieces) */
    size_t   bytes, ends, ctl;
    bool     in_msg;
} trace_t;

static void mix(trace_t *t, uint64_t v) { t->hash = (t->hash ^ v) * 0x100000001b3ULL; }

static int on_data(void *ud, int op, const uint8_t *p, size_t n, bool last)
{
    trace_t *t = ud;
    assert(op == HB_WSF_TEXT || op == HB_WSF_BINARY);
    assert(n > 0 || last);
    if (!t->in_msg)
        mix(t, (uint64_t)op);   /* once a message: pieces may be cut anywhere */
    t->in_msg = !last;
    for (size_t i = 0; i < n; i++)
        mix(t, p[i]);
    t->bytes += n;
    t->ends += last;
    if (last)
        mix(t, 0x1000);
    return 0;
}

static int on_control(void *ud, int op, const uint8_t *p, size_t n)
{
    trace_t *t = ud;
    assert(op == HB_WSF_CLOSE || op == HB_WSF_PING || op == HB_WSF_PONG);
    assert(n <= HB_WSF_CTL_MAX);
    mix(t, 0x2000 + (uint64_t)op);
    for (size_t i = 0; i < n; i++)
        mix(t, p[i]);
    t->ctl++;
    return 0;
}

static const hb_wsf_sink_t SINK = {.data = on_data, .control = on_control};

static int parse(const uint8_t *data, size_t size, size_t cut1, size_t cut2, bool rsv1,
                 trace_t *t)
{
    uint8_t *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    hb_wsf_t p;
    hb_wsf_init(&p);
    p.allow_rsv1 = rsv1;
    size_t cuts[] = {0, cut1, cut2, size};
    int rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++)
        rc = hb_wsf_feed(&p, copy + cuts[i], cuts[i + 1] - cuts[i], &SINK, t);
    assert(rc == 0 || (rc == -1 && p.why && p.why[0]));
    if (rc < 0)
        mix(t, 0xdead);
    free(copy);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t body = size - 2, cut1 = data[0] % (body + 1), cut2 = cut1 + data[1] % (body - cut1 + 1);
    trace_t whole = {0}, split = {0};
    bool rsv1 = (data[0] ^ data[1]) & 1;   /* permessage-deflate agreed */
    int a = parse(data + 2, body, body, body, rsv1, &whole);
    int b = parse(data + 2, body, cut1, cut2, rsv1, &split);
    assert(a == b);
    assert(whole.hash == split.hash && whole.bytes == split.bytes && whole.ends == split.ends &&
           whole.ctl == split.ctl);
    assert(whole.bytes <= body);
    return 0;
}
