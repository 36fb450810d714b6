/* Daemon side of the init protocol (schemas/init-protocol.md): one
 * connection per request to <sandbox>/init.sock. Everything init sends is
 * untrusted: frames are bounded and validated by schemas/initmsg.c.
 *
 * Usage: open, pack one request map with hb_initconn_begin()'s packer,
 * send, then read answers with hb_initconn_next() until a final one. The fd
 * is exposed so an actor can poll it and call next() when it is readable.
 * Safe to use from any thread (nothing shared). */
#ifndef HB_INITCLIENT_H
#define HB_INITCLIENT_H

#include "initmsg.h"
#include "runtime.h"

typedef struct {
    int fd;
    const hb_sandbox_t *sb;
    hb_frame_t frame;           /* the last answer read */
    msgpack_sbuffer out;
    msgpack_packer pk;
} hb_initconn_t;

/* Connect. HB_E_DEAD when nothing listens on the socket (init gone). */
int hb_initconn_open(hb_initconn_t *c, const hb_sandbox_t *sb, hb_err_t *e);
void hb_initconn_close(hb_initconn_t *c);

/* Start a request frame; pack exactly one map with the returned packer
 * (hb_initreq_pack). */
msgpack_packer *hb_initconn_begin(hb_initconn_t *c);
/* Send it. HB_E_TOOBIG when the frame is over HB_FRAME_MAX. */
int hb_initconn_send(hb_initconn_t *c, hb_err_t *e);

/* open + request r + send; closed on failure. */
int hb_initconn_start(hb_initconn_t *c, const hb_sandbox_t *sb, const hb_initreq_t *r,
                      hb_err_t *e);

/* One upload request: connect, send the request r, stream src
 * as `data` frames and `end`, read init's `ok` (whose size must be *total,
 * the bytes sent), close. HB_E_TOOBIG ("<what> larger than ...") past max
 * (0: none); a refusal by init is its `err` answer. */
int hb_init_put(const hb_sandbox_t *sb, const hb_initreq_t *r, const char *what,
                uint64_t max, hb_src_cb src, void *ud, int timeout_ms, uint64_t *total,
                hb_err_t *e);

/* Read and parse the next answer (timeout_ms < 0: wait forever). An `err`
 * answer is returned as a normal answer (a->t == HB_ANS_ERR). Failures:
 * HB_E_DEAD if init is gone, HB_E_INTERNAL for a malformed answer or a
 * timeout. a's pointers live until the next call. */
int hb_initconn_next(hb_initconn_t *c, hb_initans_t *a, int timeout_ms, hb_err_t *e);

/* Turn an `err` answer into *e with the hb_errcode for its errno; -1. */
void hb_init_fail_set(const hb_initans_t *a, const char *what, hb_err_t *e);
#define hb_init_fail(a, what, e) ({ hb_init_fail_set(a, what, e); -1; })
hb_errcode_t hb_init_errcode(int err);

/* Fail with "unexpected answer" (init broke the protocol), or with init's
 * own error when the answer is one; -1. Macros like hb_fail(), for the same
 * reason: the -1 is visible to the analyzer at each call. */
void hb_init_unexpected_set(const hb_initans_t *a, const char *what, hb_err_t *e);
#define hb_init_unexpected(a, what, e) ({ hb_init_unexpected_set(a, what, e); -1; })

#endif
