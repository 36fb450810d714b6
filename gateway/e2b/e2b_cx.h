/* The in-sandbox plane's request side, pure (no civetweb, no daemon state)
 * so it is unit tested and fuzzed (tests/fuzz/fuzz_e2b_connect.c): the
 * Connect content types, the request message (one enveloped message for a
 * server stream), the headers the SDKs send, and protobuf's base64 bytes.
 * Every failure names what was wrong; nothing is sized by the client before
 * it is checked. */
#ifndef HB_E2B_CX_H
#define HB_E2B_CX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "e2b_call.h"
#include "hberr.h"

#define HB_CX_BODY_MAX      (4u << 20)   /* SendInput carries base64 stdin */
#define HB_CX_ENVELOPE_HEAD 5            /* flags, then a big-endian length */
#define HB_CX_FLAG_COMPRESSED 0x01
#define HB_CX_FLAG_END        0x02
#define HB_CX_KEEPALIVE_DEF_MS 50000     /* the SDKs ask for 50 s */
#define HB_CX_KEEPALIVE_MAX_S  3600
#define HB_CX_TIMEOUT_MAX_MS   (7LL * 24 * 3600 * 1000)

/* The kind of call a Content-Type names: application/json (UNARY),
 * application/connect+json (STREAM), parameters such as "; charset=utf-8"
 * allowed; -1 for anything else (Connect answers 415). */
int hb_cx_content_kind(const char *ctype);

/* A request body into its message (a new JSON object): for UNARY the body
 * is the JSON (empty means {}); for STREAM exactly one envelope, flags 0
 * (a compressed or end-stream flag is refused), its length matching the
 * body. NULL with *e (HB_E_INVALID naming what; HB_E_TOOBIG past
 * HB_CX_BODY_MAX). */
json_t *hb_cx_parse_request(const char *body, size_t len, hb_cx_kind_t kind, hb_err_t *e);

/* `Authorization: Basic base64("<user>:")` into user (HB_USER_MAX + 1):
 * 0 (absent: "user", E2B's default), or -1 with *e when it is not Basic or
 * the name is not one exec accepts. */
int hb_cx_basic_user(const char *authz, char *user, size_t cap, hb_err_t *e);
/* Keepalive-Ping-Interval (seconds): ms, HB_CX_KEEPALIVE_DEF_MS when absent
 * or not a number in 1..HB_CX_KEEPALIVE_MAX_S (envd ignores bad values). */
int hb_cx_keepalive_ms(const char *hdr);
/* Connect-Timeout-Ms: 0 with *ms (0 when absent), -1 with *e when it is not
 * 1-10 digits (Connect's rule) or past HB_CX_TIMEOUT_MAX_MS. */
int hb_cx_timeout_ms(const char *hdr, int64_t *ms, hb_err_t *e);

/* Protobuf's bytes: standard or URL-safe base64, padding optional. Decodes
 * into a malloc'd buffer (*out, *n; NUL-terminated for convenience); -1
 * for text that is not base64 or decodes past max. */
int hb_b64_decode(const char *s, size_t len, size_t max, unsigned char **out, size_t *n);
/* Standard base64 with padding, malloc'd and NUL-terminated; NULL on OOM. */
char *hb_b64_encode(const void *data, size_t len);

/* ---- (e2b_connect.c) ---- */
struct mg_connection;
/* A Connect error before any call exists (the dispatcher's 415, 401, 404):
 * status, application/json {"code", "message"}. Returns status. */
int hb_cx_error_http(struct mg_connection *c, int status, const char *code, const char *msg);

#endif
