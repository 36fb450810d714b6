/* One `opencode serve` process: its state directory, spawning, the record
 * that lets a restarted daemon adopt it, liveness, stopping, health checks.
 *
 * Layout (the sandbox never sees any of it: it
 * lives beside the sandbox's root, not in it):
 *   <sandbox dir>/opencode/           HB_OC_DIR: root 0711; the rest belongs to the server
 *     server                          pid, start time, port, password (0600)
 *     opencode.log                    OpenCode's stdout/stderr (0600)
 *     home/ config/opencode/ data/ cache/ state/ tmp/ work/
 *     config/opencode/opencode.json   its config (0600, no LLM key in it)
 *     config/opencode/hivebox.md      its instructions
 *
 * The server does not run as root: it is started through setpriv(1) as
 * HB_OC_UID_BASE + the sandbox's uid slot (one uid per sandbox), with no
 * capabilities, no supplementary groups and
 * no_new_privs, and its state dir belongs to that uid. So even a route of
 * OpenCode's that the proxy does not know to refuse cannot act as root on
 * the host. (Without setpriv it runs as root, with a warning.)
 *
 * The process runs in its own process group with a clean environment:
 * PATH, HOME, XDG_*, LANG, OpenCode's switches, OPENCODE_SERVER_PASSWORD and
 * (only if the sandbox has one) the LLM key in HB_OC_KEY_ENV. Never anything
 * of the daemon's environment.
 */
#ifndef HB_OPENCODE_PROC_H
#define HB_OPENCODE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hberr.h"

#define HB_OC_DIR        "opencode"
#define HB_OC_PORT_BASE  14000
#define HB_OC_PORT_LAST  65000
#define HB_OC_USER       "opencode"
#define HB_OC_PASS_LEN   48      /* hex characters */
#define HB_OC_AUTH_MAX   128     /* "Basic " + base64("opencode:" + password) */
/* A server runs as HB_OC_UID_BASE + its sandbox's uid slot: below the
 * sandboxes' own uid ranges (HB_UID_BASE). */
#define HB_OC_UID_BASE   0x3f000000u

typedef struct {
    pid_t    pid;        /* 0: none */
    uint64_t start;      /* /proc/<pid>/stat starttime: guards against pid reuse */
    int      pidfd;      /* -1: none */
    bool     child;      /* spawned by this daemon: reap it */
    uint16_t port;
    char     password[HB_OC_PASS_LEN + 1];
} hb_oc_proc_t;

/* The opencode binary: configured (HIVEBOX_OPENCODE_BIN), else
 * <dir of our executable>/opencode/node_modules/.bin/opencode, else
 * <prefix>/lib/hivebox/opencode/node_modules/.bin/opencode, else `opencode`
 * on PATH. 0 with path filled if executable, -1 otherwise (path holds the
 * first place looked at, for the message). */
int hb_oc_find_bin(const char *configured, char *path, size_t len);

/* Is port free on 127.0.0.1 right now? */
bool hb_oc_port_free(uint16_t port);
/* A random password (hex) into buf (HB_OC_PASS_LEN + 1). */
int hb_oc_password(char *buf, hb_err_t *e);
/* "Basic <base64(opencode:password)>" into buf (HB_OC_AUTH_MAX). */
void hb_oc_auth_header(const char *password, char *buf, size_t len);

/* setpriv, to start the server unprivileged; NULL if there is none. */
const char *hb_oc_setpriv(void);
/* <sb_dir>/opencode and its subdirectories, 0700, owned by the server's
 * uid; path of one file in it; hand one file over to the server's uid. */
int hb_oc_state_prepare(const char *sb_dir, hb_err_t *e);
int hb_oc_state_own(const char *sb_dir, const char *rel, hb_err_t *e);
void hb_oc_state_path(char *buf, size_t len, const char *sb_dir, const char *rel);
/* Delete <sb_dir>/opencode entirely. */
int hb_oc_state_remove(const char *sb_dir, hb_err_t *e);

/* Start `bin serve --hostname 127.0.0.1 --port p->port` with p->password
 * (both set by the caller) and llm_key (may be NULL). Fills pid, start,
 * pidfd, child and writes the record. */
int hb_oc_spawn(const char *bin, const char *sb_dir, const char *llm_key, hb_oc_proc_t *p,
                hb_err_t *e);

/* The record of a previous daemon's server: 0 and p filled (pidfd opened,
 * child false) if that very process is still running, -1 otherwise. */
int hb_oc_adopt(const char *sb_dir, hb_oc_proc_t *p);

/* Has it exited? Reaps it if it is our child. */
bool hb_oc_exited(hb_oc_proc_t *p);
/* SIGTERM to the server (graceful). */
void hb_oc_term(hb_oc_proc_t *p);
/* SIGKILL to its whole process group, wait up to wait_ms for the server to
 * go, close the pidfd. p is reset to "none". Returns the pid of our child if
 * it could not be reaped yet (the caller reaps it later), else 0. */
pid_t hb_oc_kill(hb_oc_proc_t *p, int wait_ms);
/* Release the pidfd without touching the process (daemon shutdown). */
void hb_oc_proc_release(hb_oc_proc_t *p);

/* Kill whatever server the record in sb_dir names, if it still runs (for
 * sandboxes found dead at daemon start, which never get a proxy entry). */
void hb_oc_kill_recorded(const char *sb_dir);

/* GET http://127.0.0.1:port/global/health with auth: true on 200. */
bool hb_oc_health(uint16_t port, const char *auth, long timeout_ms);

#endif
