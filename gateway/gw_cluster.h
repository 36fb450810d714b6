/* Issue 20: the gateway's side of the cluster (actors/cluster.h). Any node
 * answers any request: one for a sandbox another node holds is forwarded
 * to it (gw_cluster_fwd.c, streaming both ways through the preview relay),
 * a create is placed (gw_cluster_create.c), the list is the cluster's
 * (gw_cluster_list.c). Between nodes the credential is --cluster-token in
 * X-HiveBox-Cluster-Token; the API key never goes on that wire. */
#ifndef HB_GW_CLUSTER_H
#define HB_GW_CLUSTER_H

#include "gw_internal.h"

#define HB_CL_FWD_HDR "X-HiveBox-Forwarded"   /* one hop at most */

/* A request from another node of this cluster (its token is right). */
bool hb_gw_cluster_peer(const hb_req_t *r);
/* A peer's request, on this node: handlers that check the API key
 * themselves (MCP, the preview port's admin routes) see this node's own
 * key in its Authorization header -- set in memory here, never sent by
 * the peer: the token was the credential on the wire. */
void hb_gw_cluster_peer_as_admin(hb_req_t *r);
/* Before authentication, with the cluster on: the status sent, or -1 when
 * this node answers the request the usual way. admin: the request carries
 * the API key or comes from a peer. */
int hb_gw_cluster_dispatch(hb_req_t *r, bool admin, bool peer);
/* GET /healthz with the cluster on: "ok" and a line on etcd. */
int hb_gw_cluster_healthz(hb_req_t *r);
/* GET /api/v1/nodes: the nodes, their capacity, and the totals. */
int hb_h_nodes(hb_req_t *r);
/* Its body: {"node", "nodes": [...], "totals": {...}}; also the "cluster"
 * member of GET /api/v1/analytics. */
json_t *hb_gw_cluster_nodes_json(void);

/* gw_cluster_fwd.c: the request as it is, to the node at url; the status,
 * or -1 (nothing sent) when the node cannot be reached and is lost. */
int hb_gw_cluster_forward(hb_req_t *r, const char *node, const char *url, bool admin);
/* gw_cluster_create.c: POST /api/v1/hiveboxes, placed (peer: here). */
int hb_gw_cluster_create(hb_req_t *r, bool peer);
/* gw_cluster_list.c: GET /api/v1/hiveboxes, the cluster's. */
int hb_gw_cluster_list(hb_req_t *r);

/* gw_sandbox.c: a create from a body already read (the cluster's create
 * calls it once the name is reserved). */
int hb_gw_create_body(hb_req_t *r, const char *body, size_t len);

#endif
