/* Background processes, daemon side: the proc_* requests of the init
 * protocol (schemas/init-protocol.md, "Processes"). init keeps the
 * processes, their output rings and their PTYs; the daemon keeps nothing
 * but open connections while a client follows or attaches, so a daemon
 * restart loses no process and no output.
 *
 * Every call opens its own connection to the sandbox's init (safe from any
 * thread, side by side with exec and files). The gateway reaches them
 * through its lease (lease.h: hb_lease_proc_*). */
#ifndef HB_PROC_H
#define HB_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "initproto.h"
#include "runtime.h"

/* One process: by pid (> 0) or, when pid is 0, by tag. */
typedef struct {
    int         pid;
    const char *tag;
} hb_proc_sel_t;

typedef struct {
    const char  *command;      /* /bin/sh -c */
    const char  *cwd;          /* NULL: the user's home */
    const char  *user;         /* NULL: root */
    const char  *tag;          /* NULL: none */
    char *const *env;          /* NULL-terminated "K=V", or NULL */
    bool         keep_stdin;   /* stdin stays open for hb_proc_input */
    unsigned     cols, rows;   /* both > 0: a PTY of that size */
    uint32_t     timeout_ms;   /* 0: none */
    bool         hold;         /* hold the output from its first byte for the
                                * hb_proc_output_hold_open that follows */
} hb_proc_req_t;

/* What init says about a process (its `proc` answer). The strings are
 * copies, owned by the struct: hb_proc_info_clear frees them. */
typedef struct {
    int      pid;
    char     tag[HB_TAG_MAX + 1];
    char    *command;
    char     user[HB_USER_MAX + 1];
    int64_t  started_at_ms, ended_at_ms;   /* ended 0: running */
    int      exit_code, term_signal;       /* once ended; code 128+sig when signalled */
    bool     timed_out;
    unsigned cols, rows;                   /* 0: no PTY */
    bool     stdin_open;
    uint64_t first, off;                   /* oldest output byte kept; total written */
    uint64_t seq;
} hb_proc_info_t;

void hb_proc_info_clear(hb_proc_info_t *p);
void hb_proc_infos_free(hb_proc_info_t *v, size_t n);

/* Start one (HB_E_INVALID naming the field for bad input, HB_E_EXISTS for
 * a tag in use, HB_E_UNAVAIL when init keeps 64 running). */
int hb_proc_start(const hb_sandbox_t *sb, const hb_proc_req_t *req, hb_proc_info_t *out,
                  hb_err_t *e);
/* All of them (sel NULL), or the one sel names (HB_E_NOTFOUND). *v is
 * malloc'd: hb_proc_infos_free. */
int hb_proc_list(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_proc_info_t **v,
                 size_t *n, hb_err_t *e);
/* Write data to its stdin, then close stdin if close (HB_E_CONFLICT when
 * stdin is not open; HB_E_UNAVAIL when the process does not read it). */
int hb_proc_input(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, const void *data, size_t len,
                  bool close, hb_err_t *e);
int hb_proc_signal(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, int sig, hb_err_t *e);
/* HB_E_CONFLICT when it has no PTY. */
int hb_proc_resize(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, unsigned cols,
                   unsigned rows, hb_err_t *e);
/* Kill its process group and forget it. */
int hb_proc_forget(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_err_t *e);

/* ---- streams: output, attach, watch ----
 * One open connection to init; read events with hb_proc_next (poll
 * hb_proc_stream_fd for readability between calls). Close with
 * hb_proc_stream_close (NULL-safe) from the thread that reads. */
typedef struct hb_proc_stream hb_proc_stream_t;

typedef enum {
    HB_PEV_OUT = 1,   /* fd (1|2), data/len, off (of data's first byte) */
    HB_PEV_EXIT,      /* info: the ended process (exit status, off = the end) */
    HB_PEV_END,       /* no more (output without follow; watch: nothing running) */
    HB_PEV_PROC,      /* info: a watch event (a start or an exit, by ended_at_ms) */
} hb_proc_evkind_t;

typedef struct {
    hb_proc_evkind_t kind;
    int              fd;
    const void      *data;    /* valid until the next hb_proc_next */
    size_t           len;
    uint64_t         off;
    hb_proc_info_t   info;    /* EXIT and PROC; owned by the stream, valid until next */
} hb_proc_event_t;

/* proc_output: *info is the process as it is now (info->first > offset:
 * the bytes in between were dropped from the ring). */
hb_proc_stream_t *hb_proc_output_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, bool follow, hb_proc_info_t *info,
                                      hb_err_t *e);
/* proc_output with follow and hold: while this stream is open, init lets
 * the process's output overrun nothing this stream has not read yet and
 * stops reading the process instead (its writes block, as on a pipe to a
 * slow reader). A reader that stops stops that process, nothing else;
 * closing the stream frees it at once. An init older than `hold` follows
 * without holding (the ring may then drop, as for any follower). */
hb_proc_stream_t *hb_proc_output_hold_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                           uint64_t offset, hb_proc_info_t *info, hb_err_t *e);
/* proc_attach: as output with follow, and the client may send. A newer
 * attach takes the process over: this stream then fails with
 * HB_E_CONFLICT ("taken over by another client"). */
hb_proc_stream_t *hb_proc_attach_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, hb_proc_info_t *info, hb_err_t *e);
/* proc_watch: from_seq < 0: from now; else events after that seq. */
hb_proc_stream_t *hb_proc_watch_open(const hb_sandbox_t *sb, int64_t from_seq, hb_err_t *e);

int  hb_proc_stream_fd(const hb_proc_stream_t *s);
/* 0 with *ev; 1 on timeout (timeout_ms >= 0); -1 with *e (init gone:
 * HB_E_DEAD; taken over: HB_E_CONFLICT; init's error otherwise). */
int  hb_proc_next(hb_proc_stream_t *s, hb_proc_event_t *ev, int timeout_ms, hb_err_t *e);
/* Attach only; each sends one frame. One sending thread at a time (it may
 * differ from the reading thread: sends and reads share nothing). */
int  hb_proc_send_input(hb_proc_stream_t *s, const void *data, size_t len, hb_err_t *e);
int  hb_proc_send_resize(hb_proc_stream_t *s, unsigned cols, unsigned rows, hb_err_t *e);
int  hb_proc_send_signal(hb_proc_stream_t *s, int sig, hb_err_t *e);
int  hb_proc_send_eof(hb_proc_stream_t *s, hb_err_t *e);
void hb_proc_stream_close(hb_proc_stream_t *s);

/* "TERM", "SIGTERM", "term" or "15" -> 15; -1 for anything else. */
int hb_signal_parse(const char *name);

#endif
