/* The hivebox CLI: a client of the daemon's REST API (libcurl + jansson),
 * plus `image ...`, which works on the local data dir directly. */
#ifndef HB_CLI_H
#define HB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_ENV 64
#define CLI_MAX_POS 8

#define CLI_DEFAULT_URL      "http://127.0.0.1:7070"
#define CLI_DEFAULT_DATA_DIR "/var/lib/hivebox"

/* Exit codes: a command's own code passes through `exec` and `run`, so
 * errors of hivebox itself use codes a shell command rarely does (as
 * `docker run` does). */
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_ERROR 1
#define CLI_EXIT_EXEC_ERROR 125

/* Which options a subcommand accepts. */
enum {
    CLI_OPT_COMMON = 1u << 0,   /* --api-url --api-key --data-dir --json --help */
    CLI_OPT_CREATE = 1u << 1,   /* --name --image --memory ... */
    CLI_OPT_EXEC   = 1u << 2,   /* --timeout --cwd --user -e -i */
    CLI_OPT_CP     = 1u << 3,   /* -r (accepted; directories are always copied whole) */
    CLI_OPT_BG     = 1u << 4,   /* exec: --background --tag */
    CLI_OPT_FOLLOW = 1u << 5,   /* logs: -f */
    CLI_OPT_SIGNAL = 1u << 6,   /* kill: -s */
};

/* Parsed command line of one subcommand. Every string points into argv
 * (nothing here is allocated; argv outlives it). */
typedef struct {
    const char *api_url, *api_key, *data_dir;
    bool        json, help;
    bool        send_stdin;         /* exec/run -i: our stdin becomes the command's */
    const char *name, *image, *memory, *cpus, *pids, *network, *timeout, *skills,
               *llm_base_url, *llm_api_key, *llm_model, *disk;
    const char *on_timeout;         /* create --on-timeout destroy|pause */
    bool        auto_resume;        /* create --auto-resume */
    const char *cwd;
    const char *user;
    const char *env[CLI_MAX_ENV];   /* exec -e; create/run --env too */
    size_t      n_env;
    const char *meta[CLI_MAX_ENV];  /* create/run --metadata K=V */
    size_t      n_meta;
    const char *pos[CLI_MAX_POS];   /* positionals before "--" */
    size_t      n_pos;
    char      **cmd;                /* words after "--" */
    int         n_cmd;
    bool        dashdash;
    bool        background, follow;   /* exec --background, logs -f */
    const char *tag, *signal;         /* exec --tag, kill -s */
} cli_opts_t;

/* cli_args.c (pure) */
/* argv: the words after the subcommand. Returns 0, or -1 with err set to
 * a one-line message. */
int   cli_parse(int argc, char **argv, unsigned allowed, cli_opts_t *o, char *err, size_t errlen);
/* The command words joined by single spaces (run by /bin/sh -c in the
 * sandbox, so shell syntax in a single quoted word works). malloc'd. */
char *cli_join_cmd(int n, char *const *words);
int   cli_hoist_globals(int argc, char **argv, char **v, char *err, size_t errlen);
const char *cli_api_url(const cli_opts_t *o);
const char *cli_data_dir(const cli_opts_t *o);
/* The API key: --api-key, else $HIVEBOX_API_KEY, else <data-dir>/api_key. */
void cli_resolve_key(const cli_opts_t *o, char *key, size_t len);
/* "ID:/path" -> true, id and path filled (id validated as a sandbox name). */
bool  cli_split_remote(const char *arg, char *id, size_t idlen, const char **path);

/* cli_format.c (pure) */
/* Compact durations for the list table: 45s, 2m5s, 58m, 1h1m, 2d3h; "-"
 * for negative (unknown). */
void  cli_fmt_duration(int64_t secs, char *buf, size_t len);
/* Table of GET /api/v1/hiveboxes; returns 0, or -1 if the JSON is not
 * shaped like the list response. */
int   cli_print_list(FILE *out, const char *json_text);

/* cli_http.c */
typedef struct {
    long   status;   /* HTTP status; 0 when the request never got an answer */
    char  *body;     /* malloc'd, NUL-terminated; owned by the response */
    size_t len;
    bool   sink_failed;   /* a stream's sink stopped it (and said why itself) */
} cli_resp_t;

/* method + path (from /api/...) with an optional JSON body. Returns 0
 * when an HTTP answer arrived (any status), -1 after printing why not. */
int   cli_http(const cli_opts_t *o, const char *method, const char *path, const char *json,
               cli_resp_t *r);
/* PUT streamed from src (size bytes). */
int   cli_http_upload(const cli_opts_t *o, const char *path, FILE *src, int64_t size,
                      cli_resp_t *r);
/* GET streamed into dst while the status is 2xx; an error body goes to r. */
int   cli_http_download(const cli_opts_t *o, const char *path, FILE *dst, cli_resp_t *r);
/* The same into sink (non-zero stops the transfer), asking for gzip when
 * gzip is set (curl inflates it). */
int   cli_http_stream(const cli_opts_t *o, const char *path, bool gzip,
                      int (*sink)(void *ud, const void *p, size_t n), void *ud, cli_resp_t *r);
/* POST json asking for server-sent events (Accept: text/event-stream); the
 * 2xx answer's bytes into sink as they arrive, an error body to r. */
int   cli_http_events(const cli_opts_t *o, const char *path, const char *json,
                      int (*sink)(void *ud, const void *p, size_t n), void *ud, cli_resp_t *r);
/* HEAD; the value of header hname (if any) into val. */
int   cli_http_head(const cli_opts_t *o, const char *path, const char *hname, char *val,
                    size_t vlen, cli_resp_t *r);
void  cli_resp_free(cli_resp_t *r);
/* Prints "hivebox: <error text> (HTTP n)" and returns CLI_EXIT_ERROR. */
int   cli_report_error(const cli_resp_t *r);
/* URL-encoded copy of s for a query string; malloc'd. */
char *cli_urlencode(const char *s);

/* subcommands: argv[0] is the subcommand's name */
int   cli_cmd_create(int argc, char **argv);
int   cli_cmd_list(int argc, char **argv);
int   cli_cmd_get(int argc, char **argv);
/* cli_layers.c (issue 17): snapshot, fork, restore (image rm and list:
 * cli_layers.h). */
int   cli_cmd_snapshot(int argc, char **argv);
int   cli_cmd_fork(int argc, char **argv);
int   cli_cmd_restore(int argc, char **argv);
/* cli_e2b.c */
int   cli_cmd_e2b_key(int argc, char **argv);
int   cli_cmd_destroy(int argc, char **argv);
int   cli_cmd_timeout(int argc, char **argv);   /* cli_timeout.c */
int   cli_cmd_port(int argc, char **argv);      /* cli_port.c (issue 16) */
int   cli_cmd_pause(int argc, char **argv);     /* cli_pause.c */
int   cli_cmd_resume(int argc, char **argv);
int   cli_cmd_keepalive(int argc, char **argv);
int   cli_cmd_exec(int argc, char **argv);
int   cli_cmd_run(int argc, char **argv);
int   cli_cmd_cp(int argc, char **argv);
int   cli_cmd_image(int argc, char **argv);
/* cli_image_build.c: image build NAME --run CMD ... (argv[0] is "build"),
 * and whether an `image ...` command line is that one (a --run is given). */
int   cli_cmd_image_build(int argc, char **argv);
bool  cli_image_build_wanted(int argc, char **argv);
int   cli_cmd_shell(int argc, char **argv);   /* cli_shell.c */
/* cli_proc.c: background processes */
int   cli_cmd_ps(int argc, char **argv);
int   cli_cmd_logs(int argc, char **argv);
int   cli_cmd_kill(int argc, char **argv);
/* exec --background: POST .../processes with exec's body; prints the pid. */
int   cli_exec_background(const cli_opts_t *o, const char *id, void *body);

/* cli_create.c: the POST body from the create flags; malloc'd JSON text,
 * or NULL with err set (a flag's value is malformed). */
char *cli_create_body(const cli_opts_t *o, char *err, size_t errlen);
/* cli_cp_tree.c: cp of directories, as tar streams (GET/PUT .../files/archive).
 * Downloads of anything but '-' go this way too. */
int   cli_cp_tree_upload(const cli_opts_t *o, const char *local, const char *id,
                         const char *rpath);
int   cli_cp_tree_download(const cli_opts_t *o, const char *id, const char *rpath,
                           const char *local);
/* cli_cp.c: the common end of a transfer (error report, --json), and
 * /api/v1/hiveboxes/ID/ROUTE?path=RPATH (malloc'd). */
int   cli_cp_finish(const cli_opts_t *o, cli_resp_t *r, int rc);
char *cli_files_url(const char *id, const char *route, const char *rpath);
/* cli_exec.c: shared by exec and run. */
int   cli_exec_in(const cli_opts_t *o, const char *id, bool as_run);
/* cli_sse.c: server-sent events split as they arrive; fn gets each
 * event's name and data line (data may be modified). A non-zero return:
 * an event past 16 MiB (told on stderr). Free buf after. */
typedef struct {
    char  *buf;
    size_t len, cap;
} cli_sse_frames_t;
typedef void cli_sse_fn(void *ud, const char *name, char *data);
int   cli_sse_feed(cli_sse_frames_t *f, const void *p, size_t n, cli_sse_fn *fn, void *ud);
/* Server-sent output events (exec's stream, a process's output): stdout
 * and stderr events to ours, `exit` sets code, `dropped` and `error` are
 * told on stderr. Feed cli_sse_sink (a cli_http_* sink); free frames.buf after. */
typedef struct {
    cli_sse_frames_t frames;
    int    code;       /* from `exit`; -1 until then */
    bool   failed;     /* an `error` event, or a malformed one */
    bool   ended;      /* `end`: the output so far, the process still runs */
} cli_sse_t;
int   cli_sse_sink(void *ud, const void *p, size_t n);

/* cli_main.c */
void  cli_usage(FILE *out);
/* argv[0] is the subcommand. Parses, prints usage on --help (returns 1)
 * or on a bad command line (returns -1); checks the number of positionals
 * and whether a "-- CMD..." is required (wants_cmd) or forbidden. */
int   cli_parse_cmd(int argc, char **argv, unsigned allowed, const char *usage, size_t min_pos,
                    size_t max_pos, bool wants_cmd, cli_opts_t *o);
/* A sandbox id given on the command line; prints why when invalid. */
bool  cli_id_ok(const char *id);
/* Dispatches argv[0] (a CLI subcommand); -1 if argv[0] is not one. */
int   cli_dispatch(int argc, char **argv);

#endif
