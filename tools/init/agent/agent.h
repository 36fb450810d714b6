/* Internals of the init agent shared by agent.c (accept loop, dispatch),
 * exec.c, spawn.c, files.c, seccomp.c and proc*.c. Request handlers run on
 * request threads of PID 1, several at once: they keep no state outside
 * their own call (the only globals are set once at start) and release
 * every fd and allocation before they return. The one exception is the
 * background process table (agent_proc.h), which outlives requests by
 * design and has its own lock and keeper threads. */
#ifndef HB_AGENT_H
#define HB_AGENT_H

#include "initmsg.h"

#include <stdarg.h>

/* Compile the command seccomp filter once, at agent start. 0 or -1. */
int agent_seccomp_prepare(void);
/* Install the precompiled filter on the calling thread (needs no_new_privs).
 * 0 or -1 with errno. */
int agent_seccomp_apply(void);

/* Set once at agent start, before any request thread: the user cgroups a
 * command joins before it execs, and whether its oom_score_adj must be set
 * back to 0 (init's own was lowered by the host and is inherited). */
void agent_exec_setup(const int *cg_fds, int n_cg, bool reset_oom);

/* ---- spawning a command (agent_spawn.c, agent_user.c) ---- */

#include <sys/types.h>

#define AGENT_PIPE_SIZE (256 * 1024)   /* a command's stdout and stderr pipes */

/* Who a command runs as; as_user false: root, init's own ids. */
typedef struct {
    bool as_user;
    uid_t uid;
    gid_t gid;
    char name[HB_USER_MAX + 1];     /* "" when the uid has no passwd entry */
    char home[512];                 /* /root unless as_user */
} agent_user_t;

/* A name in the sandbox's /etc/passwd, or a uid. 0, or -1 after answering
 * err on conn. */
int agent_resolve_user(int conn, const hb_initstr_t *u, agent_user_t *c);

typedef struct {
    const hb_initreq_t *r;          /* cmd, cwd, env */
    const hb_initstr_t *user;       /* NULL: root */
    const char *hostname;
    bool stdin_pipe;                /* false: stdin is at EOF from the start */
    unsigned cols, rows;            /* both > 0: on a new PTY of that size */
} agent_spawn_req_t;

/* A started command; the fds are the caller's (O_CLOEXEC, O_NONBLOCK). */
typedef struct {
    pid_t pid;                      /* also its session and process group */
    int in_w;                       /* stdin pipe, or a dup of the PTY master; -1 */
    int out_r;                      /* stdout pipe, or the PTY master */
    int err_r;                      /* stderr pipe; -1 on a PTY */
} agent_child_t;

/* Start /bin/sh -c cmd as a child of the calling thread, which alone may
 * (and must) wait for it. 0 once it has exec'd, or -1 after answering err
 * on conn (nothing left open). */
int agent_spawn(int conn, const agent_spawn_req_t *q, agent_child_t *ch);

/* ---- pieces of the command set-up (agent_spawn.c) ---- */

#include <sys/capability.h>

/* fds while spawning: what the child gets and what the caller keeps. */
typedef struct {
    int in_r, in_w, out_r, out_w, err_r, err_w, rep_r, rep_w;
} agent_fds_t;

/* How a child reports a failed set-up on fd 3 before it would exec. */
typedef struct {
    int stage;
    int err;
} agent_report_t;

int    agent_make_pipes(agent_fds_t *f);   /* stdio and report pipes; -1 with errno */
void   agent_close_fds(agent_fds_t *f);
char **agent_build_env(const msgpack_object_array *env, const char *hostname, const agent_user_t *u,
                       bool tty);          /* NULL-terminated; caller frees */
cap_t  agent_build_caps(void);
bool   agent_oom_reset_needed(void);
void   agent_reset_oom(pid_t pid);         /* after execve: the command's own /proc files */
/* pid as text in our pid namespace ("0": the caller); 0 or an errno.
 * System calls only: also for a child. */
int    agent_move_to_user_cgroups(const char *pid, size_t len);
bool   agent_has_user_cgroups(void);      /* false on cgroup v2: commands share init's */
/* In a child only (system calls, no locks): */
int    agent_join_user_cgroups(void);      /* 0 or an errno */
int    agent_drop_bounding(void);
int    agent_set_rlimits(void);
void   agent_reset_signals(void);

/* Warm exec (agent_warm.c): a plain root exec without a terminal starts in
 * the pre-forked worker. 0 with *ch filled once it has exec'd (the caller
 * waits for it with __WALL: it has no exit signal), or -1 (no worker
 * ready, or it failed: nothing left open or running, nothing answered) and
 * the caller takes agent_spawn. */
int  agent_warm_spawn(const agent_spawn_req_t *q, agent_child_t *ch, int *pidfd);
/* Set once by agent_run before any request thread: off (the default),
 * no worker is ever forked and agent_warm_spawn always returns -1. */
void agent_warm_enable(bool on);
/* After a plain exec's answer: fork a fresh worker unless one is idle
 * (nothing when not enabled). */
void agent_warm_refill(void);
/* agent_warm_reap.c: a taken worker's status may reach init's main thread
 * once it has exec'd. Claim it (0, or -1: no slot); the main thread hands
 * over what it reaps; agent_child_wait is the blocking wait for any
 * command of a request thread, claimed or not, and returns its status. */
int  agent_warm_claim(pid_t pid);
void agent_warm_reaped(pid_t pid, int st);
int  agent_child_wait(pid_t pid);

/* Request handlers: they answer on conn and return; the caller closes it. */
void agent_op_exec(int conn, const hb_initreq_t *r, const char *hostname);
void agent_op_signal(int conn, const hb_initreq_t *r);
/* Background processes (agent_proc*.c). */
void agent_proc_setup(const char *hostname);
void agent_op_proc(int conn, hb_frame_t *f, const hb_initreq_t *r);
void agent_op_files(int conn, hb_frame_t *f, const hb_initreq_t *r);
/* port_connect: a socket to the sandbox's loopback, passed back (agent_port.c). */
void agent_op_port(int conn, const hb_initreq_t *r);

/* issue 19 (warm pool): the hostname init gives commands (HOSTNAME), set
 * once from the id and renamed by set_hostname until a command starts;
 * agent_hostname_take copies it and marks the sandbox used. */
void agent_hostname_init(const char *id, int last_pid_fd);
void agent_hostname_take(char *buf, size_t len);
void agent_op_set_hostname(int conn, const hb_initreq_t *r);
/* The main thread, before it starts a request's thread: give back the pid
 * a finished set_hostname thread took (see agent_hostname.c). */
void agent_hostname_settle(void);

/* Answer helpers; -1 when the client is gone. */
int agent_answer_err(int conn, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int agent_answer_ok(int conn, bool has_size, uint64_t size);

int64_t agent_mono_us(void);

/* files.c helpers shared with archive.c. */
int  agent_open_dir(const char *dir, bool create);   /* O_PATH; missing parts made when create */
/* The same, what it makes owned by own (NULL: root). */
int  agent_open_dir_as(const char *dir, bool create, const agent_user_t *own);
int  agent_next_chunk(int conn, hb_frame_t *f, const void **p, size_t *n);  /* 1 data, 0 end, -1 */
void agent_op_fs_watch(int conn, const hb_initreq_t *r);   /* agent_watch.c */
void agent_refuse_drain(int conn);                   /* after refusing an upload: read the rest */
/* Receive an upload's data frames until `end`, handing each to put (0, or
 * an errno that stops it). Bytes received, or -1 with *err: put's errno,
 * EFBIG past max (0: none), or 0 when the client broke off (nothing to
 * answer). */
typedef int (*agent_upload_put_fn)(void *ud, const void *p, size_t n);
int64_t agent_receive_upload(int conn, hb_frame_t *f, uint64_t max, agent_upload_put_fn put, void *ud,
                       int *err);
bool agent_skip_descent(const char *full);           /* /proc, /sys, /dev: not descended into */
/* archive.c: GET/PUT .../files/archive (tar made and unpacked here). */
void agent_op_tar_create(int conn, const hb_initreq_t *r);
void agent_op_tar_extract(int conn, hb_frame_t *f, const hb_initreq_t *r);

#endif
