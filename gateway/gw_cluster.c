/* Where a request is answered, with the cluster on (gw_cluster.h). */
#include "gw_cluster.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "apikey.h"   /* HB_APIKEY_MAX */

#include "cluster.h"

bool hb_gw_cluster_peer(const hb_req_t *r)
{
    return hb_cluster_on() && hb_cluster_token_ok(mg_get_header(r->c, HB_CL_TOKEN_HDR));
}

void hb_gw_cluster_peer_as_admin(hb_req_t *r)
{
    /* One per worker thread, alive for its request. */
    static __thread char authz[HB_APIKEY_MAX + 8];
    struct mg_request_info *ri = (struct mg_request_info *)r->ri;   /* the connection's */
    snprintf(authz, sizeof authz, "Bearer %s", r->conf->api_key);
    /* Checked: the token goes no further (a handler, a service, a log). */
    for (int i = 0; i < ri->num_headers; i++)
        if (ri->http_headers[i].name && strcasecmp(ri->http_headers[i].name, HB_CL_TOKEN_HDR) == 0)
            ri->http_headers[i--] = ri->http_headers[--ri->num_headers];
    for (int i = 0; i < ri->num_headers; i++)
        if (ri->http_headers[i].name && strcasecmp(ri->http_headers[i].name, "Authorization") == 0) {
            ri->http_headers[i].value = authz;
            return;
        }
    if (ri->num_headers < MG_MAX_HEADERS) {
        ri->http_headers[ri->num_headers].name = "Authorization";
        ri->http_headers[ri->num_headers++].value = authz;
    }
}

/* Routes that carry their own credential: forwarded without ours, the
 * owner checks it (a WebSocket ticket, the MCP token, a preview token). */
static bool own_credential(const hb_route_t *rt)
{
    return rt->kind == HB_RT_TERMINAL || rt->kind == HB_RT_MCP || rt->kind == HB_RT_PORT ||
           (rt->kind == HB_RT_PROCESS && rt->action == HB_PA_WS);
}

/* DELETE of a sandbox whose node is away: its key is marked, the node
 * destroys it when it comes back. */
static int destroy_lost(hb_req_t *r, const char *node)
{
    hb_err_t e = {0};
    if (hb_cluster_mark_destroy(r->route.id, &e) < 0)
        return hb_reply_err(r, &e);
    return hb_reply_json(r->c, 202, json_pack("{s:s, s:s, s:s}", "id", r->route.id, "status",
                                              "destroying", "node", node));
}

static int sandbox_route(hb_req_t *r, bool admin)
{
    char node[HB_CL_NAME_MAX], url[HB_CL_URL_MAX];
    if (mg_get_header(r->c, HB_CL_FWD_HDR))
        return -1;   /* forwarded once already: answered here */
    if (!admin && !own_credential(&r->route))
        return -1;   /* the usual 401, decided before any look-up */
    /* Only an admin's request may ask etcd for an id the snapshot does not
     * know: one without a checked credential never waits on etcd. */
    hb_cl_where_t w = hb_cluster_where(r->route.id, node, url, admin);
    if (w == HB_CL_LOCAL)
        return -1;
    int status = w == HB_CL_REMOTE ? hb_gw_cluster_forward(r, node, url, admin) : -1;
    if (status >= 0)
        return status;
    if (r->route.kind == HB_RT_SANDBOX && hb_method_is(r, "DELETE"))
        return destroy_lost(r, node);
    return hb_reply_error(r->c, 503, "sandbox %s is on node %s, which is lost (its lease "
                          "expired): it answers again when the node comes back", r->route.id,
                          node);
}

int hb_gw_cluster_dispatch(hb_req_t *r, bool admin, bool peer)
{
    const hb_route_t *rt = &r->route;
    if (rt->kind == HB_RT_HEALTHZ && hb_method_is(r, "GET"))
        return hb_gw_cluster_healthz(r);
    if (rt->kind == HB_RT_SANDBOXES && admin && hb_method_is(r, "POST"))
        return hb_gw_cluster_create(r, peer);
    if (rt->kind == HB_RT_SANDBOXES && admin && !peer && hb_method_is(r, "GET"))
        return hb_gw_cluster_list(r);
    if (!rt->id[0] || rt->kind == HB_RT_IMAGE || rt->kind == HB_RT_IMAGE_LOG ||
        rt->kind == HB_RT_API_OTHER)
        return -1;
    return peer ? -1 : sandbox_route(r, admin);
}
