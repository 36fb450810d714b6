/* Preparing one sandbox's OpenCode server: reading the sandbox's agent
 * settings, writing its config and instructions, and the thread that waits
 * for a new server's health endpoint (see opencode_start.h). */
#include "opencode_start.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "opencode_proc.h"
#include "proxy.h"
#include "record.h"
#include "sbdir.h"

#define SMALL_FILE_MAX (64 * 1024)

static atomic_bool g_stopping;
static atomic_int g_watchers;

/* ---- reading the sandbox's settings ---- */

/* A small root-owned file of the sandbox dir, without a trailing newline;
 * malloc'd, or NULL if absent. */
static char *read_small(const char *dir, const char *name)
{
    char path[2 * HB_HOSTPATH_MAX];
    int fd = hb_sbdir_file(path, sizeof path, dir, name, NULL) == 0
                 ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    if (fd < 0)
        return NULL;
    char *buf = malloc(SMALL_FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, SMALL_FILE_MAX) : -1;
    close(fd);
    if (n <= 0) {
        free(buf);
        return NULL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    return buf;
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void hb_oc_agent_clear(hb_oc_agent_t *a)
{
    json_decref(a->json);
    free_secret(a->key);
    free_secret(a->mcp_token);
    memset(a, 0, sizeof *a);
}

int hb_oc_agent_load(const char *sb_dir, hb_oc_agent_t *a, hb_err_t *e)
{
    memset(a, 0, sizeof *a);
    char *text = read_small(sb_dir, HB_SBDIR_AGENT);
    if (text) {
        a->json = json_loads(text, 0, NULL);
        free(text);
        if (!json_is_object(a->json)) {
            hb_oc_agent_clear(a);
            return hb_fail(e, HB_E_INTERNAL, 0, "%s/" HB_SBDIR_AGENT " is not a JSON object", sb_dir);
        }
    }
    a->key = read_small(sb_dir, HB_SBDIR_LLM_KEY);
    a->mcp_token = read_small(sb_dir, HB_SBDIR_MCP_TOKEN);
    if (!a->mcp_token)
        HB_LOG_WARN("opencode: %s has no " HB_SBDIR_MCP_TOKEN "; its agent cannot reach the sandbox", sb_dir);
    return 0;
}

static const char *agent_str(const hb_oc_agent_t *a, const char *k)
{
    const char *s = a->json ? json_string_value(json_object_get(a->json, k)) : NULL;
    return s && s[0] ? s : NULL;
}

int hb_oc_sandbox_llm(const hb_oc_settings_t *set, const char *sb_dir, hb_oc_llm_info_t *out,
                      hb_err_t *e)
{
    hb_oc_agent_t a;
    if (hb_oc_agent_load(sb_dir, &a, e) < 0)
        return -1;
    hb_oc_llm_t llm;
    hb_oc_resolve_llm(set, agent_str(&a, "llm_base_url"), a.key, agent_str(&a, "llm_model"),
                      &llm);
    hb_oc_llm_describe(&llm, out);
    hb_oc_agent_clear(&a);
    return 0;
}

/* ---- writing the config ---- */

/* Write name in the config dir unless it already holds exactly text. */
static int put_if_changed(const char *dir, const char *name, const char *text, bool *changed,
                          hb_err_t *e)
{
    char *old = read_small(dir, name);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    bool same = old && strlen(old) == n && memcmp(old, text, n) == 0;
    free(old);
    if (same)
        return 0;
    *changed = true;
    return hb_write_atomic(dir, name, text, strlen(text), 0600, e);
}

int hb_oc_write_config(const hb_oc_host_t *h, const char *id, const char *sb_dir, char **key,
                       bool *changed, hb_err_t *e)
{
    *key = NULL;
    *changed = false;
    hb_oc_agent_t a;
    if (hb_oc_state_prepare(sb_dir, e) < 0 || hb_oc_agent_load(sb_dir, &a, e) < 0)
        return -1;
    char cdir[2 * HB_HOSTPATH_MAX], ipath[2 * HB_HOSTPATH_MAX + 32];
    hb_oc_state_path(cdir, sizeof cdir, sb_dir, "config/opencode");
    snprintf(ipath, sizeof ipath, "%s/hivebox.md", cdir);
    json_t *mcps = a.json ? json_object_get(a.json, "custom_mcps") : NULL;
    hb_err_t ve = {0};
    if (mcps && hb_oc_validate_mcps(mcps, "custom_mcps", &ve) < 0) {
        HB_LOG_WARN("opencode %s: stored custom_mcps refused (%s); ignored", id, ve.msg);
        mcps = NULL;   /* validated at create; a hand-edited file must not run host commands */
    }
    hb_oc_sandbox_t sb = {.id = id, .daemon_host = h->daemon_host, .daemon_port = h->daemon_port,
                          .mcp_token = a.mcp_token, .custom_mcps = mcps,
                          .instructions_path = ipath};
    hb_oc_llm_t llm;
    hb_oc_resolve_llm(h->set, agent_str(&a, "llm_base_url"), a.key, agent_str(&a, "llm_model"),
                      &llm);
    json_t *cfg = hb_oc_config(h->set, &sb, &llm);
    char *text = cfg ? json_dumps(cfg, JSON_INDENT(2)) : NULL;
    char *instr = hb_oc_instructions(h->set, &sb);
    int rc = -1;
    if (!text || !instr)
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory writing the OpenCode config");
    else if (put_if_changed(cdir, "opencode.json", text, changed, e) == 0 &&
             put_if_changed(cdir, "hivebox.md", instr, changed, e) == 0 &&
             hb_oc_state_own(sb_dir, "config/opencode/opencode.json", e) == 0 &&
             hb_oc_state_own(sb_dir, "config/opencode/hivebox.md", e) == 0)
        rc = 0;
    if (rc == 0 && llm.key && !(*key = strdup(llm.key)))
        rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    json_decref(cfg);
    free(text);
    free(instr);
    hb_oc_agent_clear(&a);
    return rc;
}

/* ---- the health watcher ---- */

typedef struct {
    char     id[HB_ID_MAX];
    uint64_t gen;
    uint16_t port;
    char     auth[HB_OC_AUTH_MAX];
    int      pidfd;
    int64_t  deadline;
    const char *to;   /* the proxy's inbox */
} watch_t;

static void report(const watch_t *w, hb_errcode_t code, const char *msg)
{
    hb_msg_t m = {.type = HB_MSG_OC_STARTED, .handle = w->gen, .code = code};
    if (hb_str_set(&m.id, w->id) == 0 && (!msg || hb_str_set(&m.error, msg) == 0))
        hb_bus_post(w->to, &m);
    hb_msg_clear(&m);
}

static void *watch_main(void *arg)
{
    watch_t *w = arg;
    hb_errcode_t code = HB_E_UNAVAIL;
    const char *msg = "it did not answer its health check within 60 s";
    while (!atomic_load(&g_stopping)) {
        struct pollfd pf = {.fd = w->pidfd, .events = POLLIN};
        if (w->pidfd >= 0 && poll(&pf, 1, 0) > 0) {
            code = HB_E_DEAD;   /* worth another try: e.g. its port was taken meanwhile */
            msg = "it exited during start-up";
            break;
        }
        if (hb_oc_health(w->port, w->auth, 1000)) {
            code = HB_OK;
            msg = NULL;
            break;
        }
        if (hb_now_ms() >= w->deadline)
            break;
        usleep(100 * 1000);
    }
    if (!atomic_load(&g_stopping))
        report(w, code, msg);
    if (w->pidfd >= 0)
        close(w->pidfd);
    explicit_bzero(w->auth, sizeof w->auth);
    free(w);
    atomic_fetch_sub(&g_watchers, 1);
    return NULL;
}

int hb_oc_watch_start(const char *to, const char *id, uint64_t gen, uint16_t port,
                      const char *auth, int pidfd, int timeout_ms)
{
    watch_t *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    snprintf(w->id, sizeof w->id, "%s", id);
    snprintf(w->auth, sizeof w->auth, "%s", auth);
    w->to = to;
    w->gen = gen;
    w->port = port;
    w->pidfd = pidfd >= 0 ? fcntl(pidfd, F_DUPFD_CLOEXEC, 3) : -1;
    w->deadline = hb_now_ms() + timeout_ms;
    pthread_attr_t at;
    pthread_t t;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    atomic_fetch_add(&g_watchers, 1);
    int rc = pthread_create(&t, &at, watch_main, w);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        atomic_fetch_sub(&g_watchers, 1);
        if (w->pidfd >= 0)
            close(w->pidfd);
        free(w);
        return -1;
    }
    return 0;
}

void hb_oc_watch_stop_all(int wait_ms)
{
    atomic_store(&g_stopping, true);
    int64_t until = hb_now_ms() + wait_ms;
    while (atomic_load(&g_watchers) > 0 && hb_now_ms() < until)
        usleep(20 * 1000);
}
