/* The proxy actor (see proxy.h): a table of sandbox id -> OpenCode server
 * state, driven by messages and a one-second tick. Everything slow happens
 * elsewhere: the health wait on a watcher thread, the HTTP streams in the
 * gateway's workers. The only blocking calls here are a spawn and, on
 * destroy, a bounded wait for a SIGKILLed server to go. */
#include "proxy.h"

#include "metrics_prom.h"   /* its section of GET /metrics */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "opencode_conf.h"
#include "opencode_proc.h"
#include "opencode_start.h"
#include "sbdir.h"

#define TICK_MS          1000
#define START_TIMEOUT_MS 90000
#define TERM_GRACE_MS    5000
#define STOP_CALL_MS     15000

typedef enum { I_STOPPED, I_STARTING, I_RUNNING, I_STOPPING } ist_t;

typedef struct {
    char         id[HB_ID_MAX];
    char         dir[HB_HOSTPATH_MAX + 80];
    ist_t        st;
    hb_oc_proc_t proc;
    uint64_t     gen;
    char         auth[HB_OC_AUTH_MAX];
    char        *key;          /* the server's LLM key (for the gateway's redaction) */
    int          users;        /* proxied requests in flight, event streams included */
    int          tries;        /* starts in a row that exited at once */
    int64_t      idle_since;
    int64_t      kill_at;      /* I_STOPPING: SIGKILL then */
    zlist_t     *waiters;      /* reply_to endpoints (char *) waiting for I_RUNNING */
} inst_t;

typedef struct {
    zsock_t          *inbox;
    hb_oc_settings_t  set;
    hb_oc_host_t      host;
    hb_proxy_args_t   args;
    char              host_buf[256];
    char              bin[HB_HOSTPATH_MAX];
    bool              installed;
    zhashx_t         *insts;
    uint64_t          gen_seq;
    int64_t           next_tick;
} proxy_t;

/* ---- instances ---- */

static void free_key(inst_t *in)
{
    if (in->key) {
        explicit_bzero(in->key, strlen(in->key));
        free(in->key);
        in->key = NULL;
    }
}

static void inst_free(void **item)
{
    inst_t *in = *item;
    if (!in)
        return;
    char *w;
    while ((w = zlist_pop(in->waiters)))
        free(w);
    zlist_destroy(&in->waiters);
    hb_oc_proc_release(&in->proc);   /* the process itself is dealt with before */
    free_key(in);
    explicit_bzero(in->auth, sizeof in->auth);
    free(in);
    *item = NULL;
}

/* <data-dir>/sandboxes/<id>: where a sandbox's records and OpenCode state
 * live; false if the path does not fit. */
static bool state_dir(const proxy_t *p, const char *id, char *dir, size_t len)
{
    return hb_sbdir_path(dir, len, p->args.rt->data_dir, id, NULL) == 0;
}

/* Fully created and not being destroyed (hb_sbdir_complete): a server
 * started otherwise would lack its settings or outlive its sandbox. */
static bool sandbox_exists(const proxy_t *p, const char *id, char *dir, size_t len)
{
    return hb_name_valid(id) && state_dir(p, id, dir, len) && hb_sbdir_complete(dir);
}

/* The entry for id, created if the sandbox exists on disk; NULL if not. */
static inst_t *inst_get(proxy_t *p, const char *id)
{
    inst_t *in = zhashx_lookup(p->insts, id);
    if (in)
        return in;
    char dir[sizeof in->dir];
    if (!sandbox_exists(p, id, dir, sizeof dir))
        return NULL;
    in = calloc(1, sizeof *in);
    if (!in || !(in->waiters = zlist_new())) {
        free(in);
        return NULL;
    }
    snprintf(in->id, sizeof in->id, "%s", id);
    snprintf(in->dir, sizeof in->dir, "%s", dir);
    in->proc.pidfd = -1;
    in->idle_since = hb_now_ms();
    zhashx_insert(p->insts, id, in);
    return in;
}

/* ---- replies ---- */

static void reply_target(inst_t *in, const char *reply_to)
{
    hb_msg_t r = {.type = HB_MSG_R_OC, .port = in->proc.port, .secret = in->auth,
                  .llm_api_key = in->key};
    if (hb_bus_post(reply_to, &r) == 0)   /* r borrows */
        in->users++;
}

static void flush_waiters(inst_t *in, const hb_err_t *e)
{
    char *w;
    while ((w = zlist_pop(in->waiters))) {
        if (e)
            hb_bus_reply_err(w, e);
        else
            reply_target(in, w);
        free(w);
    }
}

/* ---- lifecycle ---- */

static uint16_t pick_port(proxy_t *p)
{
    for (unsigned port = HB_OC_PORT_BASE; port <= HB_OC_PORT_LAST; port++) {
        bool taken = false;
        for (inst_t *o = zhashx_first(p->insts); o && !taken; o = zhashx_next(p->insts))
            taken = o->st != I_STOPPED && o->proc.port == port;
        if (!taken && hb_oc_port_free((uint16_t)port))
            return (uint16_t)port;
    }
    return 0;
}

static void set_running_auth(inst_t *in)
{
    hb_oc_auth_header(in->proc.password, in->auth, sizeof in->auth);
}

/* Children of ours that died but could not be reaped at once (touched by
 * the proxy thread only). */
static pid_t g_unreaped[64];

static void reap_later(pid_t pid)
{
    for (size_t i = 0; pid && i < sizeof g_unreaped / sizeof g_unreaped[0]; i++)
        if (!g_unreaped[i]) {
            g_unreaped[i] = pid;
            return;
        }
}

static void reap_pending(void)
{
    for (size_t i = 0; i < sizeof g_unreaped / sizeof g_unreaped[0]; i++)
        if (g_unreaped[i] && waitpid(g_unreaped[i], NULL, WNOHANG) != 0)
            g_unreaped[i] = 0;
}

static void stop_now(inst_t *in, int wait_ms)
{
    reap_later(hb_oc_kill(&in->proc, wait_ms));
    in->st = I_STOPPED;
}

static int start(proxy_t *p, inst_t *in, hb_err_t *e)
{
    char *key = NULL;
    bool changed;
    if (hb_oc_write_config(&p->host, in->id, in->dir, &key, &changed, e) < 0)
        return -1;
    free_key(in);
    in->key = key;
    hb_oc_proc_release(&in->proc);
    in->proc.port = pick_port(p);
    if (!in->proc.port)
        return hb_fail(e, HB_E_UNAVAIL, 0, "no free port for OpenCode from %d up",
                       HB_OC_PORT_BASE);
    if (hb_oc_password(in->proc.password, e) < 0 || hb_oc_spawn(p->bin, in->dir, in->key,
                                                                 &in->proc, e) < 0)
        return -1;
    set_running_auth(in);
    in->gen = ++p->gen_seq;
    in->st = I_STARTING;
    HB_LOG_INFO("opencode %s: starting (pid %d, port %u)", in->id, (int)in->proc.pid,
             (unsigned)in->proc.port);
    if (hb_oc_watch_start(p->args.ep.proxy, in->id, in->gen, in->proc.port, in->auth, in->proc.pidfd,
                          START_TIMEOUT_MS) < 0) {
        stop_now(in, 2000);
        return hb_fail(e, HB_E_INTERNAL, 0, "cannot start a thread");
    }
    return 0;
}


/* The server went away on its own. */
static void crashed(inst_t *in)
{
    HB_LOG_WARN("opencode %s: the server (pid %d) exited; it starts again on the next request",
             in->id, (int)in->proc.pid);
    stop_now(in, 0);
}

/* A server left running by a previous daemon: keep it if its config is
 * still what we would write, else replace it. */
static void adopt(proxy_t *p, inst_t *in)
{
    hb_oc_proc_t old;
    if (hb_oc_adopt(in->dir, &old) < 0)
        return;
    char *key = NULL;
    bool changed = true;
    hb_err_t e = {0};
    if (hb_oc_write_config(&p->host, in->id, in->dir, &key, &changed, &e) < 0 || changed) {
        HB_LOG_INFO("opencode %s: replacing the server of the previous daemon (pid %d)%s", in->id,
                 (int)old.pid, changed ? ": its config changed" : "");
        hb_oc_kill(&old, 3000);
        free(key);
        return;
    }
    free_key(in);
    in->key = key;
    in->proc = old;
    set_running_auth(in);
    in->st = I_RUNNING;
    in->gen = ++p->gen_seq;
    in->idle_since = hb_now_ms();
    HB_LOG_INFO("opencode %s: adopted the running server (pid %d, port %u)", in->id, (int)old.pid,
             (unsigned)old.port);
}

/* ---- messages ---- */

static void not_installed(proxy_t *p, hb_err_t *e)
{
    hb_fail(e, HB_E_UNAVAIL, 0,
            "OpenCode is not installed (looked for %s): run tools/setup.sh, or `npm install "
            "--prefix <dir of the hivebox binary>/opencode opencode-ai@" HB_OC_NPM_VERSION
            "`, or set HIVEBOX_OPENCODE_BIN", p->bin);
}

static void on_open(proxy_t *p, const hb_msg_t *q)
{
    hb_err_t e = {0};
    if (!p->set.enabled) {
        hb_bus_reply_error(q->reply_to, HB_E_NOTFOUND,
                           "OpenCode is disabled on this daemon (HIVEBOX_OPENCODE=false)");
        return;
    }
    if (!p->installed && !(p->installed = hb_oc_find_bin(p->set.bin, p->bin, sizeof p->bin) == 0)) {
        not_installed(p, &e);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    inst_t *in = q->id ? inst_get(p, q->id) : NULL;
    if (!in) {
        hb_bus_reply_error(q->reply_to, HB_E_NOTFOUND, "sandbox '%s' not found",
                           q->id ? q->id : "");
        return;
    }
    if (in->st == I_RUNNING && hb_oc_exited(&in->proc))
        crashed(in);
    if (in->st == I_STOPPING)
        stop_now(in, 2000);
    if (in->st == I_RUNNING) {
        reply_target(in, q->reply_to);
        return;
    }
    if (in->st == I_STOPPED)
        in->tries = 0;
    if (in->st == I_STOPPED && start(p, in, &e) < 0) {
        HB_LOG_WARN("opencode %s: cannot start: %s", in->id, e.msg);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    zlist_append(in->waiters, strdup(q->reply_to));
}

static void on_close(proxy_t *p, const hb_msg_t *q)
{
    inst_t *in = q->id ? zhashx_lookup(p->insts, q->id) : NULL;
    if (!in || in->users <= 0)
        return;
    if (--in->users == 0)
        in->idle_since = hb_now_ms();
}

static void on_up(proxy_t *p, const hb_msg_t *q)
{
    char dir[HB_HOSTPATH_MAX + 80];
    if (!q->id || !hb_name_valid(q->id) || !state_dir(p, q->id, dir, sizeof dir))
        return;
    if (!p->set.enabled) {   /* a server left by a daemon that had OpenCode on */
        hb_oc_kill_recorded(dir);
        return;
    }
    /* An attached sandbox's supervisor removed a stale destroy marker first. */
    bool attached = q->reason && strcmp(q->reason, "attached") == 0;
    inst_t *in = inst_get(p, q->id);
    if (!in || in->st != I_STOPPED)
        return;
    if (attached)
        adopt(p, in);
    hb_err_t e = {0};
    if (in->st == I_STOPPED && p->set.eager && p->installed && start(p, in, &e) < 0)
        HB_LOG_WARN("opencode %s: cannot start: %s", in->id, e.msg);
}

/* Sandbox q->id goes away (why: for its waiters): its server is killed,
 * ours or one a previous daemon left; with remove_state its OpenCode state
 * too. Then the reply, once all that is done. */
static void end_server(proxy_t *p, const hb_msg_t *q, const char *why, bool remove_state)
{
    char dir[HB_HOSTPATH_MAX + 80];
    if (q->id && hb_name_valid(q->id) && state_dir(p, q->id, dir, sizeof dir)) {
        inst_t *in = zhashx_lookup(p->insts, q->id);
        if (in) {
            hb_err_t gone;
            hb_fail(&gone, HB_E_NOTFOUND, 0, "sandbox '%s' %s", in->id, why);
            flush_waiters(in, &gone);
            stop_now(in, 3000);
            zhashx_delete(p->insts, q->id);
        } else {
            hb_oc_kill_recorded(dir);
        }
        hb_err_t e = {0};
        if (remove_state && hb_oc_state_remove(dir, &e) < 0)
            HB_LOG_WARN("opencode %s: %s", q->id, e.msg);
    }
    hb_msg_t r = {.type = HB_MSG_R_DESTROYED, .id = q->id};
    if (q->reply_to)
        hb_bus_post(q->reply_to, &r);   /* r borrows */
}

static void on_stop(proxy_t *p, const hb_msg_t *q)
{
    end_server(p, q, "is being destroyed", true);
}

/* At daemon start the manager found the sandbox failed or unusable: the
 * server a previous daemon left goes; its OpenCode state stays with the
 * sandbox's files (an unusable sandbox's go with its destroy). */
static void on_kill(proxy_t *p, const hb_msg_t *q)
{
    end_server(p, q, "has failed", false);
}

static void on_started(proxy_t *p, const hb_msg_t *q)
{
    inst_t *in = q->id ? zhashx_lookup(p->insts, q->id) : NULL;
    if (!in || in->st != I_STARTING || in->gen != q->handle)
        return;   /* a stale report: that server was replaced or stopped */
    if (q->code == HB_OK) {
        in->st = I_RUNNING;
        in->idle_since = hb_now_ms();
        HB_LOG_INFO("opencode %s: ready on port %u", in->id, (unsigned)in->proc.port);
        flush_waiters(in, NULL);
        return;
    }
    char log[2 * HB_HOSTPATH_MAX];
    hb_oc_state_path(log, sizeof log, in->dir, "opencode.log");
    hb_err_t e;
    hb_fail(&e, HB_E_UNAVAIL, 0, "OpenCode did not start: %s (its log: %s)",
            q->error ? q->error : "unknown error", log);
    HB_LOG_WARN("opencode %s: %s", in->id, e.msg);
    stop_now(in, 2000);
    /* Exited at once (another process took the port between our check and
     * its bind, say): try again, on another port, the waiters still waiting. */
    if (q->code == HB_E_DEAD && ++in->tries < 3 && start(p, in, &e) == 0)
        return;
    flush_waiters(in, &e);
}

/* GET /metrics asks: OpenCode servers by state, counted from the table. */
static void on_metrics_text(proxy_t *p, const hb_msg_t *q)
{
    static const char *const names[] = {"stopped", "starting", "running", "stopping"};
    double n[4] = {0};
    for (inst_t *in = zhashx_first(p->insts); in; in = zhashx_next(p->insts))
        n[in->st]++;
    hb_prom_t t;
    hb_prom_init(&t);
    hb_prom_head(&t, "hivebox_opencode_servers", "gauge", "OpenCode servers by state.");
    for (size_t i = I_STARTING; i <= I_STOPPING; i++)
        hb_prom_one(&t, "hivebox_opencode_servers", "state", names[i], n[i]);
    size_t len = 0;
    char *text = hb_prom_take(&t, &len);
    hb_msg_t r = {.type = HB_MSG_R_TEXT, .text = {.data = text, .len = len}};
    if (text)
        hb_bus_post(q->reply_to, &r);   /* r borrows */
    else
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
    free(text);
}

static void dispatch(void *self, hb_msg_t *m, zframe_t *raw)
{
    proxy_t *p = self;
    switch (m->type) {
    case HB_MSG_OC_OPEN: on_open(p, m); break;
    case HB_MSG_OC_CLOSE: on_close(p, m); break;
    case HB_MSG_OC_UP: on_up(p, m); break;
    case HB_MSG_OC_STOP: on_stop(p, m); break;
    case HB_MSG_OC_STARTED: on_started(p, m); break;
    case HB_MSG_OC_KILL: on_kill(p, m); break;
    case HB_MSG_METRICS_TEXT: on_metrics_text(p, m); break;
    default:
        HB_LOG_WARN("proxy: unexpected %s", hb_msg_name(m->type));
        if (m->reply_to)
            hb_bus_reply_error(m->reply_to, HB_E_INTERNAL, "unexpected request");
    }
}

/* ---- the tick: crashes and idle stops ---- */

static void tick_one(proxy_t *p, inst_t *in, int64_t now)
{
    if (in->st == I_RUNNING && hb_oc_exited(&in->proc)) {
        crashed(in);
    } else if (in->st == I_RUNNING && in->users == 0 &&
               now - in->idle_since >= p->set.idle_ms) {
        HB_LOG_INFO("opencode %s: idle for %llds; stopping it", in->id,
                 (long long)(now - in->idle_since) / 1000);
        hb_oc_term(&in->proc);
        in->st = I_STOPPING;
        in->kill_at = now + TERM_GRACE_MS;
    } else if (in->st == I_STOPPING && (hb_oc_exited(&in->proc) || now >= in->kill_at)) {
        stop_now(in, 0);
    }
}

/* Every TICK_MS. */
static int64_t tick(void *self)
{
    proxy_t *p = self;
    int64_t now = hb_now_ms();
    if (now >= p->next_tick) {
        for (inst_t *in = zhashx_first(p->insts); in; in = zhashx_next(p->insts))
            tick_one(p, in, now);
        reap_pending();
        p->next_tick = hb_now_ms() + TICK_MS;
    }
    int64_t wait = p->next_tick - hb_now_ms();
    return wait > 0 ? wait : 0;
}

/* ---- the actor ---- */

static void shutdown_all(proxy_t *p)
{
    hb_err_t e;
    hb_fail(&e, HB_E_UNAVAIL, 0, "the daemon is shutting down");
    for (inst_t *in = zhashx_first(p->insts); in; in = zhashx_next(p->insts)) {
        flush_waiters(in, &e);
        if (in->st == I_STARTING)
            stop_now(in, 2000);   /* half-started: the next daemon starts it afresh */
        /* running ones keep running, for the next daemon to adopt */
    }
    hb_oc_watch_stop_all(3000);
}

static void announce(proxy_t *p, const char *warn)
{
    for (const char *l = warn; l && *l;) {
        const char *nl = strchr(l, '\n');
        int n = nl ? (int)(nl - l) : (int)strlen(l);
        HB_LOG_WARN("opencode: %.*s", n, l);
        l = nl ? nl + 1 : l + n;
    }
    if (!p->set.enabled) {
        HB_LOG_INFO("opencode: disabled (HIVEBOX_OPENCODE=false): the agent routes answer 404");
        return;
    }
    p->installed = hb_oc_find_bin(p->set.bin, p->bin, sizeof p->bin) == 0;
    if (!p->installed) {
        hb_err_t e;
        not_installed(p, &e);
        HB_LOG_WARN("opencode: %s; the agent routes answer 503 until it is", e.msg);
    } else {
        if (!hb_oc_setpriv())
            HB_LOG_WARN("opencode: setpriv(1) not found: the servers run as root");
        HB_LOG_INFO("opencode: %s; servers start %s, stop after %llds idle", p->bin,
                 p->set.eager ? "at create" : "on first use",
                 (long long)(p->set.idle_ms / 1000));
    }
}

static int setup(proxy_t *p, hb_err_t *e)
{
    char warn[2048];
    if (!(p->insts = zhashx_new()))
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    zhashx_set_destructor(p->insts, inst_free);
    if (!(p->inbox = hb_actor_inbox(p->args.ep.proxy, e)))
        return -1;
    if (hb_oc_settings_load(&p->set, p->args.cfg, warn, sizeof warn) < 0)
        return hb_fail(e, HB_E_INTERNAL, 0, "cannot load the OpenCode settings");
    p->host = (hb_oc_host_t){.set = &p->set, .daemon_host = p->host_buf,
                             .daemon_port = p->args.daemon_port};
    announce(p, warn);
    return 0;
}

static void proxy_actor(zsock_t *pipe, void *arg)
{
    proxy_t *p = arg;
    hb_err_t e = {0};
    int rc = setup(p, &e);
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    p->next_tick = hb_now_ms() + TICK_MS;
    hb_loop_t loop = {.name = "proxy", .pipe = pipe, .inbox = p->inbox, .on_inbox = dispatch,
                      .due = tick};
    if (rc == 0)
        hb_loop_run(&loop, p, -1);
    if (p->insts)
        shutdown_all(p);
    zhashx_destroy(&p->insts);
    zsock_destroy(&p->inbox);
    hb_oc_settings_clear(&p->set);
    free(p);
}

/* OpenCode reaches the MCP endpoint over loopback when the daemon listens
 * on every address (or on loopback); else at the one address it has. */
static void mcp_host(char *buf, size_t len, const char *host)
{
    if (!host || !host[0] || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
        strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0)
        snprintf(buf, len, "127.0.0.1");
    else if (strchr(host, ':'))
        snprintf(buf, len, "[%s]", host);
    else
        snprintf(buf, len, "%s", host);
}

zactor_t *hb_proxy_new(const hb_proxy_args_t *args, hb_err_t *e)
{
    proxy_t *p = calloc(1, sizeof *p);
    if (!p) {
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "proxy: out of memory");
        return NULL;
    }
    p->args = *args;
    mcp_host(p->host_buf, sizeof p->host_buf, args->daemon_host);
    return hb_actor_start("OpenCode proxy", proxy_actor, p, e);   /* p is the actor's */
}

/* ---- helpers for other actors ---- */

void hb_proxy_sandbox_up(const char *proxy, const char *id, bool created)
{
    hb_msg_t m = {.type = HB_MSG_OC_UP, .id = (char *)id,
                  .reason = created ? "created" : "attached"};
    hb_bus_post(proxy, &m);   /* m borrows */
}

/* A call to the proxy about sandbox id that waits (bounded) for its reply. */
static void call_about(const char *proxy, hb_msg_type_t type, const char *id, const char *what)
{
    hb_msg_t q = {.type = type}, rep;
    hb_err_t e = {0};
    if (hb_str_set(&q.id, id) < 0)
        return;
    if (hb_bus_call(proxy, &q, &rep, STOP_CALL_MS, &e) == 0)
        hb_msg_clear(&rep);
    else
        HB_LOG_WARN("opencode %s: %s: %s", id, what, e.msg);
    hb_msg_clear(&q);
}

void hb_proxy_sandbox_stop(const char *proxy, const char *id)
{
    call_about(proxy, HB_MSG_OC_STOP, id, "stop before destroy");
}

void hb_proxy_sandbox_kill(const char *proxy, const char *id)
{
    call_about(proxy, HB_MSG_OC_KILL, id, "stopping the server of a dead sandbox");
}
