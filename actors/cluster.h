/* Issue 20: a cluster of nodes coordinated by etcd (DESIGN decision 19,
 * docs/scale-out.md). Each node stays authoritative for its own sandboxes;
 * etcd holds the nodes (each under a lease, with its capacity and labels)
 * and the sandbox -> node map (/hivebox/sandboxes/<id>, created only if
 * absent: names are unique across the cluster).
 *
 * One thread (cluster_sync.c) does the etcd I/O: it keeps the lease alive,
 * writes the node's capacity, reconciles this node's sandbox keys with the
 * manager's list (a key added for a sandbox without one, removed for one
 * that is gone, a sandbox destroyed when another node marked its key while
 * this node was away) and refreshes a snapshot of the nodes and the
 * sandbox map that the gateway reads without waiting on etcd. Without
 * --cluster none of it runs: hb_cluster_on() is false. */
#ifndef HB_CLUSTER_H
#define HB_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "hberr.h"
#include "messages.h"   /* hb_sbinfo_t */

#define HB_CL_PREFIX_NODES     "/hivebox/nodes/"
#define HB_CL_PREFIX_SANDBOXES "/hivebox/sandboxes/"
#define HB_CL_TOKEN_HDR        "X-HiveBox-Cluster-Token"
#define HB_CL_NAME_MAX         64
#define HB_CL_URL_MAX          256
#define HB_CL_TOKEN_MIN        16
#define HB_CL_TOKEN_MAX        256
#define HB_CL_LABEL_MAX        128   /* one label's "key=value" */

typedef struct {
    const hb_config_t *cfg;      /* --cluster, --node-name, ... */
    const char        *manager;  /* the manager's inbox (its list, destroys) */
    const char        *host;     /* --host and --port: the default --advertise */
    int                port;
} hb_cluster_args_t;

/* Validates the flags and starts the thread (no etcd call before it runs:
 * a daemon starts with etcd down). 0, or -1 with *e naming the flag. A
 * no-op (0) without --cluster. */
int hb_cluster_start(const hb_cluster_args_t *a, hb_err_t *e);
void hb_cluster_stop(void);   /* the node's key goes with its lease */

bool hb_cluster_on(void);
const char *hb_cluster_node(void);   /* this node's name */
/* The inter-node header's value is this cluster's token (constant time). */
bool hb_cluster_token_ok(const char *hdr);
const char *hb_cluster_token(void);

typedef enum { HB_CL_LOCAL, HB_CL_REMOTE, HB_CL_LOST } hb_cl_where_t;
/* Where sandbox id lives: LOCAL (this node, or nowhere known: the local
 * handler answers 404), REMOTE with its node and URL, LOST with the node
 * whose lease expired. Never waits on etcd for a sandbox of this node;
 * asks etcd (a blocking GET) for an id or node the snapshot does not show
 * only when ask_etcd (an authenticated caller), else the snapshot decides. */
hb_cl_where_t hb_cluster_where(const char *id, char node[HB_CL_NAME_MAX],
                               char url[HB_CL_URL_MAX], bool ask_etcd);

/* Whether node's key is in etcd now (true when etcd cannot tell). */
bool hb_cluster_node_registered(const char *node);
/* Copies of the snapshot: node name -> node object, and sandbox id -> its
 * key's object ({"node", "status", "row", ...}). Caller decrefs. */
json_t *hb_cluster_nodes(void);
json_t *hb_cluster_sandboxes(void);
/* The sandbox map and the nodes read from etcd now (the lists), the
 * snapshot when etcd does not answer. */
json_t *hb_cluster_sandboxes_now(void);
json_t *hb_cluster_nodes_now(void);
bool hb_cluster_node_alive(const json_t *nodes, const char *node);

/* Create: the key for id on this node, created only if absent (blocking on
 * etcd: a create needs it). 0; HB_E_EXISTS naming the node holding it;
 * HB_E_UNAVAIL when etcd cannot be reached. */
int hb_cluster_reserve(const char *id, hb_err_t *e);
/* The create of a reserved id ended: ok keeps the key (the sync thread
 * fills it in), otherwise it is removed. */
void hb_cluster_created(const char *id, bool ok);
/* A sandbox just created here, before the 201: its key gets its row, so
 * every node lists it as soon as the create has answered. */
void hb_cluster_created_row(const hb_sbinfo_t *s);
/* A sandbox of this node destroyed, before the 200: its key goes now
 * while etcd answers (else at the next round, so that a destroy never
 * waits for an etcd that is down). */
void hb_cluster_destroyed(const char *id);
/* A destroy of a lost sandbox: its key is marked, and its node destroys it
 * when it comes back. 0, or -1 with *e (etcd unreachable). */
int hb_cluster_mark_destroy(const char *id, hb_err_t *e);
/* Something changed here (a destroy): reconcile now rather than later. */
void hb_cluster_kick(void);

/* The nodes for a new sandbox: the live nodes whose labels hold every
 * pair of selector (NULL: any) and that have room, the most free memory
 * first: [{"name", "url", "room"}...] (this node among them), or NULL with
 * *e (HB_E_UNAVAIL). */
json_t *hb_cluster_candidates(const json_t *selector, uint64_t memory, hb_err_t *e);

/* For /healthz: false with why (the last etcd error) when etcd is not
 * reachable from this node. */
bool hb_cluster_healthy(char *why, size_t cap);

#endif
