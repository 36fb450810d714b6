/* One supervisor per sandbox: the only owner of its hb_sandbox_t. Since
 * issue 19 a supervisor is a unit on one of a few supervisor host threads
 * (sup_host.h: what may run on a host thread, how messages reach a unit),
 * no longer a thread of its own; the manager spawns it with hb_sup_spawn.
 *
 * It creates (or re-attaches to) the sandbox, answers GET with live usage,
 * runs each exec and listing on an operation thread of its own (so several
 * execs run at once and a slow one blocks nothing), lends the handle to
 * gateway threads for streamed file transfers, reports usage to the metrics
 * actor every 10 s, and destroys the sandbox when told to. A lent handle is
 * reached only through lease.h (the gateway never sees the hb_sandbox_t).
 *
 * Lifetime of the handle: every operation thread and every lease counts as
 * one "in flight" use. The handle is destroyed and freed only when none is
 * in flight; to get there quickly, destroy first kills the sandbox's init
 * (which ends every command and breaks every connection to it), then waits
 * for the OP_DONE / SB_RELEASE messages. On daemon shutdown the sandbox is
 * left running; uses still in flight after a grace period are abandoned with
 * the handle (never freed under them).
 */
#ifndef HB_SUPERVISOR_H
#define HB_SUPERVISOR_H

#include "bus.h"
#include "runtime.h"

typedef struct {
    hb_endpoints_t ep;         /* reports to ep.manager, ep.metrics; OpenCode: ep.proxy */
    const hb_runtime_t *rt;    /* immutable after hb_runtime_init; shared read-only */
    char          id[HB_ID_MAX];
    uint64_t      gen;         /* its key on its host: unique, never reused (sup_host.h) */
    hb_sandbox_t *sb;          /* attach: an opened handle, ownership moves in */
    hb_msg_t      create;      /* create: the SB_CREATE request, ownership moves in */
    bool          pooled;      /* issue 19: create a warm-pool sandbox (nobody's yet);
                                  an SB_CREATE on its pipe later makes it a user's */
} hb_sup_args_t;

/* Free start arguments that reached no host (an attach's sandbox is left
 * running). NULL is fine. */
void hb_sup_args_free(hb_sup_args_t *args);
/* Operations (execs, listings, file transfers) one sandbox may have in
 * flight; past it a request is refused at once with 503, so that a stuck
 * sandbox cannot tie up every gateway thread. Set once at start, before any
 * supervisor runs. */
void hb_supervisor_set_max_inflight(int n);

/* sup_ops.c: start an operation thread for an SB_EXEC or SB_LSFILES request
 * (ownership of *req moves in; *req is zeroed). It replies to req's reply_to
 * and posts OP_DONE to inbox when it no longer uses sb. */
int hb_sup_op_start(const hb_sandbox_t *sb, hb_msg_t *req, const char *inbox);
/* Operation (and build) threads still running anywhere in the process
 * (for shutdown). */
int hb_sup_ops_live(void);
/* Sandboxes whose supervisor closed at shutdown with work still in flight
 * (abandoned to its threads, never freed). */
int hb_sup_abandoned(void);
/* A detached thread counted by hb_sup_ops_live; fn calls hb_sup_thread_end
 * last. 0, or -1 if it could not start. */
int  hb_sup_thread_start(void *(*fn)(void *), void *arg);
void hb_sup_thread_end(void);

/* sup_build.c (issue 19): build the sandbox of create request *q on a
 * thread of its own, so its supervisor host keeps serving its other
 * sandboxes meanwhile; q is borrowed until the thread posts SUP_BUILT
 * (handle: the hb_sandbox_t, owned by the receiver; or code and error) to
 * inbox. -1 if no thread could start. */
int hb_sup_build_start(const hb_runtime_t *rt, const hb_msg_t *q, const char *id, bool pooled,
                       const char *inbox);
/* The spec a create request asks for (supervisor.c). */
int hb_sup_spec_from(const hb_runtime_t *rt, hb_spec_t *spec, const hb_msg_t *q, const char *id,
                     hb_err_t *e);
/* A failed request on sb (what: "command", "listing", ...) that a destroy
 * cut short becomes HB_E_GONE "sandbox 'x' was destroyed while the <what>
 * ran"; bad input stays what it was. The supervisor marks a destroy in the
 * sandbox dir before it kills init, so the mark is seen by every request the
 * kill breaks. */
bool hb_sup_destroying(const hb_sandbox_t *sb);
void hb_sup_explain_gone(const hb_sandbox_t *sb, const char *what, hb_err_t *e);
void hb_sup_forget_destroying(const hb_sandbox_t *sb);

/* sup_watch.c: a thread holding one proc_watch connection to sb's init
 * (proc.h) while processes run there: each start and exit it sees goes to
 * inbox as EV_PROC_STARTED / EV_PROC_EXITED (the supervisor publishes
 * them); when nothing runs any more, init is gone, or hb_sup_watch_stop
 * was called, it posts SB_PROC_WATCHED and ends. from_seq < 0: from now.
 * The supervisor owns the returned watch: free it (hb_sup_watch_free) only
 * after SB_PROC_WATCHED arrived. NULL if no thread could start. */
typedef struct hb_sup_watch hb_sup_watch_t;
hb_sup_watch_t *hb_sup_watch_start(const hb_sandbox_t *sb, int64_t from_seq, const char *inbox);
void hb_sup_watch_stop(hb_sup_watch_t *w);
void hb_sup_watch_free(hb_sup_watch_t *w);

/* sup_alive.c: a pidfd of sb's init, checked to be the recorded one (pid and
 * start time); -1 if it is gone or pidfds are not supported. */
int hb_sup_alive_open(const hb_sandbox_t *sb);

/* sbinfo.c: describe a sandbox (caller clears *out). */
int hb_sbinfo_fill(hb_sbinfo_t *out, const hb_sandbox_t *sb, uint64_t commands_executed,
                   const hb_usage_t *usage);
/* The daemon's own per-sandbox counters, kept beside sandbox.json. */
uint64_t hb_counters_load(const hb_sandbox_t *sb);
void     hb_counters_save(const hb_sandbox_t *sb, uint64_t commands_executed);
/* sup_egress.c (issue 16): SB_NETWORK, read or replace the egress policy.
 * Replies R_NETWORK or R_ERROR to q->reply_to. */
void     hb_sup_on_network(const hb_sandbox_t *sb, const hb_msg_t *q);

#define HB_LIST_MAX_ENTRIES 10000

/* issue 16: SB_PORT_PUBLIC for the sandbox whose state dir is dir
 * (sup_preview.c); replies itself. */
void hb_sup_port_public(const char *dir, const hb_msg_t *q);

#endif
