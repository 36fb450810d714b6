/* `hivebox daemon` (see daemon.h). Start order: runtime, key, metrics (it
 * owns the events socket), reaper, manager (re-attaches survivors before it
 * reports ready), image build if needed, gateway last, so /healthz answering
 * means everything behind it is up. Stop order is the reverse. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <sys/resource.h>
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
#include "manager.h"
#include "metrics.h"
#include "proxy.h"
#include "reaper.h"
#include "runtime.h"
#include "supervisor.h"

#define STOP_GRACE_MS 10000
#define DEFAULT_MAX_FILE (1ull << 30)

typedef struct {
    const char *host, *api_key, *data_dir, *events, *init_bin;
    int         port, threads;
    int         idle_per_ip, idle_max, head_timeout;   /* gateway/gw_conns.h; 0: default */
    uint64_t    max_file;
    hb_log_level_t level;
    hb_limits_t limits;
} opts_t;

static int g_sigpipe[2] = {-1, -1};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hivebox daemon [--port 7070] [--host 0.0.0.0] [--api-key KEY]\n"
            "                      [--data-dir /var/lib/hivebox] [--events tcp://127.0.0.1:7071]\n"
            "                      [--max-file-size BYTES] [--threads N] [--log-level LEVEL]\n"
            "                      [--allow-private-egress] [--disk-reserve SIZE]\n"
            "                      [--max-sandboxes 1000] [--memory-overcommit 1.5]\n"
            "                      [--exec-output-budget 256m]\n"
            "                      [--max-idle-per-ip N] [--max-idle N] [--header-timeout SECONDS]\n"
            "environment: HIVEBOX_API_KEY, HIVEBOX_EVENTS, HIVEBOX_DATA_DIR, HIVEBOX_INIT_BIN,\n"
            "             HIVEBOX_MAX_FILE_SIZE, HIVEBOX_LOG_LEVEL, HIVEBOX_ALLOW_PRIVATE_EGRESS,\n"
            "             HIVEBOX_BRIDGE, HIVEBOX_SUBNET, HIVEBOX_DNS, HIVEBOX_DISK_RESERVE,\n"
            "             HIVEBOX_MAX_SANDBOXES, HIVEBOX_MEMORY_OVERCOMMIT, HIVEBOX_EXEC_OUTPUT_BUDGET\n");
}

static int parse_level(const char *s, hb_log_level_t *l)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *l = (hb_log_level_t)i;
            return 0;
        }
    return -1;
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return -1;
    *v = x;
    return 0;
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && v[0] ? v : dflt;
}

/* The gateway's idle-connection limits (gateway/gw_conns.h). */
enum { OPT_IDLE_PER_IP = 2001, OPT_IDLE_MAX, OPT_HEAD_TIMEOUT };

static int int_opt(const char *arg, uint64_t max, const char *name, int *out)
{
    uint64_t v;
    if (parse_u64(arg, &v) < 0 || v < 1 || v > max)
        return fprintf(stderr, "hivebox daemon: --%s: 1-%" PRIu64 "\n", name, max), -1;
    *out = (int)v;
    return 0;
}

static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option lo[] = {
        {"port", required_argument, NULL, 'p'},     {"host", required_argument, NULL, 'H'},
        {"api-key", required_argument, NULL, 'k'},  {"data-dir", required_argument, NULL, 'd'},
        {"events", required_argument, NULL, 'e'},   {"max-file-size", required_argument, NULL, 'm'},
        {"threads", required_argument, NULL, 't'},  {"log-level", required_argument, NULL, 'l'},
        {"allow-private-egress", no_argument, NULL, 'P'},
        {"disk-reserve", required_argument, NULL, 'R'},
        {"max-sandboxes", required_argument, NULL, 'L'},
        {"memory-overcommit", required_argument, NULL, 'L'},
        {"exec-output-budget", required_argument, NULL, 'L'},
        {"max-idle-per-ip", required_argument, NULL, OPT_IDLE_PER_IP},
        {"max-idle", required_argument, NULL, OPT_IDLE_MAX},
        {"header-timeout", required_argument, NULL, OPT_HEAD_TIMEOUT},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *o = (opts_t){.host = "0.0.0.0", .port = 7070, .threads = 128, .level = HB_LOGLVL_INFO,
                  .api_key = getenv("HIVEBOX_API_KEY"),
                  .data_dir = env_or("HIVEBOX_DATA_DIR", "/var/lib/hivebox"),
                  .events = env_or("HIVEBOX_EVENTS", "tcp://127.0.0.1:7071"),
                  .init_bin = getenv("HIVEBOX_INIT_BIN"), .max_file = DEFAULT_MAX_FILE};
    uint64_t v;
    const char *s = getenv("HIVEBOX_MAX_FILE_SIZE");
    if (s && s[0] && (parse_u64(s, &o->max_file) < 0 || o->max_file == 0))
        return fprintf(stderr, "hivebox daemon: HIVEBOX_MAX_FILE_SIZE: not a number > 0\n"), -1;
    if ((s = getenv("HIVEBOX_LOG_LEVEL")) && s[0] && parse_level(s, &o->level) < 0)
        return fprintf(stderr, "hivebox daemon: HIVEBOX_LOG_LEVEL: debug|info|warn|error\n"), -1;
    hb_limits_defaults(&o->limits);
    if (hb_limits_env(&o->limits) < 0)
        return -1;
    optind = 1;
    int c, li = 0;
    while ((c = getopt_long(argc, argv, "h", lo, &li)) != -1) {
        switch (c) {
        case 'p':
            if (parse_u64(optarg, &v) < 0 || v < 1 || v > 65535)
                return fprintf(stderr, "hivebox daemon: --port: 1-65535\n"), -1;
            o->port = (int)v;
            break;
        case 'H': o->host = optarg; break;
        case 'k': o->api_key = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'e': o->events = optarg; break;
        case 'm':
            if (parse_u64(optarg, &o->max_file) < 0 || o->max_file == 0)
                return fprintf(stderr, "hivebox daemon: --max-file-size: a byte count\n"), -1;
            break;
        case 't':
            if (parse_u64(optarg, &v) < 0 || v < 4 || v > 1024)
                return fprintf(stderr, "hivebox daemon: --threads: 4-1024\n"), -1;
            o->threads = (int)v;
            break;
        case 'l':
            if (parse_level(optarg, &o->level) < 0)
                return fprintf(stderr, "hivebox daemon: --log-level: debug|info|warn|error\n"), -1;
            break;
        case 'P':
            /* The network runtime reads it at hb_runtime_init. */
            setenv("HIVEBOX_ALLOW_PRIVATE_EGRESS", "1", 1);
            break;
        case 'R': {
            hb_err_t e = {0};
            if (hb_parse_size(optarg, "--disk-reserve", &v, &e) < 0)
                return fprintf(stderr, "hivebox daemon: %s\n", e.msg), -1;
            /* The disk pool reads it at hb_runtime_init. */
            setenv("HIVEBOX_DISK_RESERVE", optarg, 1);
            break;
        }
        case 'L':   /* capacity.c parses the capacity flags */
            if (hb_limits_flag(&o->limits, lo[li].name, optarg) < 0)
                return -1;
            break;
        case OPT_IDLE_PER_IP:
            if (int_opt(optarg, 16384, "max-idle-per-ip", &o->idle_per_ip) < 0)
                return -1;
            break;
        case OPT_IDLE_MAX:
            if (int_opt(optarg, 16384, "max-idle", &o->idle_max) < 0)
                return -1;
            break;
        case OPT_HEAD_TIMEOUT:
            if (int_opt(optarg, 3600, "header-timeout", &o->head_timeout) < 0)
                return -1;
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hivebox daemon: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

/* hivebox-init beside our own executable, unless HIVEBOX_INIT_BIN says. */
static int find_init_bin(const opts_t *o, char *out, size_t cap)
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
    zactor_t     *metrics, *reaper, *manager, *proxy;
    hb_gateway_t *gw;
} daemon_t;

static void stop(daemon_t *d)
{
    hb_bus_set_deadline(hb_now_ms() + STOP_GRACE_MS);
    hb_gateway_stop(d->gw);            /* no new requests; in-flight ones end by the deadline */
    zactor_destroy(&d->manager);       /* supervisors let go; sandboxes keep running */
    zactor_destroy(&d->proxy);         /* OpenCode servers keep running, to be adopted */
    zactor_destroy(&d->reaper);
    zactor_destroy(&d->metrics);
}

static int start(daemon_t *d, const opts_t *o, const hb_runtime_t *rt, const char *key)
{
    hb_err_t e = {0};
    const hb_endpoints_t ep = HB_ENDPOINTS_DEFAULT;
    hb_metrics_args_t mt = {.ep = ep, .events = o->events};
    hb_reaper_args_t ra = {.ep = ep};
    hb_proxy_args_t pa = {.ep = ep, .rt = rt, .daemon_host = o->host, .daemon_port = o->port};
    /* The proxy before the manager: supervisors talk to it. */
    if (!(d->metrics = hb_metrics_new(&mt, &e)) || !(d->reaper = hb_reaper_new(&ra, &e)) ||
        !(d->proxy = hb_proxy_new(&pa, &e))) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    bool image_ready = hb_image_exists(rt, "base");
    /* A quarter of the gateway's threads at most for any one sandbox. */
    hb_supervisor_set_max_inflight(o->threads / 4);
    hb_outbudget_set(o->limits.exec_output_budget);
    hb_manager_args_t ma = {.ep = ep, .rt = rt, .image_ready = image_ready, .limits = o->limits};
    if (!(d->manager = hb_manager_new(&ma, &e))) {
        HB_LOG_ERROR("cannot start: %s", e.msg);
        return -1;
    }
    if (!image_ready && hb_imagebuild_start(rt, ep.manager) < 0)
        HB_LOG_ERROR("cannot start building the default image");
    hb_gateway_conf_t gc = {.host = o->host, .port = o->port, .api_key = key,
                            .max_file_size = o->max_file, .threads = o->threads,
                            .idle_per_addr = o->idle_per_ip, .idle_total = o->idle_max,
                            .head_timeout_s = o->head_timeout};
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
static void raise_limits(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    zsys_set_max_sockets(0);   /* 0: as many as libzmq allows */
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

int daemon_main(int argc, char **argv)
{
    opts_t o;
    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    hb_log_set_level(o.level);
    hb_log_set_prefix("hivebox");
    zsys_handler_set(NULL);   /* our handler below, not czmq's */
    raise_limits();
    if (setup_signals() < 0) {
        HB_LOG_ERROR("cannot start: signal pipe: %s", strerror(errno));
        return 1;
    }
    static hb_runtime_t rt;   /* lives as long as the process; actors read it */
    static char init_bin[HB_HOSTPATH_MAX], key[HB_APIKEY_MAX];
    hb_err_t e = {0};
    if (find_init_bin(&o, init_bin, sizeof init_bin) < 0 ||
        hb_runtime_init(&rt, o.data_dir, init_bin, &e) < 0) {
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
    int sig = wait_signal();
    HB_LOG_INFO("%s: stopping (sandboxes keep running)", strsignal(sig));
    stop(&d);
    hb_runtime_release(&rt);
    hb_runtime_shutdown(&rt);
    if (hb_sup_ops_live() > 0 || hb_imagebuild_running()) {
        /* Abandoned threads may still touch ZeroMQ: skip czmq's atexit teardown. */
        HB_LOG_WARN("stopped with %d operation(s) still running in sandboxes", hb_sup_ops_live());
        _exit(0);
    }
    HB_LOG_INFO("stopped");
    return 0;
}
