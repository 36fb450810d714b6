/* URL routing: a request path to a route and the sandbox id in it. Pure, so
 * it is unit tested and fuzzed. */
#ifndef HB_ROUTE_H
#define HB_ROUTE_H

#include "runtime.h"

typedef enum {
    HB_RT_NONE = 0,        /* not ours: 404 */
    HB_RT_HEALTHZ,         /* /healthz */
    HB_RT_DASHBOARD,       /* /dashboard, /dashboard/... */
    HB_RT_OPENAPI,         /* /api/v1/openapi.json */
    HB_RT_SANDBOXES,       /* /api/v1/hiveboxes */
    HB_RT_SANDBOX,         /* /api/v1/hiveboxes/:id */
    HB_RT_EXEC,            /* /api/v1/hiveboxes/:id/exec */
    HB_RT_FILES,           /* /api/v1/hiveboxes/:id/files */
    HB_RT_FILES_LIST,      /* /api/v1/hiveboxes/:id/files/list */
    HB_RT_FILES_MKDIR,     /* /api/v1/hiveboxes/:id/files/mkdir */
    HB_RT_FILES_MOVE,      /* /api/v1/hiveboxes/:id/files/move */
    HB_RT_FILES_ARCHIVE,   /* /api/v1/hiveboxes/:id/files/archive */
    HB_RT_MCP,             /* /api/v1/hiveboxes/:id/mcp */
    HB_RT_OPENCODE,        /* /api/v1/hiveboxes/:id/opencode and everything under it */
    HB_RT_ANALYTICS,       /* /api/v1/analytics */
    HB_RT_EVENTS,          /* /api/v1/events */
    HB_RT_API_OTHER,       /* anything else under /api/: authenticated 404 */
    HB_RT_KILL_ALL,        /* /api/v1/hiveboxes/:id/processes/kill-all */
    HB_RT_PROCESSES,       /* /api/v1/hiveboxes/:id/processes */
    HB_RT_PROCESS,         /* /api/v1/hiveboxes/:id/processes/:sel[/action] */
    HB_RT_TERMINAL,        /* /api/v1/hiveboxes/:id/terminal */
    HB_RT_TERMINAL_TICKET, /* /api/v1/hiveboxes/:id/terminal/ticket */
    HB_RT_IMAGES,          /* /api/v1/images */
    HB_RT_SKILLS,          /* /api/v1/skills */
    HB_RT_E2B,             /* E2B's control plane: /sandboxes..., /v2/sandboxes... */
    HB_RT_TIMEOUT,         /* /api/v1/hiveboxes/:id/timeout */
    HB_RT_STATS,           /* /api/v1/hiveboxes/:id/stats */
    HB_RT_METRICS,         /* /metrics (its own tokens: gw_metrics.c) */
    HB_RT_PAUSE,           /* /api/v1/hiveboxes/:id/pause */
    HB_RT_RESUME,          /* /api/v1/hiveboxes/:id/resume */
    HB_RT_SNAPSHOTS,       /* /api/v1/hiveboxes/:id/snapshots */
    HB_RT_FORK,            /* /api/v1/hiveboxes/:id/fork */
    HB_RT_RESTORE,         /* /api/v1/hiveboxes/:id/restore */
    HB_RT_IMAGE,           /* /api/v1/images/:name (the name in id) */
    HB_RT_IMAGE_LOG,       /* /api/v1/images/:name/log (a build's log) */
    /* -- issue 16: preview ports (owner: preview) -- */
    HB_RT_PORTS,           /* /api/v1/hiveboxes/:id/ports */
    HB_RT_PORT,            /* /api/v1/hiveboxes/:id/ports/:port[/...], and the host form */
    /* -- issue 16: egress policy (owner: egress) -- */
    HB_RT_NETWORK,         /* /api/v1/hiveboxes/:id/network */
    /* -- issue 20: cluster (owner: cluster) -- */
    HB_RT_NODES,           /* /api/v1/nodes */
} hb_route_kind_t;

/* What follows /processes/:sel (HB_RT_PROCESS). */
typedef enum {
    HB_PA_NONE = 0,        /* the process itself: GET, DELETE */
    HB_PA_OUTPUT,          /* /output */
    HB_PA_STDIN,           /* /stdin */
    HB_PA_STDIN_CLOSE,     /* /stdin/close */
    HB_PA_SIGNAL,          /* /signal */
    HB_PA_RESIZE,          /* /resize */
    HB_PA_WS,              /* /ws */
    HB_PA_TICKET,          /* /ticket */
    HB_PA_UNKNOWN,         /* anything else: 404 */
} hb_proc_action_t;

#define HB_PROC_SEL_MAX 72   /* a pid or a tag (HB_TAG_MAX), terminated */

/* Route templates, for the access log and the HTTP metrics: a bounded set
 * of names, never the raw path (ids, tags and query strings stay out). */
#define HB_SB_TPL "/api/v1/hiveboxes/:id"
#define HB_ROUTE_TPLS(X)                                                       \
    X(OTHER, "other")                                                          \
    X(HEALTHZ, "/healthz")                                                     \
    X(METRICS, "/metrics")                                                     \
    X(DASHBOARD, "/dashboard")                                                 \
    X(OPENAPI, "/api/v1/openapi.json")                                         \
    X(ANALYTICS, "/api/v1/analytics")                                          \
    X(EVENTS, "/api/v1/events")                                                \
    X(IMAGES, "/api/v1/images")                                                \
    X(IMAGE, "/api/v1/images/:name")                                           \
    X(IMAGE_LOG, "/api/v1/images/:name/log")                                   \
    X(PORTS, HB_SB_TPL "/ports")                                               \
    X(PORT, HB_SB_TPL "/ports/:port/*")                                        \
    X(SKILLS, "/api/v1/skills")                                                \
    X(SANDBOXES, "/api/v1/hiveboxes")                                          \
    X(SANDBOX, HB_SB_TPL)                                                      \
    X(EXEC, HB_SB_TPL "/exec")                                                 \
    X(FILES, HB_SB_TPL "/files")                                               \
    X(FILES_LIST, HB_SB_TPL "/files/list")                                     \
    X(FILES_MKDIR, HB_SB_TPL "/files/mkdir")                                   \
    X(FILES_MOVE, HB_SB_TPL "/files/move")                                     \
    X(FILES_ARCHIVE, HB_SB_TPL "/files/archive")                               \
    X(MCP, HB_SB_TPL "/mcp")                                                   \
    X(OPENCODE, HB_SB_TPL "/opencode/*")                                       \
    X(TIMEOUT, HB_SB_TPL "/timeout")                                           \
    X(STATS, HB_SB_TPL "/stats")                                               \
    X(PAUSE, HB_SB_TPL "/pause")                                               \
    X(RESUME, HB_SB_TPL "/resume")                                             \
    X(SNAPSHOTS, HB_SB_TPL "/snapshots")                                       \
    X(FORK, HB_SB_TPL "/fork")                                                 \
    X(RESTORE, HB_SB_TPL "/restore")                                           \
    X(NETWORK, HB_SB_TPL "/network")                                           \
    X(TERMINAL, HB_SB_TPL "/terminal")                                         \
    X(TERMINAL_TICKET, HB_SB_TPL "/terminal/ticket")                           \
    X(PROCESSES, HB_SB_TPL "/processes")                                       \
    X(KILL_ALL, HB_SB_TPL "/processes/kill-all")                               \
    X(PROCESS, HB_SB_TPL "/processes/:sel")                                    \
    X(PROC_OUTPUT, HB_SB_TPL "/processes/:sel/output")                         \
    X(PROC_STDIN, HB_SB_TPL "/processes/:sel/stdin")                           \
    X(PROC_STDIN_CLOSE, HB_SB_TPL "/processes/:sel/stdin/close")               \
    X(PROC_SIGNAL, HB_SB_TPL "/processes/:sel/signal")                         \
    X(PROC_RESIZE, HB_SB_TPL "/processes/:sel/resize")                         \
    X(PROC_WS, HB_SB_TPL "/processes/:sel/ws")                                 \
    X(PROC_TICKET, HB_SB_TPL "/processes/:sel/ticket")                         \
    X(E2B_LIST, "/sandboxes")                                                  \
    X(E2B_SANDBOX, "/sandboxes/:id")                                           \
    X(E2B_TIMEOUT, "/sandboxes/:id/timeout")                                   \
    X(E2B_CONNECT, "/sandboxes/:id/connect")                                   \
    X(E2B_REFRESHES, "/sandboxes/:id/refreshes")                               \
    X(E2B_METRICS, "/sandboxes/:id/metrics")                                   \
    X(E2B_OTHER, "/sandboxes/:id/*")                                           \
    X(E2B2_LIST, "/v2/sandboxes")                                              \
    X(E2B2_SANDBOX, "/v2/sandboxes/:id")                                       \
    X(E2B2_TIMEOUT, "/v2/sandboxes/:id/timeout")                               \
    X(E2B2_CONNECT, "/v2/sandboxes/:id/connect")                               \
    X(E2B2_REFRESHES, "/v2/sandboxes/:id/refreshes")                           \
    X(E2B2_METRICS, "/v2/sandboxes/:id/metrics")                               \
    X(E2B2_OTHER, "/v2/sandboxes/:id/*")                                       \
    X(NODES, "/api/v1/nodes")   /* issue 20: cluster (owner: cluster) */     \
    X(ENVD, "envd")   /* E2B's in-sandbox plane (an E2b-Sandbox-Id header) */

#define HB_TPL_ENUM(name, text) HB_TPL_##name,
typedef enum { HB_ROUTE_TPLS(HB_TPL_ENUM) HB_TPL_COUNT } hb_route_tpl_t;
#undef HB_TPL_ENUM

typedef struct {
    hb_route_kind_t kind;
    char id[HB_ID_MAX];    /* sandbox routes; "" when the id is not a valid name */
    bool bad_id;           /* the path had an id segment that cannot be a name */
    /* HB_RT_PROCESS: the pid or tag segment, as it was (the handler parses
     * it: all digits is a pid); bad_proc when it is empty or too long */
    char proc[HB_PROC_SEL_MAX];
    bool bad_proc;
    hb_proc_action_t action;
    hb_route_tpl_t tpl;    /* set by hb_route_match; the gateway sets ENVD */
} hb_route_t;

void hb_route_match(const char *path, hb_route_t *r);
/* Whether the route needs the API key. */
bool hb_route_needs_auth(hb_route_kind_t k);
/* "/api/v1/hiveboxes/:id/exec", "other" ...: r's template. */
const char *hb_route_template(const hb_route_t *r);
const char *hb_route_tpl_name(hb_route_tpl_t t);   /* "other" when out of range */

#endif
