/* The `exec` request: start a hardened /bin/sh -c <cmd> in the user
 * cgroups, stream its output, enforce out_cap and timeout, answer `exit` as
 * soon as the shell exits. Runs on a request thread of PID 1; the command is
 * that thread's child and only that thread waits for it. */
#include "agent.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PIPE_SIZE    (256 * 1024)
#define NOFILE_SOFT  1024
#define NOFILE_HARD  524288
#define CHILD_STACK  (64 * 1024)
#define PASSWD_MAX   (4 * 1024 * 1024)

/* Docker's default capability set minus NET_RAW. */
static const cap_value_t keep_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL, CAP_AUDIT_WRITE,
};
#define NKEEP (sizeof keep_caps / sizeof keep_caps[0])

enum { ST_CWD = 1, ST_RLIMIT, ST_CAPS, ST_NNP, ST_SECCOMP, ST_EXEC, ST_CGROUP, ST_USER };
static const char *const stage_name[] = {"?", "cwd", "rlimit", "capabilities",
                                         "no_new_privs", "seccomp", "exec", "cgroup", "user"};

/* Set by agent_exec_setup before any request thread exists; read-only after. */
static int g_cg_fds[INIT_MAX_CG];
static int g_n_cg;
static bool g_reset_oom;

void agent_exec_setup(const int *cg_fds, int n_cg, bool reset_oom)
{
    g_n_cg = n_cg < INIT_MAX_CG ? n_cg : INIT_MAX_CG;
    memcpy(g_cg_fds, cg_fds, (size_t)g_n_cg * sizeof *cg_fds);
    g_reset_oom = reset_oom;
}

/* Everything the child needs, prepared by the request thread before fork so that
 * the child only makes system calls. */
typedef struct {
    int in_r, out_w, err_w, rep_w;
    const char *cwd;            /* NULL: the home, falling back to / */
    char *argv[4];
    char **envp;
    cap_t caps;
    bool as_user;               /* exec_as: setgid/setuid to uid, gid */
    uid_t uid;
    gid_t gid;
    char name[HB_USER_MAX + 1]; /* "" when the uid has no passwd entry */
    char home[512];             /* /root unless as_user */
} child_t;

typedef struct {
    int stage;
    int err;
} report_t;

static __attribute__((noreturn)) void child_fail(int stage)
{
    report_t rep = {stage, errno};
    ssize_t w = write(3, &rep, sizeof rep);
    (void)w;
    _exit(127);
}

static bool keep_cap(int c)
{
    for (size_t i = 0; i < NKEEP; i++)
        if (keep_caps[i] == c)
            return true;
    return false;
}

static int drop_bounding(void)
{
    for (int c = 0; c < 64; c++) {
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
            break;              /* past the kernel's last cap */
        if (!keep_cap(c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
            return -1;
    }
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* exec_as: the user's ids. A non-zero uid loses every capability with
 * setuid (no SECBIT_KEEP_CAPS); root keeps the reduced set. Raw system
 * calls: glibc's wrappers would apply the change to every thread of the
 * process, and this child shares init's memory and thread list. */
static void become_user(const child_t *c)
{
    if (!c->as_user)
        return;
    gid_t g = c->gid;
    if (syscall(SYS_setgroups, 1, &g) < 0 || syscall(SYS_setresgid, g, g, g) < 0 ||
        syscall(SYS_setresuid, c->uid, c->uid, c->uid) < 0)
        child_fail(ST_USER);
}

/* ---- exec_as: the user, from the sandbox's /etc/passwd ---- */

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The sandbox's /etc/passwd, when it is a regular file of sane size: the
 * sandbox owns it, and a FIFO or a huge file there must not hold init. */
static FILE *open_passwd(void)
{
    int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *f = NULL;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PASSWD_MAX)
        f = fdopen(fd, "r");
    if (!f && fd >= 0)
        close(fd);
    return f;
}

/* The passwd entry whose name (or uid, when by_uid) matches: fills c. */
static bool passwd_find(const char *want, bool by_uid, uid_t uid, child_t *c)
{
    FILE *f = open_passwd();
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (f && !found && getline(&line, &cap, f) > 0) {
        char *fld[7] = {0}, *p = line;
        int n = 0;
        line[strcspn(line, "\n")] = '\0';
        while (n < 7 && p) {    /* name:x:uid:gid:gecos:home:shell */
            fld[n++] = p;
            if ((p = strchr(p, ':')) != NULL)
                *p++ = '\0';
        }
        if (n < 6 || !fld[2][0] || !fld[3][0] || !all_digits(fld[2]) || !all_digits(fld[3]))
            continue;
        if (by_uid ? strtoul(fld[2], NULL, 10) != uid : strcmp(fld[0], want) != 0)
            continue;
        found = true;
        c->uid = (uid_t)strtoul(fld[2], NULL, 10);
        c->gid = (gid_t)strtoul(fld[3], NULL, 10);
        snprintf(c->name, sizeof c->name, "%s", fld[0]);
        snprintf(c->home, sizeof c->home, "%s", fld[5][0] == '/' ? fld[5] : "/");
    }
    free(line);
    if (f)
        fclose(f);
    return found;
}

/* exec_as's user into c: a name in /etc/passwd, or a uid (its passwd entry
 * if it has one, else gid = uid and home /). 0, or -1 after answering err. */
static int resolve_user(int conn, const hb_initstr_t *u, child_t *c)
{
    char want[HB_USER_MAX + 1];
    snprintf(want, sizeof want, "%.*s", (int)u->len, u->ptr);
    c->as_user = true;
    if (want[0] && all_digits(want) && u->len <= 10) {
        unsigned long id = strtoul(want, NULL, 10);
        if (id > INT32_MAX) {
            agent_answer_err(conn, EINVAL, "user: uid %s is out of range", want);
            return -1;
        }
        if (!passwd_find(NULL, true, (uid_t)id, c)) {
            c->uid = (uid_t)id;
            c->gid = (gid_t)id;
            snprintf(c->home, sizeof c->home, "%s", id == 0 ? "/root" : "/");
        }
        return 0;
    }
    if (want[0] && passwd_find(want, false, 0, c))
        return 0;
    if (strcmp(want, "root") == 0) {   /* an image without /etc/passwd */
        snprintf(c->name, sizeof c->name, "root");
        return 0;
    }
    agent_answer_err(conn, EINVAL, "user: no user '%s' in the sandbox's /etc/passwd", want);
    return -1;
}

/* Move the calling process into every user cgroup (pids, memory, ...):
 * its pids limit and its OOM kills stay apart from init's. 0 or an errno. */
static int join_user_cgroups(void)
{
    for (int i = 0; i < g_n_cg; i++)
        if (write(g_cg_fds[i], "0", 1) != 1)
            return errno ? errno : EIO;
    return 0;
}

/* Runs on its own stack in init's memory (CLONE_VM|CLONE_VFORK: no
 * page-table copy, the calling thread sleeps until execve), so it only makes
 * system calls and never returns: other threads may hold any libc lock. */
static int child_run(void *arg)
{
    const child_t *c = arg;
    int cg_err = join_user_cgroups();   /* first: before any fd number moves */
    setsid();                   /* own session, so pgid == pid */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(c->in_r, 0) < 0 || dup2(c->out_w, 1) < 0 || dup2(c->err_w, 2) < 0)
        _exit(127);
    if (c->rep_w != 3 ? dup3(c->rep_w, 3, O_CLOEXEC) < 0 : fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        _exit(127);
    syscall(SYS_close_range, 4, ~0U, 0);
    if (cg_err) {
        errno = cg_err;
        child_fail(ST_CGROUP);  /* never run outside the user cgroups */
    }
    umask(022);
    if (drop_bounding() < 0)
        child_fail(ST_CAPS);
    become_user(c);             /* before chdir: the cwd is opened as the user */
    if (c->cwd) {
        if (chdir(c->cwd) < 0)
            child_fail(ST_CWD);
    } else if (chdir(c->home) < 0 && chdir("/") < 0) {
        child_fail(ST_CWD);
    }
    struct rlimit core = {0, 0}, nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        if (nofile.rlim_max > NOFILE_HARD)
            nofile.rlim_max = NOFILE_HARD;
        nofile.rlim_cur = nofile.rlim_max < NOFILE_SOFT ? nofile.rlim_max : NOFILE_SOFT;
    }
    if (setrlimit(RLIMIT_CORE, &core) < 0 || setrlimit(RLIMIT_NOFILE, &nofile) < 0)
        child_fail(ST_RLIMIT);
    if ((!c->as_user || c->uid == 0) && cap_set_proc(c->caps) < 0)
        child_fail(ST_CAPS);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(ST_NNP);
    if (agent_seccomp_apply() < 0)    /* last: the filter only has to allow execve */
        child_fail(ST_SECCOMP);
    execve("/bin/sh", c->argv, c->envp);
    child_fail(ST_EXEC);
}

/* ---- environment ---- */

static bool env_has_key(const msgpack_object_array *env, const char *kv)
{
    size_t kl = (size_t)(strchr(kv, '=') - kv) + 1;   /* including '=' */
    for (uint32_t i = 0; env && i < env->size; i++) {
        const msgpack_object_str *s = &env->ptr[i].via.str;
        if (s->size >= kl && memcmp(s->ptr, kv, kl) == 0)
            return true;
    }
    return false;
}

/* NULL-terminated envp; the caller frees the array and its strings. */
static char **build_env(const msgpack_object_array *env, const char *hostname, const child_t *c)
{
    char host[128], home[sizeof c->home + 8], user[sizeof c->name + 8], logname[sizeof user + 8];
    snprintf(host, sizeof host, "HOSTNAME=%s", hostname);
    snprintf(home, sizeof home, "HOME=%s", c->home);
    snprintf(user, sizeof user, "USER=%s", c->name);
    snprintf(logname, sizeof logname, "LOGNAME=%s", c->name);
    const char *defs[] = {DEFAULT_PATH, home, "LANG=C.UTF-8", "TERM=xterm", host, user, logname};
    size_t nd = sizeof defs / sizeof defs[0], n = 0, extra = env ? env->size : 0;
    if (!c->as_user || !c->name[0])
        nd -= 2;                /* USER and LOGNAME only for exec_as with a name */
    char **v = calloc(nd + extra + 1, sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < nd; i++)
        if (!env_has_key(env, defs[i]) && !(v[n++] = strdup(defs[i])))
            goto fail;
    for (size_t i = 0; i < extra; i++) {
        const msgpack_object_str *s = &env->ptr[i].via.str;
        if (!(v[n++] = strndup(s->ptr, s->size)))
            goto fail;
    }
    return v;
fail:
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return NULL;
}

static cap_t build_caps(void)
{
    cap_t c = cap_init();      /* all clear: inheritable stays empty */
    if (c && (cap_set_flag(c, CAP_EFFECTIVE, NKEEP, keep_caps, CAP_SET) < 0 ||
              cap_set_flag(c, CAP_PERMITTED, NKEEP, keep_caps, CAP_SET) < 0)) {
        cap_free(c);
        return NULL;
    }
    return c;
}

/* ---- streaming ---- */

typedef struct {
    int conn;
    int fd[3];                  /* [0] stdin write end, [1] stdout, [2] stderr read ends */
    const char *in;             /* stdin left to write */
    size_t in_left;
    uint64_t cap, sent[3];
    bool trunc[3], client_gone, killed;
    char *buf;                  /* PIPE_SIZE */
} stream_t;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Read once from an output pipe and forward within the cap. Returns bytes
 * read, 0 at EOF (pipe closed), -1 when nothing was ready. */
static ssize_t pump(stream_t *s, int i)
{
    ssize_t n = read(s->fd[i], s->buf, PIPE_SIZE);
    if (n < 0)
        return (errno == EAGAIN || errno == EINTR) ? -1 : 0;
    if (n == 0) {
        close_fd(&s->fd[i]);
        return 0;
    }
    uint64_t room = s->cap - s->sent[i];
    size_t send = (uint64_t)n < room ? (size_t)n : (size_t)room;
    if ((uint64_t)n > room)
        s->trunc[i] = true;
    if (send && !s->client_gone) {
        if (hb_frame_send_chunk(s->conn, "out", i, s->buf, send) < 0)
            s->client_gone = true;
        s->sent[i] += send;
    }
    return n;
}

static void feed_stdin(stream_t *s)
{
    ssize_t n = write(s->fd[0], s->in, s->in_left);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n < 0) {
        s->in_left = 0;         /* EPIPE: the command does not read it */
    } else {
        s->in += n;
        s->in_left -= (size_t)n;
    }
    if (s->in_left == 0)
        close_fd(&s->fd[0]);
}

/* After the shell exited: take only what is already in the pipes, bounded,
 * so a background writer cannot keep the answer open. */
static void drain(stream_t *s)
{
    for (int i = 1; i <= 2; i++) {
        size_t total = 0;
        while (s->fd[i] >= 0 && total < 4 * PIPE_SIZE) {
            ssize_t n = pump(s, i);
            if (n <= 0)
                break;
            total += (size_t)n;
        }
    }
}

static bool client_closed(int conn)
{
    char c;
    ssize_t n = recv(conn, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    /* Data after the request is a protocol violation: treat it as gone. */
    return n >= 0 || (errno != EAGAIN && errno != EINTR);
}

/* Poll until the shell exits. Returns its wait status. */
/* How long poll may sleep: until the deadline (-1: none), at most a minute. */
static int poll_wait_ms(int64_t deadline, bool timed_out)
{
    if (deadline < 0 || timed_out)
        return -1;
    int64_t left = (deadline - agent_mono_us() + 999) / 1000;
    return left < 0 ? 0 : (left > 60000 ? 60000 : (int)left);
}

/* One round of poll results: the client, stdin, stdout and stderr. */
static void stream_events(stream_t *s, const struct pollfd p[5], pid_t pid)
{
    if (p[4].revents && client_closed(s->conn))
        s->client_gone = true;
    if (p[3].revents)
        feed_stdin(s);
    for (int i = 1; i <= 2; i++)
        if (p[i].revents)
            pump(s, i);
    if (s->client_gone && !s->killed) {
        s->killed = true;
        kill(-pid, SIGKILL);
    }
}

static int stream_loop(stream_t *s, pid_t pid, int pidfd, uint64_t timeout_ms, bool *timed_out)
{
    int64_t deadline = timeout_ms ? agent_mono_us() + (int64_t)timeout_ms * 1000 : -1;
    for (;;) {
        struct pollfd p[5] = {
            {.fd = pidfd, .events = POLLIN},
            {.fd = s->fd[1], .events = POLLIN},
            {.fd = s->fd[2], .events = POLLIN},
            {.fd = s->fd[0], .events = POLLOUT},
            {.fd = s->client_gone ? -1 : s->conn, .events = POLLIN | POLLRDHUP},
        };
        int pr = poll(p, 5, poll_wait_ms(deadline, *timed_out));
        if (pr < 0 && errno != EINTR)
            break;
        if (deadline >= 0 && !*timed_out && agent_mono_us() >= deadline) {
            *timed_out = true;
            kill(-pid, SIGKILL);
        }
        if (pr <= 0)
            continue;
        stream_events(s, p, pid);
        if (p[0].revents)
            break;
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return st;
}

static void send_exit(stream_t *s, int st, bool timed_out, int64_t t0)
{
    int code = 0, sig = 0;
    if (WIFEXITED(st)) {
        code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        sig = WTERMSIG(st);
        code = 128 + sig;
    }
    hb_initans_t a = {.t = HB_ANS_EXIT, .code = code, .signal = sig, .timed_out = timed_out,
                      .out_trunc = s->trunc[1], .err_trunc = s->trunc[2],
                      .duration_us = (uint64_t)(agent_mono_us() - t0)};
    hb_initans_send(s->conn, &a);
}

static void send_started(int conn, pid_t pid)
{
    hb_initans_t a = {.t = HB_ANS_STARTED, .pid = pid};
    hb_initans_send(conn, &a);
}

/* Pipes: p[0..1] stdin, p[2..3] stdout, p[4..5] stderr, p[6..7] report. */
static int make_pipes(int p[8])
{
    for (int i = 0; i < 8; i += 2)
        if (pipe2(p + i, O_CLOEXEC) < 0)
            return -1;
    fcntl(p[3], F_SETPIPE_SZ, PIPE_SIZE);
    fcntl(p[5], F_SETPIPE_SZ, PIPE_SIZE);
    fcntl(p[1], F_SETFL, O_NONBLOCK);
    fcntl(p[2], F_SETFL, O_NONBLOCK);
    fcntl(p[4], F_SETFL, O_NONBLOCK);
    return 0;
}

static void close_pipes(int p[8])
{
    for (int i = 0; i < 8; i++)
        close_fd(&p[i]);
}

/* Wait for the child to exec (report pipe closes) or to report a failure. */
static int child_started(int rep_r, pid_t pid, int conn)
{
    report_t rep;
    ssize_t n;
    while ((n = read(rep_r, &rep, sizeof rep)) < 0 && errno == EINTR)
        ;
    if (n == 0)
        return 0;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof rep || rep.stage < 1 || rep.stage > ST_USER) {
        agent_answer_err(conn, EIO, "command setup failed");
        return -1;
    }
    agent_answer_err(conn, rep.err, "%s: %s", stage_name[rep.stage], strerror(rep.err));
    return -1;
}

/* Init's own oom_score_adj was lowered by the host and the command inherited
 * it: set it back to 0 now that the command has its own memory (before
 * execve it shared init's, whose /proc files only host root may write). A
 * command that forks within these microseconds passes the low score on to
 * that child; it stays in the user memory cgroup, apart from init, either
 * way. */
static void reset_oom(pid_t pid)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1)
        HB_LOG_WARN("command %d keeps init's oom_score_adj: %s", (int)pid, strerror(errno));
    if (fd >= 0)
        close(fd);
}

static void free_child(child_t *c)
{
    free(c->argv[2]);
    for (size_t i = 0; c->envp && c->envp[i]; i++)
        free(c->envp[i]);
    free(c->envp);
    if (c->caps)
        cap_free(c->caps);
}

/* Start the command. Returns its pid (p[1], p[2], p[4] stay open for the
 * caller, the rest is closed), or -1 after answering `err` (all closed). */
static pid_t spawn(int conn, const hb_initreq_t *r, const char *hostname, int p[8])
{
    child_t c = {.cwd = r->cwd, .argv = {"sh", "-c", NULL, NULL}, .home = "/root"};
    char *stack = NULL;
    pid_t pid = -1;
    if (r->op == HB_OP_EXEC_AS && resolve_user(conn, &r->user, &c) < 0)
        goto out;
    c.argv[2] = strndup(r->cmd.ptr, r->cmd.len);
    c.envp = build_env(r->env.obj, hostname, &c);
    c.caps = build_caps();
    stack = malloc(CHILD_STACK);
    if (!c.argv[2] || !c.envp || !c.caps || !stack || make_pipes(p) < 0) {
        agent_answer_err(conn, errno ? errno : ENOMEM, "exec setup: %s", strerror(errno));
        goto out;
    }
    c.in_r = p[0];
    c.out_w = p[3];
    c.err_w = p[5];
    c.rep_w = p[7];
    /* CLONE_VFORK: we resume once the child has exec'd or died, so its
     * stack and c are free to go right after. */
    pid = clone(child_run, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
    int err = errno;
    close_fd(&p[0]);
    close_fd(&p[3]);
    close_fd(&p[5]);
    close_fd(&p[7]);
    if (pid < 0)
        agent_answer_err(conn, err, "fork: %s", strerror(err));
    else if (child_started(p[6], pid, conn) < 0)
        pid = -1;
    else if (g_reset_oom)
        reset_oom(pid);
    close_fd(&p[6]);
out:
    if (pid < 0)
        close_pipes(p);
    free(stack);
    free_child(&c);
    return pid;
}

void agent_op_exec(int conn, const hb_initreq_t *r, const char *hostname)
{
    int p[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    int64_t t0 = agent_mono_us();
    pid_t pid = spawn(conn, r, hostname, p);
    if (pid < 0)
        return;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    stream_t s = {
        .conn = conn, .fd = {p[1], p[2], p[4]},
        .in = r->stdin.ptr, .in_left = r->stdin.ptr ? r->stdin.len : 0,
        .cap = r->out_cap ? r->out_cap : HB_DEFAULT_OUT_CAP,
        .buf = malloc(PIPE_SIZE),
    };
    if (pidfd < 0 || !s.buf) {
        kill(-pid, SIGKILL);
        agent_answer_err(conn, pidfd < 0 ? errno : ENOMEM, "exec: cannot supervise the command");
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    } else {
        send_started(conn, pid);
        if (s.in_left == 0)
            close_fd(&s.fd[0]);
        bool timed_out = false;
        int st = stream_loop(&s, pid, pidfd, r->timeout_ms, &timed_out);
        if (!s.client_gone)
            drain(&s);
        if (!s.client_gone)
            send_exit(&s, st, timed_out, t0);
    }
    for (int i = 0; i < 3; i++)
        close_fd(&s.fd[i]);
    if (pidfd >= 0)
        close(pidfd);
    free(s.buf);
}
