/* `hivebox daemon` (see daemon.h). Start order: runtime, key, metrics (it
 * owns the events socket), webhook (it subscribes to them), reaper, manager (re-attaches survivors before it
 * reports ready), image build if needed, gateway last, so /healthz answering
 * means everything behind it is up. Stop order is the reverse. */
#include "cluster.h"   /* issue 20 */
#include "daemon.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apikey.h"
#include "bus.h"
#include "gateway.h"
#include "imagebuild.h"
#include "capacity.h"
#include "config.h"
#include "manager.h"
#include "metrics.h"
#include "proxy.h"
#include "reaper.h"
#include "runtime.h"
#include "supervisor.h"
#include "webhook.h"
#include "dnsfwd.h"
#include "webhook_url.h"

#define STOP_GRACE_MS 10000

static int g_sigpipe[2] = {-1, -1};

/* ---- settings (actors/config.def) ---- */

/* -1: run with *c; else the exit status (--help: 0, a bad setting: 2). */
static int load_config(int argc, char **argv, hb_config_t *c)
{
    char err[256];
    switch (hb_config_load(c, argc, argv, err, sizeof err)) {
    case HB_CONFIG_RUN: return -1;
    case HB_CONFIG_HELP: hb_config_usage(stdout); return 0;
    case HB_CONFIG_MARKDOWN: hb_config_markdown(stdout); return 0;
    default: break;
    }
    if (err[0])
        fprintf(stderr, "hivebox daemon: %s\n", err);
    fprintf(stderr, "try 'hivebox daemon --help'\n");
    return 2;
}

/* --webui-dir is checked before anything starts (the gateway resolves it
 * again): a typo there is a bad setting, exit 2. */
static bool webui_dir_ok(const char *dir)
{
    char index[HB_HOSTPATH_MAX];
    if (!dir)
        return true;
    if (snprintf(index, sizeof index, "%s/index.html", dir) < (int)sizeof index &&
        access(index, R_OK) == 0)
        return true;
    fprintf(stderr, "hivebox daemon: --webui-dir %s: no readable index.html in it\n", dir);
    return false;
}

/* --e2b-api-key has the shape the E2B SDKs accept (they refuse others
 * before sending): "e2b_" and at least 20 hex digits. */
static bool e2b_key_ok(const char *key)
{
    if (!key)
        return true;
    size_t n = strlen(key);
    bool ok = n >= 24 && n <= 128 && strncmp(key, "e2b_", 4) == 0 &&
              strspn(key + 4, "0123456789abcdefABCDEF") == n - 4;
    if (!ok)
        fprintf(stderr, "hivebox daemon: --e2b-api-key (HIVEBOX_E2B_API_KEY): expected e2b_ "
                        "followed by 20 to 124 hex digits\n");
    return ok;
}

/* --webhook URLs and their secret (webhook_url.h). */
static bool webhook_ok(const hb_config_t *c)
{
    char err[256];
    if (hb_webhook_settings_check(&c->webhook, c->webhook_secret, err, sizeof err) == 0)
        return true;
    fprintf(stderr, "hivebox daemon: %s\n", err);
    return false;
}

/* The settings each part is started with. */
static hb_limits_t limits_of(const hb_config_t *c)
{
    return (hb_limits_t){.max_sandboxes = (uint64_t)c->max_sandboxes,
                         .mem_overcommit = c->memory_overcommit,
                         .exec_output_budget = c->exec_output_budget};
}

static hb_runtime_conf_t runtime_conf(const hb_config_t *c, const char *init_bin)
{
    return (hb_runtime_conf_t){.data_dir = c->data_dir, .init_bin = init_bin,
                               .skills_dir = c->opencode_skills_path,
                               .disk_reserve = c->disk_reserve, .bridge = c->bridge,
                               .subnet = c->subnet, .dns = c->dns,
                               .allow_private_egress = c->allow_private_egress,
                               .packages = c->packages, .max_images = (uint64_t)c->max_images,
                               .max_image_bytes = c->max_image_bytes,
                               .warm_exec = c->warm_exec};
}

/* hivebox-init beside our own executable, unless HIVEBOX_INIT_BIN says. */
static int find_init_bin(const hb_config_t *o, char *out, size_t cap)
{
    if (o->init_bin && o->init_bin[0]) {
        snprintf(out, cap, "%s", o->init_bin);
        return 0;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    char *dir = dirname(self);
    /* build/hivebox -> build/hivebox-init; $PREFIX/bin -> $PREFIX/lib/hivebox */
    snprintf(out, cap, "%s/hivebox-init", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, cap, "%s/../lib/hivebox/hivebox-init", dir);
    if (access(out, X_OK) == 0)
        return 0;
    snprintf(out, cap, "%s/hivebox-init", dir);   /* named in the runtime's error */
    return 0;
}

/* ---- signals: a self-pipe, so no thread needs a blocked signal mask (which
 * the sandboxes' processes would inherit) ---- */

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    ssize_t w = write(g_sigpipe[1], &c, 1);
    (void)w;
    errno = saved;
}

static int setup_signals(void)
{
    if (pipe2(g_sigpipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -1;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int wait_signal(void)
{
    for (;;) {
        fd_set rf;
        FD_ZERO(&rf);
        FD_SET(g_sigpipe[0], &rf);
        if (select(g_sigpipe[0] + 1, &rf, NULL, NULL, NULL) < 0 && errno != EINTR)
            return SIGTERM;
        char c;
        if (read(g_sigpipe[0], &c, 1) == 1)
            return c;
    }
}

/* ---- start / stop ---- */

typedef struct {
    zactor_t     *metrics, *webhook, *reaper, *manager, *proxy;
    zactor_t     *dnsfwd;   /* issue 16; NULL without the forwarder's sockets */
    hb_gateway_t *gw;
} daemon_t;

static void stop(daemon_t *d)
{
    hb_bus_set_deadline(hb_now_ms() + STOP_GRACE_MS);
    hb_gateway_stop(d->gw);            /* no new requests; in-flight ones end by the deadline */
    hb_cluster_stop();                 /* issue 20: the node leaves the cluster */
    zactor_destroy(&d->manager);       /* supervisors let go; sandboxes keep running */
    zactor_destroy(&d->proxy);         /* OpenCode servers keep running, to be adopted */
    zactor_destroy(&d->reaper);
    zactor_destroy(&d->dnsfwd);
    zactor_destroy(&d->webhook);
    zactor_destroy(&d->metrics);
}

static int start(daemon_t *d, const hb_config_t *o, const hb_runtime_t *rt, const char *key)
{
    hb_err_t e = {0};
    const hb_endpoints_t ep = HB_ENDPOINTS_DEFAULT;
    hb_metrics_args_t mt = {.ep = ep, .events = o->events};
    hb_webhook_args_t wa = {.ep = ep, .events = o->events, .urls = &o->webhook,
                            .secret = o->webhook_secret};
    hb_reaper_args_t ra = {.ep = ep};
    hb_proxy_args_t pa = {.ep = ep, .rt = rt, .cfg = o, .daemon_host = o->host,
                          .daemon_port = o->port};
    /* The proxy before the manager: supervisors talk to it. */
    if (!(d->metrics = hb_metrics_new(&mt, &e)) || !(d->webhook = hb_webhook_new(&wa, &e)) ||
        !(d->reaper = hb_reaper_new(&ra, &e)) ||
        !(d->proxy = hb_proxy_new(&pa, &e))) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    hb_dnsfwd_args_t da = {.ep = ep, .rt = rt, .upstream = o->dns_upstream};
    if (!(d->dnsfwd = hb_dnsfwd_new(&da, &e)) && e.msg[0]) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    bool image_ready = hb_image_exists(rt, "base");
    /* A quarter of the gateway's threads at most for any one sandbox. */
    hb_supervisor_set_max_inflight(o->threads / 4);
    hb_outbudget_set(o->exec_output_budget);
    hb_manager_args_t ma = {.ep = ep, .rt = rt, .image_ready = image_ready, .limits = limits_of(o),
                            .pool = o->pool, .pool_min_available = o->pool_min_available,
                            .pool_max_pressure = o->pool_max_pressure,
                            .pool_meminfo = o->pool_meminfo, .pool_psi = o->pool_psi,
                            .sup_hosts = o->sup_hosts};
    if (!(d->manager = hb_manager_new(&ma, &e))) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    if (!image_ready && hb_imagebuild_start(rt, ep.manager) < 0)
        HB_LOG_ERROR("cannot start building the default image");
    /* issue 20: before the gateway, which asks it where sandboxes are */
    hb_cluster_args_t ca = {.cfg = o, .manager = ep.manager, .host = o->host, .port = o->port};
    if (hb_cluster_start(&ca, &e) < 0) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    hb_gateway_conf_t gc = {.host = o->host, .port = o->port, .api_key = key,
                            .max_file_size = o->max_file_size, .threads = o->threads,
                            .idle_per_addr = o->max_idle_per_ip, .idle_total = o->max_idle,
                            .head_timeout_s = o->header_timeout, .cfg = o,
                            .ep = ep, .events = o->events, .webui_dir = o->webui_dir,
                            .e2b_api_key = o->e2b_api_key,
                            .metrics_token = o->metrics_token, .metrics_public = o->metrics_public,
                            .rt = rt, .max_image_import = o->max_image_import,
                            .data_dir = o->data_dir};
    if (!(d->gw = hb_gateway_start(&gc, &e))) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    return 0;
}

static void announce_key(const char *key, const char *data_dir)
{
    printf("hivebox: generated an API key (kept in %s/api_key, mode 0600):\n%s\n", data_dir, key);
    fflush(stdout);
}

/* Each sandbox's supervisor holds a handful of sockets and fds: lift
 * czmq's default of 1024 sockets (past which zsock_new asserts) and the
 * soft fd limit, so a thousand sandboxes fit. Few malloc arenas keep the
 * civetweb workers' large exec buffers from pinning memory per thread, and a
 * fixed mmap threshold gives every buffer past 128 KiB (exec output, file
 * chunks) its own mapping, returned to the system when freed: glibc's
 * default threshold climbs after the first large free, and the heap then
 * keeps what a burst of output took. */
#define NOFILE_WANT (256u * 1024)

/* 10,000 sandboxes hold ~70,000 descriptors (issue 19, docs/performance.md):
 * as root, lift the hard limit too (the kernel's nr_open caps it); else the
 * soft limit up to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    struct rlimit big = {.rlim_cur = NOFILE_WANT, .rlim_max = NOFILE_WANT};
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= NOFILE_WANT)
        return;
    if (rl.rlim_max < NOFILE_WANT && setrlimit(RLIMIT_NOFILE, &big) == 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > NOFILE_WANT ? NOFILE_WANT : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void raise_limits(void)
{
    raise_nofile();
    zsys_set_max_sockets(0);   /* 0: as many as libzmq allows */
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int daemon_main(int argc, char **argv)
{
    static hb_config_t o;   /* lives as long as the process; actors read it at start */
    int rc = load_config(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (!webui_dir_ok(o.webui_dir) || !e2b_key_ok(o.e2b_api_key) || !webhook_ok(&o))
        return 2;
    hb_log_set_level((hb_log_level_t)o.log_level);
    hb_log_set_format((hb_log_format_t)o.log_format);
    hb_log_set_prefix("hivebox");
    zsys_handler_set(NULL);   /* our handler below, not czmq's */
    raise_limits();
    /* Before any actor starts: libcurl (webhooks, etcd, image imports) and
     * the OpenSSL under it initialise here, in the main thread, not in
     * whichever actor calls curl first. OpenSSL keeps per-thread state for
     * the thread that initialised it, and an actor thread still ending
     * while the process exits loses that state (a sanitized build reported
     * it as a leak). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        HB_LOG_ERROR("cannot start: libcurl would not initialise");
        return 1;
    }
    if (setup_signals() < 0) {
        HB_LOG_ERROR("cannot start: signal pipe: %s", strerror(errno));
        return 1;
    }
    static hb_runtime_t rt;   /* lives as long as the process; actors read it */
    static char init_bin[HB_HOSTPATH_MAX], key[HB_APIKEY_MAX];
    hb_err_t e = {0};
    hb_runtime_conf_t rc_conf = runtime_conf(&o, init_bin);
    if (find_init_bin(&o, init_bin, sizeof init_bin) < 0 ||
        hb_runtime_init(&rt, &rc_conf, &e) < 0) {
        HB_LOG_ERROR("cannot start: runtime: %s", e.msg[0] ? e.msg : "cannot locate hivebox-init");
        hb_runtime_shutdown(&rt);
        return 1;
    }
    bool generated = false;
    if (hb_apikey_resolve(rt.data_dir, o.api_key, key, sizeof key, &generated, &e) < 0) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        hb_runtime_shutdown(&rt);
        return 1;
    }
    if (generated)
        announce_key(key, rt.data_dir);
    daemon_t d = {0};
    if (start(&d, &o, &rt, key) < 0) {
        stop(&d);
        hb_runtime_shutdown(&rt);
        return 1;
    }
    HB_LOG_INFO("listening on http://%s:%d; events on %s; data in %s", o.host, o.port, o.events,
             rt.data_dir);
    /* systemd (Type=notify, tools/systemd/hivebox.service): the gateway
     * listens, so the API answers from now on. A no-op without NOTIFY_SOCKET. */
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s:%d", o.host, o.port);
    int sig = wait_signal();
    sd_notify(0, "STOPPING=1");
    HB_LOG_INFO("%s: stopping (sandboxes keep running)", strsignal(sig));
    stop(&d);
    hb_runtime_release(&rt);
    hb_runtime_shutdown(&rt);
    if (hb_sup_ops_live() > 0 || hb_sup_abandoned() > 0 || hb_imagebuild_running()) {
        /* Abandoned threads may still touch ZeroMQ, and what was left to
         * them is never freed: skip the atexit teardown (and a sanitized
         * build's leak check, which would count it). */
        HB_LOG_WARN("stopped with %d operation(s) still running and %d sandbox(es) abandoned "
                    "with work in flight", hb_sup_ops_live(), hb_sup_abandoned());
        _exit(0);
    }
    HB_LOG_INFO("stopped");
    return 0;
}
