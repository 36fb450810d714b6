/* The proxy actor: sole owner of the OpenCode servers, one per sandbox.
 *
 * A server starts on the first request to the sandbox's agent routes (the
 * request waits for its health endpoint), or at create with
 * HIVEBOX_OPENCODE_START=eager (create does not wait); it stops after
 * HIVEBOX_OPENCODE_IDLE with no request and no open event stream; a crashed
 * one starts again on the next request; destroy stops it and deletes its
 * state; a restarted daemon adopts the servers still running (their pid,
 * port and password are recorded in the sandbox dir) when their config is
 * unchanged, and otherwise replaces them.
 *
 * Messages (schemas/messages.def): OC_OPEN / OC_CLOSE from the gateway's
 * streaming proxy (gateway/opencode/gw_opencode.c), one pair per proxied request;
 * OC_UP from a supervisor when its sandbox is up; OC_STOP (a call) before
 * a sandbox is destroyed; OC_KILL (a call) from the manager at daemon start,
 * for a sandbox found failed or unusable. The HTTP forwarding itself runs in the civetweb
 * worker (it is I/O bound); only the lifecycle lives here.
 *
 * Start it before the manager: supervisors talk to it from their first
 * moment.
 */
#ifndef HB_PROXY_H
#define HB_PROXY_H

#include <stdbool.h>

#include "actor.h"
#include "config.h"
#include "runtime.h"

#define HB_OC_NPM_VERSION "1.18.33"   /* what tools/setup.sh installs */

typedef struct {
    hb_endpoints_t ep;          /* its inbox: ep.proxy */
    const hb_runtime_t *rt;     /* must outlive the actor */
    const hb_config_t  *cfg;    /* the OpenCode settings; read at start only */
    const char *daemon_host;    /* where OpenCode reaches the MCP endpoint */
    int         daemon_port;
} hb_proxy_args_t;

/* Reads the OpenCode settings from args->cfg, warns once if OpenCode is
 * enabled but not installed. args is copied. NULL with *e if it could not
 * set up. */
zactor_t *hb_proxy_new(const hb_proxy_args_t *args, hb_err_t *e);

/* The messages other actors send to the proxy whose inbox is `proxy`. */
/* Supervisors: the sandbox is up (created: true at create, false when
 * re-attached after a restart). Fire and forget. */
void hb_proxy_sandbox_up(const char *proxy, const char *id, bool created);
/* Supervisors, before destroying a sandbox: stop its server and delete its
 * OpenCode state. Waits (bounded). */
void hb_proxy_sandbox_stop(const char *proxy, const char *id);
/* The manager, at daemon start, for a sandbox found failed or unusable:
 * kill a server left by the previous daemon; its state stays. Waits
 * (bounded), so the sandbox may be destroyed next. */
void hb_proxy_sandbox_kill(const char *proxy, const char *id);

#endif
