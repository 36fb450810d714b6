/* Leases of a sandbox handle (see lease.h): the one place the handle's raw
 * pointer crosses from a supervisor (R_LEASE) to a gateway thread, and the
 * one place it goes back (SB_RELEASE). */
#include "lease.h"
#include "port.h"

#include <stdio.h>
#include <stdlib.h>

#include "bus.h"
#include "supervisor.h"   /* hb_sup_explain_gone */

#define LEASE_MS 30000   /* the supervisor answers at once unless its queue is stuck */

struct hb_lease {
    const hb_sandbox_t *sb;
    char                inbox[128];   /* the supervisor's */
};

static int take(const char *manager, const char *id, bool host_only, hb_lease_t **out,
                hb_err_t *e)
{
    hb_msg_t q = {.type = HB_MSG_SB_LEASE, .host_only = host_only}, rep;
    hb_lease_t *l = calloc(1, sizeof *l);
    int rc = -1;
    *out = NULL;
    if (!l || hb_str_set(&q.id, id) < 0) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (hb_bus_call(manager, &q, &rep, LEASE_MS, e) < 0)
        goto out;
    l->sb = (const hb_sandbox_t *)(uintptr_t)rep.handle;
    snprintf(l->inbox, sizeof l->inbox, "%s", rep.inbox ? rep.inbox : "");
    hb_msg_clear(&rep);
    if (!l->sb) {   /* lent, so counted: give it back, then fail */
        hb_lease_release(&l);
        hb_fail(e, HB_E_INTERNAL, 0, "lease of '%s' without a sandbox handle", id);
        goto out;
    }
    *out = l;
    l = NULL;
    rc = 0;
out:
    hb_msg_clear(&q);
    free(l);
    return rc;
}

int hb_lease_take(const char *manager, const char *id, hb_lease_t **out, hb_err_t *e)
{
    return take(manager, id, false, out, e);
}

int hb_lease_take_host(const char *manager, const char *id, hb_lease_t **out, hb_err_t *e)
{
    return take(manager, id, true, out, e);
}

void hb_lease_release(hb_lease_t **l)
{
    if (!*l)
        return;
    hb_msg_t m = {.type = HB_MSG_SB_RELEASE, .handle = (uint64_t)(uintptr_t)(*l)->sb};
    hb_bus_post((*l)->inbox, &m);
    free(*l);
    *l = NULL;
}

const char *hb_lease_id(const hb_lease_t *l) { return l->sb->id; }
int64_t hb_lease_created_at(const hb_lease_t *l) { return l->sb->created_at; }
const char *hb_lease_state_dir(const hb_lease_t *l) { return l->sb->dir; }

int hb_lease_image_facts(const hb_lease_t *l, hb_image_facts_t *f)
{
    if (!l->sb->rt)
        return -1;
    return hb_image_facts(l->sb->rt, l->sb->spec.image, f);
}

int hb_lease_file_read(const hb_lease_t *l, const char *path, uint64_t max_size,
                       hb_size_cb on_size, hb_sink_cb sink, void *ud, hb_err_t *e)
{
    return hb_file_read(l->sb, path, max_size, on_size, sink, ud, e);
}

int hb_lease_file_read_buf(const hb_lease_t *l, const char *path, uint64_t max_size, char **buf,
                           size_t *len, hb_err_t *e)
{
    return hb_file_read_buf(l->sb, path, max_size, buf, len, e);
}

int hb_lease_file_write(const hb_lease_t *l, const char *path, uint32_t mode, uint64_t max_size,
                        hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e)
{
    return hb_file_write(l->sb, path, mode, max_size, src, ud, written, e);
}

int hb_lease_file_write_as(const hb_lease_t *l, const char *path, uint32_t mode,
                           uint64_t max_size, const char *user, hb_src_cb src, void *ud,
                           uint64_t *written, hb_err_t *e)
{
    return hb_file_write_as(l->sb, path, mode, max_size, user, src, ud, written, e);
}

int hb_lease_file_mkdir_as(const hb_lease_t *l, const char *path, bool parents, const char *user,
                           hb_err_t *e)
{
    return hb_file_mkdir_as(l->sb, path, parents, user, e);
}

hb_fs_watch_t *hb_lease_fs_watch(const hb_lease_t *l, const char *path, bool recursive,
                                 hb_err_t *e)
{
    return hb_fs_watch_open(l->sb, path, recursive, e);
}

int hb_lease_file_list(const hb_lease_t *l, const char *path, bool recursive, size_t max_entries,
                       hb_dirent_t **ents, size_t *n, bool *truncated, hb_err_t *e)
{
    return hb_file_list(l->sb, path, recursive, max_entries, ents, n, truncated, e);
}

int hb_lease_file_stat(const hb_lease_t *l, const char *path, bool follow, hb_stat_t *st,
                       hb_err_t *e)
{
    return hb_file_stat(l->sb, path, follow, st, e);
}

int hb_lease_file_mkdir(const hb_lease_t *l, const char *path, bool parents, hb_err_t *e)
{
    return hb_file_mkdir(l->sb, path, parents, e);
}

int hb_lease_file_rename(const hb_lease_t *l, const char *from, const char *to, hb_err_t *e)
{
    return hb_file_rename(l->sb, from, to, e);
}

int hb_lease_file_remove(const hb_lease_t *l, const char *path, bool recursive, hb_err_t *e)
{
    return hb_file_remove(l->sb, path, recursive, e);
}

int hb_lease_archive_get(const hb_lease_t *l, const char *path, int (*on_start)(void *ud),
                         hb_sink_cb sink, void *ud, hb_err_t *e)
{
    return hb_archive_get(l->sb, path, on_start, sink, ud, e);
}

int hb_lease_archive_put(const hb_lease_t *l, const char *path, uint64_t max, hb_src_cb src,
                         void *ud, uint64_t *size, hb_err_t *e)
{
    return hb_archive_put(l->sb, path, max, src, ud, size, e);
}

hb_exec_req_t hb_exec_req_of(const hb_msg_t *q)
{
    hb_exec_req_t r = {
        .command = q->command,
        .cwd = q->cwd,
        .user = q->user,
        .env = (const char *const *)q->env,
        .stdin_data = q->stdin_data.data,
        .stdin_len = q->stdin_data.len,
        .timeout_ms = q->timeout_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)q->timeout_ms,
    };
    return r;
}

int hb_lease_exec(const hb_lease_t *l, const hb_exec_req_t *req, hb_output_cb cb, void *ud,
                  hb_exec_result_t *res, hb_err_t *e)
{
    return hb_exec(l->sb, req, cb, ud, res, e);
}

int hb_lease_exec_collect(const hb_lease_t *l, const hb_exec_req_t *req, hb_exec_result_t *res,
                          hb_outbuf_t *ob, hb_err_t *e)
{
    return hb_exec_collect(l->sb, req, res, ob, e);
}

void hb_lease_explain_gone(const hb_lease_t *l, const char *what, hb_err_t *e)
{
    hb_sup_explain_gone(l->sb, what, e);
}

void hb_lease_executed(const hb_lease_t *l, const hb_exec_result_t *res)
{
    if (!l->inbox[0])
        return;
    hb_msg_t m = {.type = HB_MSG_SB_EXECUTED, .exit_code = res->exit_code,
                  .duration_ms = res->duration_ms, .oom_killed = res->oom_killed,
                  .timed_out = res->timed_out};
    hb_bus_post(l->inbox, &m);
}

/* ---- background processes ---- */

int hb_lease_proc_start(const hb_lease_t *l, const hb_proc_req_t *req, hb_proc_info_t *out,
                        hb_err_t *e)
{
    if (hb_proc_start(l->sb, req, out, e) < 0)
        return -1;
    if (l->inbox[0]) {
        hb_msg_t m = {.type = HB_MSG_SB_PROC_STARTED, .pid = out->pid,
                      .seq = (int64_t)out->seq};
        hb_bus_post(l->inbox, &m);
    }
    return 0;
}

int hb_lease_proc_list(const hb_lease_t *l, const hb_proc_sel_t *sel, hb_proc_info_t **v,
                       size_t *n, hb_err_t *e)
{
    return hb_proc_list(l->sb, sel, v, n, e);
}

int hb_lease_proc_input(const hb_lease_t *l, const hb_proc_sel_t *sel, const void *data,
                        size_t len, bool close, hb_err_t *e)
{
    return hb_proc_input(l->sb, sel, data, len, close, e);
}

int hb_lease_proc_signal(const hb_lease_t *l, const hb_proc_sel_t *sel, int sig, hb_err_t *e)
{
    return hb_proc_signal(l->sb, sel, sig, e);
}

int hb_lease_proc_resize(const hb_lease_t *l, const hb_proc_sel_t *sel, unsigned cols,
                         unsigned rows, hb_err_t *e)
{
    return hb_proc_resize(l->sb, sel, cols, rows, e);
}

int hb_lease_proc_forget(const hb_lease_t *l, const hb_proc_sel_t *sel, hb_err_t *e)
{
    return hb_proc_forget(l->sb, sel, e);
}

hb_proc_stream_t *hb_lease_proc_output(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                       uint64_t offset, bool follow, hb_proc_info_t *info,
                                       hb_err_t *e)
{
    return hb_proc_output_open(l->sb, sel, offset, follow, info, e);
}

hb_proc_stream_t *hb_lease_proc_output_held(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                            uint64_t offset, hb_proc_info_t *info, hb_err_t *e)
{
    return hb_proc_output_hold_open(l->sb, sel, offset, info, e);
}

hb_proc_stream_t *hb_lease_proc_attach(const hb_lease_t *l, const hb_proc_sel_t *sel,
                                       uint64_t offset, hb_proc_info_t *info, hb_err_t *e)
{
    return hb_proc_attach_open(l->sb, sel, offset, info, e);
}

/* ---- issue 16: preview ports ---- */

int hb_lease_port_connect(const hb_lease_t *l, unsigned port, int *fd, hb_err_t *e)
{
    return hb_port_connect(l->sb, port, fd, e);
}
