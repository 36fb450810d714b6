/* The per-sandbox supervisor (see supervisor.h for the handle's lifetime
 * rules), a unit on a supervisor host thread (sup_host.h). Its handlers
 * only ever do quick things themselves: cgroup reads, small atomic file
 * writes, signals, starting threads; whatever they do delays the other
 * sandboxes of its host. The build of a new sandbox runs on a thread
 * (sup_build.c), as execs and listings do (sup_ops.c). Still done here,
 * bounded: hb_sandbox_destroy (~5 ms), kill-all and pause (freezer writes
 * and their wait, a few seconds at most), snapshot (one subvolume snapshot)
 * and restore (a new init: a create's cost).
 *
 * States: creating (its build thread runs); running; failing (its init
 * died, waiting for the uses in flight to end), then failed (files and record kept, status "failed", only GET and
 * DELETE work; expiry still destroys it); destroying; gone. Running has a
 * sub-state, paused (issue 17: sb->paused_at set, every process frozen;
 * see the pause section for what works then). */
#include "supervisor.h"

#include "actor.h"
#include "sup_host.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "image_layer.h" /* snapshots (issue 17) */
#include "metrics.h"     /* HB_USAGE_IDLE_S */
#include "sbdir.h"  /* the files kept in the sandbox dir */
#include "proxy.h"  /* the sandbox's OpenCode server: up after create/attach, stopped before destroy */
#include "skills.h" /* the create request's skills -> spec */

#define TICK_MS 10000       /* usage report */
#define ALIVE_MS 1000       /* init liveness without a pidfd (old kernel): polled */
#define IDLE_REPORT_MS (HB_USAGE_IDLE_S * 1000)
#define IDLE_TICK_MS 30000    /* an idle sandbox's check: one file read (its CPU time) */

typedef enum { S_CREATING, S_RUNNING, S_FAILING, S_FAILED, S_DESTROYING, S_GONE } sup_state_t;

typedef struct {
    const hb_runtime_t *rt;
    hb_sandbox_t *sb;          /* owned; NULL once destroyed, or while being built */
    hb_msg_t     *creating;    /* S_CREATING: the create request, borrowed by the build thread */
    bool          creating_pooled;
    char          id[HB_ID_MAX];
    char          inbox_ep[128];   /* its address on its host (sup_host.h) */
    hb_endpoints_t ep;
    zsock_t      *mgr, *met;       /* its host's pushers, borrowed */
    int           inflight;    /* operation threads + leases using sb */
    sup_state_t   state;
    char         *gone_reply_to;   /* who asked for the destroy (may be NULL) */
    char         *gone_reason;
    int64_t       gone_t0_ms;      /* the destroy began (sandbox.destroyed's duration_ms) */
    char          failure[200];   /* why init died ("" while running) */
    uint64_t      commands;
    uint64_t      oom_seen;
    uint64_t      cpu_prev_ns;
    int64_t       cpu_prev_ms;
    int64_t       next_tick_ms;
    int64_t       next_usage_ms;
    int64_t       last_report_ms;  /* the last usage report sent */
    bool          reported_idle;   /* it said 0 % CPU: the next idle ones may wait */
    /* Init's pidfd (sup_alive.c): readable when it dies, so 10,000 idle
     * sandboxes cost no wake-ups; -1 while none is open. */
    int           pidfd;
    pid_t         pidfd_pid;
    bool          term;
    /* the process watch (sup_watch.c): running while `watch` is set */
    hb_sup_watch_t *watch;
    int64_t       proc_seq;       /* the last process event seen; -1: none yet */
    int64_t       watch_from;     /* a start came while watching: watch again from */
    bool          watch_again;
} sup_t;

static void publish(sup_t *s, hb_msg_t *ev)
{
    ev->timestamp = time(NULL);
    hb_bus_send(s->met, ev);
}

static void pause_reattach(sup_t *s);

/* ---- create / attach ---- */

int hb_sup_spec_from(const hb_runtime_t *rt, hb_spec_t *spec, const hb_msg_t *q, const char *id,
                     hb_err_t *e)
{
    hb_spec_defaults(spec);
    snprintf(spec->name, sizeof spec->name, "%s", id);
    if (q->image)
        snprintf(spec->image, sizeof spec->image, "%s", q->image);
    if (q->memory) {
        spec->memory_bytes = q->memory_bytes;
        snprintf(spec->memory_str, sizeof spec->memory_str, "%s", q->memory);
    }
    if (q->disk) {
        spec->disk_bytes = q->disk_bytes;
        snprintf(spec->disk_str, sizeof spec->disk_str, "%s", q->disk);
    }
    spec->cpus = q->cpus;
    spec->pids = (uint32_t)q->pids;
    spec->timeout_s = (uint32_t)q->timeout_s;
    spec->metadata = q->metadata;   /* borrowed: create copies them */
    spec->env = (const char *const *)q->env;
    spec->auto_resume = q->auto_resume;
    spec->on_timeout_pause = q->on_timeout && strcmp(q->on_timeout, "pause") == 0;
    spec->egress = q->egress;   /* issue 16; borrowed like metadata */
    if (q->network && hb_spec_set_network(spec, q->network, e) < 0)
        return -1;
    if (hb_skills_select(rt->skills_dir, q->skills, spec->skills, sizeof spec->skills, e) < 0)
        return -1;
    return hb_spec_validate(spec, e);
}

/* The agent fields wait here for the OpenCode actor: HB_SBDIR_AGENT (0600)
 * for the settings, HB_SBDIR_LLM_KEY (0600) alone for the secret. */
static int save_agent_json(const hb_sandbox_t *sb, const hb_msg_t *q, hb_err_t *e)
{
    if (!q->skills && !q->custom_mcps && !q->llm_base_url && !q->llm_model)
        return 0;
    json_t *o = json_object();
    if (q->skills)
        json_object_set_new(o, "skills", json_loads(q->skills, 0, NULL));
    if (q->custom_mcps)
        json_object_set_new(o, "custom_mcps", json_loads(q->custom_mcps, 0, NULL));
    if (q->llm_base_url)
        json_object_set_new(o, "llm_base_url", json_string(q->llm_base_url));
    if (q->llm_model)
        json_object_set_new(o, "llm_model", json_string(q->llm_model));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, 0, "cannot encode the agent settings");
    int rc = hb_sandbox_put_file(sb, HB_SBDIR_AGENT, text, strlen(text), 0600, e);
    free(text);
    return rc;
}

static int save_agent(const hb_sandbox_t *sb, const hb_msg_t *q, hb_err_t *e)
{
    if (q->llm_api_key &&
        hb_sandbox_put_file(sb, HB_SBDIR_LLM_KEY, q->llm_api_key, strlen(q->llm_api_key),
                            0600, e) < 0)
        return -1;
    if (save_agent_json(sb, q, e) < 0)
        return -1;
    /* Last (sbdir.h's rule): checked by gateway/mcp/mcp_token.c on this
     * sandbox's MCP route, and its presence tells the proxy actor the agent
     * settings are complete. */
    if (q->mcp_token && hb_sbdir_seal(sb->dir, q->mcp_token, e) < 0)
        return -1;
    return 0;
}

/* What GET and list show: the handle's description, and the failure the
 * supervisor knows of (recorded in the handle only once nothing uses it). */
static int describe(const sup_t *s, hb_sbinfo_t *out, const hb_usage_t *usage)
{
    if (hb_sbinfo_fill(out, s->sb, s->commands, usage) < 0)
        return -1;
    if (!s->failure[0])
        return 0;
    free(out->net_ip);
    out->net_ip = NULL;
    out->failed_at = s->sb->failed_at ? s->sb->failed_at : time(NULL);
    if (hb_str_set(&out->status, "failed") < 0 || hb_str_set(&out->failure, s->failure) < 0) {
        hb_sbinfo_clear(out);
        return -1;
    }
    return 0;
}

/* A new sandbox of the user's on the feed, published here rather than by
 * the manager: over the socket its process events and its end take, so
 * they come after it. t0_ms: when its request reached the manager. */
static void publish_created(sup_t *s, const hb_sbinfo_t *info, int64_t t0_ms)
{
    int64_t took = t0_ms > 0 ? hb_now_ms() - t0_ms : 0;
    hb_msg_t ev = {.type = HB_MSG_EV_CREATED, .id = s->id, .image = info->image,
                   .memory = info->memory, .cpus = info->cpus, .pids = info->pids,
                   .network = info->network, .created_at = info->created_at,
                   .expires_at = info->expires_at, .duration_ms = took > 0 ? (uint64_t)took : 0};
    publish(s, &ev);
}

/* SUP_READY to the manager. q: the create it answers (published first);
 * disk_bytes: the list's disk figure until the first usage report. */
static void announce_msg(sup_t *s, const hb_msg_t *q, uint64_t disk_bytes)
{
    const char *reply_to = q ? q->reply_to : NULL;
    hb_msg_t m = {.type = HB_MSG_SUP_READY};
    m.sandboxes = calloc(1, sizeof *m.sandboxes);
    if (!m.sandboxes || describe(s, m.sandboxes, NULL) < 0 ||
        hb_str_set(&m.id, s->id) < 0 || hb_str_set(&m.inbox, s->inbox_ep) < 0 ||
        hb_str_set(&m.reply_to, reply_to) < 0) {
        HB_LOG_ERROR("sandbox %s: out of memory announcing it", s->id);
    } else {
        m.sandboxes[0].usage_disk_bytes = disk_bytes;
        m.sandboxes_n = 1;
        if (reply_to)
            publish_created(s, m.sandboxes, q->t0_ms);
    }
    hb_bus_send(s->mgr, &m);
    hb_msg_clear(&m);
}

static void announce(sup_t *s) { announce_msg(s, NULL, 0); }
static void announce_disk(sup_t *s, uint64_t disk_bytes) { announce_msg(s, NULL, disk_bytes); }
static void announce_created(sup_t *s, const hb_msg_t *q) { announce_msg(s, q, 0); }

static void fail_create(sup_t *s, const char *reply_to, const hb_err_t *e)
{
    hb_bus_reply_err(reply_to, e);
    /* code and error: the manager counts create failures by cause */
    hb_msg_t m = {.type = HB_MSG_SUP_FAILED, .id = s->id, .code = (int64_t)e->code,
                  .error = (char *)e->msg};
    hb_bus_send(s->mgr, &m);   /* m borrows s->id */
    s->state = S_GONE;
}

/* A create that failed once its sandbox existed: the sandbox goes whole. */
static void undo_create(sup_t *s, const char *reply_to, const hb_err_t *e)
{
    HB_LOG_ERROR("%s", e->msg);
    hb_sandbox_destroy(s->sb, NULL);
    hb_sandbox_free(s->sb);
    s->sb = NULL;
    fail_create(s, reply_to, e);
}

/* The sandbox is built (s->sb): the rest of its create, on the host. */
static void finish_create(sup_t *s, const hb_msg_t *q, bool pooled)
{
    hb_err_t e = {0};
    const hb_spec_t *spec = &s->sb->spec;
    if (pooled) {   /* nobody's yet: no agent, no event; the manager keeps it aside */
        announce(s);
        return;
    }
    if (save_agent(s->sb, q, &e) < 0) {
        hb_err_wrap(&e, "sandbox %s: storing its agent settings", s->id);
        undo_create(s, q->reply_to, &e);
        return;
    }
    HB_LOG_INFO("sandbox %s created (image %s, memory %s, cpus %.2f, pids %u, disk %s, "
             "expires in %us)", s->id, spec->image, spec->memory_str, spec->cpus, spec->pids,
             spec->disk_str, spec->timeout_s);
    announce_created(s, q);
    hb_proxy_sandbox_up(s->ep.proxy, s->id, true);
}

/* issue 19: the build runs on a thread (sup_build.c), so this host's other
 * sandboxes are served meanwhile; the unit waits in S_CREATING for its
 * SUP_BUILT. The request moves to s->creating (the thread borrows it). */
static void do_create(sup_t *s, hb_msg_t *q, bool pooled)
{
    hb_err_t e = {0};
    s->creating = calloc(1, sizeof *s->creating);
    if (!s->creating) {
        hb_fail(&e, HB_E_INTERNAL, ENOMEM, "sandbox %s: out of memory", s->id);
        fail_create(s, q->reply_to, &e);
        return;
    }
    *s->creating = *q;
    memset(q, 0, sizeof *q);
    s->creating_pooled = pooled;
    s->state = S_CREATING;
    if (hb_sup_build_start(s->rt, s->creating, s->id, pooled, s->inbox_ep) < 0) {
        hb_fail(&e, HB_E_INTERNAL, 0, "sandbox %s: cannot start a thread to build it", s->id);
        HB_LOG_ERROR("%s", e.msg);
        fail_create(s, s->creating->reply_to, &e);
        hb_msg_clear(s->creating);
        free(s->creating);
        s->creating = NULL;
        return;
    }
    s->inflight++;
}

static void on_built(sup_t *s, const hb_msg_t *m)
{
    hb_msg_t *q = s->creating;
    if (s->state != S_CREATING || !q)
        return;
    s->inflight--;
    s->creating = NULL;
    s->sb = (hb_sandbox_t *)(uintptr_t)m->handle;
    if (s->sb) {
        s->state = S_RUNNING;
        finish_create(s, q, s->creating_pooled);
    } else {
        hb_errcode_t c = m->code > HB_OK && m->code <= HB_E_LAST ? (hb_errcode_t)m->code
                                                                 : HB_E_INTERNAL;
        hb_err_t e = {0};
        hb_fail(&e, c, 0, "%s", m->error ? m->error : "create failed");
        if (c == HB_E_INTERNAL)
            HB_LOG_ERROR("sandbox %s: create failed: %s", s->id, e.msg);
        fail_create(s, q->reply_to, &e);
    }
    hb_msg_clear(q);
    free(q);
}

/* ---- background processes: the watch ---- */

static void watch_begin(sup_t *s, int64_t from)
{
    /* paused: init answers nothing; resume watches again (issue 17) */
    if (s->watch || s->state != S_RUNNING || s->term || s->sb->paused_at)
        return;
    s->watch = hb_sup_watch_start(s->sb, from, s->inbox_ep);
    if (s->watch)
        s->inflight++;
    else
        HB_LOG_WARN("sandbox %s: cannot start the process watch", s->id);
}

/* The gateway started one (seq: its start event). A watch that is ending
 * may have missed it: then watch again once it has ended. */
static void on_proc_started(sup_t *s, const hb_msg_t *m)
{
    int64_t from = s->proc_seq >= 0 ? s->proc_seq : (m->seq > 0 ? m->seq - 1 : -1);
    if (s->watch) {
        s->watch_again = true;
        if (s->watch_from < 0 || from < s->watch_from)
            s->watch_from = from;
        return;
    }
    watch_begin(s, from);
}

static void on_proc_watched(sup_t *s, const hb_msg_t *m)
{
    hb_sup_watch_free(s->watch);
    s->watch = NULL;
    s->inflight--;
    if (m->seq > s->proc_seq)
        s->proc_seq = m->seq;
    if (s->watch_again) {
        s->watch_again = false;
        watch_begin(s, s->proc_seq >= 0 ? s->proc_seq : s->watch_from);
        s->watch_from = -1;
    }
}

static void do_attach(sup_t *s, hb_sandbox_t *sb)
{
    s->sb = sb;
    hb_sup_forget_destroying(sb);   /* a daemon that died mid-destroy, before the kill */
    s->commands = hb_counters_load(sb);
    if (sb->failure[0]) {        /* failed before this daemon started */
        snprintf(s->failure, sizeof s->failure, "%s", sb->failure);
        s->state = S_FAILED;
        announce(s);
        return;
    }
    s->oom_seen = hb_sandbox_oom_kills(sb);   /* only report OOM kills that happen from now on */
    pause_reattach(s);
    hb_usage_t disk = {0};
    hb_sandbox_disk_usage(sb, &disk);   /* its first usage report may be 10 s away */
    announce_disk(s, disk.disk_bytes);
    hb_proxy_sandbox_up(s->ep.proxy, s->id, false);
    /* Processes that outlived the last daemon. Nothing else can start one
     * before this unit is up, so with none running now there is nothing
     * to watch: no thread and no connection to init per idle sandbox. */
    if (hb_sandbox_has_commands(sb) != 0)
        watch_begin(s, -1);
}

/* ---- destroy ---- */

/* Ends every command and breaks every init connection, so the operation
 * threads and leases still using the handle finish promptly. pidfd first,
 * then the liveness check: the signal cannot reach a recycled pid. */
static void kill_init(const hb_sandbox_t *sb)
{
    int pfd = (int)syscall(SYS_pidfd_open, sb->init_pid, 0);
    if (pfd < 0)
        return;
    if (hb_sandbox_alive(sb))
        syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
    close(pfd);
}

/* Its end on the feed, published here rather than by the manager: over the
 * socket its process events take, so they come first (a watch's last
 * process.exited reached us before the destroy could finish). A pooled
 * sandbox was nobody's: no event, as none told of its creation. */
static void publish_gone(sup_t *s, const char *reason, int64_t expires_at)
{
    if (strcmp(reason, "expired") == 0) {
        hb_msg_t x = {.type = HB_MSG_EV_EXPIRED, .id = s->id, .expires_at = expires_at};
        publish(s, &x);
    }
    int64_t took = hb_now_ms() - s->gone_t0_ms;
    hb_msg_t ev = {.type = HB_MSG_EV_DESTROYED, .id = s->id, .reason = (char *)reason,
                   .duration_ms = took > 0 ? (uint64_t)took : 0};
    publish(s, &ev);
}

static void finish_destroy(sup_t *s)
{
    if (s->state != S_DESTROYING || s->inflight > 0)
        return;
    hb_err_t e = {0};
    const char *reply_to = s->gone_reply_to;
    const char *reason = s->gone_reason ? s->gone_reason : "deleted";   /* NULL: out of memory */
    bool told = !s->sb->spec.pooled && strcmp(reason, "pool") != 0;
    int64_t expires_at = s->sb->expires_at;
    hb_proxy_sandbox_stop(s->ep.proxy, s->id);   /* its OpenCode server and state go first */
    if (hb_sandbox_destroy(s->sb, &e) < 0) {
        HB_LOG_ERROR("sandbox %s: destroy: %s", s->id, e.msg);
        hb_bus_reply_err(reply_to, &e);
        reply_to = NULL;
    } else {
        HB_LOG_INFO("sandbox %s destroyed (%s)", s->id, s->gone_reason);
    }
    hb_sandbox_free(s->sb);
    s->sb = NULL;
    s->state = S_GONE;
    hb_msg_t m = {.type = HB_MSG_SUP_GONE, .id = s->id, .reason = s->gone_reason,
                  .reply_to = (char *)reply_to};
    hb_bus_send(s->mgr, &m);   /* m borrows */
    /* After the manager's notice: it frees the name as it reads it, so a
     * client that acts on the event finds the name free unless the manager
     * lags behind by a whole event delivery. */
    if (told)
        publish_gone(s, reason, expires_at);
}

static void start_destroy(sup_t *s, const char *reply_to, const char *reason)
{
    s->state = S_DESTROYING;
    hb_str_set(&s->gone_reply_to, reply_to);
    hb_str_set(&s->gone_reason, reason ? reason : "deleted");
    s->gone_t0_ms = hb_now_ms();
    /* The marker, before init is killed: the proxy actor starts no server
     * again for a request that arrives during the teardown, and a command
     * cut short by the kill is reported as destroyed (hb_sup_explain_gone). */
    hb_sandbox_put_file(s->sb, HB_SBDIR_DESTROYING, "", 0, 0600, NULL);
    if (s->sb->paused_at) {
        /* Frozen tasks take a SIGKILL only once thawed: kill, then thaw, so
         * nothing of it runs again and the destroy does not wait on it. */
        kill_init(s->sb);
        s->sb->paused_at = 0;
        hb_err_t e = {0};
        if (hb_sandbox_freeze(s->sb, false, &e) < 0)
            HB_LOG_WARN("sandbox %s: thawing it for its destroy: %s", s->id, e.msg);
    } else if (s->inflight > 0) {
        kill_init(s->sb);
    }
    finish_destroy(s);
}

/* ---- init died: failed ---- */

/* Record the failure once nothing uses the handle; then tell the manager
 * (GET and list show it) and the event feed. */
static void finish_fail(sup_t *s)
{
    if (s->state != S_FAILING || s->inflight > 0)
        return;
    hb_err_t e = {0};
    if (hb_sandbox_fail(s->sb, s->failure, &e) < 0)
        HB_LOG_ERROR("sandbox %s: recording its failure: %s", s->id, e.msg);
    s->state = S_FAILED;
    hb_msg_t m = {.type = HB_MSG_SUP_INFO};
    m.sandboxes = calloc(1, sizeof *m.sandboxes);
    if (m.sandboxes && describe(s, m.sandboxes, NULL) == 0 && hb_str_set(&m.id, s->id) == 0) {
        m.sandboxes_n = 1;
        hb_bus_send(s->mgr, &m);
    }
    hb_msg_clear(&m);
    hb_msg_t ev = {.type = HB_MSG_EV_FAILED, .id = s->id, .reason = s->failure};
    publish(s, &ev);   /* ev borrows */
}

static void begin_fail(sup_t *s)
{
    hb_sandbox_death(s->sb, s->failure, sizeof s->failure);
    s->state = S_FAILING;
    finish_fail(s);
}

static void reply_failed(const sup_t *s, const hb_msg_t *q)
{
    hb_bus_reply_error(q->reply_to, HB_E_DEAD,
                       "sandbox '%s' has failed: %s. Its files are kept until it is deleted "
                       "(DELETE /api/v1/hiveboxes/%s)", s->id, s->failure, s->id);
}

/* ---- periodic work ---- */

static void check_oom(sup_t *s, const hb_usage_t *u)
{
    if (u->oom_kills <= s->oom_seen)
        return;
    s->oom_seen = u->oom_kills;
    HB_LOG_INFO("sandbox %s: OOM kill (%llu so far)", s->id, (unsigned long long)u->oom_kills);
    hb_msg_t ev = {.type = HB_MSG_EV_OOM, .id = s->id, .oom_kills = u->oom_kills};
    publish(s, &ev);
}

/* No CPU time used since the last reading, and the last report already
 * said so: nothing ran (no OOM kill either: that takes an allocation), so
 * the report can wait, up to IDLE_REPORT_MS (the metrics actor keeps a
 * report for longer than that). 10,000 idle sandboxes then cost one file
 * read each every IDLE_TICK_MS and 170 messages a second, not 8,000 reads
 * and 2,000 messages. */
static bool report_can_wait(const sup_t *s, int64_t now)
{
    return s->reported_idle && now - s->last_report_ms < IDLE_REPORT_MS &&
           hb_sandbox_cpu_ns(s->sb) == s->cpu_prev_ns;
}

/* True when the sandbox was idle (the next check may wait longer). */
static bool report_usage(sup_t *s)
{
    if (report_can_wait(s, hb_now_ms()))
        return true;
    hb_usage_t u;
    if (hb_sandbox_usage(s->sb, &u) < 0)
        return false;
    check_oom(s, &u);
    s->last_report_ms = hb_now_ms();
    s->reported_idle = s->cpu_prev_ms && u.cpu_usage_ns == s->cpu_prev_ns;
    hb_sandbox_disk_usage(s->sb, &u);
    hb_sandbox_net_usage(s->sb, &u);
    int64_t now = hb_now_ms();
    double cpu = 0.0;
    if (s->cpu_prev_ms && now > s->cpu_prev_ms && u.cpu_usage_ns >= s->cpu_prev_ns)
        cpu = (double)(u.cpu_usage_ns - s->cpu_prev_ns) / 1e6 / (double)(now - s->cpu_prev_ms) *
              100.0;
    s->cpu_prev_ns = u.cpu_usage_ns;
    s->cpu_prev_ms = now;
    hb_sample_sb_t one = {.id = s->id, .memory_bytes = u.memory_bytes,
                          .memory_limit_bytes = u.memory_limit_bytes, .cpu_percent = cpu,
                          .pids = u.pids, .disk_bytes = u.disk_bytes,
                          .disk_limit_bytes = u.disk_limit_bytes, .cpu_ns = u.cpu_usage_ns,
                          .memory_peak_bytes = u.memory_peak_bytes, .oom_kills = u.oom_kills,
                          .has_net = u.has_net, .net_rx_bytes = u.net_rx_bytes,
                          .net_tx_bytes = u.net_tx_bytes, .created_at = s->sb->created_at};
    hb_msg_t m = {.type = HB_MSG_USAGE, .id = s->id, .usage = &one, .usage_n = 1};
    hb_bus_send(s->met, &m);   /* m borrows */
    hb_bus_send(s->mgr, &m);   /* for the list's disk figure */
    return s->reported_idle;
}

static void tick(sup_t *s)
{
    int64_t now = hb_now_ms();
    s->next_tick_ms = now + (s->pidfd >= 0 ? TICK_MS : ALIVE_MS);
    if (s->state != S_RUNNING)
        return;
    if (s->sb->spec.pooled) {   /* issue 19: nobody's files to keep, no usage to report */
        if (s->pidfd < 0 && !hb_sandbox_alive(s->sb))
            start_destroy(s, NULL, "pool");
        return;
    }
    if (s->pidfd < 0 && !hb_sandbox_alive(s->sb)) {
        HB_LOG_WARN("sandbox %s: its init is gone; keeping its files as a failed sandbox", s->id);
        begin_fail(s);
        return;
    }
    if (now + HB_SUP_DUE_SLACK_MS >= s->next_usage_ms) {
        bool idle = report_usage(s);
        s->next_usage_ms = now + (idle ? IDLE_TICK_MS : TICK_MS);
        if (s->pidfd >= 0)
            s->next_tick_ms = s->next_usage_ms;
    }
}

/* The loop's periodic work: the usage report every TICK_MS, and the
 * liveness check every ALIVE_MS when init has no pidfd. */
static int64_t tick_due(void *self)
{
    sup_t *s = self;
    if (hb_now_ms() + HB_SUP_DUE_SLACK_MS >= s->next_tick_ms)   /* see hb_sup_ops_t.due */
        tick(s);
    int64_t wait = s->next_tick_ms - hb_now_ms();
    return wait > 0 ? wait : 0;
}

/* Work starts in an idle sandbox: its usage is read again within TICK_MS,
 * not IDLE_TICK_MS. */
static void usage_soon(sup_t *s)
{
    int64_t at = hb_now_ms() + TICK_MS;
    if (s->next_usage_ms > at)
        s->next_usage_ms = at;
    if (s->next_tick_ms > at)
        s->next_tick_ms = at;
}

/* The pidfd of the current init while running (a restore starts a new
 * init: the descriptor follows it); -1 otherwise. */
static int alive_fd(void *self)
{
    sup_t *s = self;
    bool want = s->state == S_RUNNING && !s->term && s->sb;
    if (s->pidfd >= 0 && (!want || s->sb->init_pid != s->pidfd_pid)) {
        close(s->pidfd);
        s->pidfd = -1;
    }
    if (want && s->pidfd < 0 && s->pidfd_pid != s->sb->init_pid) {
        s->pidfd_pid = s->sb->init_pid;   /* one try per init: no pidfd, polled */
        s->pidfd = hb_sup_alive_open(s->sb);
        if (s->pidfd < 0)
            s->next_tick_ms = hb_now_ms();   /* gone already, or polled from now on */
    }
    return s->pidfd;
}

/* Init's pidfd is readable: it died. */
static void on_init_exit(void *self)
{
    sup_t *s = self;
    close(s->pidfd);
    s->pidfd = -1;
    if (s->state != S_RUNNING || hb_sandbox_alive(s->sb))
        return;
    if (s->sb->spec.pooled) {   /* issue 19: a pool sandbox has nobody's files to keep */
        start_destroy(s, NULL, "pool");
        return;
    }
    HB_LOG_WARN("sandbox %s: its init is gone; keeping its files as a failed sandbox", s->id);
    begin_fail(s);
}

/* ---- requests ---- */

static void reply_gone(const hb_msg_t *q, const char *id)
{
    hb_bus_reply_error(q->reply_to, HB_E_NOTFOUND, "sandbox '%s' not found", id);
}

static void on_get(sup_t *s, const hb_msg_t *q)
{
    hb_usage_t u;
    bool have = s->state == S_RUNNING && hb_sandbox_usage(s->sb, &u) == 0;
    if (have) {
        hb_sandbox_disk_usage(s->sb, &u);
        hb_sandbox_net_usage(s->sb, &u);
    }
    hb_msg_t r = {.type = HB_MSG_R_SANDBOX};
    r.sandboxes = calloc(1, sizeof *r.sandboxes);
    if (!r.sandboxes || describe(s, r.sandboxes, have ? &u : NULL) < 0) {
        free(r.sandboxes);
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
        return;
    }
    r.sandboxes_n = 1;
    hb_bus_post(q->reply_to, &r);
    hb_msg_clear(&r);
    if (have)
        check_oom(s, &u);
}

static int g_max_inflight = 32;

void hb_supervisor_set_max_inflight(int n)
{
    g_max_inflight = n > 1 ? n : 1;
}

/* Refuse past the cap: true if q was answered. */
static bool busy(const sup_t *s, const hb_msg_t *q)
{
    if (s->inflight < g_max_inflight)
        return false;
    hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL,
                       "sandbox '%s' is busy: %d operations in flight; retry later", s->id,
                       s->inflight);
    return true;
}

static void on_op(sup_t *s, hb_msg_t *q)
{
    if (busy(s, q))
        return;
    if (hb_sup_op_start(s->sb, q, s->inbox_ep) < 0) {
        HB_LOG_ERROR("sandbox %s: cannot start an operation thread", s->id);
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "cannot start an operation thread");
        return;
    }
    s->inflight++;
    usage_soon(s);
}

static void on_lease(sup_t *s, const hb_msg_t *q)
{
    if (busy(s, q))
        return;
    hb_msg_t r = {.type = HB_MSG_R_LEASE, .handle = (uint64_t)(uintptr_t)s->sb,
                  .inbox = s->inbox_ep};
    if (hb_bus_post(q->reply_to, &r) == 0) {   /* r borrows */
        s->inflight++;
        usage_soon(s);
    }
}

/* One more command ran: the counter, its event, and OOM attribution. */
static void count_exec(sup_t *s, const hb_msg_t *m)
{
    if (!s->sb)
        return;
    s->commands++;
        hb_counters_save(s->sb, s->commands);
        hb_msg_t c = {.type = HB_MSG_SUP_COUNT, .id = s->id, .commands_executed = s->commands};
        hb_bus_send(s->mgr, &c);
        hb_msg_t ev = {.type = HB_MSG_EV_EXEC, .id = s->id, .exit_code = m->exit_code,
                       .duration_ms = m->duration_ms, .oom_killed = m->oom_killed,
                       .timed_out = m->timed_out};
        publish(s, &ev);
        hb_usage_t u;
        if (m->oom_killed && s->state == S_RUNNING && hb_sandbox_usage(s->sb, &u) == 0)
            check_oom(s, &u);
}

static void on_done(sup_t *s, const hb_msg_t *m)
{
    s->inflight--;
    if (m->type == HB_MSG_OP_DONE && m->command)
        count_exec(s, m);
    finish_fail(s);
    finish_destroy(s);
}

/* Bounded (a few seconds) host-side work: freeze, kill, thaw. Done here,
 * not on an operation thread, so two never overlap; it needs nothing from
 * init, so it works when init has no task or thread left to spare. */
static void on_killall(sup_t *s, const hb_msg_t *q)
{
    uint64_t n = 0;
    hb_err_t e = {0};
    if (hb_sandbox_kill_all(s->sb, &n, &e) < 0) {
        HB_LOG_WARN("sandbox %s: kill-all: %s", s->id, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    HB_LOG_INFO("sandbox %s: kill-all killed %llu process(es)", s->id, (unsigned long long)n);
    hb_msg_t r = {.type = HB_MSG_R_KILLED, .id = s->id, .killed = n};
    hb_bus_post(q->reply_to, &r);   /* r borrows */
}

/* POST /:id/timeout: expires timeout_s from now (set, not added). The
 * record first, so a restart keeps it; then the manager (list, reaper). */
static void on_timeout(sup_t *s, const hb_msg_t *q)
{
    int64_t old = s->sb->expires_at;
    uint32_t old_timeout = s->sb->spec.timeout_s;
    hb_err_t e = {0};
    if (q->timeout_s < 1 || q->timeout_s > HB_TIMEOUT_MAX) {
        hb_bus_reply_error(q->reply_to, HB_E_INVALID, "timeout: must be between 1 and %u seconds",
                           HB_TIMEOUT_MAX);
        return;
    }
    s->sb->expires_at = time(NULL) + (int64_t)q->timeout_s;
    s->sb->spec.timeout_s = (uint32_t)q->timeout_s;
    int rc = hb_sandbox_save(s->sb, &e);
    if (rc < 0) {
        s->sb->expires_at = old;
        s->sb->spec.timeout_s = old_timeout;
        HB_LOG_ERROR("sandbox %s: saving its new expiry: %s", s->id, e.msg);
    }
    /* Either way: the manager armed the reaper for the new one already. */
    hb_msg_t m = {.type = HB_MSG_SUP_EXPIRES, .id = s->id, .expires_at = s->sb->expires_at};
    hb_bus_send(s->mgr, &m);   /* m borrows */
    if (rc < 0)
        hb_bus_reply_err(q->reply_to, &e);
    else
        on_get(s, q);
}

/* ---- pause and resume (issue 17) ----
 *
 * Paused: every process frozen (cgroup freezer), memory kept, no CPU used.
 * GET, list, stats, timeout and DELETE work; the requests that need the
 * sandbox's processes (exec, files, processes, terminal, MCP: SB_EXEC,
 * SB_LSFILES, SB_LEASE but host-only ones, SB_KILLALL) are refused with 409 here, the one
 * place they all pass, or resume it first when it has auto_resume. The
 * liveness tick reads /proc and cgroups only, so a frozen init that
 * answers nothing never looks dead.
 *
 * TTL: paused time counts (the expiry does not move). At expiry,
 * on_timeout "destroy" destroys it, paused or not; "pause" pauses it and
 * it stays paused, not expiring any more, until resumed; a resume of a
 * sandbox whose expiry has passed gives it a fresh one, its timeout from
 * now. Both are idempotent: pausing a paused sandbox (or resuming a
 * running one) answers its description. */

/* Tell the manager (list, the state metric) the description changed. */
static void tell_info(sup_t *s)
{
    hb_msg_t m = {.type = HB_MSG_SUP_INFO};
    m.sandboxes = calloc(1, sizeof *m.sandboxes);
    if (m.sandboxes && describe(s, m.sandboxes, NULL) == 0 && hb_str_set(&m.id, s->id) == 0) {
        m.sandboxes_n = 1;
        hb_bus_send(s->mgr, &m);
    }
    hb_msg_clear(&m);
}

static void save_record(sup_t *s)
{
    hb_err_t e = {0};
    if (hb_sandbox_save(s->sb, &e) < 0)   /* the freezer still holds the truth */
        HB_LOG_WARN("sandbox %s: saving its record: %s", s->id, e.msg);
}

static int do_pause(sup_t *s, const hb_msg_t *q, hb_err_t *e)
{
    bool changed = q->set_auto_resume && s->sb->spec.auto_resume != q->auto_resume;
    if (q->set_auto_resume)
        s->sb->spec.auto_resume = q->auto_resume;
    if (s->sb->paused_at) {
        if (changed)
            save_record(s);
        return 0;
    }
    int64_t t0 = hb_now_ms();
    /* The record first: a daemon that dies right after the freeze finds it
     * paused (frozen without paused_at it would thaw it: pause_reattach). */
    s->sb->paused_at = time(NULL);
    save_record(s);
    /* The process watch would wait on a frozen init: it ends now (its
     * SB_PROC_WATCHED comes as usual) and the resume starts it again. */
    hb_sup_watch_stop(s->watch);
    s->watch_again = false;
    if (hb_sandbox_freeze(s->sb, true, e) < 0) {
        s->sb->paused_at = 0;
        save_record(s);
        return -1;
    }
    const char *reason = q->reason ? q->reason : "requested";
    HB_LOG_INFO("sandbox %s paused (%s, %lld ms)", s->id, reason, (long long)(hb_now_ms() - t0));
    hb_msg_t ev = {.type = HB_MSG_EV_PAUSED, .id = s->id, .reason = (char *)reason};
    publish(s, &ev);   /* ev borrows */
    tell_info(s);
    return 0;
}

static int do_resume(sup_t *s, const char *reason, hb_err_t *e)
{
    int64_t paused_at = s->sb->paused_at;
    if (!paused_at)
        return 0;
    s->sb->paused_at = 0;   /* first: hb_sandbox_freeze leaves a paused one frozen */
    if (hb_sandbox_freeze(s->sb, false, e) < 0) {
        s->sb->paused_at = paused_at;
        return -1;
    }
    int64_t now = time(NULL);
    bool fresh = s->sb->expires_at <= now;   /* paused by its expiry, or past it */
    if (fresh)
        s->sb->expires_at = now + (int64_t)s->sb->spec.timeout_s;
    save_record(s);
    if (fresh) {
        hb_msg_t m = {.type = HB_MSG_SUP_EXPIRES, .id = s->id, .expires_at = s->sb->expires_at};
        hb_bus_send(s->mgr, &m);   /* m borrows */
    }
    HB_LOG_INFO("sandbox %s resumed (%s)", s->id, reason);
    if (s->watch)   /* the pause's stopped watch has not ended yet */
        s->watch_again = true;
    else
        watch_begin(s, s->proc_seq);   /* ends at once when no process runs */
    hb_msg_t ev = {.type = HB_MSG_EV_RESUMED, .id = s->id, .reason = (char *)reason,
                   .duration_ms = now > paused_at ? (uint64_t)(now - paused_at) * 1000 : 0};
    publish(s, &ev);   /* ev borrows */
    tell_info(s);
    return 0;
}

/* The pause on_timeout "pause" asks for at expiry: when it cannot be done,
 * the sandbox is destroyed as an expiry does, never left without one. */
static bool expiry_pause(const hb_msg_t *q)
{
    return q->type == HB_MSG_SB_PAUSE && q->reason && strcmp(q->reason, "expired") == 0;
}

static void on_pause(sup_t *s, const hb_msg_t *q)
{
    hb_err_t e = {0};
    if (do_pause(s, q, &e) < 0) {
        HB_LOG_WARN("sandbox %s: pause: %s", s->id, e.msg);
        if (expiry_pause(q)) {
            start_destroy(s, NULL, "expired");
            return;
        }
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    if (q->reply_to)
        on_get(s, q);
}

static void on_resume(sup_t *s, const hb_msg_t *q)
{
    hb_err_t e = {0};
    if (do_resume(s, "requested", &e) < 0) {
        HB_LOG_WARN("sandbox %s: resume: %s", s->id, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    on_get(s, q);
}

/* A request that needs the sandbox's processes: true if it was answered
 * (refused, or the auto-resume failed). */
static bool paused_refusal(sup_t *s, const hb_msg_t *q)
{
    if (!s->sb->paused_at)
        return false;
    hb_err_t e = {0};
    if (!s->sb->spec.auto_resume)
        hb_fail(&e, HB_E_CONFLICT, 0, "sandbox %s is paused: POST /api/v1/hiveboxes/%s/resume, "
                "or create it with auto_resume: true", s->id, s->id);
    else if (do_resume(s, "auto", &e) == 0)
        return false;
    hb_bus_reply_err(q->reply_to, &e);
    return true;
}

/* A re-attached sandbox: paused if its freezer says so. Frozen without
 * paused_at is a snapshot's freeze a dead daemon left: thawed. */
static void pause_reattach(sup_t *s)
{
    hb_sandbox_t *sb = s->sb;
    bool frozen = hb_sandbox_frozen(sb) == 1;
    hb_err_t e = {0};
    if (frozen && !sb->paused_at) {
        HB_LOG_WARN("sandbox %s: found frozen but not paused; thawing it", s->id);
        if (hb_sandbox_freeze(sb, false, &e) < 0)
            HB_LOG_WARN("sandbox %s: %s", s->id, e.msg);
    } else if (!frozen && sb->paused_at) {
        HB_LOG_WARN("sandbox %s: paused in its record but not frozen: running", s->id);
        sb->paused_at = 0;
        save_record(s);
    } else if (frozen) {
        HB_LOG_INFO("sandbox %s is paused", s->id);
    }
}

/* SB_SNAPSHOT (issue 17): its writable layer becomes an image. Done here:
 * the copy is one subvolume snapshot (milliseconds), and no operation of
 * this sandbox may destroy it meanwhile. */
static void on_snapshot(sup_t *s, const hb_msg_t *q)
{
    hb_err_t e = {0};
    hb_imginfo_t info;
    hb_snap_times_t t;
    const char *kind = q->kind && q->kind[0] ? q->kind : "snapshot";
    /* A paused sandbox is neither frozen again nor thawed by its snapshot. */
    if (hb_image_snapshot(s->sb, q->name, kind, s->sb->paused_at != 0, &info, &t, &e) < 0) {
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    hb_msg_t r = {.type = HB_MSG_R_CATALOG, .duration_ms = t.total_ms, .frozen_ms = t.frozen_ms};
    r.items = calloc(1, sizeof *r.items);
    if (r.items && hb_image_catitem(s->rt, info.name, r.items) == 0) {
        r.items_n = 1;
        hb_bus_post(q->reply_to, &r);
    } else {
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "image '%s' made, but not readable",
                           info.name);
    }
    hb_msg_clear(&r);
    hb_msg_t ev = {.type = HB_MSG_EV_IMAGE_CREATED, .name = info.name, .parent = info.parent,
                   .kind = info.kind, .id = s->id, .duration_ms = t.total_ms,
                   .frozen_ms = t.frozen_ms};
    publish(s, &ev);   /* ev borrows */
}

/* SB_RESTORE (issue 17): init and its processes restarted on the snapshot
 * with an empty writable layer. Refused while operations use init (their
 * connections would break mid-way). The manager learns the new image from
 * the announce (list, in-use checks). */
static void on_restore(sup_t *s, const hb_msg_t *q)
{
    hb_err_t e = {0};
    if (s->inflight > 0) {
        hb_bus_reply_error(q->reply_to, HB_E_CONFLICT, "sandbox '%s' is busy: %d operations "
                           "in flight (exec, files, processes); retry when they end", s->id,
                           s->inflight);
        tell_info(s);   /* the manager stops guarding the image it was sent to */
        return;
    }
    /* A paused sandbox is thawed by the restore (its processes must be able
     * to die) and starts again running. */
    int64_t paused_at = s->sb->paused_at;
    s->sb->paused_at = 0;
    int rc = hb_image_restore(s->sb, q->snapshot, &e);
    if (rc < 0 && paused_at && hb_sandbox_frozen(s->sb) == 1)
        s->sb->paused_at = paused_at;   /* refused before the thaw: still paused */
    if (paused_at && !s->sb->paused_at) {
        save_record(s);
        hb_msg_t ev = {.type = HB_MSG_EV_RESUMED, .id = s->id, .reason = "restored"};
        publish(s, &ev);   /* ev borrows */
        tell_info(s);
    }
    if (rc < 0) {
        HB_LOG_WARN("sandbox %s: restore: %s", s->id, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        tell_info(s);   /* the image it runs on now, whatever happened */
        return;   /* after the kill, the liveness check fails it */
    }
    announce(s);
    on_get(s, q);
}

/* A failed sandbox answers GET and DELETE; everything else names its state. */
static void on_failed_request(sup_t *s, hb_msg_t *q)
{
    if (q->type == HB_MSG_SB_GET)
        on_get(s, q);
    else if (q->type == HB_MSG_SB_DESTROY)
        start_destroy(s, q->reply_to, q->reason);
    else if (expiry_pause(q))   /* a failed sandbox is not paused: it expires */
        start_destroy(s, NULL, "expired");
    else
        reply_failed(s, q);
    if (q->type == HB_MSG_SB_TIMEOUT) {   /* refused: the reaper goes back to the old expiry */
        hb_msg_t m = {.type = HB_MSG_SUP_EXPIRES, .id = s->id, .expires_at = s->sb->expires_at};
        hb_bus_send(s->mgr, &m);   /* m borrows */
    }
}

/* ---- issue 19: the warm pool ---- */

/* A named create: the pooled sandbox takes the name (sandbox_rename.c)
 * before anything else; the manager already knows it by it (pool_take).
 * When it cannot, it is left whole under its old id and goes: the create
 * fails if the name is taken (as a fresh one would), else is made fresh.
 * false when the create was answered. */
static bool adopt_name(sup_t *s, hb_msg_t *q)
{
    hb_err_t e = {0};
    int rc = hb_sandbox_rename(s->sb, q->name, &e);
    snprintf(s->id, sizeof s->id, "%s", q->name);
    if (rc == 0)
        return true;
    HB_LOG_WARN("sandbox %s: the pooled sandbox cannot take the name (%s); %s", q->name, e.msg,
                e.code == HB_E_EXISTS ? "refused" : "creating it afresh");
    hb_sandbox_destroy(s->sb, NULL);
    hb_sandbox_free(s->sb);
    s->sb = NULL;
    if (e.code == HB_E_EXISTS)
        fail_create(s, q->reply_to, &e);
    else
        do_create(s, q, false);
    return false;
}

/* A create the manager gave this pooled sandbox: it becomes the user's
 * (sandbox_adopt.c) and is announced as a fresh create is. A failure
 * halfway destroys it whole, and the create fails as a fresh one would. */
static void on_adopt(sup_t *s, hb_msg_t *q)
{
    hb_spec_t spec;
    hb_err_t e = {0};
    if (!s->sb->spec.pooled) {
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "sandbox %s is not a pooled one", s->id);
        return;
    }
    if (q->name && q->name[0] && strcmp(q->name, s->id) != 0 && !adopt_name(s, q))
        return;
    int rc = hb_sup_spec_from(s->rt, &spec, q, s->id, &e);
    if (rc == 0 && !hb_sandbox_adoptable(s->sb, &spec)) {
        /* what the launch fixed changed since (a skill added): made fresh */
        HB_LOG_INFO("sandbox %s: the pooled one no longer fits; creating it afresh", s->id);
        hb_sandbox_destroy(s->sb, NULL);
        hb_sandbox_free(s->sb);
        s->sb = NULL;
        do_create(s, q, false);
        return;
    }
    if (rc < 0 || hb_sandbox_adopt(s->sb, &spec, &e) < 0 || save_agent(s->sb, q, &e) < 0) {
        HB_LOG_ERROR("sandbox %s: taking it from the pool failed", s->id);
        undo_create(s, q->reply_to, &e);   /* the error as a fresh create would give it */
        return;
    }
    HB_LOG_INFO("sandbox %s created from the pool (image %s, memory %s, cpus %.2f, pids %u, "
                "disk %s, expires in %us)", s->id, spec.image, spec.memory_str, spec.cpus,
                spec.pids, spec.disk_str, spec.timeout_s);
    announce_created(s, q);
    hb_proxy_sandbox_up(s->ep.proxy, s->id, true);
}

/* Requests the manager forwards on our pipe. */
static void on_request(void *self, hb_msg_t *q)
{
    sup_t *s = self;
    if (s->term) {
        hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL, "the daemon is shutting down");
        return;
    }
    if (q->type == HB_MSG_SB_CREATE && s->state != S_RUNNING) {
        /* issue 19: the pooled sandbox died as a create took it */
        hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL, "the sandbox being created went away; "
                           "try again");
        return;
    }
    if (s->state == S_FAILING || s->state == S_FAILED) {
        on_failed_request(s, q);
        return;
    }
    if (s->state != S_RUNNING) {
        reply_gone(q, s->id);
        return;
    }
    switch (q->type) {
    case HB_MSG_SB_GET: on_get(s, q); break;
    case HB_MSG_SB_EXEC:
    case HB_MSG_SB_LSFILES: if (!paused_refusal(s, q)) on_op(s, q); break;
    case HB_MSG_SB_LEASE: if (q->host_only || !paused_refusal(s, q)) on_lease(s, q); break;
    case HB_MSG_SB_KILLALL: if (!paused_refusal(s, q)) on_killall(s, q); break;
    case HB_MSG_SB_PAUSE: on_pause(s, q); break;
    case HB_MSG_SB_RESUME: on_resume(s, q); break;
    case HB_MSG_SB_TIMEOUT: on_timeout(s, q); break;
    case HB_MSG_SB_SNAPSHOT: on_snapshot(s, q); break;
    case HB_MSG_SB_RESTORE: on_restore(s, q); break;
    case HB_MSG_SB_NETWORK: hb_sup_on_network(s->sb, q); break;   /* sup_egress.c */
    case HB_MSG_SB_PORT_PUBLIC: hb_sup_port_public(s->sb->dir, q); break;   /* issue 16 */
    case HB_MSG_SB_DESTROY: start_destroy(s, q->reply_to, q->reason); break;
    case HB_MSG_SB_CREATE: on_adopt(s, q); break;
    default:
        HB_LOG_WARN("sandbox %s: unexpected %s", s->id, hb_msg_name(q->type));
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "unexpected request");
    }
}

static void on_inbox(void *self, hb_msg_t *m, zframe_t *raw)
{
    sup_t *s = self;
    if (m->type == HB_MSG_OP_DONE || m->type == HB_MSG_SB_RELEASE)
        on_done(s, m);
    else if (m->type == HB_MSG_SUP_BUILT)
        on_built(s, m);
    else if (m->type == HB_MSG_SB_EXECUTED)
        count_exec(s, m);
    else if (m->type == HB_MSG_SB_PROC_STARTED)
        on_proc_started(s, m);
    else if (m->type == HB_MSG_SB_PROC_WATCHED) {
        on_proc_watched(s, m);
        finish_fail(s);
        finish_destroy(s);
    }
    else if (m->type == HB_MSG_EV_PROC_STARTED || m->type == HB_MSG_EV_PROC_EXITED)
        publish(s, m);
    else
        HB_LOG_WARN("sandbox %s: unexpected %s in inbox", s->id, hb_msg_name(m->type));
}

/* ---- the unit on its supervisor host (sup_host.h) ---- */

/* Manager requests and the notes of its own threads come on one inbox
 * now; these are the notes (operation, watch and lease threads). */
static bool is_note(hb_msg_type_t t)
{
    return t == HB_MSG_OP_DONE || t == HB_MSG_SB_RELEASE || t == HB_MSG_SB_EXECUTED ||
           t == HB_MSG_SUP_BUILT ||
           t == HB_MSG_SB_PROC_STARTED || t == HB_MSG_SB_PROC_WATCHED ||
           t == HB_MSG_EV_PROC_STARTED || t == HB_MSG_EV_PROC_EXITED;
}

static void unit_msg(void *self, hb_msg_t *m)
{
    if (is_note(m->type))
        on_inbox(self, m, NULL);
    else
        on_request(self, m);
}

static bool unit_gone(void *self)
{
    const sup_t *s = self;
    return s->state == S_GONE;
}

static bool unit_busy(void *self)
{
    const sup_t *s = self;
    return s->inflight > 0;
}

/* Shutdown: requests are answered 503 from now on; in-flight uses get the
 * host's grace period, then the unit is closed. */
static void unit_term(void *self)
{
    sup_t *s = self;
    s->term = true;
    hb_sup_watch_stop(s->watch);
}

void hb_sup_args_free(hb_sup_args_t *a)
{
    if (!a)
        return;
    hb_msg_clear(&a->create);
    if (a->sb)   /* attach: leave the sandbox running for the next start */
        hb_sandbox_free(a->sb);
    free(a);
}

/* A re-attached sandbox's first usage report: somewhere in the first
 * TICK_MS, not all at once while the daemon is still re-attaching the
 * others (a full reading is ten cgroup and quota reads; 4,000 of them made
 * the re-attach 1 s longer here). Generations are handed out one after
 * another, and a step coprime with TICK_MS puts consecutive ones evenly
 * over it. Usage figures are up to IDLE_REPORT_MS old at any time; the
 * list's disk figure is in the announcement (do_attach). */
static int64_t first_report_in(uint64_t gen)
{
    return (int64_t)((gen * 7919u) % TICK_MS);
}

static void *unit_open(hb_sup_args_t *a, const hb_sup_env_t *env)
{
    sup_t *s = calloc(1, sizeof *s);
    if (!s) {
        HB_LOG_ERROR("sandbox %s: out of memory for its supervisor", a->id);
        hb_sup_args_free(a);
        return NULL;
    }
    *s = (sup_t){.rt = a->rt, .ep = a->ep, .state = S_RUNNING, .proc_seq = -1,
                 .watch_from = -1, .pidfd = -1, .mgr = env->mgr, .met = env->met};
    snprintf(s->id, sizeof s->id, "%s", a->id);
    snprintf(s->inbox_ep, sizeof s->inbox_ep, "%s", env->inbox);
    if (a->sb)
        do_attach(s, a->sb);
    else
        do_create(s, &a->create, a->pooled);
    int64_t first = a->sb ? first_report_in(a->gen) : 0;
    a->sb = NULL;   /* s owns it now */
    hb_sup_args_free(a);
    s->next_tick_ms = hb_now_ms() + first;
    s->next_usage_ms = s->next_tick_ms;
    return s;
}

/* Units closed with work in flight: their handle (and a watch's or a
 * lease's state) is left to threads that may still run; the process exits
 * without its atexit teardown then (tools/daemon.c). */
static _Atomic int g_abandoned;

int hb_sup_abandoned(void) { return atomic_load(&g_abandoned); }

static void unit_close(void *self)
{
    sup_t *s = self;
    /* issue 19: a pooled sandbox is nobody's: it goes with the daemon (the
     * next start builds the pool again) */
    if (s->sb && s->sb->spec.pooled && s->inflight == 0 && s->state == S_RUNNING)
        hb_sandbox_destroy(s->sb, NULL);
    if (s->sb && s->inflight == 0) {
        hb_sandbox_free(s->sb);   /* the sandbox itself keeps running */
    } else if (s->sb) {
        HB_LOG_WARN("sandbox %s: %d operations still running at shutdown; abandoned", s->id,
                    s->inflight);
        atomic_fetch_add(&g_abandoned, 1);
    }
    if (s->creating) {   /* its build thread still reads it: left to it, never freed */
        HB_LOG_WARN("sandbox %s: still being built at shutdown; abandoned", s->id);
        atomic_fetch_add(&g_abandoned, 1);
    }
    if (s->pidfd >= 0)
        close(s->pidfd);
    free(s->gone_reply_to);
    free(s->gone_reason);
    free(s);
}

static const hb_sup_ops_t SUP_OPS = {
    .open = unit_open, .on_msg = unit_msg, .due = tick_due, .watch_fd = alive_fd,
    .on_fd = on_init_exit, .gone = unit_gone, .term = unit_term, .busy = unit_busy,
    .close = unit_close,
};

const hb_sup_ops_t *hb_supervisor_ops(void)
{
    return &SUP_OPS;
}
