/* The sandbox's hostname as init knows it (issue 19, the warm pool): the
 * launcher sets it to the id, and a pooled sandbox taken by a named create
 * is given the name (set_hostname) before anything of the user's ran. One
 * lock orders a command's start (which reads it for HOSTNAME and marks the
 * sandbox used) against a rename: a command sees either name whole, and no
 * command started before the rename can keep the old one in its env.
 *
 * The request's own thread takes a pid of the sandbox's pid namespace that
 * a fresh sandbox would give its first command: once that thread is gone,
 * the main thread puts the namespace's last pid back (ns_last_pid, init
 * being root of the namespace's owner), so the next pids are a fresh one's
 * (agent_hostname_settle, before it starts the next request's thread). */
#include "agent.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static char g_host[HB_HOSTNAME_MAX + 1];
static bool g_used;   /* a command started: the sandbox is somebody's */
static int g_last_pid_fd = -1;   /* ns_last_pid (the launcher opened it) */
static atomic_int g_settle_tid;   /* a set_hostname thread whose pid is to be given back */

#define SETTLE_WAIT_US 200000   /* for that thread to be gone (it answered already) */

void agent_hostname_settle(void)
{
    int tid = atomic_exchange(&g_settle_tid, 0);
    if (tid <= 1)
        return;
    char task[64], last[16];
    snprintf(task, sizeof task, "/proc/self/task/%d", tid);
    for (int waited = 0; access(task, F_OK) == 0 && waited < SETTLE_WAIT_US; waited += 200)
        usleep(200);
    int n = snprintf(last, sizeof last, "%d", tid - 1);
    /* best effort: else the pids are one further on, nothing else */
    if (g_last_pid_fd < 0 || pwrite(g_last_pid_fd, last, (size_t)n, 0) != n)
        HB_LOG_WARN("ns_last_pid: %s", g_last_pid_fd < 0 ? "not open" : strerror(errno));
}

void agent_hostname_init(const char *id, int last_pid_fd)
{
    g_last_pid_fd = last_pid_fd;
    snprintf(g_host, sizeof g_host, "%s", id);
}

void agent_hostname_take(char *buf, size_t len)
{
    pthread_mutex_lock(&g_mu);
    g_used = true;
    snprintf(buf, len, "%s", g_host);
    pthread_mutex_unlock(&g_mu);
}

/* A name the daemon sends is a sandbox id (^[a-zA-Z0-9][a-zA-Z0-9_.-]*$);
 * init checks again: the UTS name is what every command sees. */
static bool name_ok(const hb_initstr_t *h)
{
    if (h->len == 0 || h->len > HB_HOSTNAME_MAX)
        return false;
    for (size_t i = 0; i < h->len; i++) {
        char c = h->ptr[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
            return false;
    }
    return true;
}

void agent_op_set_hostname(int conn, const hb_initreq_t *r)
{
    if (!name_ok(&r->hostname)) {
        agent_answer_err(conn, EINVAL, "hostname: not a sandbox name");
        return;
    }
    pthread_mutex_lock(&g_mu);
    int err = 0;
    if (g_used)
        err = EBUSY;   /* a pooled sandbox is taken once, before any command */
    else if (sethostname(r->hostname.ptr, r->hostname.len) < 0)
        err = errno;
    else
        snprintf(g_host, sizeof g_host, "%.*s", (int)r->hostname.len, r->hostname.ptr);
    pthread_mutex_unlock(&g_mu);
    if (!err)
        atomic_store(&g_settle_tid, (int)gettid());
    if (err == EBUSY)
        agent_answer_err(conn, EBUSY, "hostname: a command already ran in this sandbox");
    else if (err)
        agent_answer_err(conn, err, "sethostname: %s", strerror(err));
    else
        agent_answer_ok(conn, false, 0);
}
