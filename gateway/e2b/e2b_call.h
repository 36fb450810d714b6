/* Inside the in-sandbox plane: one call, the Connect codec its handlers
 * answer with, and the helpers they share. The dispatcher (e2b_envd.c)
 * checks the sandbox, its token, the content type and the request message,
 * takes the sandbox's lease for the whole call, calls the method's handler
 * (schemas/e2b_envd.def) and gives the lease back; a handler only reads
 * k->msg and answers once, through the hb_cx_* functions below.
 *
 * Connect with the JSON codec (connectrpc.com/docs/protocol):
 *   unary:  request and answer are application/json; an error is an HTTP
 *           status with {"code": "not_found", "message": ...}.
 *   server stream: request and answer are application/connect+json, each
 *           message enveloped (1 flag byte, 4 length bytes big-endian, JSON);
 *           the answer ends with an end-stream message (flag 0x02): {} or
 *           {"error": {"code", "message"}}.
 * Protobuf's JSON mapping: camelCase names, enum names as strings, int64 and
 * uint64 as decimal strings, bytes as base64, times as RFC 3339. */
#ifndef HB_E2B_CALL_H
#define HB_E2B_CALL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "e2b.h"
#include "initproto.h"   /* HB_USER_MAX */
#include "lease.h"

typedef enum { HB_CX_UNARY, HB_CX_STREAM } hb_cx_kind_t;

#define HB_E2B_TOKEN_LEN 40   /* hex characters */

typedef struct {
    hb_req_t    *r;
    hb_lease_t  *lease;          /* the sandbox's, held by the dispatcher for the call */
    const char  *sandbox_id;     /* == r->route.id */
    hb_cx_kind_t kind;
    char         user[HB_USER_MAX + 1];   /* Authorization: Basic <user:>, else "user" */
    json_t      *msg;            /* the request message (an object); the dispatcher's */
    int          keepalive_ms;   /* Keepalive-Ping-Interval (s) * 1000, else 50 s */
    int64_t      deadline_ms;    /* hb_now_ms() + Connect-Timeout-Ms; 0: none */
    bool         token_ok;       /* X-Access-Token was the sandbox's; /files may
                                  * instead carry a signed URL (e2b_files.c) */
    char         token[HB_E2B_TOKEN_LEN + 1];   /* the sandbox's envd token */
    bool         streaming;      /* the stream's head is sent */
    bool         answered;
} hb_e2b_call_t;

typedef int (*hb_e2b_method_fn)(hb_e2b_call_t *k);

/* ---- answers (e2b_connect.c); each returns the HTTP status sent ---- */

/* A unary call's answer, 200 (msg consumed). */
int hb_cx_reply(hb_e2b_call_t *k, json_t *msg);
/* An error with a Connect code ("invalid_argument", "not_found", ...): the
 * HTTP status that code maps to for a unary call or a stream not begun, or
 * the end-stream message of a stream begun. */
int hb_cx_fail(hb_e2b_call_t *k, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for an hb_err_t (its code mapped by hb_connect_code). */
int hb_cx_fail_err(hb_e2b_call_t *k, const hb_err_t *e);
/* Server streams: the 200 head (chunked application/connect+json); then one
 * enveloped message per send (msg consumed; 0, or -1 once the client is
 * gone); then the end: {} (hb_cx_stream_end) or an error (hb_cx_fail*). */
int hb_cx_stream_begin(hb_e2b_call_t *k);
int hb_cx_stream_send(hb_e2b_call_t *k, json_t *msg);
int hb_cx_stream_end(hb_e2b_call_t *k);

/* ---- what handlers share (e2b_util.c) ---- */

/* A path of a request: absolute as given, or relative to the call's user's
 * home (E2B's rule), normalised; malloc'd, or NULL with *e (HB_E_INVALID
 * naming field). */
char *hb_e2b_path(const hb_e2b_call_t *k, const char *path, const char *field, hb_err_t *e);
/* The home of a user: /root for root, else /home/<user>. */
void  hb_e2b_home(const char *user, char *buf, size_t n);
/* Protobuf JSON values (new references). */
json_t *hb_pb_int64(int64_t v);            /* "123" */
json_t *hb_pb_time(int64_t unix_ms);       /* "2026-12-05T01:02:03.456Z" */
/* An optional int64 field that protobuf JSON may give as a number or a
 * string: 0 with *out (def when absent), -1 when it is neither. */
int hb_pb_get_int64(const json_t *obj, const char *key, int64_t def, int64_t *out);

/* ---- tokens (e2b_token.c) ---- */

/* The sandbox's envd access token: derived from its MCP token (the first
 * 40 hex of SHA-256("hivebox envd token\n" + mcp_token)), so a token is
 * scoped to one sandbox (and one life of a name) and nothing new is
 * stored. 0, or -1 when the sandbox has no MCP token (HB_E_NOTFOUND). */
int  hb_e2b_envd_token(const hb_lease_t *l, char out[HB_E2B_TOKEN_LEN + 1], hb_err_t *e);
void hb_e2b_envd_token_of(const char *mcp_token, char out[HB_E2B_TOKEN_LEN + 1]);
/* The E2B API key: conf->e2b_api_key, else derived from the admin key:
 * "e2b_" + the first 40 hex of SHA-256("hivebox e2b api key\n" + key)
 * (tests/e2e/test_e2b.py computes the same). */
void hb_e2b_api_key(const hb_gateway_conf_t *conf, char *out, size_t n);
/* SHA-256 of data (libcrypto): lower-case hex; standard base64 without
 * the '=' padding (E2B's signed URLs: "v1_" + that). */
void hb_sha256_hex(const void *data, size_t len, char out[65]);
void hb_sha256_b64(const void *data, size_t len, char out[45]);
/* Compare secrets with hb_ct_equal (auth.h). */

/* ---- the methods (schemas/e2b_envd.def), one handler each ---- */
#define HB_E2B_DECLARE(path, kind, fn) int fn(hb_e2b_call_t *k);
#include "e2b_envd.def"
HB_E2B_METHODS(HB_E2B_DECLARE)
#undef HB_E2B_DECLARE

/* The plain routes of the plane: GET /files, POST /files (e2b_files.c). */
int hb_e2b_files(hb_e2b_call_t *k);

#endif
