/* Request parsing and validation: JSON bodies and query parameters into
 * actor messages. Everything here is pure (no daemon state), so it is unit
 * tested and fuzzed (tests/fuzz/fuzz_request.c). Every error is HB_E_INVALID
 * (or HB_E_TOOBIG) with a message that starts with the offending field. */
#ifndef HB_REQ_PARSE_H
#define HB_REQ_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"
#include "initproto.h"   /* HB_STDIN_MAX, HB_ENV_MAX: the init protocol's bounds */
#include "messages.h"
#include "opencode_conf.h"
#include "path.h"      /* HB_PATH_MAX */

#define HB_JSON_BODY_MAX   (4u << 20)   /* request bodies other than file uploads */
#define HB_COMMAND_MAX     (64u << 10)  /* the init protocol's bound */
#define HB_AGENT_STR_MAX   4096
#define HB_SKILLS_MAX      256
#define HB_EXEC_TIMEOUT_MAX 86400

/* POST /api/v1/hiveboxes: fills an SB_CREATE message (caller clears q) with
 * every spec field, defaults applied and validated; the llm_* fields against
 * the daemon's OpenCode settings g (NULL: none configured). */
int hb_req_parse_create(const char *body, size_t len, const hb_oc_settings_t *g, hb_msg_t *q,
                        hb_err_t *e);

/* POST /:id/exec: fills an SB_EXEC message (command, cwd, env, stdin_data,
 * timeout_ms, user; not id/reply_to) and *stream: 1 for "stream": true
 * (server-sent events), 0 for false, -1 when absent (Accept decides). */
int hb_req_parse_exec(const char *body, size_t len, hb_msg_t *q, int *stream, hb_err_t *e);

/* The body as a JSON object (nesting and size checked), NULL with *e. */
json_t *hb_req_load_object(const char *body, size_t len, hb_err_t *e);
/* A body whose one member is `field`, a name (^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$):
 * a copy in *out (caller frees; replaced if set). what: the error's hint,
 * e.g. "the new image's name". Unknown members are refused by name. */
int hb_req_parse_name_field(const char *body, size_t len, const char *field, const char *what,
                            char **out, hb_err_t *e);
/* A command body (exec, processes): a JSON object whose every member goes
 * to field (which fails on unknown ones) into an SB_EXEC q; `command` is
 * required. q is cleared on failure. */
typedef int (*hb_req_field_fn)(const char *key, json_t *v, hb_msg_t *q, void *ud, hb_err_t *e);
int hb_req_parse_command(const char *body, size_t len, hb_msg_t *q, hb_req_field_fn field,
                         void *ud, hb_err_t *e);
/* One exec field (command, cwd, env, user, timeout, stdin, stream) into q:
 * the fields a process body shares with exec are parsed alike. */
int hb_req_exec_field(const char *key, json_t *v, hb_msg_t *q, int *stream, hb_err_t *e);

/* POST /:id/processes: command, cwd, env, user and timeout_ms into q (as
 * for exec); the rest into *x. */
typedef struct {
    char     tag[65];          /* "" for none (HB_TAG_MAX + 1) */
    bool     keep_stdin;
    unsigned cols, rows;       /* 0: no PTY */
} hb_proc_extra_t;
/* Values the process routes and the terminal's control frames share: a
 * signal (a name as hb_signal_parse takes it, or a number 1..HB_SIG_MAX;
 * -1 for anything else), and a PTY dimension o[key] in 1..HB_PTY_DIM_MAX
 * (0, or -1 when missing or out of range). */
int hb_req_signal(const json_t *v);
int hb_req_pty_dim(const json_t *o, const char *key, unsigned *out);
int hb_req_parse_proc(const char *body, size_t len, hb_msg_t *q, hb_proc_extra_t *x,
                      hb_err_t *e);

/* ?path= for the file routes into path (HB_PATH_MAX). required: absent is
 * an error; otherwise absent gives "/". Absolute, no NUL, bounded. */
int hb_req_parse_path(const char *qs, bool required, char *path, size_t cap, hb_err_t *e);

/* ?path= of a route that changes the tree (mkdir, delete): required,
 * normalised into path (HB_PATH_MAX), and never "/" (400 naming path). */
int hb_req_parse_target(const char *qs, char *path, size_t cap, hb_err_t *e);

/* POST /:id/files/move: {"from", "to", "overwrite": false}. Both paths
 * absolute, normalised, not "/", different, and to not inside from;
 * unknown fields refused. Every error names its field. */
typedef struct {
    char from[HB_PATH_MAX], to[HB_PATH_MAX];
    bool overwrite;
} hb_move_req_t;
int hb_req_parse_move(const char *body, size_t len, hb_move_req_t *m, hb_err_t *e);

/* ---- req_parse_meta.c ---- */
#define HB_META_KEYS_MAX   64
#define HB_META_KEY_MAX    128    /* bytes */
#define HB_META_VALUE_MAX  1024   /* bytes */
/* create's "metadata": an object of at most 64 strings; key 1..128 bytes,
 * printable, no '=' or '&'; value at most 1024 bytes, no NUL. Errors name
 * metadata.<key>. */
int hb_req_check_metadata(json_t *v, hb_err_t *e);
/* create's "env": {"NAME": "value"} (names ^[A-Za-z_][A-Za-z0-9_]*$, at
 * most HB_SB_ENV_MAX) into *out, NULL-terminated "K=V", malloc'd (an
 * hb_msg_t's STRV: hb_msg_clear frees it), also set when it fails. */
int hb_req_parse_sb_env(json_t *v, char ***out, hb_err_t *e);
/* ?metadata=<urlencoded "k=v&k2=v2"> (E2B's filter) into *filter, a JSON
 * object the caller decrefs; NULL when absent. 400 naming metadata. */
int hb_req_parse_meta_filter(const char *qs, json_t **filter, hb_err_t *e);
/* Whether a sandbox's metadata (JSON text, NULL = {}) has every pair of
 * filter (NULL or {}: everything matches). */
bool hb_meta_match(const char *metadata, const json_t *filter);
/* POST /:id/timeout: {"timeout": seconds}, 1..HB_TIMEOUT_MAX, required. */
int hb_req_parse_timeout(const char *body, size_t len, uint64_t *timeout_s, hb_err_t *e);

/* ?range= seconds for analytics; absent or empty gives 0 (everything). */
/* issue 16 (req_parse_egress.c): the create body's allow_out / deny_out
 * as one policy text into *out (NULL when none); 400 naming the entry, or
 * the network when it is "none". */
int hb_req_create_egress(json_t *body, int mode, char **out, hb_err_t *e);
int hb_req_parse_range(const char *qs, uint64_t *range_s, hb_err_t *e);

#endif
