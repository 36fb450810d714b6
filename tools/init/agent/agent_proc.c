/* The background process table (agent_proc.h): lookups, retention,
 * wake-ups, the event log, packing, and the proc_* dispatch. */
#include "agent_proc.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

proc_table_t g_proc = {.mu = PTHREAD_MUTEX_INITIALIZER};

void agent_proc_setup(const char *hostname)
{
    g_proc.hostname = hostname;
    g_proc.budget.limit = HB_PROC_RING_BUDGET;
    atomic_init(&g_proc.budget.used, 0);
    for (int i = 0; i < PROC_WATCH_MAX; i++)
        g_proc.watch[i] = -1;
    for (int i = 0; i < HB_PROC_MAX; i++) {
        pthread_mutex_init(&g_proc.in_mu[i], NULL);
        g_proc.p[i].in_fd = g_proc.p[i].pty_fd = g_proc.p[i].kwake = -1;
        for (int k = 0; k < PROC_FOLLOW_MAX; k++)
            g_proc.p[i].wake[k] = -1;
    }
}

static bool listed(const proc_t *p)
{
    return p->used && !p->forgotten && p->pid > 0;
}

proc_t *proc_select(const hb_initreq_t *r, int *err, const char **why)
{
    bool by_pid = r->has & HB_IRF_BIT(pid), by_tag = r->has & HB_IRF_BIT(tag);
    *err = EINVAL;
    if (by_pid == by_tag) {
        *why = by_pid ? "pid, tag: give one, not both" : "pid or tag: one is required";
        return NULL;
    }
    for (int i = 0; i < HB_PROC_MAX; i++) {
        proc_t *p = &g_proc.p[i];
        if (!listed(p))
            continue;
        if (by_pid ? p->pid == (pid_t)r->pid
                   : strlen(p->tag) == r->tag.len && memcmp(p->tag, r->tag.ptr, r->tag.len) == 0)
            return p;
    }
    *err = ESRCH;
    *why = "no such process";
    return NULL;
}

void proc_wake(proc_t *p)
{
    uint64_t one = 1;
    for (int k = 0; k < PROC_FOLLOW_MAX; k++)
        if (p->wake[k] >= 0 && write(p->wake[k], &one, sizeof one) < 0 && errno != EAGAIN)
            p->wake[k] = -1;    /* cannot happen with a live eventfd */
}

void proc_wake_watchers(void)
{
    uint64_t one = 1;
    for (int k = 0; k < PROC_WATCH_MAX; k++)
        if (g_proc.watch[k] >= 0 && write(g_proc.watch[k], &one, sizeof one) < 0)
            continue;           /* full counter: it is awake anyway */
}

int proc_follow_add(int *wake, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (wake[k] >= 0)
            continue;
        wake[k] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        return wake[k];
    }
    errno = EAGAIN;
    return -1;
}

void proc_follow_del(int *wake, size_t n, int efd)
{
    for (size_t k = 0; k < n; k++)
        if (wake[k] == efd)
            wake[k] = -1;
}

void proc_release(proc_t *p)
{
    proc_wake(p);
    for (int k = 0; k < PROC_FOLLOW_MAX; k++)
        p->wake[k] = -1;        /* each follower closes its own eventfd */
    ring_free(&p->ring, &g_proc.budget);
    free(p->cmd);
    if (p->in_fd >= 0)
        close(p->in_fd);
    uint32_t gen = p->gen + 1;
    *p = (proc_t){.gen = gen, .in_fd = -1, .pty_fd = -1, .kwake = -1};
    for (int k = 0; k < PROC_FOLLOW_MAX; k++)
        p->wake[k] = -1;
}

void proc_purge(void)
{
    int64_t now = agent_mono_us();
    for (int i = 0; i < HB_PROC_MAX; i++) {
        proc_t *p = &g_proc.p[i];
        if (p->used && !p->running && now - p->ended_us > (int64_t)HB_PROC_KEEP_S * 1000000)
            proc_release(p);
    }
}

void proc_event(proc_t *p)
{
    p->seq = ++g_proc.seq;
    proc_event_t *e = &g_proc.ev[p->seq % PROC_EVENTS];
    size_t n = p->cmd_len < PROC_EV_CMD ? p->cmd_len : PROC_EV_CMD;
    *e = (proc_event_t){.seq = p->seq, .pid = p->pid, .cmd_len = n, .started_ms = p->started_ms,
                        .ended_ms = p->ended_ms, .code = p->code, .sig = p->sig,
                        .timed_out = p->timed_out, .cols = p->cols, .rows = p->rows};
    memcpy(e->tag, p->tag, sizeof e->tag);
    memcpy(e->user, p->user, sizeof e->user);
    memcpy(e->cmd, p->cmd, n);
    proc_wake_watchers();
}

static void pack(const hb_initans_t *a, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    hb_frame_begin(sb);
    hb_initans_pack(&pk, a);
}

static void pack_info(const proc_t *p, uint64_t seq, msgpack_sbuffer *sb)
{
    hb_initans_t a = {
        .t = HB_ANS_PROC, .pid = p->pid, .tag = {p->tag, strlen(p->tag)},
        .cmd = {p->cmd, p->cmd_len}, .user = {p->user, strlen(p->user)},
        .started_at = p->started_ms, .ended_at = p->ended_ms, .code = p->code,
        .signal = p->sig, .timed_out = p->timed_out, .cols = p->cols, .rows = p->rows,
        .stdin_open = p->in_fd >= 0, .first = p->ring.first, .off = p->ring.off, .seq = seq,
    };
    pack(&a, sb);
}

void proc_pack(const proc_t *p, msgpack_sbuffer *sb)
{
    pack_info(p, p->seq, sb);
}

void proc_pack_started(const proc_t *p, msgpack_sbuffer *sb)
{
    pack_info(p, p->start_seq, sb);
}

void proc_pack_event(const proc_event_t *e, uint64_t seq, msgpack_sbuffer *sb)
{
    hb_initans_t a = {
        .t = HB_ANS_PROC, .pid = e->pid, .tag = {e->tag, strlen(e->tag)},
        .cmd = {e->cmd, e->cmd_len}, .user = {e->user, strlen(e->user)},
        .started_at = e->started_ms, .ended_at = e->ended_ms, .code = e->code,
        .signal = e->sig, .timed_out = e->timed_out, .cols = e->cols, .rows = e->rows, .seq = seq,
    };
    pack(&a, sb);
}

int proc_send(int conn, msgpack_sbuffer *sb)
{
    int rc = hb_frame_send(conn, sb);
    msgpack_sbuffer_destroy(sb);
    return rc;
}

void proc_wait(int efd, int conn, int ms, bool *conn_ready)
{
    struct pollfd p[2] = {{.fd = efd, .events = POLLIN}, {.fd = conn, .events = POLLIN | POLLRDHUP}};
    *conn_ready = false;
    if (poll(p, 2, ms) <= 0)
        return;
    uint64_t v;
    if (p[0].revents && read(efd, &v, sizeof v) < 0)
        v = 0;
    *conn_ready = p[1].revents != 0;
}

void agent_op_proc(int conn, hb_frame_t *f, const hb_initreq_t *r)
{
    switch (r->op) {
    case HB_OP_PROC_START:  agent_proc_start(conn, r); break;
    case HB_OP_PROC_LIST:   agent_proc_list(conn, r); break;
    case HB_OP_PROC_OUTPUT:
    case HB_OP_PROC_ATTACH: agent_proc_output(conn, f, r); break;
    case HB_OP_PROC_INPUT:  agent_proc_input(conn, r); break;
    case HB_OP_PROC_SIGNAL: agent_proc_signal(conn, r); break;
    case HB_OP_PROC_RESIZE: agent_proc_resize(conn, r); break;
    case HB_OP_PROC_FORGET: agent_proc_forget(conn, r); break;
    case HB_OP_PROC_WATCH:  agent_proc_watch(conn, r); break;
    default: agent_answer_err(conn, EINVAL, "bad request: op"); break;
    }
}
