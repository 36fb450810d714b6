/* The hardened child every command of the sandbox starts as (exec and
 * background processes alike): /bin/sh -c <cmd> in the user cgroups, its
 * own session, Docker's capabilities minus NET_RAW, no_new_privs, the
 * seccomp filter, optionally another user, and either pipes or a PTY.
 *
 * The child is a child of the calling thread: only that thread may wait
 * for it (agent.c), so whoever waits must be whoever spawns. */
#include "agent.h"
#include "init.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define NOFILE_SOFT  1024
#define NOFILE_HARD  524288
#define CHILD_STACK  (64 * 1024)

/* Docker's default capability set minus NET_RAW. */
static const cap_value_t keep_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL, CAP_AUDIT_WRITE,
};
#define NKEEP (sizeof keep_caps / sizeof keep_caps[0])

enum { ST_CWD = 1, ST_RLIMIT, ST_CAPS, ST_NNP, ST_SECCOMP, ST_EXEC, ST_CGROUP, ST_USER, ST_TTY };
static const char *const stage_name[] = {"?", "cwd", "rlimit", "capabilities",
                                         "no_new_privs", "seccomp", "exec", "cgroup", "user",
                                         "terminal"};

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

bool agent_oom_reset_needed(void)
{
    return g_reset_oom;
}

/* Everything the child needs, prepared by the request thread before fork so that
 * the child only makes system calls. */
typedef struct {
    int in_r, out_w, err_w, rep_w;
    const char *cwd;            /* NULL: the home, falling back to / */
    char *argv[4];
    char **envp;
    cap_t caps;
    agent_user_t u;             /* as_user: setgid/setuid to its ids */
    bool tty;                   /* in_r is a PTY's slave: make it the session's terminal */
} child_t;

static __attribute__((noreturn)) void child_fail(int stage)
{
    agent_report_t rep = {stage, errno};
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

int agent_drop_bounding(void)
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
    if (!c->u.as_user)
        return;
    gid_t g = c->u.gid;
    if (syscall(SYS_setgroups, 1, &g) < 0 || syscall(SYS_setresgid, g, g, g) < 0 ||
        syscall(SYS_setresuid, c->u.uid, c->u.uid, c->u.uid) < 0)
        child_fail(ST_USER);
}

/* ---- exec_as: the user, from the sandbox's /etc/passwd ---- */

/* Move a process ("0": the caller) into every user cgroup (pids, memory,
 * ...): its pids limit and its OOM kills stay apart from init's. 0 or an
 * errno. */
int agent_move_to_user_cgroups(const char *pid, size_t len)
{
    for (int i = 0; i < g_n_cg; i++)
        if (write(g_cg_fds[i], pid, len) != (ssize_t)len)
            return errno ? errno : EIO;
    return 0;
}

bool agent_has_user_cgroups(void)
{
    return g_n_cg > 0;
}

int agent_join_user_cgroups(void)
{
    return agent_move_to_user_cgroups("0", 1);
}

/* A command's rlimits: no core files, a sane NOFILE. 0 or -1. */
int agent_set_rlimits(void)
{
    struct rlimit core = {0, 0}, nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        if (nofile.rlim_max > NOFILE_HARD)
            nofile.rlim_max = NOFILE_HARD;
        nofile.rlim_cur = nofile.rlim_max < NOFILE_SOFT ? nofile.rlim_max : NOFILE_SOFT;
    }
    return setrlimit(RLIMIT_CORE, &core) < 0 || setrlimit(RLIMIT_NOFILE, &nofile) < 0 ? -1 : 0;
}

/* Default dispositions and an empty mask: init ignores and blocks all. */
void agent_reset_signals(void)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Runs on its own stack in init's memory (CLONE_VM|CLONE_VFORK: no
 * page-table copy, the calling thread sleeps until execve), so it only makes
 * system calls and never returns: other threads may hold any libc lock. */
static int child_run(void *arg)
{
    const child_t *c = arg;
    int cg_err = agent_join_user_cgroups();   /* first: before any fd number moves */
    setsid();                   /* own session, so pgid == pid */
    agent_reset_signals();
    if (dup2(c->in_r, 0) < 0 || dup2(c->out_w, 1) < 0 || dup2(c->err_w, 2) < 0)
        _exit(127);
    if (c->rep_w != 3 ? dup3(c->rep_w, 3, O_CLOEXEC) < 0 : fcntl(3, F_SETFD, FD_CLOEXEC) < 0)
        _exit(127);
    syscall(SYS_close_range, 4, ~0U, 0);
    if (c->tty && ioctl(0, TIOCSCTTY, 0) < 0)
        child_fail(ST_TTY);     /* after setsid: the PTY becomes this session's */
    if (cg_err) {
        errno = cg_err;
        child_fail(ST_CGROUP);  /* never run outside the user cgroups */
    }
    umask(022);
    if (agent_drop_bounding() < 0)
        child_fail(ST_CAPS);
    become_user(c);             /* before chdir: the cwd is opened as the user */
    if (c->cwd) {
        if (chdir(c->cwd) < 0)
            child_fail(ST_CWD);
    } else if (chdir(c->u.home) < 0 && chdir("/") < 0) {
        child_fail(ST_CWD);
    }
    if (agent_set_rlimits() < 0)
        child_fail(ST_RLIMIT);
    if ((!c->u.as_user || c->u.uid == 0) && cap_set_proc(c->caps) < 0)
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
char **agent_build_env(const msgpack_object_array *env, const char *hostname, const agent_user_t *u, bool tty)
{
    char host[128], home[sizeof u->home + 8], user[sizeof u->name + 8], logname[sizeof user + 8];
    snprintf(host, sizeof host, "HOSTNAME=%s", hostname);
    snprintf(home, sizeof home, "HOME=%s", u->home);
    snprintf(user, sizeof user, "USER=%s", u->name);
    snprintf(logname, sizeof logname, "LOGNAME=%s", u->name);
    const char *defs[] = {DEFAULT_PATH, home, "LANG=C.UTF-8", tty ? "TERM=xterm-256color" : "TERM=xterm",
                          host, user, logname};
    size_t nd = sizeof defs / sizeof defs[0], n = 0, extra = env ? env->size : 0;
    if (!u->as_user || !u->name[0])
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

cap_t agent_build_caps(void)
{
    cap_t c = cap_init();      /* all clear: inheritable stays empty */
    if (c && (cap_set_flag(c, CAP_EFFECTIVE, NKEEP, keep_caps, CAP_SET) < 0 ||
              cap_set_flag(c, CAP_PERMITTED, NKEEP, keep_caps, CAP_SET) < 0)) {
        cap_free(c);
        return NULL;
    }
    return c;
}

/* Wait for the child to exec (report pipe closes) or to report a failure. */
static int child_started(int rep_r, pid_t pid, int conn)
{
    agent_report_t rep;
    ssize_t n;
    while ((n = read(rep_r, &rep, sizeof rep)) < 0 && errno == EINTR)
        ;
    if (n == 0)
        return 0;
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof rep || rep.stage < 1 || rep.stage > ST_TTY) {
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
void agent_reset_oom(pid_t pid)
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

/* ---- the child's stdio: pipes, or a PTY ---- */

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void agent_close_fds(agent_fds_t *f)
{
    int *v[] = {&f->in_r, &f->in_w, &f->out_r, &f->out_w, &f->err_r, &f->err_w, &f->rep_r, &f->rep_w};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        close_fd(v[i]);
}

static int pipe_pair(int *r, int *w)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    *r = p[0];
    *w = p[1];
    return 0;
}

/* Our ends non-blocking (the caller polls them), the child's blocking. */
int agent_make_pipes(agent_fds_t *f)
{
    if (pipe_pair(&f->in_r, &f->in_w) < 0 || pipe_pair(&f->out_r, &f->out_w) < 0 ||
        pipe_pair(&f->err_r, &f->err_w) < 0 || pipe_pair(&f->rep_r, &f->rep_w) < 0)
        return -1;
    fcntl(f->out_w, F_SETPIPE_SZ, AGENT_PIPE_SIZE);
    fcntl(f->err_w, F_SETPIPE_SZ, AGENT_PIPE_SIZE);
    fcntl(f->in_w, F_SETFL, O_NONBLOCK);
    fcntl(f->out_r, F_SETFL, O_NONBLOCK);
    fcntl(f->err_r, F_SETFL, O_NONBLOCK);
    return 0;
}

/* A new PTY from the sandbox's devpts (its own instance, mounted by the
 * launcher where the sandbox cannot replace it; /dev/ptmx is only a link
 * the sandbox could swap for a FIFO). The peer is opened through the
 * master, never by a path. Master (non-blocking) in out_r, a dup in in_w,
 * the slave in in_r. */
static int make_pty(agent_fds_t *f, const agent_spawn_req_t *q, const agent_user_t *u)
{
    struct stat st;
    int unlock = 0;
    struct winsize ws = {.ws_row = (unsigned short)q->rows, .ws_col = (unsigned short)q->cols};
    f->out_r = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (f->out_r < 0 || fstat(f->out_r, &st) < 0)
        return -1;
    if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2) {
        errno = ENOTTY;
        return -1;
    }
    if (ioctl(f->out_r, TIOCSPTLCK, &unlock) < 0 || ioctl(f->out_r, TIOCSWINSZ, &ws) < 0)
        return -1;
    f->in_r = ioctl(f->out_r, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (f->in_r < 0 || (f->in_w = fcntl(f->out_r, F_DUPFD_CLOEXEC, 0)) < 0)
        return -1;
    /* Another user's shell must own its terminal (mesg, some editors). */
    if (u->as_user && fchown(f->in_r, u->uid, u->gid) < 0)
        return -1;
    return pipe_pair(&f->rep_r, &f->rep_w);
}

static int make_stdio(agent_fds_t *f, child_t *c, const agent_spawn_req_t *q)
{
    if (q->cols && q->rows) {
        if (make_pty(f, q, &c->u) < 0)
            return -1;
        c->tty = true;
        c->in_r = c->out_w = c->err_w = f->in_r;
    } else {
        if (agent_make_pipes(f) < 0)
            return -1;
        c->in_r = f->in_r;
        c->out_w = f->out_w;
        c->err_w = f->err_w;
    }
    c->rep_w = f->rep_w;
    return 0;
}

/* Prepare, clone, wait for exec. 0, or -1 after answering err on conn. */
static int spawn_child(int conn, child_t *c, agent_fds_t *f, const agent_spawn_req_t *q, pid_t *pid)
{
    char *stack = malloc(CHILD_STACK);
    if (!c->argv[2] || !c->envp || !c->caps || !stack || make_stdio(f, c, q) < 0) {
        int err = errno ? errno : ENOMEM;
        agent_answer_err(conn, err, "%s setup: %s", c->tty || q->cols ? "terminal" : "exec",
                         strerror(err));
        free(stack);
        return -1;
    }
    /* CLONE_VFORK: we resume once the child has exec'd or died, so its
     * stack and c are free to go right after. */
    *pid = clone(child_run, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, c);
    int err = errno;
    free(stack);
    close_fd(&f->in_r);
    close_fd(&f->out_w);
    close_fd(&f->err_w);
    close_fd(&f->rep_w);
    if (*pid < 0) {
        agent_answer_err(conn, err, "fork: %s", strerror(err));
        return -1;
    }
    if (child_started(f->rep_r, *pid, conn) < 0)
        return -1;
    if (g_reset_oom)
        agent_reset_oom(*pid);
    return 0;
}

int agent_spawn(int conn, const agent_spawn_req_t *q, agent_child_t *ch)
{
    const hb_initreq_t *r = q->r;
    child_t c = {.cwd = r->cwd, .argv = {"sh", "-c", NULL, NULL}, .u.home = "/root"};
    agent_fds_t f = {-1, -1, -1, -1, -1, -1, -1, -1};
    pid_t pid = -1;
    int rc = -1;
    *ch = (agent_child_t){.pid = -1, .in_w = -1, .out_r = -1, .err_r = -1};
    if (q->user && agent_resolve_user(conn, q->user, &c.u) < 0)
        goto out;
    c.tty = q->cols && q->rows;     /* for TERM; make_stdio sets it again */
    errno = 0;
    c.argv[2] = strndup(r->cmd.ptr, r->cmd.len);
    char host[HB_HOSTNAME_MAX + 1];   /* issue 19: set_hostname may have renamed it */
    agent_hostname_take(host, sizeof host);
    c.envp = agent_build_env(r->env.obj, host, &c.u, c.tty);
    c.caps = agent_build_caps();
    if (spawn_child(conn, &c, &f, q, &pid) < 0)
        goto out;
    if (!q->stdin_pipe && !c.tty)
        close_fd(&f.in_w);      /* stdin at EOF from the start */
    *ch = (agent_child_t){.pid = pid, .in_w = f.in_w, .out_r = f.out_r, .err_r = f.err_r};
    f.in_w = f.out_r = f.err_r = -1;
    rc = 0;
out:
    agent_close_fds(&f);
    free_child(&c);
    return rc;
}
