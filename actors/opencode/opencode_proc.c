/* OpenCode server processes (see opencode_proc.h). The daemon is
 * multi-threaded, so the server is started with posix_spawn (never a bare
 * fork), with every signal reset, an empty mask and no inherited fd. */
#include "procfs.h"
#include "opencode_proc.h"

#include <curl/curl.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "opencode_conf.h"
#include "record.h"
#include "rmtree.h"
#include "runtime.h"
#include "sbdir.h"

#define RECORD "server"
#define PATH_CAP (2 * HB_HOSTPATH_MAX)

static const char *const subdirs[] = {
    "", "/home", "/config", "/config/opencode", "/data", "/cache", "/state", "/tmp", "/work", NULL,
};

/* ---- binary ---- */

static bool executable(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static bool on_path(char *path, size_t len)
{
    static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin", NULL};
    for (size_t i = 0; dirs[i]; i++) {
        snprintf(path, len, "%s/opencode", dirs[i]);
        if (executable(path))
            return true;
    }
    return false;
}

int hb_oc_find_bin(const char *configured, char *path, size_t len)
{
    if (configured) {
        snprintf(path, len, "%s", configured);
        return executable(path) ? 0 : -1;
    }
    char exe[HB_HOSTPATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char first[PATH_CAP] = "";
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(first, sizeof first, "%s/opencode/node_modules/.bin/opencode", exe);
        snprintf(path, len, "%s", first);
        if (executable(path))
            return 0;
        snprintf(path, len, "%s/../lib/hivebox/opencode/node_modules/.bin/opencode", exe);
        if (executable(path))
            return 0;
    }
    if (on_path(path, len))
        return 0;
    snprintf(path, len, "%s", first[0] ? first : "opencode");
    return -1;
}

/* ---- small pieces ---- */

bool hb_oc_port_free(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = bind(s, (struct sockaddr *)&a, sizeof a) == 0;
    close(s);
    return ok;
}

int hb_oc_password(char *buf, hb_err_t *e)
{
    unsigned char raw[HB_OC_PASS_LEN / 2];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "getrandom");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(buf + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

void hb_oc_auth_header(const char *password, char *buf, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char plain[HB_OC_PASS_LEN + 16];
    int n = snprintf(plain, sizeof plain, HB_OC_USER ":%s", password);
    size_t o = (size_t)snprintf(buf, len, "Basic ");
    const unsigned char *s = (const unsigned char *)plain;
    for (int i = 0; i < n && o + 5 < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n)
            v |= s[i + 2];
        buf[o++] = tab[(v >> 18) & 63];
        buf[o++] = tab[(v >> 12) & 63];
        buf[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        buf[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    buf[o] = '\0';
}

void hb_oc_state_path(char *buf, size_t len, const char *sb_dir, const char *rel)
{
    snprintf(buf, len, "%s/" HB_OC_DIR "%s%s", sb_dir, rel[0] ? "/" : "", rel);
}

const char *hb_oc_setpriv(void)
{
    static const char *const where[] = {"/usr/bin/setpriv", "/bin/setpriv", NULL};
    for (size_t i = 0; where[i]; i++)
        if (executable(where[i]))
            return where[i];
    return NULL;
}

/* One uid per sandbox (from its uid slot, unique on the host while it
 * lives), so that one agent's server cannot read another's config, token or
 * environment. */
static uid_t server_uid(const char *sb_dir)
{
    if (!hb_oc_setpriv())
        return 0;
    char path[PATH_CAP];
    json_t *j = hb_sbdir_file(path, sizeof path, sb_dir, HB_SBDIR_RECORD, NULL) == 0
                    ? json_load_file(path, 0, NULL) : NULL;
    json_int_t slot = json_integer_value(json_object_get(j, "uid_slot"));
    bool ok = json_is_integer(json_object_get(j, "uid_slot")) && slot >= 0 &&
              slot < (json_int_t)HB_UID_SLOTS;
    json_decref(j);
    return (uid_t)(HB_OC_UID_BASE + (ok ? (uint32_t)slot : HB_UID_SLOTS));
}

int hb_oc_state_prepare(const char *sb_dir, hb_err_t *e)
{
    char p[PATH_CAP];
    for (size_t i = 0; subdirs[i]; i++) {
        /* The top stays root's (traversable only): the record and the log in
         * it must not be replaceable by the server. */
        uid_t uid = i == 0 ? 0 : server_uid(sb_dir);
        mode_t mode = i == 0 ? 0711 : 0700;
        snprintf(p, sizeof p, "%s/" HB_OC_DIR "%s", sb_dir, subdirs[i]);
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", p);
        struct stat st;
        if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != uid))
            return hb_fail(e, HB_E_INTERNAL, 0, "%s is not a directory of ours", p);
        if ((st.st_mode & 07777) != mode && chmod(p, mode) < 0)
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "chmod %s", p);
        if (st.st_uid != uid && lchown(p, uid, uid) < 0)
            return hb_fail_sys(e, HB_E_INTERNAL, errno, "chown %s", p);
    }
    return 0;
}

int hb_oc_state_own(const char *sb_dir, const char *rel, hb_err_t *e)
{
    char p[PATH_CAP];
    hb_oc_state_path(p, sizeof p, sb_dir, rel);
    uid_t uid = server_uid(sb_dir);
    if (lchown(p, uid, uid) < 0)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "chown %s", p);
    return 0;
}

int hb_oc_state_remove(const char *sb_dir, hb_err_t *e)
{
    char p[PATH_CAP];
    hb_oc_state_path(p, sizeof p, sb_dir, "");
    if (hb_rmtree(p) < 0 && errno != ENOENT)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "remove %s", p);
    return 0;
}

/* ---- record ---- */

static int record_save(const char *sb_dir, const hb_oc_proc_t *p, hb_err_t *e)
{
    char dir[PATH_CAP], buf[256];
    hb_oc_state_path(dir, sizeof dir, sb_dir, "");
    int n = snprintf(buf, sizeof buf, "pid=%d\nstart=%" PRIu64 "\nport=%u\npassword=%s\n",
                     (int)p->pid, p->start, (unsigned)p->port, p->password);
    return hb_write_atomic(dir, RECORD, buf, (size_t)n, 0600, e);
}

static int record_load(const char *sb_dir, hb_oc_proc_t *p)
{
    char path[PATH_CAP], buf[512];
    hb_oc_state_path(path, sizeof path, sb_dir, RECORD);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    int pid = 0;
    unsigned port = 0;
    unsigned long long start = 0;
    char pw[HB_OC_PASS_LEN + 1] = "";
    if (sscanf(buf, "pid=%d\nstart=%llu\nport=%u\npassword=%48[0-9a-f]\n", &pid, &start, &port,
               pw) != 4 || pid <= 1 || port < 1024 || port > 65535 ||
        strlen(pw) != HB_OC_PASS_LEN)
        return -1;
    memset(p, 0, sizeof *p);
    p->pidfd = -1;
    p->pid = pid;
    p->start = start;
    p->port = (uint16_t)port;
    memcpy(p->password, pw, sizeof p->password);
    return 0;
}

/* ---- spawn ---- */

typedef struct {
    char *v[32];
    size_t n;
} envv_t;

static void env_add(envv_t *env, const char *k, const char *val)
{
    if (env->n + 1 >= sizeof env->v / sizeof env->v[0])
        return;
    if (asprintf(&env->v[env->n], "%s=%s", k, val) >= 0)
        env->n++;
}

static void env_free(envv_t *env)
{
    for (size_t i = 0; i < env->n; i++) {
        explicit_bzero(env->v[i], strlen(env->v[i]));
        free(env->v[i]);
    }
}

static void build_env(envv_t *env, const char *sb_dir, const hb_oc_proc_t *p, const char *key)
{
    static const struct { const char *k, *rel; } dirs[] = {
        {"HOME", "home"}, {"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"},
        {"XDG_CACHE_HOME", "cache"}, {"XDG_STATE_HOME", "state"}, {"TMPDIR", "tmp"},
    };
    /* OpenCode's switches: no self-update, no network at start-up, no
     * config, skills or plugins from anywhere but our config dir. */
    static const char *const off[] = {
        "OPENCODE_DISABLE_AUTOUPDATE", "OPENCODE_DISABLE_MODELS_FETCH",
        "OPENCODE_DISABLE_LSP_DOWNLOAD", "OPENCODE_DISABLE_PROJECT_CONFIG",
        "OPENCODE_DISABLE_CLAUDE_CODE", "OPENCODE_DISABLE_EXTERNAL_SKILLS",
        "OPENCODE_DISABLE_DEFAULT_PLUGINS", "OPENCODE_DISABLE_SHARE", NULL,
    };
    char path[PATH_CAP];
    env->n = 0;
    env_add(env, "PATH", "/usr/local/bin:/usr/bin:/bin");
    env_add(env, "LANG", "C.UTF-8");
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        hb_oc_state_path(path, sizeof path, sb_dir, dirs[i].rel);
        env_add(env, dirs[i].k, path);
    }
    for (size_t i = 0; off[i]; i++)
        env_add(env, off[i], "1");
    /* OpenCode installs a plugin package into its config dir in the
     * background; it must not reach out to a registry from here. */
    env_add(env, "npm_config_offline", "true");
    env_add(env, "npm_config_registry", "http://127.0.0.1:9/");
    env_add(env, "OPENCODE_SERVER_USERNAME", HB_OC_USER);
    env_add(env, "OPENCODE_SERVER_PASSWORD", p->password);
    if (key)
        env_add(env, HB_OC_KEY_ENV, key);
    env->v[env->n] = NULL;
}

static int spawn_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const char *sb_dir,
                       hb_err_t *e)
{
    char log[PATH_CAP], work[PATH_CAP];
    hb_oc_state_path(log, sizeof log, sb_dir, "opencode.log");
    hb_oc_state_path(work, sizeof work, sb_dir, "work");
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if (posix_spawn_file_actions_init(fa) != 0)
        return hb_fail(e, HB_E_INTERNAL, errno, "posix_spawn_file_actions_init");
    if (posix_spawnattr_init(at) != 0) {
        posix_spawn_file_actions_destroy(fa);
        return hb_fail(e, HB_E_INTERNAL, errno, "posix_spawnattr_init");
    }
    int rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
    rc = rc ?: posix_spawn_file_actions_addopen(fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    rc = rc ?: posix_spawn_file_actions_adddup2(fa, 1, 2);
    rc = rc ?: posix_spawn_file_actions_addclosefrom_np(fa, 3);
    rc = rc ?: posix_spawn_file_actions_addchdir_np(fa, work);
    rc = rc ?: posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                POSIX_SPAWN_SETSIGDEF);
    rc = rc ?: posix_spawnattr_setpgroup(at, 0);
    rc = rc ?: posix_spawnattr_setsigmask(at, &none);
    rc = rc ?: posix_spawnattr_setsigdefault(at, &all);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(fa);
        posix_spawnattr_destroy(at);
        return hb_fail_sys(e, HB_E_INTERNAL, rc, "posix_spawn setup");
    }
    return 0;
}

int hb_oc_spawn(const char *bin, const char *sb_dir, const char *llm_key, hb_oc_proc_t *p,
                hb_err_t *e)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    if (spawn_setup(&fa, &at, sb_dir, e) < 0)
        return -1;
    char port[16], reuid[32], regid[32];
    snprintf(port, sizeof port, "%u", (unsigned)p->port);
    uid_t uid = server_uid(sb_dir);
    snprintf(reuid, sizeof reuid, "--reuid=%u", (unsigned)uid);
    snprintf(regid, sizeof regid, "--regid=%u", (unsigned)uid);
    const char *sp = hb_oc_setpriv();
    char *const direct[] = {(char *)bin, "serve", "--hostname", "127.0.0.1", "--port", port,
                            "--print-logs", "--log-level", "WARN", NULL};
    char *const dropped[] = {(char *)sp, reuid, regid, "--clear-groups", "--inh-caps=-all",
                             "--bounding-set=-all", "--no-new-privs", "--", (char *)bin,
                             "serve", "--hostname", "127.0.0.1", "--port", port, "--print-logs",
                             "--log-level", "WARN", NULL};
    char *const *argv = sp ? dropped : direct;
    envv_t env;
    build_env(&env, sb_dir, p, llm_key);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, env.v);
    env_free(&env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0)
        return hb_fail_sys(e, HB_E_UNAVAIL, rc, "cannot start %s", bin);
    p->pid = pid;
    p->child = true;
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    p->start = hb_proc_starttime(pid, NULL);
    if (record_save(sb_dir, p, e) < 0) {
        hb_oc_kill(p, 2000);
        return -1;
    }
    return 0;
}

/* ---- liveness and stopping ---- */

int hb_oc_adopt(const char *sb_dir, hb_oc_proc_t *p)
{
    if (record_load(sb_dir, p) < 0)
        return -1;
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    /* The pidfd first, then the start time: if they match, the pidfd is
     * the recorded process and cannot be recycled under us. */
    if (p->pidfd < 0 || p->start == 0 || hb_proc_starttime(p->pid, NULL) != p->start) {
        if (p->pidfd >= 0)
            close(p->pidfd);
        memset(p, 0, sizeof *p);
        p->pidfd = -1;
        return -1;
    }
    return 0;
}

bool hb_oc_exited(hb_oc_proc_t *p)
{
    if (p->pid <= 0)
        return true;
    if (p->child && waitpid(p->pid, NULL, WNOHANG) == p->pid) {
        p->child = false;
        return true;
    }
    /* A killed server's leader is a zombie while its other threads still
     * unwind (a big heap takes a while): it serves nothing any more. */
    char state = '?';
    if (hb_proc_starttime(p->pid, &state) != p->start || state == 'Z' || state == 'X')
        return true;
    if (p->pidfd < 0)
        return false;
    struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
    return poll(&pf, 1, 0) > 0;
}

void hb_oc_term(hb_oc_proc_t *p)
{
    if (p->pidfd >= 0 && !hb_oc_exited(p))
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGTERM, NULL, 0);
}

pid_t hb_oc_kill(hb_oc_proc_t *p, int wait_ms)
{
    if (p->pid > 0 && p->pidfd >= 0 && !hb_oc_exited(p)) {
        /* Leader alive: the group id is still this server's. */
        kill(-p->pid, SIGKILL);
        syscall(SYS_pidfd_send_signal, p->pidfd, SIGKILL, NULL, 0);
        struct pollfd pf = {.fd = p->pidfd, .events = POLLIN};
        poll(&pf, 1, wait_ms);
    }
    pid_t unreaped = 0;
    if (p->child && waitpid(p->pid, NULL, WNOHANG) != p->pid)
        unreaped = p->pid;
    hb_oc_proc_release(p);
    return unreaped;
}

void hb_oc_proc_release(hb_oc_proc_t *p)
{
    if (p->pidfd >= 0)
        close(p->pidfd);
    memset(p, 0, sizeof *p);
    p->pidfd = -1;
}

void hb_oc_kill_recorded(const char *sb_dir)
{
    hb_oc_proc_t p;
    if (hb_oc_adopt(sb_dir, &p) == 0) {
        HB_LOG_INFO("opencode: stopping the server of dead sandbox dir %s (pid %d)", sb_dir,
                 (int)p.pid);
        hb_oc_kill(&p, 2000);
    }
}

/* ---- health ---- */

static size_t discard(char *d, size_t s, size_t n, void *ud)
{
    return s * n;
}

bool hb_oc_health(uint16_t port, const char *auth, long timeout_ms)
{
    CURL *c = curl_easy_init();
    if (!c)
        return false;
    char url[64], hdr[HB_OC_AUTH_MAX + 32];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/global/health", (unsigned)port);
    snprintf(hdr, sizeof hdr, "Authorization: %s", auth);
    struct curl_slist *h = curl_slist_append(NULL, hdr);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    long status = 0;
    bool ok = curl_easy_perform(c) == CURLE_OK &&
              curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return ok;
}
