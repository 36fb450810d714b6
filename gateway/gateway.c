/* civetweb setup, authentication, routing and the response helpers. */
#include "gw_internal.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "auth.h"
#include "e2b.h"
#include "gw_conns.h"
#include "gw_network.h"
#include "gw_preview.h"
#include "preview_auth.h"
#include "rawsock.h"
#include "gw_reqlog.h"
#include "gw_wake.h"
#include "http_status.h"
#include "json_out.h"
#include "opencode_conf.h"
#include "reqid.h"
#include "bus.h"   /* hb_bus_deadline, hb_now_ms */
#include "cluster.h"      /* issue 20 */
#include "gw_cluster.h"   /* issue 20 */

#define IDLE_PER_ADDR_DEFAULT 64
#define IDLE_TOTAL_DEFAULT    1024
#define HEAD_TIMEOUT_DEFAULT  10
#define WORKER_STACK_MIN      (64 << 10)   /* room for the 64 JSON levels and more */

struct hb_gateway {
    struct mg_context *ctx;
    hb_gateway_conf_t  conf;
    hb_gw_conns_t     *conns;
    hb_oc_settings_t   oc;         /* loaded at start; the proxy warns about bad ones */
    hb_ev_hub_t       *events;     /* GET /api/v1/events; NULL without an endpoint */
    char              *host, *key, *webui_dir, *e2b_key, *metrics_token, *data_dir;
    atomic_int         inflight;   /* requests inside a handler */
    atomic_bool        draining;   /* SIGTERM: new requests get 503 */
};

/* ---- responses ---- */

/* Every response's head starts here or in hb_send_head: each carries the
 * request's X-Request-Id (gw_reqlog.h). */
int hb_response_start(struct mg_connection *c, int status)
{
    int rc = mg_response_header_start(c, status);
    if (rc == 0)
        mg_response_header_add(c, HB_REQID_HEADER, hb_reqlog_id(), -1);
    return rc;
}

void hb_send_head(struct mg_connection *c, int status, const char *ctype, uint64_t len,
                  const char *hname, const char *hval)
{
    char clen[32];
    snprintf(clen, sizeof clen, "%llu", (unsigned long long)len);
    if (mg_response_header_start(c, status) == -2) {
        /* A refused WebSocket upgrade: civetweb 1.15's header calls refuse
         * any request typed WebSocket, so this head is written as is. */
        mg_printf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %s\r\n"
                  "Cache-Control: no-store\r\nConnection: close\r\n%s: %s\r\n", status,
                  hb_http_reason(status), ctype, clen, HB_REQID_HEADER, hb_reqlog_id());
        if (hname && hval)
            mg_printf(c, "%s: %s\r\n", hname, hval);
        mg_printf(c, "\r\n");
        return;
    }
    mg_response_header_add(c, HB_REQID_HEADER, hb_reqlog_id(), -1);
    mg_response_header_add(c, "Content-Type", ctype, -1);
    mg_response_header_add(c, "Content-Length", clen, -1);
    mg_response_header_add(c, "Cache-Control", "no-store", -1);
    if (hname && hval)
        mg_response_header_add(c, hname, hval, -1);
    mg_response_header_send(c);
}

int hb_send(struct mg_connection *c, int status, const char *ctype, const void *body, size_t len,
            const char *hname, const char *hval)
{
    hb_send_head(c, status, ctype, len, hname, hval);
    if (len)
        mg_write(c, body, len);
    return status;
}

static int send_json(struct mg_connection *c, int status, json_t *json, const char *hname,
                     const char *hval)
{
    size_t len = 0;
    char *text = json ? hb_json_text(json, &len) : NULL;
    json_decref(json);
    if (!text) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        return hb_send(c, 500, "application/json", oom, sizeof oom - 1, NULL, NULL);
    }
    hb_send(c, status, "application/json", text, len, hname, hval);
    free(text);
    return status;
}

int hb_reply_json(struct mg_connection *c, int status, json_t *json)
{
    return send_json(c, status, json, NULL, NULL);
}

static int reply_error_v(struct mg_connection *c, int status, const char *hname, const char *hval,
                         const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return send_json(c, status, hb_json_error(msg), hname, hval);
}

int hb_reply_error(struct mg_connection *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = reply_error_v(c, status, status == 503 ? "Retry-After" : NULL, "10", fmt, ap);
    va_end(ap);
    return rc;
}

int hb_reply_err(hb_req_t *r, const hb_err_t *e)
{
    int status = hb_http_status(e->code);
    if (e->code == HB_E_INTERNAL)
        HB_LOG_ERROR("%s %s: %s", r->ri->request_method, r->ri->local_uri, e->msg);
    return hb_reply_error(r->c, status, "%s", e->msg);
}

bool hb_method_is(const hb_req_t *r, const char *m) { return strcmp(r->ri->request_method, m) == 0; }

int hb_reply_405(hb_req_t *r)
{
    return hb_reply_error(r->c, 405, "method %s is not allowed on %s", r->ri->request_method,
                          r->ri->local_uri);
}

int hb_read_body(struct mg_connection *c, size_t max, char **buf, size_t *len, hb_err_t *e)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    *buf = NULL;
    *len = 0;
    if (ri->content_length > (long long)max)
        return hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %zu bytes", max);
    size_t cap = ri->content_length > 0 ? (size_t)ri->content_length + 1 : 4096;
    char *b = malloc(cap);
    if (!b)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    size_t n = 0;
    for (;;) {
        if (ri->content_length >= 0 && n == (size_t)ri->content_length)
            break;   /* all of it: no growth for a read that would return 0 */
        if (n + 1 >= cap) {
            if (cap > max + 1) {
                free(b);
                return hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %zu bytes", max);
            }
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
            }
            b = nb;
            cap *= 2;
        }
        int got = mg_read(c, b + n, cap - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        free(b);
        return hb_fail(e, HB_E_TOOBIG, 0, "body: larger than %zu bytes", max);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* ---- dispatch ---- */

static int unauthorized(struct mg_connection *c)
{
    return send_json(c, 401, hb_json_error("missing or invalid API key (Authorization: Bearer <key>)"),
                     "WWW-Authenticate", "Bearer");
}

/* A WebSocket route without the header: a ticket, or 401. */
static int unauthorized_ws(struct mg_connection *c)
{
    return send_json(c, 401, hb_json_error("missing, used or expired ticket: open a WebSocket "
                                           "with Authorization: Bearer <key> or with ?ticket= "
                                           "from POST .../ticket (the API key is never taken "
                                           "in a URL)"),
                     "WWW-Authenticate", "Bearer");
}

static bool is_ws_route(const hb_route_t *rt)
{
    return rt->kind == HB_RT_TERMINAL || (rt->kind == HB_RT_PROCESS && rt->action == HB_PA_WS);
}

static int route(hb_req_t *r)
{
    if (r->route.bad_id)
        return hb_reply_error(r->c, 404, "sandbox not found (not a valid sandbox name)");
    switch (r->route.kind) {
    case HB_RT_OPENAPI: return hb_h_openapi(r);
    case HB_RT_SANDBOXES: return hb_h_sandboxes(r);
    case HB_RT_SANDBOX: return hb_h_sandbox(r);
    case HB_RT_EXEC: return hb_h_exec(r);
    case HB_RT_FILES: return hb_h_files(r);
    case HB_RT_FILES_LIST: return hb_h_files_list(r);
    case HB_RT_FILES_MKDIR: return hb_h_files_mkdir(r);
    case HB_RT_FILES_MOVE: return hb_h_files_move(r);
    case HB_RT_FILES_ARCHIVE: return hb_h_files_archive(r);
    case HB_RT_ANALYTICS: return hb_h_analytics(r);
    case HB_RT_IMAGES: return hb_h_images(r);
    case HB_RT_SKILLS: return hb_h_skills(r);
    case HB_RT_EVENTS: return hb_h_events(r);
    case HB_RT_KILL_ALL: return hb_h_kill_all(r);
    case HB_RT_TIMEOUT: return hb_h_timeout(r);
    case HB_RT_STATS: return hb_h_stats(r);
    case HB_RT_PAUSE: return hb_h_pause(r);
    case HB_RT_RESUME: return hb_h_resume(r);
    case HB_RT_SNAPSHOTS: return hb_h_snapshots(r);
    case HB_RT_FORK: return hb_h_fork(r);
    case HB_RT_RESTORE: return hb_h_restore(r);
    case HB_RT_IMAGE: return hb_h_image(r);
    case HB_RT_IMAGE_LOG: return hb_h_image_log(r);
    /* -- issue 16: preview ports (owner: preview) -- */
    case HB_RT_PORTS: return hb_h_ports(r);
    case HB_RT_PORT: return hb_h_preview(r);
    /* -- issue 16: egress policy (owner: egress) -- */
    case HB_RT_NETWORK: return hb_h_network(r);
    /* -- issue 20: cluster (owner: cluster) -- */
    case HB_RT_NODES: return hb_h_nodes(r);
    case HB_RT_METRICS: return hb_h_metrics(r);
    case HB_RT_PROCESSES: return hb_h_processes(r);
    case HB_RT_PROCESS:
        if (r->route.bad_proc)
            return hb_reply_error(r->c, 404, "process not found (not a pid or a tag)");
        if (r->route.action == HB_PA_WS)
            return hb_h_process_ws(r);
        if (r->route.action == HB_PA_TICKET)
            return hb_h_process_ticket(r);
        return hb_h_process(r);
    case HB_RT_TERMINAL: return hb_h_terminal(r);
    case HB_RT_TERMINAL_TICKET: return hb_h_terminal_ticket(r);
    case HB_RT_MCP:
        if (hb_h_mcp)
            return hb_h_mcp(r);
        return hb_reply_error(r->c, 404, "MCP is not part of this build");
    case HB_RT_OPENCODE: return hb_h_opencode(r);
    default: return hb_reply_error(r->c, 404, "no such endpoint: %s", r->ri->local_uri);
    }
}

static int dispatch(hb_gateway_t *g, struct mg_connection *c, hb_req_t *r)
{
    /* A preview host ({port}-{id}.{--preview-domain}) is a sandbox's site,
     * whatever its path: routed by Host, before the paths (gw_preview.h). */
    int pv = hb_pv_host_dispatch(r);
    if (pv >= 0)
        return pv;
    /* E2B's in-sandbox plane is told by a header, not a path: its paths
     * (/files, /health, /process.Process/...) are envd's. */
    if (hb_e2b_is_envd(c)) {
        r->route.tpl = HB_TPL_ENVD;
        hb_reqlog_route(HB_TPL_ENVD, NULL);
        return hb_e2b_envd(r);
    }
    hb_route_match(r->ri->local_uri, &r->route);
    hb_reqlog_route(r->route.tpl, r->route.id);
    /* -- issue 20: cluster (owner: cluster) -- */
    if (hb_cluster_on()) {
        bool peer = hb_gw_cluster_peer(r);
        bool admin = peer || hb_auth_bearer_ok(mg_get_header(c, "Authorization"), g->key);
        int cl = hb_gw_cluster_dispatch(r, admin, peer);
        if (cl >= 0)
            return cl;
        if (peer)
            hb_gw_cluster_peer_as_admin(r);   /* its token is the credential */
        if (peer && hb_route_needs_auth(r->route.kind))
            return route(r);
    }
    if (r->route.kind == HB_RT_E2B)
        return hb_e2b_api(r);
    if (r->route.kind == HB_RT_HEALTHZ)
        return hb_send(c, 200, "text/plain", "ok", 2, NULL, NULL);
    if (r->route.kind == HB_RT_DASHBOARD)
        return hb_h_dashboard(r);
    if (r->route.kind == HB_RT_NONE)
        return hb_reply_error(c, 404, "no such endpoint: %s", r->ri->local_uri);
    /* The MCP route also takes the sandbox's own mcp_token: hb_h_mcp checks. */
    if (hb_route_needs_auth(r->route.kind) && !(r->route.kind == HB_RT_MCP && hb_h_mcp) &&
        !hb_auth_bearer_ok(mg_get_header(c, "Authorization"), g->key)) {
        if (!is_ws_route(&r->route))
            return unauthorized(c);
        if (!hb_ws_ticket_ok(r))
            return unauthorized_ws(c);
    }
    return route(r);
}

/* The sandbox an E2B handler found in its path joins the log context. */
static int serve(hb_gateway_t *g, struct mg_connection *c)
{
    hb_req_t r = {.c = c, .ri = mg_get_request_info(c), .conf = &g->conf, .oc = &g->oc,
                 .events = g->events};
    int status = dispatch(g, c, &r);
    if (r.route.id[0] && hb_name_valid(r.route.id))
        hb_reqlog_route(r.route.tpl, r.route.id);
    return status;
}

static int handle(struct mg_connection *c, void *cbdata)
{
    hb_gateway_t *g = cbdata;
    atomic_fetch_add(&g->inflight, 1);
    int status = atomic_load(&g->draining)
                     ? hb_reply_error(c, 503, "the daemon is shutting down")
                     : serve(g, c);
    atomic_fetch_sub(&g->inflight, 1);
    return status;
}

static hb_gateway_t *gw_of(const struct mg_connection *c)
{
    return mg_get_user_data(mg_get_context(c));
}

/* civetweb's own errors (malformed HTTP, oversized headers) in our shape
 * too; a connection the idle limits closed says which limit. */
static int http_error(struct mg_connection *c, int status, const char *msg)
{
    const char *why = hb_gw_conns_kicked_why(gw_of(c)->conns);
    if (why == HB_GW_WHY_STOPPING)
        return 0;   /* an idle connection closed, as any server may: no answer, no log line */
    bool adhoc = hb_reqlog_adhoc(c);   /* no begin_request came before */
    int sent = why ? hb_reply_error(c, 408, "connection closed: %s", why)
                   : hb_reply_error(c, status, "%s", msg && msg[0] ? msg : "bad request");
    if (adhoc) {
        hb_reqlog_handled(sent);
        hb_reqlog_finish(c, NULL);
    }
    return 0;
}

/* ---- connection lifecycle, for the idle limits (gw_conns.h) ---- */

/* Debian's civetweb sets its workers' stack (100 KiB) itself, so
 * pthread_setattr_default_np cannot change it: check what we got, once. */
static void check_stack(void)
{
    static atomic_bool done;
    pthread_attr_t a;
    size_t size = 0;
    if (atomic_exchange(&done, true) || pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
    if (size < WORKER_STACK_MIN)
        HB_LOG_WARN("http: civetweb workers have a %zu KiB stack, less than the %d KiB assumed",
                 size >> 10, WORKER_STACK_MIN >> 10);
    else
        HB_LOG_DEBUG("http: civetweb workers have a %zu KiB stack", size >> 10);
}

static void *init_thread(const struct mg_context *ctx, int type)
{
    if (type == 1) {   /* a worker */
        check_stack();
        hb_gw_conns_worker_start(((hb_gateway_t *)mg_get_user_data(ctx))->conns);
    }
    return NULL;
}

static int init_connection(const struct mg_connection *c, void **data)
{
    hb_gw_conns_opened(gw_of(c)->conns, c);
    return 0;
}

/* Every request comes here from the very first one: a handler set after
 * mg_start would leave a moment in which civetweb answers 404 itself (a
 * client polling /healthz at start-up saw it). civetweb calls end_request
 * after it, which marks the connection idle again. A WebSocket (gw_ws.h)
 * is served to its end in here: the worker stays busy until it closes. */
static int begin_request(struct mg_connection *c)
{
    hb_gw_conns_busy(gw_of(c)->conns);
    hb_reqlog_begin(c);
    int status = handle(c, gw_of(c));
    hb_reqlog_handled(status);
    return status;
}

static void end_request(const struct mg_connection *c, int status)
{
    hb_gw_conns_idle(gw_of(c)->conns);
}

/* civetweb's access line comes right after end_request on the same thread:
 * ours replaces it (it holds the raw URL, query string included), and gives
 * the bytes sent. Non-zero: civetweb writes nothing itself. */
static int log_access(const struct mg_connection *c, const char *line)
{
    hb_reqlog_finish(c, line);
    return 1;
}

static void connection_closed(const struct mg_connection *c)
{
    hb_gw_conns_closed(gw_of(c)->conns);
}

static int log_message(const struct mg_connection *c, const char *message)
{
    HB_LOG_WARN("http: %s", message);
    return 1;
}

/* ---- start / stop ---- */

/* Fills in what the daemon's flags left 0; the number of civetweb workers. */
static int conf_defaults(hb_gateway_conf_t *k)
{
    k->threads = k->threads > 0 ? k->threads : 128;
    k->idle_per_addr = k->idle_per_addr > 0 ? k->idle_per_addr : IDLE_PER_ADDR_DEFAULT;
    k->idle_total = k->idle_total > 0 ? k->idle_total : IDLE_TOTAL_DEFAULT;
    k->head_timeout_s = k->head_timeout_s > 0 ? k->head_timeout_s : HEAD_TIMEOUT_DEFAULT;
    if (!k->ep.manager)
        k->ep = HB_ENDPOINTS_DEFAULT;
    int workers = k->threads + k->idle_total;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)workers * 2)
        HB_LOG_WARN("http: the open-file limit (%llu) leaves little room beside %d connections "
                 "and the sandboxes' descriptors: raise it (ulimit -n, LimitNOFILE=)",
                 (unsigned long long)rl.rlim_cur, workers);
    return workers;
}

static void gateway_free(hb_gateway_t *g)
{
    free(g->host);
    free(g->key);
    free(g->webui_dir);
    free(g->e2b_key);
    free(g->metrics_token);
    free(g->data_dir);
    hb_oc_settings_clear(&g->oc);
    free(g);
}

/* What a gateway holds besides civetweb; NULL on OOM. */
static hb_gateway_t *gateway_new(const hb_gateway_conf_t *conf)
{
    static const hb_config_t none;   /* no config given: OpenCode's defaults */
    char warn[1];                    /* the proxy warns, once */
    hb_gateway_t *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->host = strdup(conf->host);
    g->key = strdup(conf->api_key);
    g->e2b_key = conf->e2b_api_key ? strdup(conf->e2b_api_key) : NULL;
    g->metrics_token = conf->metrics_token ? strdup(conf->metrics_token) : NULL;
    g->data_dir = conf->data_dir ? strdup(conf->data_dir) : NULL;
    if (!g->host || !g->key || (conf->e2b_api_key && !g->e2b_key) ||
        (conf->metrics_token && !g->metrics_token) || (conf->data_dir && !g->data_dir) || hb_oc_settings_load(&g->oc, conf->cfg ? conf->cfg : &none, warn,
                                                   sizeof warn) < 0) {
        gateway_free(g);
        return NULL;
    }
    return g;
}

/* --webui-dir: the absolute path of a folder with an index.html. */
static int webui_dir_check(hb_gateway_t *g, const char *dir, hb_err_t *e)
{
    char real[PATH_MAX], index[PATH_MAX + 16];
    if (!realpath(dir, real))
        return hb_fail(e, HB_E_INVALID, 0, "--webui-dir %s: %s", dir, strerror(errno));
    snprintf(index, sizeof index, "%s/index.html", real);
    if (access(index, R_OK) != 0)
        return hb_fail(e, HB_E_INVALID, 0, "--webui-dir %s: no readable index.html in it", dir);
    if (!(g->webui_dir = strdup(real)))
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    HB_LOG_INFO("dashboard: serving %s (--webui-dir), not the embedded copy", real);
    return 0;
}

/* Issue 16: the preview proxy's secret, domain and caps, read once. */
static int preview_setup(const hb_gateway_conf_t *conf, hb_err_t *e)
{
    static const hb_config_t none;
    const hb_config_t *cfg = conf->cfg ? conf->cfg : &none;
    int threads = conf->threads > 0 ? conf->threads : 128;
    int total = cfg->preview_max_total > 0 ? cfg->preview_max_total : threads / 2;
    hb_raw_stopping(false);
    if (total >= threads)
        return hb_fail(e, HB_E_INVALID, 0, "--preview-max-total %d: must stay below --threads "
                       "(%d), so that previews never hold every request worker", total, threads);
    return hb_pv_setup(conf->data_dir, cfg->preview_domain,
                       cfg->preview_max_conns > 0 ? cfg->preview_max_conns : 32, total, e);
}

hb_gateway_t *hb_gateway_start(const hb_gateway_conf_t *conf, hb_err_t *e)
{
    hb_gateway_t *g = gateway_new(conf);
    if (!g) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    if ((conf->webui_dir && webui_dir_check(g, conf->webui_dir, e) < 0) ||
        preview_setup(conf, e) < 0) {
        gateway_free(g);
        return NULL;
    }
    g->conf = *conf;
    g->conf.cfg = NULL;   /* borrowed for the start only */
    g->conf.host = g->host;
    g->conf.api_key = g->key;
    g->conf.webui_dir = g->webui_dir;
    g->conf.e2b_api_key = g->e2b_key;
    g->conf.metrics_token = g->metrics_token;
    g->conf.data_dir = g->data_dir;
    g->conf.events = NULL;   /* the hub holds what it needs */
    hb_gateway_conf_t *k = &g->conf;
    int workers = conf_defaults(k);
    g->conns = hb_gw_conns_new((unsigned)workers, (unsigned)k->idle_per_addr,
                               (unsigned)k->idle_total, k->head_timeout_s * 1000);
    char ports[300], threads[16], timeout[16];
    if (strchr(conf->host, ':'))
        snprintf(ports, sizeof ports, "[%s]:%d", conf->host, conf->port);
    else
        snprintf(ports, sizeof ports, "%s:%d", conf->host, conf->port);
    snprintf(threads, sizeof threads, "%d", workers);
    snprintf(timeout, sizeof timeout, "%d", k->head_timeout_s * 1000);
    /* request_timeout_ms bounds a request head (from its first byte) and
     * each body read or response write that makes no progress. */
    const char *opts[] = {
        "listening_ports", ports,
        "num_threads", threads,
        "request_timeout_ms", timeout,
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "5000",
        "listen_backlog", "1024",
        "tcp_nodelay", "1",
        NULL,
    };
    struct mg_callbacks cb = {
        .log_message = log_message, .http_error = http_error, .init_thread = init_thread,
        .init_connection = init_connection, .begin_request = begin_request,
        .end_request = end_request, .connection_closed = connection_closed,
        .log_access = log_access,
    };
    if (conf->events && !(g->events = hb_ev_hub_start(conf->events, e))) {
        hb_gw_conns_free(g->conns);
        gateway_free(g);
        return NULL;
    }
    g->ctx = g->conns ? mg_start(&cb, g, opts) : NULL;
    if (!g->ctx) {
        hb_ev_hub_stop(g->events);
        hb_ev_hub_free(g->events);
        hb_gw_conns_free(g->conns);
        hb_fail(e, HB_E_INTERNAL, 0, "http: cannot listen on %s (port in use or bad --host?)",
                ports);
        gateway_free(g);
        return NULL;
    }
    return g;
}

void hb_gateway_stop(hb_gateway_t *g)
{
    if (!g)
        return;
    /* civetweb drops writes once mg_stop begins, so let the requests in
     * flight answer first: new ones get 503, waiting ones give up at the bus
     * deadline (hb_bus_call), and a second more lets those replies out. */
    atomic_store(&g->draining, true);
    hb_ev_hub_stop(g->events);   /* event streams end now: they would wait for ever */
    hb_raw_stopping(true);        /* and so do previews (issue 16) and terminals */
    int64_t dl = hb_bus_deadline();
    int64_t until = (dl ? dl : hb_now_ms()) + 1000;
    while (atomic_load(&g->inflight) > 0 && hb_now_ms() < until) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    hb_gw_conns_stopping(g->conns);
    hb_gw_waker_t *w = hb_gw_waker_start(g->conf.host, g->conf.port);
    mg_stop(g->ctx);
    hb_gw_waker_stop(w);
    hb_ev_hub_free(g->events);   /* every stream has left with its worker */
    hb_gw_conns_free(g->conns);
    gateway_free(g);
}
