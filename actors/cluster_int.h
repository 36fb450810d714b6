/* Inside the cluster module (cluster.h): its one state, shared by the API
 * (cluster.c), the sync thread (cluster_sync.c) and the node's capacity
 * (cluster_node.c). */
#ifndef HB_CLUSTER_INT_H
#define HB_CLUSTER_INT_H

#include <pthread.h>
#include <stdint.h>

#include "cluster.h"
#include "etcd.h"

#define HB_CL_ETCD_TIMEOUT_MS 1500

typedef struct {
    hb_etcd_t      *etcd;
    char            node[HB_CL_NAME_MAX];
    char            url[HB_CL_URL_MAX];
    char            token[HB_CL_TOKEN_MAX + 1];
    json_t         *labels;     /* key -> value */
    int             ttl_s;
    double          overcommit;
    int             max_sandboxes;
    const char     *manager;
    pthread_t       th;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    bool            stop, kick, running;
    /* under mu */
    json_t         *nodes;      /* name -> node object */
    json_t         *sbs;        /* id -> key object */
    json_t         *local;      /* id -> true: this node's, from the manager */
    json_t         *pending;    /* id -> true: being created here */
    json_t         *fresh;      /* id -> true: created here since the round began */
    bool            etcd_ok;
    char            why[256];
    int64_t         lease;      /* only the sync thread touches it */
} hb_cl_t;

extern hb_cl_t *hb_cl;   /* NULL without --cluster */

void *hb_cl_sync_main(void *arg);
/* This node's capacity object (cluster_node.c), from the manager's list. */
json_t *hb_cl_node_value(const hb_cl_t *c, size_t count, uint64_t mem_committed);
/* prefix/<name> -> text (a range) into name -> parsed object. */
json_t *hb_cl_parsed(const json_t *kv, const char *prefix);
void hb_cl_set_etcd(hb_cl_t *c, bool ok, const char *why);

#endif
