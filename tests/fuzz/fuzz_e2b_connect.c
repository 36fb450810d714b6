/* libFuzzer target: the E2B in-sandbox plane's request side
 * (gateway/e2b/e2b_cx_parse.c, e2b_proc_parse.c), everything a client
 * controls before a handler runs. The first byte picks the parser, the rest
 * is its input. Oracles beyond "no crash, no leak":
 *   - a parsed request is a JSON object;
 *   - base64 that decodes re-encodes to the same bytes;
 *   - argv quoted for /bin/sh -c splits back into the same words (the
 *     input, cut at NUL bytes), so List reports exactly what Start ran;
 *   - a parsed StartRequest's command is bounded and its user the call's. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_cx.h"
#include "e2b_proc.h"

static char *cstr(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, d, n);
    s[n] = '\0';
    return s;
}

static void b64_round_trip(const uint8_t *d, size_t n)
{
    unsigned char *out = NULL;
    size_t len = 0;
    if (hb_b64_decode((const char *)d, n, 1u << 20, &out, &len) == 0) {
        char *again = hb_b64_encode(out, len);
        unsigned char *back = NULL;
        size_t blen = 0;
        assert(again && hb_b64_decode(again, strlen(again), 1u << 20, &back, &blen) == 0);
        assert(blen == len && memcmp(back, out, len) == 0);
        free(back);
        free(again);
    }
    free(out);
    char *enc = hb_b64_encode(d, n);
    assert(enc && hb_b64_decode(enc, strlen(enc), n, &out, &len) == 0);
    assert(len == n && memcmp(out, d, n) == 0);
    free(out);
    free(enc);
}

/* The words of d (cut at NUL bytes) as cmd + args. */
static void quote_round_trip(const uint8_t *d, size_t n)
{
    json_t *args = json_array();
    char *s = cstr(d, n);
    for (size_t at = 0; at <= n; at += strlen(s + at) + 1)
        json_array_append_new(args, json_string(s + at));
    json_t *cmd = json_incref(json_array_get(args, 0));
    json_array_remove(args, 0);
    hb_err_t e = {0};
    char *line = hb_e2b_cmd_quote(cmd, args, &e);
    if (line) {
        json_t *c2 = NULL, *a2 = NULL;
        assert(strlen(line) < HB_CMD_MAX);
        hb_e2b_cmd_split(line, &c2, &a2);
        assert(json_equal(c2, cmd) && json_equal(a2, args));
        json_decref(c2);
        json_decref(a2);
        free(line);
    } else {
        assert(e.code == HB_E_INVALID);
    }
    /* any text splits into something, never a crash */
    json_t *c3 = NULL, *a3 = NULL;
    hb_e2b_cmd_split(s, &c3, &a3);
    assert(json_is_string(c3) && json_is_array(a3));
    json_decref(c3);
    json_decref(a3);
    json_decref(cmd);
    json_decref(args);
    free(s);
}

static void start_request(const uint8_t *d, size_t n)
{
    hb_err_t e = {0};
    json_t *msg = hb_cx_parse_request((const char *)d, n, HB_CX_UNARY, &e);
    if (!msg)
        return;
    hb_e2b_call_t k = {.user = "user"};
    hb_e2b_start_t s;
    hb_proc_sel_t sel;
    if (hb_e2b_start_parse(&k, msg, 1000, &s, &e) == 0) {
        assert(s.req.command && strlen(s.req.command) < HB_CMD_MAX);
        assert(strcmp(s.req.user, "user") == 0);
        assert(!s.req.cwd || s.req.cwd[0] == '/');
        hb_e2b_start_clear(&s);
    }
    if (hb_e2b_selector(msg, &sel, &e) == 0)
        assert(sel.pid > 0 || (sel.tag && sel.tag[0]));
    unsigned cols, rows;
    hb_e2b_pty_size(json_object_get(msg, "pty"), &cols, &rows, &e);
    hb_e2b_signal(json_object_get(msg, "signal"));
    unsigned char *bytes = NULL;
    size_t len = 0;
    hb_e2b_bytes(json_object_get(msg, "input"), "stdin", 4096, &bytes, &len, &e);
    free(bytes);
    json_decref(msg);
}

static void headers(const uint8_t *d, size_t n)
{
    char *s = cstr(d, n);
    char user[HB_USER_MAX + 1];
    hb_err_t e = {0};
    int64_t ms = 0;
    if (hb_cx_basic_user(s, user, sizeof user, &e) == 0)
        assert(user[0] && strlen(user) <= 32);
    if (hb_cx_timeout_ms(s, &ms, &e) == 0)
        assert(ms >= 0 && ms <= HB_CX_TIMEOUT_MAX_MS);
    int ka = hb_cx_keepalive_ms(s);
    assert(ka >= 1000 && ka <= HB_CX_KEEPALIVE_MAX_S * 1000);
    int kind = hb_cx_content_kind(s);
    assert(kind == -1 || kind == HB_CX_UNARY || kind == HB_CX_STREAM);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    hb_err_t e = {0};
    switch (data[0] % 6) {
    case 0:
    case 1: {
        json_t *m = hb_cx_parse_request((const char *)d, n, data[0] % 2 ? HB_CX_STREAM
                                                                         : HB_CX_UNARY, &e);
        assert(!m || json_is_object(m));
        assert(m || e.code == HB_E_INVALID || e.code == HB_E_TOOBIG);
        json_decref(m);
        break;
    }
    case 2: b64_round_trip(d, n); break;
    case 3: quote_round_trip(d, n); break;
    case 4: start_request(d, n); break;
    default: headers(d, n); break;
    }
    return 0;
}
