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
    HB_RT_FILES_ARCHIVE,   /* /api/v1/hiveboxes/:id/files/archive */
    HB_RT_MCP,             /* /api/v1/hiveboxes/:id/mcp */
    HB_RT_OPENCODE,        /* /api/v1/hiveboxes/:id/opencode and everything under it */
    HB_RT_ANALYTICS,       /* /api/v1/analytics */
    HB_RT_API_OTHER,       /* anything else under /api/: authenticated 404 */
    HB_RT_KILL_ALL,        /* /api/v1/hiveboxes/:id/processes/kill-all */
} hb_route_kind_t;

typedef struct {
    hb_route_kind_t kind;
    char id[HB_ID_MAX];    /* sandbox routes; "" when the id is not a valid name */
    bool bad_id;           /* the path had an id segment that cannot be a name */
} hb_route_t;

void hb_route_match(const char *path, hb_route_t *r);
/* Whether the route needs the API key. */
bool hb_route_needs_auth(hb_route_kind_t k);

#endif
