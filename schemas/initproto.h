/* Init protocol frame codec (schemas/init-protocol.md), used by both the
 * daemon (actors/runtime/initclient.c) and the init agent (tools/init).
 *
 * A frame is a u32 big-endian length N (1..HB_FRAME_MAX) followed by N bytes
 * holding exactly one msgpack map with string keys. Both sides treat the
 * peer as untrusted: a frame is structurally validated (container counts
 * bounded by the bytes left, nesting depth bounded) before msgpack-c decodes
 * it, so no size in a frame can make the decoder allocate more than a small
 * multiple of the frame itself. */
#ifndef HB_INITPROTO_H
#define HB_INITPROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_FRAME_MAX   (1024u * 1024 + 4096)
#define HB_CMD_MAX     (64u * 1024)      /* exec command */
#define HB_CHUNK_MAX   (256u * 1024)     /* one out/data payload */
#define HB_STDIN_MAX   (1024u * 1024)
#define HB_USER_MAX    64                /* exec_as: a user name or a uid */
#define HB_TAG_MAX     64                /* a background process's tag */
#define HB_PTY_DIM_MAX 1000              /* a PTY's columns and rows */
#define HB_ENV_MAX     256               /* extra env entries */
#define HB_ENVSTR_MAX  (32u * 1024)      /* one "K=V" */
#define HB_DEPTH_MAX   8                 /* nesting of containers */
#define HB_HOSTNAME_MAX 63               /* set_hostname (issue 19): a sandbox id */

/* Requests init serves at once, each on a thread of its own; past it a new
 * connection is refused at once (errno EAGAIN: the daemon's 503). */
#define HB_INIT_MAX_REQUESTS 60
/* Background processes init keeps (init-protocol.md, "Processes"): at most
 * HB_PROC_MAX, running or exited; an exited one for HB_PROC_KEEP_S; each
 * with an output ring of up to HB_PROC_RING bytes, all rings together
 * within HB_PROC_RING_BUDGET. */
#define HB_PROC_MAX         64
#define HB_PROC_KEEP_S      600
#define HB_PROC_RING        (2u * 1024 * 1024)
#define HB_PROC_RING_BUDGET (32u * 1024 * 1024)
/* Tasks the sandbox's cgroup holds on top of its `pids` limit for init: its
 * request threads and the command each one may be starting (a command
 * joins the user cgroup before it execs), one keeper thread per background
 * process, plus init itself. */
#define HB_INIT_PIDS_RESERVE (2 * HB_INIT_MAX_REQUESTS + HB_PROC_MAX + 8)

/* A received frame. buf holds the raw bytes (grown up to HB_FRAME_MAX and
 * reused across reads); map is the decoded top-level map (empty unless
 * decoded): its entries live in the unpacker's zone and its strings and
 * bins point into buf, so all are valid until the next read or free. No
 * pointer refers into the struct itself, so it may be copied. */
typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    msgpack_unpacked up;
    bool decoded;
    msgpack_object_map map;
} hb_frame_t;

void hb_frame_init(hb_frame_t *f);
void hb_frame_free(hb_frame_t *f);

/* Decode len bytes (a frame body, without the length prefix) copied into f.
 * 0 on success, -1 (errno EPROTO) if it is not exactly one well-formed map
 * with string keys. */
int hb_frame_decode(hb_frame_t *f, const void *data, size_t len);

/* Read one frame from fd and decode it. timeout_ms < 0 blocks; otherwise the
 * whole frame must arrive within timeout_ms (poll between reads), so a
 * non-blocking fd works too. Returns 0 with a frame, 1 on a clean EOF before
 * the first byte, -1 with errno: EPROTO (malformed or out of range),
 * ECONNRESET (EOF inside a frame), ETIMEDOUT, or the read error. */
int hb_frame_read(int fd, hb_frame_t *f, int timeout_ms);

/* ---- writing ----
 * Build a frame in a msgpack_sbuffer: hb_frame_begin() reserves the length
 * prefix, pack one map with the packer, then hb_frame_send() patches the
 * length in and writes it all (MSG_NOSIGNAL on sockets). */
void hb_frame_begin(msgpack_sbuffer *sb);
int hb_frame_send(int fd, msgpack_sbuffer *sb);

/* Send {t: <t>, [fd: <fd> if fd > 0,] data: bin} without copying the
 * payload (writev of a small header and data). len <= HB_CHUNK_MAX. The
 * zero-copy twin of hb_initans_send for `out` and `data` (initproto.def). */
int hb_frame_send_chunk(int fd, const char *t, int ofd, const void *data, size_t len);

/* Write all of buf (EINTR-safe; MSG_NOSIGNAL on sockets). */
int hb_write_all(int fd, const void *buf, size_t len);

/* Packing helpers: a key followed by a value. */
void hb_pk_str(msgpack_packer *pk, const char *s);
void hb_pk_kstr(msgpack_packer *pk, const char *k, const char *v);
void hb_pk_kuint(msgpack_packer *pk, const char *k, uint64_t v);
void hb_pk_kint(msgpack_packer *pk, const char *k, int64_t v);
void hb_pk_kbool(msgpack_packer *pk, const char *k, bool v);
void hb_pk_kbin(msgpack_packer *pk, const char *k, const void *v, size_t n);

/* ---- lookups in a decoded map (schemas/initmsg.c decodes messages) ----
 * hb_map_get: the value of key, or NULL. hb_map_str: 0 when key is a str of
 * at most max bytes (output set), 1 when absent, -1 otherwise. */
const msgpack_object *hb_map_get(const msgpack_object_map *m, const char *key);
int hb_map_str(const msgpack_object_map *m, const char *key, size_t max,
               const char **p, size_t *len);

/* Typed checks on one object: 0 when it has the type and is within bounds
 * (output set), -1 otherwise. */
int hb_obj_str(const msgpack_object *o, size_t max, const char **p, size_t *len);
int hb_obj_uint(const msgpack_object *o, uint64_t max, uint64_t *v);
int hb_obj_int(const msgpack_object *o, int64_t min, int64_t max, int64_t *v);

#endif
