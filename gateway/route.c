/* URL routing (see route.h). A trailing slash is tolerated everywhere. */
#include "route.h"

#include <string.h>

#define SB_PREFIX "/api/v1/hiveboxes/"
#define IMAGE_PREFIX "/api/v1/images/"

static bool path_is(const char *p, size_t n, const char *want)
{
    size_t w = strlen(want);
    return (n == w || (n == w + 1 && p[w] == '/')) && memcmp(p, want, w) == 0;
}

static const struct {
    const char *tail;
    hb_proc_action_t action;
} proc_actions[] = {
    {"", HB_PA_NONE},           {"/output", HB_PA_OUTPUT}, {"/stdin", HB_PA_STDIN},
    {"/stdin/close", HB_PA_STDIN_CLOSE}, {"/signal", HB_PA_SIGNAL},
    {"/resize", HB_PA_RESIZE},  {"/ws", HB_PA_WS},         {"/ticket", HB_PA_TICKET},
};

/* rest: what follows "/processes/" (not "kill-all"). */
static void match_process(const char *rest, hb_route_t *r)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *tail = slash ? slash : "";
    r->kind = HB_RT_PROCESS;
    r->bad_proc = n == 0 || n >= HB_PROC_SEL_MAX;
    if (!r->bad_proc) {
        memcpy(r->proc, rest, n);
        r->proc[n] = '\0';
    }
    r->action = HB_PA_UNKNOWN;
    size_t tn = strlen(tail);
    for (size_t i = 0; i < sizeof proc_actions / sizeof proc_actions[0]; i++)
        if (path_is(tail, tn, proc_actions[i].tail))
            r->action = proc_actions[i].action;
}

/* /api/v1/images/<name>[/][log]: the name goes in r->id, "" when it cannot
 * be an image name (the handler answers 404); other paths are not ours. */
static void match_image(const char *rest, hb_route_t *r)
{
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *tail = slash ? slash : "";
    if (n == 0) {
        r->kind = HB_RT_API_OTHER;
        return;
    }
    if (path_is(tail, strlen(tail), "") || !*tail)
        r->kind = HB_RT_IMAGE;
    else if (path_is(tail, strlen(tail), "/log"))
        r->kind = HB_RT_IMAGE_LOG;
    else {
        r->kind = HB_RT_API_OTHER;
        return;
    }
    if (n < HB_ID_MAX) {
        memcpy(r->id, rest, n);
        r->id[n] = '\0';
        if (!hb_name_valid(r->id))
            r->id[0] = '\0';
    }
}

/* issue 16: /ports (the list) and /ports/:port[/...] (the proxy, which
 * checks its own credentials): true when tail is one of them. */
static bool match_ports(const char *tail, size_t tn, hb_route_t *r)
{
    if (path_is(tail, tn, "/ports"))
        r->kind = HB_RT_PORTS;
    else if (strncmp(tail, "/ports/", 7) == 0)
        r->kind = HB_RT_PORT;
    else
        return false;
    return true;
}

/* The routes under /api/v1/hiveboxes/:id that are one exact tail. */
static const struct {
    const char *tail;
    hb_route_kind_t kind;
} sandbox_tails[] = {
    {"/exec", HB_RT_EXEC},
    {"/files", HB_RT_FILES},
    {"/files/list", HB_RT_FILES_LIST},
    {"/files/mkdir", HB_RT_FILES_MKDIR},
    {"/files/move", HB_RT_FILES_MOVE},
    {"/files/archive", HB_RT_FILES_ARCHIVE},
    {"/timeout", HB_RT_TIMEOUT},
    {"/pause", HB_RT_PAUSE},
    {"/resume", HB_RT_RESUME},
    {"/snapshots", HB_RT_SNAPSHOTS},
    {"/fork", HB_RT_FORK},
    {"/restore", HB_RT_RESTORE},
    {"/stats", HB_RT_STATS},
    {"/network", HB_RT_NETWORK},   /* issue 16: egress policy */
    {"/processes/kill-all", HB_RT_KILL_ALL},
    {"/processes", HB_RT_PROCESSES},
    {"/terminal", HB_RT_TERMINAL},
    {"/terminal/ticket", HB_RT_TERMINAL_TICKET},
    {"/mcp", HB_RT_MCP},
    {"/opencode", HB_RT_OPENCODE},
};

/* The route of what follows the sandbox id (tail: "" or "/..."). */
static void match_sandbox_tail(const char *tail, hb_route_t *r)
{
    size_t tn = strlen(tail);
    if (tn == 0 || path_is(tail, tn, "")) {
        r->kind = HB_RT_SANDBOX;
        return;
    }
    for (size_t i = 0; i < sizeof sandbox_tails / sizeof sandbox_tails[0]; i++) {
        if (path_is(tail, tn, sandbox_tails[i].tail)) {
            r->kind = sandbox_tails[i].kind;
            return;
        }
    }
    if (match_ports(tail, tn, r))   /* issue 16: preview ports */
        return;
    if (strncmp(tail, "/processes/", 11) == 0)
        match_process(tail + 11, r);
    else if (strncmp(tail, "/opencode/", 10) == 0)
        r->kind = HB_RT_OPENCODE;
    else
        r->kind = HB_RT_API_OTHER;
}

static void match_sandbox(const char *rest, hb_route_t *r)
{
    const char *slash = strchr(rest, '/');
    size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (idlen == 0) {
        r->kind = HB_RT_API_OTHER;
        return;
    }
    r->bad_id = true;
    if (idlen < HB_ID_MAX) {
        memcpy(r->id, rest, idlen);
        r->id[idlen] = '\0';
        r->bad_id = !hb_name_valid(r->id);
    }
    if (r->bad_id)
        r->id[0] = '\0';
    match_sandbox_tail(slash ? slash : "", r);
}

static void match(const char *path, hb_route_t *r);
static hb_route_tpl_t tpl_of(const hb_route_t *r, const char *path);

void hb_route_match(const char *path, hb_route_t *r)
{
    match(path, r);
    r->tpl = tpl_of(r, path);
}

static void match(const char *path, hb_route_t *r)
{
    memset(r, 0, sizeof *r);
    if (!path)
        return;
    size_t n = strlen(path);
    if (path_is(path, n, "/healthz"))
        r->kind = HB_RT_HEALTHZ;
    else if (path_is(path, n, "/metrics"))
        r->kind = HB_RT_METRICS;
    else if (path_is(path, n, "/dashboard") || strncmp(path, "/dashboard/", 11) == 0)
        r->kind = HB_RT_DASHBOARD;
    else if (path_is(path, n, "/api/v1/openapi.json"))
        r->kind = HB_RT_OPENAPI;
    else if (path_is(path, n, "/api/v1/hiveboxes"))
        r->kind = HB_RT_SANDBOXES;
    else if (path_is(path, n, "/api/v1/analytics"))
        r->kind = HB_RT_ANALYTICS;
    else if (path_is(path, n, "/api/v1/events"))
        r->kind = HB_RT_EVENTS;
    else if (path_is(path, n, "/api/v1/images"))
        r->kind = HB_RT_IMAGES;
    else if (strncmp(path, IMAGE_PREFIX, strlen(IMAGE_PREFIX)) == 0)
        match_image(path + strlen(IMAGE_PREFIX), r);
    else if (path_is(path, n, "/api/v1/skills"))
        r->kind = HB_RT_SKILLS;
    /* -- issue 20: cluster (owner: cluster) -- */
    else if (path_is(path, n, "/api/v1/nodes"))
        r->kind = HB_RT_NODES;
    else if (path_is(path, n, "/sandboxes") || strncmp(path, "/sandboxes/", 11) == 0 ||
             path_is(path, n, "/v2/sandboxes") || strncmp(path, "/v2/sandboxes/", 14) == 0)
        r->kind = HB_RT_E2B;   /* gateway/e2b/e2b_api.c checks its own key */
    else if (strncmp(path, SB_PREFIX, strlen(SB_PREFIX)) == 0)
        match_sandbox(path + strlen(SB_PREFIX), r);
    else if (strncmp(path, "/api/", 5) == 0 || path_is(path, n, "/api"))
        r->kind = HB_RT_API_OTHER;
}

bool hb_route_needs_auth(hb_route_kind_t k)
{
    return k != HB_RT_HEALTHZ && k != HB_RT_DASHBOARD && k != HB_RT_NONE && k != HB_RT_E2B &&
           k != HB_RT_METRICS && k != HB_RT_PORT;
}

/* ---- templates (route.h) ---- */

#define HB_TPL_NAME(name, text) text,
static const char *const TPL_NAMES[] = {HB_ROUTE_TPLS(HB_TPL_NAME)};
#undef HB_TPL_NAME

const char *hb_route_tpl_name(hb_route_tpl_t t)
{
    return (unsigned)t < HB_TPL_COUNT ? TPL_NAMES[t] : TPL_NAMES[HB_TPL_OTHER];
}

const char *hb_route_template(const hb_route_t *r) { return hb_route_tpl_name(r->tpl); }

static hb_route_tpl_t process_tpl(hb_proc_action_t a)
{
    static const hb_route_tpl_t by_action[] = {
        [HB_PA_NONE] = HB_TPL_PROCESS,           [HB_PA_OUTPUT] = HB_TPL_PROC_OUTPUT,
        [HB_PA_STDIN] = HB_TPL_PROC_STDIN,       [HB_PA_STDIN_CLOSE] = HB_TPL_PROC_STDIN_CLOSE,
        [HB_PA_SIGNAL] = HB_TPL_PROC_SIGNAL,     [HB_PA_RESIZE] = HB_TPL_PROC_RESIZE,
        [HB_PA_WS] = HB_TPL_PROC_WS,             [HB_PA_TICKET] = HB_TPL_PROC_TICKET,
        [HB_PA_UNKNOWN] = HB_TPL_OTHER,
    };
    return (unsigned)a < sizeof by_action / sizeof by_action[0] ? by_action[a] : HB_TPL_OTHER;
}

/* E2B's control plane: "/sandboxes", "/sandboxes/:id[/action]", and the
 * same under "/v2" (the E2B_* and E2B2_* rows are in the same order). */
static hb_route_tpl_t e2b_tpl(const char *path)
{
    bool v2 = strncmp(path, "/v2/", 4) == 0;
    int off = v2 ? HB_TPL_E2B2_LIST - HB_TPL_E2B_LIST : 0;
    const char *p = path + (v2 ? 3 : 0) + strlen("/sandboxes");
    if (*p == '\0' || strcmp(p, "/") == 0)
        return (hb_route_tpl_t)(HB_TPL_E2B_LIST + off);
    const char *slash = strchr(p + 1, '/');
    if (!slash || slash[1] == '\0')
        return (hb_route_tpl_t)(HB_TPL_E2B_SANDBOX + off);
    static const struct { const char *action; hb_route_tpl_t tpl; } ACTIONS[] = {
        {"/timeout", HB_TPL_E2B_TIMEOUT}, {"/connect", HB_TPL_E2B_CONNECT},
        {"/refreshes", HB_TPL_E2B_REFRESHES}, {"/metrics", HB_TPL_E2B_METRICS},
    };
    for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
        if (strcmp(slash, ACTIONS[i].action) == 0)
            return (hb_route_tpl_t)(ACTIONS[i].tpl + off);
    return (hb_route_tpl_t)(HB_TPL_E2B_OTHER + off);
}

static hb_route_tpl_t tpl_of(const hb_route_t *r, const char *path)
{
    static const hb_route_tpl_t by_kind[] = {
        [HB_RT_NONE] = HB_TPL_OTHER,           [HB_RT_HEALTHZ] = HB_TPL_HEALTHZ,
        [HB_RT_DASHBOARD] = HB_TPL_DASHBOARD,  [HB_RT_OPENAPI] = HB_TPL_OPENAPI,
        [HB_RT_SANDBOXES] = HB_TPL_SANDBOXES,  [HB_RT_SANDBOX] = HB_TPL_SANDBOX,
        [HB_RT_EXEC] = HB_TPL_EXEC,            [HB_RT_FILES] = HB_TPL_FILES,
        [HB_RT_FILES_LIST] = HB_TPL_FILES_LIST, [HB_RT_FILES_MKDIR] = HB_TPL_FILES_MKDIR,
        [HB_RT_FILES_MOVE] = HB_TPL_FILES_MOVE, [HB_RT_FILES_ARCHIVE] = HB_TPL_FILES_ARCHIVE,
        [HB_RT_MCP] = HB_TPL_MCP,              [HB_RT_OPENCODE] = HB_TPL_OPENCODE,
        [HB_RT_ANALYTICS] = HB_TPL_ANALYTICS,  [HB_RT_EVENTS] = HB_TPL_EVENTS,
        [HB_RT_API_OTHER] = HB_TPL_OTHER,      [HB_RT_KILL_ALL] = HB_TPL_KILL_ALL,
        [HB_RT_PROCESSES] = HB_TPL_PROCESSES,  [HB_RT_PROCESS] = HB_TPL_PROCESS,
        [HB_RT_TERMINAL] = HB_TPL_TERMINAL,    [HB_RT_TERMINAL_TICKET] = HB_TPL_TERMINAL_TICKET,
        [HB_RT_IMAGES] = HB_TPL_IMAGES,        [HB_RT_SKILLS] = HB_TPL_SKILLS,
        [HB_RT_E2B] = HB_TPL_E2B_LIST,         [HB_RT_TIMEOUT] = HB_TPL_TIMEOUT,
        [HB_RT_STATS] = HB_TPL_STATS,          [HB_RT_METRICS] = HB_TPL_METRICS,
        [HB_RT_PAUSE] = HB_TPL_PAUSE,          [HB_RT_RESUME] = HB_TPL_RESUME,
        [HB_RT_SNAPSHOTS] = HB_TPL_SNAPSHOTS,  [HB_RT_FORK] = HB_TPL_FORK,
        [HB_RT_RESTORE] = HB_TPL_RESTORE,      [HB_RT_IMAGE] = HB_TPL_IMAGE,
        [HB_RT_IMAGE_LOG] = HB_TPL_IMAGE_LOG,  [HB_RT_NETWORK] = HB_TPL_NETWORK,
        [HB_RT_PORTS] = HB_TPL_PORTS,          [HB_RT_PORT] = HB_TPL_PORT,
        [HB_RT_NODES] = HB_TPL_NODES,   /* issue 20: cluster (owner: cluster) */
    };
    if (r->kind == HB_RT_E2B)
        return e2b_tpl(path);
    if (r->kind == HB_RT_PROCESS)
        return process_tpl(r->action);
    return (unsigned)r->kind < sizeof by_kind / sizeof by_kind[0] ? by_kind[r->kind]
                                                                  : HB_TPL_OTHER;
}
