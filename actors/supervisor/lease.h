/* A lease: a gateway worker thread borrowing a sandbox's handle from its
 * supervisor (SB_LEASE, given back with SB_RELEASE), for work too big or too
 * slow for an actor's queue -- streamed files and archives, the MCP
 * transport's tools. While lent, the supervisor counts the lease as a use in
 * flight and never frees the handle (supervisor.h); the handle's fields are
 * immutable and the runtime's file and exec calls are safe side by side
 * (runtime.h).
 *
 * The type is opaque: the holder gets exactly the operations below, never
 * the hb_sandbox_t itself, so what the gateway may do with another actor's
 * handle is this list. Take it with hb_lease_take, give it back once with
 * hb_lease_release (NULL-safe, so one `out:` label can always call it). */
#ifndef HB_LEASE_H
#define HB_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "files_archive.h"
#include "messages.h"
#include "proc.h"
#include "runtime.h"

typedef struct hb_lease hb_lease_t;

/* Borrow sandbox id's handle from the manager at endpoint `manager` (waits
 * for the supervisor, bounded). 0 with *out set, or -1 with *e set and *out
 * NULL. */
int  hb_lease_take(const char *manager, const char *id, hb_lease_t **out, hb_err_t *e);
/* The same for a holder that reads only host state files (hb_lease_state_dir,
 * hb_lease_image_facts), never init: lent while the sandbox is paused,
 * without resuming it (issue 17). */
int  hb_lease_take_host(const char *manager, const char *id, hb_lease_t **out, hb_err_t *e);
/* Give it back and free *l; *l becomes NULL. */
void hb_lease_release(hb_lease_t **l);

/* ---- what the holder may know ---- */
const char *hb_lease_id(const hb_lease_t *l);
int64_t     hb_lease_created_at(const hb_lease_t *l);   /* tells a re-created name apart */
/* Its host state dir, to read the files sbdir.h names (the MCP token, the
 * agent settings); never a path into the sandbox. */
const char *hb_lease_state_dir(const hb_lease_t *l);
int  hb_lease_image_facts(const hb_lease_t *l, hb_image_facts_t *f);

/* ---- what the holder may do: the runtime's calls on the handle ---- */
int hb_lease_file_read(const hb_lease_t *l, const char *path, uint64_t max_size,
                       hb_size_cb on_size, hb_sink_cb sink, void *ud, hb_err_t *e);
int hb_lease_file_read_buf(const hb_lease_t *l, const char *path, uint64_t max_size, char **buf,
                           size_t *len, hb_err_t *e);
int hb_lease_file_write(const hb_lease_t *l, const char *path, uint32_t mode, uint64_t max_size,
                        hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e);
/* E2B's writes and mkdirs, as the calling user (hb_file_write_as). */
int hb_lease_file_write_as(const hb_lease_t *l, const char *path, uint32_t mode,
                           uint64_t max_size, const char *user, hb_src_cb src, void *ud,
                           uint64_t *written, hb_err_t *e);
int hb_lease_file_mkdir_as(const hb_lease_t *l, const char *path, bool parents, const char *user,
                           hb_err_t *e);
/* A directory's changes (hb_fs_watch_open); usable while the lease is held. */
hb_fs_watch_t *hb_lease_fs_watch(const hb_lease_t *l, const char *path, bool recursive,
                                 hb_err_t *e);
int hb_lease_file_list(const hb_lease_t *l, const char *path, bool recursive, size_t max_entries,
                       hb_dirent_t **ents, size_t *n, bool *truncated, hb_err_t *e);
int hb_lease_file_stat(const hb_lease_t *l, const char *path, bool follow, hb_stat_t *st,
                       hb_err_t *e);
int hb_lease_file_mkdir(const hb_lease_t *l, const char *path, bool parents, hb_err_t *e);
int hb_lease_file_rename(const hb_lease_t *l, const char *from, const char *to, hb_err_t *e);
int hb_lease_file_remove(const hb_lease_t *l, const char *path, bool recursive, hb_err_t *e);
int hb_lease_archive_get(const hb_lease_t *l, const char *path, int (*on_start)(void *ud),
                         hb_sink_cb sink, void *ud, hb_err_t *e);
int hb_lease_archive_put(const hb_lease_t *l, const char *path, uint64_t max, hb_src_cb src,
                         void *ud, uint64_t *size, hb_err_t *e);
/* The runtime's request an SB_EXEC message describes (its strings stay
 * q's); for the supervisor's exec and the gateway's streamed one alike. */
hb_exec_req_t hb_exec_req_of(const hb_msg_t *q);
/* A command whose output goes to cb as it arrives (hb_exec; cb may block,
 * which slows the command down, and abandons it by returning non-zero). */
int  hb_lease_exec(const hb_lease_t *l, const hb_exec_req_t *req, hb_output_cb cb, void *ud,
                   hb_exec_result_t *res, hb_err_t *e);
/* A command run to completion (hb_exec_collect). */
int  hb_lease_exec_collect(const hb_lease_t *l, const hb_exec_req_t *req, hb_exec_result_t *res,
                           hb_outbuf_t *ob, hb_err_t *e);
/* After a failed call: say so when the sandbox was destroyed or its init
 * died meanwhile (hb_sup_explain_gone; what names the operation). */
void hb_lease_explain_gone(const hb_lease_t *l, const char *what, hb_err_t *e);
/* A user's command ran: tell the supervisor, so it counts in
 * commands_executed and the exec events like the REST API's. */
void hb_lease_executed(const hb_lease_t *l, const hb_exec_result_t *res);

/* Background processes (proc.h), on the leased sandbox. A stream stays
 * usable only while the lease is held: close it before the release. A
 * start tells the supervisor, which then watches the sandbox's processes
 * while any runs (process.started / process.exited events). */
int hb_lease_proc_start(const hb_lease_t *l, const hb_proc_req_t *req, hb_proc_info_t *out,
                        hb_err_t *e);
int hb_lease_proc_list(const hb_lease_t *l, const hb_proc_sel_t *sel, hb_proc_info_t **v,
                       size_t *n, hb_err_t *e);
int hb_lease_proc_input(const hb_lease_t *l, const hb_proc_sel_t *sel, const void *data,
                        size_t len, bool close, hb_err_t *e);
int hb_lease_proc_signal(const hb_lease_t *l, const hb_proc_sel_t *sel, int sig, hb_err_t *e);
int hb_lease_proc_resize(const hb_lease_t *l, const hb_proc_sel_t *sel, unsigned cols,
                         unsigned rows, hb_err_t *e);
int hb_lease_proc_forget(const hb_lease_t *l, const hb_proc_sel_t *sel, hb_err_t *e);
hb_proc_stream_t *hb_lease_proc_output(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                       uint64_t offset, bool follow, hb_proc_info_t *info,
                                       hb_err_t *e);
/* Following and holding the process back while this stream lags
 * (hb_proc_output_hold_open). */
hb_proc_stream_t *hb_lease_proc_output_held(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                            uint64_t offset, hb_proc_info_t *info, hb_err_t *e);
hb_proc_stream_t *hb_lease_proc_attach(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                       uint64_t offset, hb_proc_info_t *info, hb_err_t *e);

/* ---- issue 16: preview ports ---- */
/* A socket connected to port inside the sandbox (port.h), the caller's. */
int hb_lease_port_connect(const hb_lease_t *l, unsigned port, int *fd, hb_err_t *e);

#endif
