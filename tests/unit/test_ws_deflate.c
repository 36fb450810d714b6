/* permessage-deflate for the terminals (gateway/ws_deflate.c): what is
 * agreed from an offer, a message round trip, inflation in bounded pieces,
 * and a corrupt message refused. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ws_deflate.h"

Test(ws_deflate, offers)
{
    struct { const char *offer, *resp; } cases[] = {
        {"permessage-deflate; client_max_window_bits",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {" , ,permessage-deflate",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {"x-webkit-deflate-frame, permessage-deflate",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {"permessage-deflate; server_max_window_bits=\"10\"; client_no_context_takeover",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=10"},
        {"permessage-deflate; server_max_window_bits=8, permessage-deflate",   /* the second */
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {"x-long; key=\"a value longer than any of ours\", permessage-deflate",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
        {"permessage-deflate; client_max_window_bits=\"150000000000000000000\"", ""},
        {"permessage-deflate; server_max_window_bits=8", ""},   /* zlib cannot keep to 8 */
        {"permessage-deflate; client_max_window_bits=16", ""},
        {"permessage-deflate; server_max_window_bits=010", ""},
        {"permessage-deflate; mystery", ""},
        {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", ""},
        {"permessage-deflate; server_no_context_takeover=1", ""},
        {"permessage-deflate;", ""},
        {"permessage-deflate; client_max_window_bits=\"12", ""},
        {"permessage-deflate x", ""},
        {"x-other", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char resp[160];
        hb_wsd_t *d = hb_wsd_negotiate(cases[i].offer, resp, sizeof resp);
        cr_assert_eq(d != NULL, cases[i].resp[0] != '\0', "case %zu: %s", i, cases[i].offer);
        cr_assert_str_eq(resp, cases[i].resp, "case %zu", i);
        hb_wsd_free(d);
    }
    char resp[8];
    cr_assert_null(hb_wsd_negotiate(NULL, resp, sizeof resp));
    cr_assert_null(hb_wsd_negotiate("permessage-deflate", resp, sizeof resp), "no room");
}

typedef struct {
    uint8_t *data;
    size_t   n, cap, calls, max_piece, stop_after;
} sink_t;

static int collect(void *ud, const uint8_t *p, size_t n)
{
    sink_t *s = ud;
    cr_assert_leq(n, HB_WSD_OUT_CHUNK);
    if (s->n + n <= s->cap)
        memcpy(s->data + s->n, p, n);
    s->n += n;
    s->calls++;
    s->max_piece = n > s->max_piece ? n : s->max_piece;
    return s->stop_after && s->calls >= s->stop_after;
}

static hb_wsd_t *agreed(void)
{
    char resp[160];
    hb_wsd_t *d = hb_wsd_negotiate("permessage-deflate", resp, sizeof resp);
    cr_assert_not_null(d);
    return d;
}

/* text (compressible, under 256 bytes) compressed and inflated again */
static void round_trip(hb_wsd_t *d, const char *text)
{
    const uint8_t *m;
    size_t mn, n = strlen(text);
    cr_assert_eq(hb_wsd_deflate(d, text, n, &m, &mn), 1);
    uint8_t got[256];
    sink_t s = {.data = got, .cap = sizeof got};
    cr_assert_eq(hb_wsd_inflate(d, m, mn, true, collect, &s), 0);
    cr_assert_eq(s.n, n);
    cr_assert_eq(memcmp(got, text, n), 0);
}

Test(ws_deflate, round_trip_in_any_pieces)
{
    hb_wsd_t *d = agreed();
    static uint8_t msg[100000], got[100000];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)("0123456789\r\n"[i % 12] + (i / 4096 % 3));
    const uint8_t *z;
    size_t zn;
    cr_assert_eq(hb_wsd_deflate(d, msg, sizeof msg, &z, &zn), 1);
    cr_assert_lt(zn, sizeof msg / 10, "repetitive output shrinks: %zu", zn);
    uint8_t *copy = malloc(zn);
    memcpy(copy, z, zn);
    for (size_t cut = 0; cut <= zn; cut += zn / 7 + 1) {
        sink_t s = {.data = got, .cap = sizeof got};
        cr_assert_eq(hb_wsd_inflate(d, copy, cut, false, collect, &s), 0);
        cr_assert_eq(hb_wsd_inflate(d, copy + cut, zn - cut, true, collect, &s), 0);
        cr_assert_eq(s.n, sizeof msg, "cut at %zu", cut);
        cr_assert_eq(memcmp(got, msg, sizeof msg), 0);
    }
    free(copy);
    cr_assert_eq(hb_wsd_deflate(d, "short", 5, &z, &zn), 0, "short messages go out as they are");
    hb_wsd_free(d);
}

/* A small message that inflates to 64 MiB is handed on in pieces of at
 * most HB_WSD_OUT_CHUNK; a receiver that stops gets no more of it, and the
 * next message inflates from a clean state. */
Test(ws_deflate, a_bomb_comes_in_bounded_pieces_and_can_be_stopped)
{
    size_t big = 64u << 20;
    uint8_t *zeros = calloc(1, big);
    uLongf zcap = compressBound(big);
    uint8_t *z = malloc(zcap);
    z_stream zs = {0};
    cr_assert_eq(deflateInit2(&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = zeros;
    zs.avail_in = (uInt)big;
    zs.next_out = z;
    zs.avail_out = (uInt)zcap;
    cr_assert_eq(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
    size_t zn = zcap - zs.avail_out - 4;
    deflateEnd(&zs);
    free(zeros);
    cr_assert_lt(zn, 100000);

    hb_wsd_t *d = agreed();
    sink_t s = {0};
    cr_assert_eq(hb_wsd_inflate(d, z, zn, true, collect, &s), 0);
    cr_assert_eq(s.n, big);
    cr_assert_leq(s.max_piece, HB_WSD_OUT_CHUNK);
    sink_t stop = {.stop_after = 3};
    cr_assert_eq(hb_wsd_inflate(d, z, zn / 2, false, collect, &stop), 0);
    cr_assert_eq(hb_wsd_inflate(d, z + zn / 2, zn - zn / 2, true, collect, &stop), 0);
    cr_assert_eq(stop.calls, 3, "nothing after the receiver stopped");
    free(z);

    round_trip(d, "{\"type\":\"resize\",\"cols\":90,\"rows\":30,\"pad\":\"padding padding "
                  "padding padding padding padding padding padding padding\"}");
    hb_wsd_free(d);
}

Test(ws_deflate, not_a_deflate_stream)
{
    hb_wsd_t *d = agreed();
    sink_t s = {0};
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x12};
    cr_assert_eq(hb_wsd_inflate(d, junk, sizeof junk, true, collect, &s), -1);
    /* the stream is reset: a good message after it inflates */
    round_trip(d, "a line of text, a line of text, a line of text, a line of text, "
                  "a line of text, a line of text, a line of text, a line of text");
    hb_wsd_free(d);
}
