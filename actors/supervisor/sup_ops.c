/* A supervisor's operation threads: one detached thread per exec or listing,
 * so commands in one sandbox run side by side and the supervisor's own loop
 * never waits on init. Each thread replies straight to the requester, then
 * tells its supervisor (OP_DONE) that it has let go of the handle. */
#include "supervisor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec_sink.h"
#include "lease.h"   /* hb_exec_req_of */
#include "sbdir.h"   /* HB_SBDIR_DESTROYING: the destroy marker */

typedef struct {
    const hb_sandbox_t *sb;
    hb_msg_t            req;
    char                inbox[128];
} op_t;

static _Atomic int g_live = 0;

int hb_sup_ops_live(void) { return atomic_load(&g_live); }

bool hb_sup_destroying(const hb_sandbox_t *sb)
{
    return hb_sbdir_has(sb->dir, HB_SBDIR_DESTROYING);
}

void hb_sup_forget_destroying(const hb_sandbox_t *sb)
{
    char path[sizeof sb->dir + 32];
    if (hb_sbdir_file(path, sizeof path, sb->dir, HB_SBDIR_DESTROYING, NULL) == 0)
        unlink(path);
}

/* Init dying under a request shows as a reset connection while the kernel
 * is still tearing its pid namespace down (init not yet a zombie), so the
 * destroy marker decides, not init's liveness. */
void hb_sup_explain_gone(const hb_sandbox_t *sb, const char *what, hb_err_t *e)
{
    if (e->code == HB_E_INVALID || e->code == HB_E_TOOBIG)
        return;
    if (hb_sup_destroying(sb))
        hb_fail(e, HB_E_GONE, 0, "sandbox '%s' was destroyed while the %s ran", sb->id, what);
    else if (e->code == HB_E_INTERNAL && !hb_sandbox_alive(sb))
        hb_fail(e, HB_E_DEAD, 0, "sandbox '%s': its init died while the %s ran", sb->id, what);
}

/* A command SIGKILLed by the destroy's kill answered before its connection
 * broke: destroyed too, not an exit status of its own. */
static bool killed_by_destroy(const op_t *op, const hb_exec_result_t *res)
{
    return (res->term_signal == SIGKILL || res->exit_code == 137) && hb_sup_destroying(op->sb);
}

static void run_exec(op_t *op, hb_msg_t *done)
{
    const hb_msg_t *q = &op->req;
    hb_exec_req_t r = hb_exec_req_of(q);
    hb_exec_result_t res = {0};
    hb_err_t e = {0};
    /* NULL when the requester gave up already: the output is discarded. */
    hb_sink_t *sink = hb_sink_adopt(q->handle);
    int rc = hb_exec_collect(op->sb, &r, &res, sink ? hb_sink_buf(sink) : NULL, &e);
    hb_sink_put(sink);   /* before the reply: the gateway reads the sink after it */
    if (rc == 0 && killed_by_destroy(op, &res))   /* told as HB_E_GONE just below */
        rc = hb_fail(&e, HB_E_INTERNAL, ECONNRESET, "killed by the destroy");
    if (rc < 0) {
        hb_sup_explain_gone(op->sb, "command", &e);
        if (e.code == HB_E_INTERNAL)
            HB_LOG_ERROR("sandbox %s: exec failed: %s", op->sb->id, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    hb_msg_t rep = {
        .type = HB_MSG_R_EXEC,
        .exit_code = res.exit_code,
        .term_signal = res.term_signal,
        .timed_out = res.timed_out,
        .oom_killed = res.oom_killed,
        .stdout_truncated = res.stdout_truncated,
        .stderr_truncated = res.stderr_truncated,
        .duration_ms = res.duration_ms,
    };
    hb_bus_post(q->reply_to, &rep);
    done->command = strdup("exec");
    done->exit_code = res.exit_code;
    done->duration_ms = res.duration_ms;
    done->oom_killed = res.oom_killed;
    done->timed_out = res.timed_out;
}

static const char *type_name(hb_ftype_t t)
{
    switch (t) {
    case HB_FT_FILE: return "file";
    case HB_FT_DIR: return "directory";
    case HB_FT_SYMLINK: return "symlink";
    default: return "other";
    }
}

static int entries_from(hb_msg_t *rep, const hb_dirent_t *ents, size_t n)
{
    if (n == 0)
        return 0;
    rep->entries = calloc(n, sizeof *rep->entries);
    if (!rep->entries)
        return -1;
    rep->entries_n = n;
    for (size_t i = 0; i < n; i++) {
        hb_entry_t *t = &rep->entries[i];
        t->size = ents[i].type == HB_FT_FILE ? ents[i].size : 0;
        t->has_meta = ents[i].has_meta;
        t->mode = ents[i].mode;
        t->uid = ents[i].uid;
        t->gid = ents[i].gid;
        t->mtime = ents[i].mtime;
        if (hb_str_set(&t->path, ents[i].path) < 0 || hb_str_set(&t->name, ents[i].name) < 0 ||
            hb_str_set(&t->entry_type, type_name(ents[i].type)) < 0)
            return -1;
    }
    return 0;
}

static void run_list(op_t *op)
{
    const hb_msg_t *q = &op->req;
    hb_dirent_t *ents = NULL;
    size_t n = 0;
    bool truncated = false;
    hb_err_t e = {0};
    if (hb_file_list(op->sb, q->path, q->recursive, HB_LIST_MAX_ENTRIES, &ents, &n, &truncated, &e) < 0) {
        hb_sup_explain_gone(op->sb, "listing", &e);
        if (e.code == HB_E_INTERNAL)
            HB_LOG_ERROR("sandbox %s: list %s: %s", op->sb->id, q->path, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    hb_msg_t rep = {.type = HB_MSG_R_ENTRIES, .truncated = truncated};
    if (hb_str_set(&rep.path, q->path) < 0 || entries_from(&rep, ents, n) < 0)
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory listing %s", q->path);
    else
        hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
    hb_dirents_free(ents, n);
}

static void *op_main(void *arg)
{
    op_t *op = arg;
    hb_msg_t done = {.type = HB_MSG_OP_DONE};
    if (op->req.type == HB_MSG_SB_EXEC)
        run_exec(op, &done);
    else
        run_list(op);
    /* From here on the handle is not touched again. */
    hb_bus_post(op->inbox, &done);
    hb_msg_clear(&done);
    hb_msg_clear(&op->req);
    free(op);
    hb_sup_thread_end();
    return NULL;
}

int hb_sup_thread_start(void *(*fn)(void *), void *arg)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    atomic_fetch_add(&g_live, 1);
    int rc = pthread_create(&t, &at, fn, arg);
    pthread_attr_destroy(&at);
    if (rc != 0)
        atomic_fetch_sub(&g_live, 1);
    return rc == 0 ? 0 : -1;
}

void hb_sup_thread_end(void)
{
    atomic_fetch_sub(&g_live, 1);
}

int hb_sup_op_start(const hb_sandbox_t *sb, hb_msg_t *req, const char *inbox)
{
    op_t *op = calloc(1, sizeof *op);
    if (!op)
        return -1;
    op->sb = sb;
    op->req = *req;
    memset(req, 0, sizeof *req);
    snprintf(op->inbox, sizeof op->inbox, "%s", inbox);
    if (hb_sup_thread_start(op_main, op) < 0) {
        *req = op->req;   /* give the request back so the caller can answer it */
        free(op);
        return -1;
    }
    return 0;
}
