/* The sandbox runtime: plain C modules the actors call.
 *
 * A sandbox is a directory <data>/sandboxes/<id>/ holding its record
 * (sandbox.json), its overlay upper/work dirs and the init agent's socket
 * (run/init.sock), plus a PID 1 (build/hivebox-init) living in fresh user, pid,
 * mount, uts, ipc, net and cgroup namespaces, plus cgroups, plus a uid slot.
 *
 * Threading: a hb_sandbox_t's fields are immutable after create/open, so
 * hb_exec and the hb_file_* calls may run concurrently on one handle from
 * several threads (each opens its own connection to init). Create, destroy
 * and free must not race with anything else on the same handle.
 *
 * Ownership: every `**out` handle or array is malloc'd and owned by the
 * caller, freed with the matching *_free.
 */
#ifndef HB_RUNTIME_H
#define HB_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hberr.h"

#define HB_ID_MAX        64     /* names: ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$ */
#define HB_PATH_MAX      4096   /* sandbox-side paths */
#define HB_HOSTPATH_MAX  1024   /* host-side paths under the data dir */
#define HB_UID_RANGE     65536u
#define HB_UID_BASE      0x40000000u   /* host uid of slot 0's root */
#define HB_UID_SLOTS     16384u
#define HB_DEFAULT_OUT_CAP (4u * 1024 * 1024)   /* per stream, per exec */
#define HB_SKILLS_MAX_N  64     /* skills one sandbox can be given */
#define HB_DISK_DEFAULT  (10ull << 30)  /* a sandbox's writable layer: "10g" */
#define HB_DISK_MIN      (16ull << 20)
#define HB_TIMEOUT_MAX   86400u  /* a sandbox's lifetime, seconds: create and set */

typedef enum { HB_NET_NONE = 0, HB_NET_ISOLATED, HB_NET_SHARED } hb_netmode_t;

typedef struct {
    char         name[HB_ID_MAX];   /* "" = generate "hb-" + 8 hex */
    char         image[HB_ID_MAX];  /* default "base" */
    uint64_t     memory_bytes;
    char         memory_str[24];    /* echoed form, lower case: "512m" */
    double       cpus;
    uint32_t     pids;
    hb_netmode_t net_mode;
    char         net_group[HB_ID_MAX];
    uint32_t     timeout_s;         /* daemon's business: expiry */
    /* Skills bound read-only at /opt/skills/<name>: names under
     * rt->skills_dir, each followed by '\n'; "" = none. Filled by
     * hb_skills_select (skills.h). */
    char         skills[HB_SKILLS_MAX_N * 16];
    uint64_t     disk_bytes;        /* quota of the writable layer */
    char         disk_str[24];      /* echoed form, lower case: "10g" */
    /* Borrowed by hb_sandbox_create only, which copies them into the
     * sandbox (its metadata and env); NULL in hb_sandbox_t.spec. */
    const char        *metadata;    /* a JSON object of strings; NULL = {} */
    const char *const *env;         /* "K=V", NULL-terminated; NULL = none */
    /* issue 17 (pause): a request to it while paused resumes it; at expiry
     * it is paused instead of destroyed. Kept in the record. */
    bool         auto_resume;
    bool         on_timeout_pause;
    /* issue 16: the egress policy as JSON text (egress_policy.h); NULL =
     * none. Borrowed by hb_sandbox_create only (kept in HB_SBDIR_EGRESS). */
    const char  *egress;
    /* issue 19 (pool): a warm-pool sandbox, no user's yet; kept in the
     * record, so a daemon start destroys it instead of re-attaching it. */
    bool         pooled;
} hb_spec_t;

/* spec.c */
void hb_spec_defaults(hb_spec_t *s);                 /* 512m, 1.0, 128, none, 3600, base, 10g */
bool hb_name_valid(const char *name);
int  hb_spec_set_memory(hb_spec_t *s, const char *text, hb_err_t *e); /* "512m", "1g", "1048576" */
int  hb_spec_set_disk(hb_spec_t *s, const char *text, hb_err_t *e);   /* same forms, >= 16m */
/* "512m", "1g", "1048576" -> bytes; errors name field. */
int  hb_parse_size(const char *text, const char *field, uint64_t *out, hb_err_t *e);
uint64_t hb_host_mem_total(void);   /* bytes of RAM; UINT64_MAX when unknown */
int  hb_spec_set_network(hb_spec_t *s, const char *text, hb_err_t *e); /* none|isolated|shared[:group] */
int  hb_spec_validate(const hb_spec_t *s, hb_err_t *e); /* every field; msg names the field */
/* A sandbox's env (given at create, seen by every command it runs). */
#define HB_SB_ENV_MAX 128           /* variables */
/* ^[A-Za-z_][A-Za-z0-9_]*$, n bytes of name. */
bool hb_env_name_valid(const char *name, size_t n);
/* Every "K=V" of env (NULL: none): a valid name, at most HB_ENVSTR_MAX
 * bytes, at most HB_SB_ENV_MAX of them; errors name "env". */
int  hb_env_validate(const char *const *env, hb_err_t *e);
const char *hb_netmode_name(hb_netmode_t m);

/* What the runtime is started with: the daemon's settings (actors/config.def)
 * that concern it. Strings are borrowed and must outlive the runtime (the
 * daemon's config lives as long as the process); NULL or "": unset. */
typedef struct {
    const char *data_dir;
    const char *init_bin;       /* absolute path of hivebox-init */
    const char *skills_dir;     /* unset: <data_dir>/skills */
    uint64_t    disk_reserve;   /* bytes the disk pool leaves the host (diskpool.c) */
    const char *bridge;         /* network (net_config.c); unset: hivebox0 */
    const char *subnet;         /* unset: 10.10.0.0/16 */
    const char *dns;            /* unset: the host's resolvers */
    bool        allow_private_egress;
    const char *packages;       /* extra packages of the base image (image_build.c) */
    uint64_t    max_images;     /* issue 17 (image_gc.c): 0 = no cap */
    uint64_t    max_image_bytes;
    bool        warm_exec;      /* issue 19: launch.conf tells init (agent_warm.c) */
} hb_runtime_conf_t;

/* Network of modes isolated/shared (net.c), fixed at hb_runtime_init from
 * hb_runtime_conf_t: bridge (default hivebox0), subnet (default
 * 10.10.0.0/16, the bridge takes .1), dns, allow_private_egress. */
typedef struct {
    bool     ok;                    /* false: only "none" works, error says why */
    bool     allow_private_egress;  /* sandboxes may reach 10/8, 172.16/12, 192.168/16, 100.64/10 */
    char     error[200];
    char     bridge[16];
    int      bridge_index;
    uint32_t subnet;                /* host byte order */
    unsigned prefix;
    char     dns[3][16];            /* written into each sandbox's /etc/resolv.conf */
    int      n_dns;
    int      lock_fd;               /* flock on the bridge: one daemon per bridge */
    /* issue 16: the DNS forwarder's sockets on the bridge address, port 53
     * (net_dnsbind.c; served by actors/dnsfwd.c). dns_fwd false: none, and
     * resolv.conf lists the resolvers in dns. */
    bool     dns_fwd;
    int      dns_udp, dns_tcp;
} hb_net_t;

typedef struct {
    char data_dir[HB_HOSTPATH_MAX];
    char init_bin[HB_HOSTPATH_MAX];   /* absolute path of hivebox-init */
    bool cgroup_v2;                   /* else v1 hierarchies under /sys/fs/cgroup/<ctrl> */
    int  host_cpus;
    hb_net_t net;
    char skills_dir[HB_HOSTPATH_MAX]; /* conf.skills_dir, else <data>/skills */
    hb_runtime_conf_t conf;           /* as given to hb_runtime_init (strings borrowed) */
    /* Host-wide, shared by every daemon on the host whatever its data dir,
     * so no two sandboxes ever get the same uid range. */
    char uidslot_dir[HB_HOSTPATH_MAX]; /* HB_UIDSLOT_DIR */
    /* cgroups live in hivebox/<cg_instance>/<id>: sandbox names are unique per
     * data dir only, and several daemons may share a host. */
    char cg_instance[20];              /* hex hash of the data dir */
    /* The btrfs filesystem holding the sandboxes' writable layers, each a
     * subvolume with a quota (diskpool.c). */
    struct hb_pool *pool;
} hb_runtime_t;

#define HB_UIDSLOT_DIR "/run/hivebox/uidslots"

/* runtime.c: probe the kernel (user namespaces, overlayfs, idmapped mounts,
 * cgroups) and report a missing feature by name; create the data dir layout. */
int hb_runtime_init(hb_runtime_t *rt, const hb_runtime_conf_t *conf, hb_err_t *e);
/* At daemon exit: unmount the disk pool if no sandbox is left on it (it
 * stays while sandboxes live, for the next daemon to adopt). */
void hb_runtime_shutdown(hb_runtime_t *rt);
/* At daemon exit, when no sandbox is left in the data dir: remove what the
 * daemon made on the host for sandboxes (bridge, firewall tables, its empty
 * cgroup parents). While any sandbox remains, all of it stays. */
void hb_runtime_release(const hb_runtime_t *rt);

typedef struct hb_sandbox {
    char      id[HB_ID_MAX];
    hb_spec_t spec;
    int64_t   created_at;   /* unix seconds */
    int64_t   expires_at;   /* unix seconds; created_at + timeout */
    pid_t     init_pid;     /* host pid of the sandbox's PID 1 */
    uint64_t  init_start;   /* its /proc/<pid>/stat starttime: guards pid reuse */
    uint32_t  uid_slot;
    uint32_t  uid_base;     /* HB_UID_BASE + slot * HB_UID_RANGE */
    char      dir[HB_HOSTPATH_MAX + 80];  /* <data>/sandboxes/<id> */
    char      sock_path[HB_HOSTPATH_MAX + 32]; /* <dir>/run/init.sock: use hb_sandbox_connect */
    char      ip[16];       /* network.ip: "" in mode none */
    char      net_if[16];   /* host side of its veth ("" in mode none) */
    uint32_t  net_gid;      /* device group of its shared group; 0 when isolated */
    const hb_runtime_t *rt;
    char      failure[200]; /* "" while healthy; why its init died (status failed) */
    int64_t   failed_at;    /* unix seconds, 0 while healthy */
    /* Given at create, kept in the record; owned, freed by hb_sandbox_free. */
    char     *metadata;     /* a JSON object of strings; NULL = {} */
    char    **env;          /* "K=V", NULL-terminated; NULL = none */
    /* The image's config defaults (hb_image_defaults_load; owned): its Env
     * under env, the cwd and user of a command that names none. */
    char    **img_env;
    char     *img_cwd, *img_user;
    int64_t   paused_at;    /* unix seconds of its last pause; 0: not paused (issue 17) */
} hb_sandbox_t;

/* sandbox.c */
int  hb_sandbox_create(const hb_runtime_t *rt, const hb_spec_t *spec, hb_sandbox_t **out, hb_err_t *e);
/* Re-attach from the record on disk. HB_E_NOTFOUND without a record;
 * HB_E_DEAD (with *out still set, so the caller can destroy it) when the
 * record is unusable or the sandbox never finished starting. 0 otherwise,
 * alive or not: check hb_sandbox_alive and sb->failure. */
int  hb_sandbox_open(const hb_runtime_t *rt, const char *id, hb_sandbox_t **out, hb_err_t *e);
bool hb_sandbox_alive(const hb_sandbox_t *sb);
/* Kill every process, unmount, remove cgroups and state, release the uid slot.
 * Idempotent; safe on a half-created or dead sandbox. Does not free sb. */
int  hb_sandbox_destroy(hb_sandbox_t *sb, hb_err_t *e);
void hb_sandbox_free(hb_sandbox_t *sb);
/* ids of every sandbox directory on disk (live or dead); free with hb_strv_free. */
int  hb_sandbox_list_ids(const hb_runtime_t *rt, char ***ids, size_t *n, hb_err_t *e);
void hb_strv_free(char **v, size_t n);
/* A new connection to the sandbox's init agent (one per request), or -1 with
 * HB_E_DEAD when its init is gone. Handles data dirs too long for sun_path. */
int  hb_sandbox_connect(const hb_sandbox_t *sb, hb_err_t *e);
/* sbenv.c: the env a command in sb runs with: the sandbox's own variables
 * that req (NULL: none) does not set, then req's. *out: a malloc'd,
 * NULL-terminated array of borrowed strings (free only the array), NULL
 * when there are none. The one place the two are merged (exec, processes,
 * PTYs: hb_exec and hb_proc_start). */
int  hb_sandbox_env(const hb_sandbox_t *sb, const char *const *req, const char ***out,
                    hb_err_t *e);
/* Copy metadata and env into sb (create and record load). */
int  hb_sandbox_set_extras(hb_sandbox_t *sb, const char *metadata, const char *const *env);
/* Rewrite sandbox.json (e.g. after expires_at changed). */
int  hb_sandbox_save(const hb_sandbox_t *sb, hb_err_t *e);
/* Atomically write a side file in the sandbox dir (daemon metadata, secrets 0600). */
int  hb_sandbox_put_file(const hb_sandbox_t *sb, const char *name, const void *buf, size_t len,
                         mode_t mode, hb_err_t *e);

/* sandbox_fail.c: a sandbox whose init died keeps its files and record
 * (status failed) until it is destroyed; what a dead sandbox cannot use
 * (processes, cgroups, network address) is released. Why init died, in
 * words (reaps it if it was our child): */
void hb_sandbox_death(const hb_sandbox_t *sb, char *why, size_t len);
/* Record the failure and release; no other use of sb may be in flight. */
int  hb_sandbox_fail(hb_sandbox_t *sb, const char *why, hb_err_t *e);
/* A failed sandbox re-attached: its uid range stays claimed while its files exist. */
void hb_sandbox_keep_uids(const hb_sandbox_t *sb);
/* cgroup_kill.c: SIGKILL every process of the sandbox but its init. */
int  hb_sandbox_kill_all(const hb_sandbox_t *sb, uint64_t *killed, hb_err_t *e);
/* sandbox.c (issue 17, restore): kill init, empty the writable layer, start
 * init again on image; see image_layer.h hb_image_restore. */
int  hb_sandbox_relaunch(hb_sandbox_t *sb, const char *image, hb_err_t *e);

/* sandbox_adopt.c (issue 19): a pooled sandbox becomes the user's: spec's
 * limits written to its cgroups, its disk quota set, its record rewritten
 * (created_at now, expiry from spec, env, metadata, pooled cleared). spec
 * must match what the pool made it with (hb_sandbox_adoptable). */
bool hb_sandbox_adoptable(const hb_sandbox_t *sb, const hb_spec_t *spec);
int  hb_sandbox_adopt(hb_sandbox_t *sb, const hb_spec_t *spec, hb_err_t *e);
/* sandbox_rename.c (issue 19): a pooled sandbox taken by a named create
 * takes the name: state dir, cgroups, uid slot and address claims, init's
 * hostname. A failure leaves it whole under its old id. HB_E_EXISTS when
 * the name is taken. The caller saves the record. */
int  hb_sandbox_rename(hb_sandbox_t *sb, const char *name, hb_err_t *e);

/* cgroup_freeze.c (issue 17): freeze (true) or thaw (false) every process
 * of the sandbox, init included, with the cgroup freezer (v1 and v2);
 * returns once the kernel reports the state reached. Snapshots call it
 * around their copy; pause/resume are built on it. A thaw of a paused
 * sandbox (sb->paused_at set) does nothing: a snapshot of a paused sandbox
 * leaves it paused (resume clears paused_at, then thaws). Bounded wait
 * (5 s), then HB_E_UNAVAIL and the freeze undone. */
int  hb_sandbox_freeze(const hb_sandbox_t *sb, bool frozen, hb_err_t *e);
/* 1 when its freezer says it is frozen (or freezing: v1), else 0. */
int  hb_sandbox_frozen(const hb_sandbox_t *sb);

/* cgroup.c: usage read from cgroups, never from /proc scans. */
typedef struct {
    uint64_t memory_bytes;
    uint64_t memory_limit_bytes;
    uint64_t cpu_usage_ns;
    uint32_t pids;
    uint64_t oom_kills;
    uint64_t disk_bytes;          /* hb_sandbox_disk_usage: as of the last commit */
    uint64_t disk_limit_bytes;
    uint64_t memory_peak_bytes;   /* v1 max_usage_in_bytes, v2 memory.peak (5.19+; else 0) */
    bool     has_net;             /* hb_sandbox_net_usage: it has an interface */
    uint64_t net_rx_bytes;        /* received by the sandbox */
    uint64_t net_tx_bytes;        /* sent by the sandbox */
} hb_usage_t;
int hb_sandbox_usage(const hb_sandbox_t *sb, hb_usage_t *u);
uint64_t hb_sandbox_oom_kills(const hb_sandbox_t *sb);   /* the usage's oom_kills alone */
/* 1: a process other than init runs in the sandbox; 0: none; -1: unknown. */
int hb_sandbox_has_commands(const hb_sandbox_t *sb);
/* Only the CPU time the sandbox used, in ns (one file read: the
 * supervisor's idle check, issue 19). 0 when unreadable. */
uint64_t hb_sandbox_cpu_ns(const hb_sandbox_t *sb);
/* cgroup_net.c: fills only the net fields, from the host end of its veth
 * (two sysfs reads; has_net false in network mode none). */
void hb_sandbox_net_usage(const hb_sandbox_t *sb, hb_usage_t *u);
/* layer.c: fills only the disk_* fields (a quota tree lookup, not a cgroup read). */
int hb_sandbox_disk_usage(const hb_sandbox_t *sb, hb_usage_t *u);

/* ---- exec (exec.c, through init) ---- */
typedef struct {
    const char        *command;     /* run by /bin/sh -c */
    const char        *cwd;         /* NULL: the user's home (/root) */
    const char        *user;        /* NULL: root; else a user name in the
                                       sandbox's /etc/passwd or a numeric uid */
    const char *const *env;         /* extra "K=V", NULL-terminated, may be NULL */
    const void        *stdin_data;  /* may be NULL */
    size_t             stdin_len;
    uint32_t           timeout_ms;  /* 0: none */
    uint64_t           out_cap;     /* per stream; 0: HB_DEFAULT_OUT_CAP */
    int                tick_ms;     /* >0: cb(ud, 0, NULL, 0) once when the command
                                       has started, then after each tick_ms without
                                       output (a streaming caller answers at once
                                       and notices its client left); 0: none */
} hb_exec_req_t;

typedef struct {
    int      exit_code;     /* 128+signal when killed by a signal */
    int      term_signal;   /* 0 if exited normally */
    bool     timed_out;
    bool     oom_killed;
    bool     stdout_truncated;
    bool     stderr_truncated;
    uint64_t duration_ms;
} hb_exec_result_t;

/* Called with output as it arrives (fd 1 or 2), or with fd 0 and no data on
 * a tick (hb_exec_req_t.tick_ms). It may block: init's pipe is then read no
 * faster than the callback returns (back-pressure up to the command). Return
 * non-zero to abandon: the command's process group is killed. */
typedef int (*hb_output_cb)(void *ud, int fd, const void *data, size_t len);

int hb_exec(const hb_sandbox_t *sb, const hb_exec_req_t *req, hb_output_cb cb, void *ud,
            hb_exec_result_t *res, hb_err_t *e);
/* ---- buffered output (outbuf.c): every exec's output the daemon holds is
 * charged to one process-wide budget (see outbuf.c for the policy) ---- */
#define HB_DEFAULT_OUT_BUDGET (256ull << 20)   /* --exec-output-budget */
#define HB_OUT_RESERVE        (256u << 10)     /* taken by each exec before it runs */
#define HB_OUT_WAIT_MS        10000            /* back-pressure, then the stream is cut */

typedef struct {
    char    *data[3];   /* [1] stdout, [2] stderr: NUL-terminated, NULL while empty */
    size_t   len[3], cap[3];
    uint64_t limit;     /* per stream */
    bool     cut[3];    /* output dropped: over the limit or the budget */
    uint64_t charge;    /* taken from the budget: the reserve, or the capacity */
    int64_t  waited_ms; /* for budget, so far */
} hb_outbuf_t;

void     hb_outbudget_set(uint64_t bytes);   /* once, at start */
uint64_t hb_outbudget_limit(void);
uint64_t hb_outbudget_used(void);
void hb_outbuf_init(hb_outbuf_t *ob, uint64_t per_stream);   /* 0: HB_DEFAULT_OUT_CAP */
/* Take the exec's HB_OUT_RESERVE now, or HB_E_UNAVAIL naming the budget. */
int  hb_outbuf_reserve(hb_outbuf_t *ob, hb_err_t *e);
/* Append to stream fd, charging the growth; when the budget is used up,
 * wait for it (wait_ms over the buffer's whole life), then keep what the
 * charge already covers and mark the stream cut. -1 only when malloc fails. */
int  hb_outbuf_add(hb_outbuf_t *ob, int fd, const void *data, size_t len, int wait_ms);
const char *hb_outbuf_text(const hb_outbuf_t *ob, int fd, size_t *len);   /* "" if empty */
void hb_outbuf_free(hb_outbuf_t *ob);   /* frees and gives the budget back; idempotent */

/* Run to completion, output into *ob (initialised here; the caller frees it
 * with hb_outbuf_free whatever the result). ob NULL: output discarded.
 * HB_E_UNAVAIL before the command starts when the output budget is used up. */
int hb_exec_collect(const hb_sandbox_t *sb, const hb_exec_req_t *req, hb_exec_result_t *res,
                    hb_outbuf_t *ob, hb_err_t *e);

/* ---- files (files.c, through init; paths are sandbox paths, never host) ---- */
/* Upload source: fill buf (cap bytes), set *got; *got == 0 means end. Return -1 to abort. */
typedef int (*hb_src_cb)(void *ud, void *buf, size_t cap, size_t *got);
/* Download sink: on_size is called once before any data. Return -1 to abort. */
typedef int (*hb_size_cb)(void *ud, uint64_t size);
typedef int (*hb_sink_cb)(void *ud, const void *data, size_t len);

/* Atomic replace (temp + rename), parents created. HB_E_TOOBIG past max_size.
 * mode | HB_FILE_KEEP: a regular file replaced keeps its mode and owner (mode
 * is for a new file; an init older than that flag uses mode either way). */
#define HB_FILE_KEEP (1u << 31)
int hb_file_write(const hb_sandbox_t *sb, const char *path, uint32_t mode, uint64_t max_size,
                  hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e);
/* The same, what it makes (the file, missing parents) owned by user, a name
 * in the sandbox's /etc/passwd or a uid (NULL: root's). */
int hb_file_write_as(const hb_sandbox_t *sb, const char *path, uint32_t mode, uint64_t max_size,
                     const char *user, hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e);
int hb_file_write_buf(const hb_sandbox_t *sb, const char *path, const void *buf, size_t len,
                      hb_err_t *e);
/* Regular files only (FIFO/device: HB_E_INVALID). HB_E_TOOBIG past max_size (0 = no cap). */
int hb_file_read(const hb_sandbox_t *sb, const char *path, uint64_t max_size, hb_size_cb on_size,
                 hb_sink_cb sink, void *ud, hb_err_t *e);
int hb_file_read_buf(const hb_sandbox_t *sb, const char *path, uint64_t max_size, char **buf,
                     size_t *len, hb_err_t *e);

typedef enum { HB_FT_FILE = 0, HB_FT_DIR, HB_FT_SYMLINK, HB_FT_OTHER } hb_ftype_t;

typedef struct {
    char      *path;   /* full sandbox path */
    char      *name;   /* last component: points into path, not freed separately */
    hb_ftype_t type;
    uint64_t   size;
    bool       has_meta;  /* the fields below are set (an older init omits them) */
    uint32_t   mode;      /* st_mode: type and permission bits */
    uint32_t   uid, gid;  /* as seen inside */
    int64_t    mtime;     /* unix seconds */
} hb_dirent_t;

/* Recursive listing skips /proc, /sys and /dev. Listing a non-directory: HB_E_INVALID. */
int  hb_file_list(const hb_sandbox_t *sb, const char *path, bool recursive, size_t max_entries,
                  hb_dirent_t **ents, size_t *n, bool *truncated, hb_err_t *e);
void hb_dirents_free(hb_dirent_t *ents, size_t n);

typedef struct {
    hb_ftype_t type;
    uint64_t   size;
    uint32_t   mode;   /* st_mode */
    uint32_t   uid, gid;  /* as seen inside */
    int64_t    mtime, atime, ctime;
} hb_stat_t;
int hb_file_stat(const hb_sandbox_t *sb, const char *path, bool follow, hb_stat_t *st, hb_err_t *e);
int hb_file_mkdir(const hb_sandbox_t *sb, const char *path, bool parents, hb_err_t *e);
/* The same, what it makes owned by user (as hb_file_write_as). */
int hb_file_mkdir_as(const hb_sandbox_t *sb, const char *path, bool parents, const char *user,
                     hb_err_t *e);
int hb_file_rename(const hb_sandbox_t *sb, const char *from, const char *to, hb_err_t *e);
/* A file, a symlink (as a link) or an empty directory; with recursive, a
 * directory and all below it (init walks it; see tools/init/agent/agent_rm.c). */
int hb_file_remove(const hb_sandbox_t *sb, const char *path, bool recursive, hb_err_t *e);

/* A directory's changes as init sees them (fswatch.c; inotify inside the
 * sandbox). open: HB_E_NOTFOUND / HB_E_INVALID for a missing path or a
 * non-directory; an init older than fs_watch refuses it (HB_E_INVALID).
 * next: 1 with an event (name relative to the directory, ev HB_FSEV_*), 0
 * when none came within timeout_ms, 2 when the directory itself went, -1
 * with *e. Close from the reading thread (NULL-safe). */
typedef struct hb_fs_watch hb_fs_watch_t;
hb_fs_watch_t *hb_fs_watch_open(const hb_sandbox_t *sb, const char *path, bool recursive,
                                hb_err_t *e);
int  hb_fs_watch_next(hb_fs_watch_t *w, int timeout_ms, char *name, size_t cap, int *ev,
                      hb_err_t *e);
void hb_fs_watch_close(hb_fs_watch_t *w);

/* ---- images (image.c) ---- */
bool hb_image_exists(const hb_runtime_t *rt, const char *name);
/* Build the default image "base" with debootstrap (python3, pip, venv, python-is-python3,
 * nodejs, npm, git, curl, ca-certificates, procps, iproute2, sudo, ncurses-bin +
 * $HIVEBOX_PACKAGES, and E2B's default user `user`: image_user.c) into a temp dir,
 * renamed into place only when complete. Progress lines go to progress_cb and to
 * <data>/images/.base.progress (read by hb_image_progress). Blocking. */
typedef void (*hb_progress_cb)(void *ud, const char *line);
int  hb_image_build_base(const hb_runtime_t *rt, hb_progress_cb cb, void *ud, hb_err_t *e);
int  hb_image_progress(const hb_runtime_t *rt, char *buf, size_t len); /* last line, 0 if building */
/* Whether image_dir/rootfs has E2B's default user `user` (images built before it do not). */
bool hb_image_has_default_user(const char *image_dir);
/* src: a directory (copied) or a tarball (.tar, .tar.gz, ...). */
int  hb_image_import(const hb_runtime_t *rt, const char *name, const char *src, hb_err_t *e);
int  hb_image_list(const hb_runtime_t *rt, char ***names, size_t *n, hb_err_t *e);
/* image/oci_import.c: an image from an OCI archive (oci-layout/index.json)
 * or a docker-archive (manifest.json); max_bytes bounds the extracted file
 * data. A bad archive is HB_E_INVALID naming the problem, a taken name
 * HB_E_EXISTS; nothing is left behind on failure. Blocking. */
int  hb_oci_import(const hb_runtime_t *rt, const char *name, const char *archive,
                   uint64_t max_bytes, hb_err_t *e);
/* A tar with index.json or manifest.json at its top? */
bool hb_oci_archive_detect(const char *path);
/* At start: remove <data>/images/.*.tmp-<pid>* whose process is gone
 * (imports, builds and uploads a crash cut short). */
void hb_oci_clean_stale(const char *images);
/* image/oci_defaults.c: the defaults an image's config gives the commands
 * of a sandbox made from it (Env under the sandbox's, WorkingDir, User),
 * read from images/<image>/image.json into sb (create and re-attach). */
int  hb_image_defaults_load(hb_sandbox_t *sb, hb_err_t *e);
void hb_image_defaults_free(hb_sandbox_t *sb);
/* A command's cwd and user when the request names none (exec, processes,
 * PTYs: hb_exec and hb_proc_start). */
void hb_sandbox_cmd_defaults(const hb_sandbox_t *sb, const char **cwd, const char **user);
/* image_facts.c: what the MCP instructions say about an image, taken from
 * its own files when it was built or imported (images/<name>/image.json),
 * never from a sandbox. Plain text only: letters, digits, " .,:;()/+_-". */
typedef struct {
    char os[72];       /* PRETTY_NAME of its os-release; "" if unknown */
    char tools[160];   /* the common tools it has, space-separated */
} hb_image_facts_t;
int  hb_image_facts(const hb_runtime_t *rt, const char *name, hb_image_facts_t *f);

#endif
