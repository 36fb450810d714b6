/* Background processes inside init (init-protocol.md, "Processes"): the
 * table shared by agent_proc.c (table, keeper threads, proc_start),
 * agent_proc_ops.c (list, input, signal, resize, forget) and
 * agent_proc_follow.c (output, attach, watch).
 *
 * One lock (g_proc.mu) guards the table, the rings and the event log. It
 * is held only for memory work (copying at most one chunk, packing one
 * frame): never across a send, a write to a process or a wait, so neither
 * a slow client nor a hostile process can stall a keeper or another
 * request. Frames are packed under the lock and sent after it. */
#ifndef HB_AGENT_PROC_H
#define HB_AGENT_PROC_H

#include "agent.h"
#include "agent_ring.h"

#include <pthread.h>

#define PROC_FOLLOW_MAX 16       /* output followers + attaches per process */
#define PROC_WATCH_MAX  8        /* proc_watch connections */
#define PROC_EVENTS     256      /* start/exit events kept for proc_watch */
#define PROC_EV_CMD     1024     /* bytes of cmd an event keeps */
#define PROC_INPUT_MS   10000    /* proc_input: the process must take it by then */
#define PROC_READ_CHUNK (32 * 1024)  /* the keeper's read of one output fd */
#define PROC_START_HOLD_MS 10000 /* proc_start's hold waits this long for a follower */

/* One slot. A slot is reused only once its keeper has left (!running);
 * holders of a slot pointer check gen under the lock to notice. */
typedef struct {
    bool used;                   /* listed (or running while forgotten) */
    bool running;                /* the keeper has not yet recorded the exit */
    bool forgotten;              /* proc_forget: hidden, freed when the keeper leaves */
    bool live;                   /* spawned and not yet reaped: its group may be signalled */
    uint32_t gen;                /* bumped at every (re)use */
    pid_t pid;
    char tag[HB_TAG_MAX + 1];
    char *cmd;                   /* malloc'd, cmd_len bytes */
    size_t cmd_len;
    char user[HB_USER_MAX + 1];
    int64_t started_ms, ended_ms, ended_us;   /* ended_us: monotonic, for retention */
    int code, sig;
    bool timed_out;
    unsigned cols, rows;
    int in_fd;                   /* stdin (pipe or PTY master dup); -1: closed */
    int pty_fd;                  /* the PTY master while running, for resize; -1 */
    ring_t ring;
    uint64_t seq;                /* its latest event */
    uint64_t start_seq;          /* its start event: proc_start's answer (a process that
                                    ended before the answer was packed has seq > start_seq,
                                    and a watch from seq - 1 would miss its start) */
    uint64_t attach_id;          /* the current attach; older ones are taken over */
    int wake[PROC_FOLLOW_MAX];   /* followers' eventfds; -1: free */
    /* Holding followers (agent_proc_hold.c): wake[k]'s follower holds the
     * output at hold_pos[k], the next byte it has not been given. */
    bool hold[PROC_FOLLOW_MAX];
    uint64_t hold_pos[PROC_FOLLOW_MAX];
    int kwake;                   /* the keeper's eventfd; -1: none (no hold) */
    int64_t start_hold_us;       /* proc_start's hold: from offset 0 until then
                                  * (monotonic), or a holding follower; 0: none */
    bool paused;                 /* the keeper waits for a holder to advance */
} proc_t;

/* A start or exit as it was, for proc_watch. */
typedef struct {
    uint64_t seq;
    pid_t pid;
    char tag[HB_TAG_MAX + 1];
    char cmd[PROC_EV_CMD];
    size_t cmd_len;
    char user[HB_USER_MAX + 1];
    int64_t started_ms, ended_ms;
    int code, sig;
    bool timed_out;
    unsigned cols, rows;
} proc_event_t;

typedef struct {
    pthread_mutex_t mu;
    proc_t p[HB_PROC_MAX];
    pthread_mutex_t in_mu[HB_PROC_MAX];  /* per slot: orders stdin writers (never under mu) */
    ring_budget_t budget;
    uint64_t seq;                /* last event's */
    proc_event_t ev[PROC_EVENTS];  /* ev[seq % PROC_EVENTS] */
    int running;                 /* keepers alive */
    int watch[PROC_WATCH_MAX];   /* watchers' eventfds; -1 free */
    const char *hostname;
} proc_table_t;

extern proc_table_t g_proc;

/* With the lock held. */
proc_t *proc_select(const hb_initreq_t *r, int *err, const char **why);
void proc_purge(void);                      /* drop exited ones past HB_PROC_KEEP_S */
void proc_wake(proc_t *p);                  /* its followers */
void proc_wake_watchers(void);
int  proc_follow_add(int *wake, size_t n);  /* a new eventfd in a free wake slot; -1 */
void proc_follow_del(int *wake, size_t n, int efd);
/* Pack p as a `proc` answer into a fresh frame buffer (the caller sends
 * it after unlocking and destroys it). */
void proc_pack(const proc_t *p, msgpack_sbuffer *sb);
/* proc_pack with `seq` the start event's (proc_start's answer). */
void proc_pack_started(const proc_t *p, msgpack_sbuffer *sb);
void proc_pack_event(const proc_event_t *e, uint64_t seq, msgpack_sbuffer *sb);
/* A slot back to free (its followers are woken and see gen change). */
void proc_release(proc_t *p);
/* Record p's start or exit as the next event. */
void proc_event(proc_t *p);

/* Without the lock: send and destroy sb. 0 or -1. */
int proc_send(int conn, msgpack_sbuffer *sb);

/* Block until efd is signalled, conn is readable (*conn_ready) or ms pass
 * (-1: no limit). Drains efd. */
void proc_wait(int efd, int conn, int ms, bool *conn_ready);

/* Holding followers (agent_proc_hold.c), with the lock held. efd names
 * the follower (its wake slot). Setting or advancing a hold, and dropping
 * it, wake a paused keeper. */
void proc_hold_set(proc_t *p, int efd, uint64_t pos);
void proc_hold_drop(proc_t *p, int efd);
/* The keeper: true when reading more output now could overwrite bytes a
 * holder has not been given; it then stops reading until woken. */
bool proc_hold_full(proc_t *p);

void agent_proc_start(int conn, const hb_initreq_t *r);
void agent_proc_list(int conn, const hb_initreq_t *r);
void agent_proc_input(int conn, const hb_initreq_t *r);
void agent_proc_signal(int conn, const hb_initreq_t *r);
void agent_proc_resize(int conn, const hb_initreq_t *r);
void agent_proc_forget(int conn, const hb_initreq_t *r);
void agent_proc_output(int conn, hb_frame_t *f, const hb_initreq_t *r);
void agent_proc_watch(int conn, const hb_initreq_t *r);
/* Write all of buf to p's stdin within PROC_INPUT_MS (proc_input, attach's
 * data). 0, or an errno: EPIPE (not open), EAGAIN (not read in time). */
int proc_write_input(proc_t *p, uint32_t gen, const void *buf, size_t n, size_t *done);
/* Close p's stdin (a PTY: send it the EOF character). 0 or EPIPE. */
int proc_close_input(proc_t *p, uint32_t gen);

#endif
