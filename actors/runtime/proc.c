/* PLACEHOLDER until the proc_* client lands (being written): every call
 * answers "not implemented", so the tree builds and links meanwhile. */
#include "proc.h"

#include <stdlib.h>

#define NOT_YET(e) hb_fail(e, HB_E_NOTSUP, 0, "background processes: not implemented yet")

void hb_proc_info_clear(hb_proc_info_t *p) { free(p->command); p->command = NULL; }
void hb_proc_infos_free(hb_proc_info_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hb_proc_info_clear(&v[i]);
    free(v);
}
int hb_proc_start(const hb_sandbox_t *sb, const hb_proc_req_t *req, hb_proc_info_t *out,
                  hb_err_t *e) { return NOT_YET(e); }
int hb_proc_list(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_proc_info_t **v,
                 size_t *n, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_input(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, const void *data, size_t len,
                  bool close, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_signal(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, int sig, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_resize(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, unsigned cols,
                   unsigned rows, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_forget(const hb_sandbox_t *sb, const hb_proc_sel_t *sel, hb_err_t *e) { return NOT_YET(e); }
hb_proc_stream_t *hb_proc_output_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, bool follow, hb_proc_info_t *info,
                                      hb_err_t *e) { NOT_YET(e); return NULL; }
hb_proc_stream_t *hb_proc_attach_open(const hb_sandbox_t *sb, const hb_proc_sel_t *sel,
                                      uint64_t offset, hb_proc_info_t *info, hb_err_t *e) { NOT_YET(e); return NULL; }
hb_proc_stream_t *hb_proc_watch_open(const hb_sandbox_t *sb, int64_t from_seq, hb_err_t *e) { NOT_YET(e); return NULL; }
int hb_proc_stream_fd(const hb_proc_stream_t *s) { return -1; }
int hb_proc_next(hb_proc_stream_t *s, hb_proc_event_t *ev, int timeout_ms, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_send_input(hb_proc_stream_t *s, const void *data, size_t len, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_send_resize(hb_proc_stream_t *s, unsigned cols, unsigned rows, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_send_signal(hb_proc_stream_t *s, int sig, hb_err_t *e) { return NOT_YET(e); }
int hb_proc_send_eof(hb_proc_stream_t *s, hb_err_t *e) { return NOT_YET(e); }
void hb_proc_stream_close(hb_proc_stream_t *s) { }
int hb_signal_parse(const char *name) { return -1; }
