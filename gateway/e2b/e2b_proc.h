/* process.Process (E2B envd's process.proto) on HiveBox's background
 * processes: the shared parts of e2b_proc_stream.c (Start, Connect) and
 * e2b_proc_ctl.c (List, SendInput, SendSignal, CloseStdin, Update). The
 * parsing half (e2b_proc_parse.c) is pure: unit tested and fuzzed. */
#ifndef HB_E2B_PROC_H
#define HB_E2B_PROC_H

#include <jansson.h>

#include "e2b_call.h"
#include "proc.h"

/* E2B runs argv; HiveBox runs a /bin/sh -c command. The command that execs
 * exactly cmd + args, each word single-quoted: "exec 'cmd' 'a b' ..."
 * (malloc'd), or NULL with *e naming the field (process.cmd,
 * process.args). */
char *hb_e2b_cmd_quote(const json_t *cmd, const json_t *args, hb_err_t *e);
/* The reverse, for List: cmd and args back from a command made by
 * hb_e2b_cmd_quote; any other command (one HiveBox's REST API started) is
 * /bin/sh ["-c", command]. New references in *cmd and *args. */
int hb_e2b_cmd_split(const char *command, json_t **cmd, json_t **args);

/* A StartRequest, parsed: everything hb_proc_req_t points at, owned here. */
typedef struct {
    hb_proc_req_t req;
    char         *command;
    char         *cwd;
    char        **env;         /* NULL-terminated */
    char          tag[HB_TAG_MAX + 1];
} hb_e2b_start_t;

/* k->msg as a StartRequest into *s (user k->user; timeout_ms from the
 * call's deadline, as envd kills the process at the request's timeout).
 * 0, or -1 with *e (HB_E_INVALID naming the field). */
int  hb_e2b_start_parse(const hb_e2b_call_t *k, const json_t *msg, int64_t timeout_ms,
                        hb_e2b_start_t *s, hb_err_t *e);
void hb_e2b_start_clear(hb_e2b_start_t *s);

/* A PTY message ({"size": {"cols", "rows"}}): 1 with both set, 0 when
 * absent, -1 with *e naming the field. */
int hb_e2b_pty_size(const json_t *pty, unsigned *cols, unsigned *rows, hb_err_t *e);

/* msg.process, a ProcessSelector ({"pid": N} or {"tag": "t"}): sel->tag
 * points into msg. 0, or -1 with *e (HB_E_INVALID). */
int hb_e2b_selector(const json_t *msg, hb_proc_sel_t *sel, hb_err_t *e);

/* A Signal enum value (its name or number) to a signal: SIGKILL, SIGTERM;
 * 0 for one envd does not know (it answers `unimplemented`), -1 when
 * malformed. */
int hb_e2b_signal(const json_t *v);

/* A protobuf bytes field (base64) o[key], at most max bytes decoded:
 * 1 with *out and *n (malloc'd), 0 when absent, -1 with *e naming key. */
int hb_e2b_bytes(const json_t *o, const char *key, size_t max, unsigned char **out, size_t *n,
                 hb_err_t *e);

#endif
