/* The cluster's lists (gw_cluster.h): GET /api/v1/hiveboxes from the
 * sandbox map (each row with its node; a node whose lease expired shows its
 * sandboxes "lost"), GET /api/v1/nodes with each node's capacity and the
 * totals, and /healthz's line on etcd. */
#include "gw_cluster.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "req_parse.h"

static json_int_t left(json_int_t a, json_int_t b) { return a > b ? a - b : 0; }

/* A key's object as a list row. */
static json_t *row_of(const char *id, const json_t *v, const json_t *nodes, int64_t now)
{
    const char *node = json_string_value(json_object_get(v, "node"));
    const char *status = json_string_value(json_object_get(v, "status"));
    json_int_t created = json_integer_value(json_object_get(v, "created_at"));
    json_int_t expires = json_integer_value(json_object_get(v, "expires_at"));
    json_t *row = json_deep_copy(v);
    json_object_set_new(row, "id", json_string(id));
    json_object_set_new(row, "node", json_string(node ? node : ""));
    if (!hb_cluster_node_alive(nodes, node))
        json_object_set_new(row, "status", json_string("lost"));
    else if (!status)
        json_object_set_new(row, "status", json_string("running"));
    json_object_set_new(row, "uptime_seconds", json_integer(left(now, created)));
    json_object_set_new(row, "ttl_seconds", json_integer(left(expires, now)));
    json_object_del(row, "destroy");
    json_object_del(row, "created_at");
    json_object_del(row, "expires_at");
    return row;
}

int hb_gw_cluster_list(hb_req_t *r)
{
    hb_err_t e = {0};
    json_t *filter = NULL;
    if (hb_req_parse_meta_filter(r->ri->query_string, &filter, &e) < 0)
        return hb_reply_err(r, &e);
    json_t *sbs = hb_cluster_sandboxes_now(), *nodes = hb_cluster_nodes_now(), *arr = json_array(), *v;
    const char *id;
    int64_t now = time(NULL);
    json_object_foreach(sbs, id, v) {
        char *meta = json_dumps(json_object_get(v, "metadata"), JSON_COMPACT);
        bool keep = !filter || hb_meta_match(meta, filter);
        free(meta);
        /* a create in progress (no row yet) is not listed, as on one node */
        if (keep && json_object_get(v, "image") && !json_is_true(json_object_get(v, "destroy")))
            json_array_append_new(arr, row_of(id, v, nodes, now));
    }
    json_decref(filter);
    json_decref(sbs);
    json_decref(nodes);
    size_t n = json_array_size(arr);
    return hb_reply_json(r->c, 200, json_pack("{s:o, s:I}", "sandboxes", arr, "total",
                                              (json_int_t)n));
}

/* Sandboxes per node from the map: lost ones count where they were. */
static void add_totals(json_t *list, json_t *totals)
{
    static const char *const sums[] = {"sandboxes", "memory_total", "memory_free", NULL};
    json_t *n;
    size_t i;
    json_array_foreach(list, i, n) {
        for (size_t k = 0; sums[k]; k++) {
            json_int_t have = json_integer_value(json_object_get(totals, sums[k]));
            json_object_set_new(totals, sums[k],
                                json_integer(have + json_integer_value(json_object_get(n, sums[k]))));
        }
    }
    json_object_set_new(totals, "nodes", json_integer((json_int_t)json_array_size(list)));
}

json_t *hb_gw_cluster_nodes_json(void)
{
    json_t *nodes = hb_cluster_nodes(), *sbs = hb_cluster_sandboxes(), *list = json_array();
    json_t *totals = json_pack("{s:i, s:i, s:i}", "sandboxes", 0, "memory_total", 0,
                               "memory_free", 0), *n, *v;
    const char *name, *id;
    json_object_foreach(nodes, name, n) {
        json_array_append(list, n);
    }
    json_int_t lost = 0;
    json_object_foreach(sbs, id, v) {
        lost += !hb_cluster_node_alive(nodes, json_string_value(json_object_get(v, "node")));
    }
    add_totals(list, totals);
    json_object_set_new(totals, "sandboxes_lost", json_integer(lost));
    json_decref(nodes);
    json_decref(sbs);
    return json_pack("{s:s, s:o, s:o}", "node", hb_cluster_node(), "nodes", list, "totals",
                     totals);
}

int hb_h_nodes(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    if (!hb_cluster_on())
        return hb_reply_error(r->c, 404, "not a cluster: this daemon runs without --cluster");
    return hb_reply_json(r->c, 200, hb_gw_cluster_nodes_json());
}

int hb_gw_cluster_healthz(hb_req_t *r)
{
    char why[256], text[400];
    bool ok = hb_cluster_healthy(why, sizeof why);
    int n = snprintf(text, sizeof text, "ok\ncluster: node %s, %s%s\n", hb_cluster_node(),
                     ok ? "registered, etcd reachable" : "not registered, creates refused: ",
                     why);
    return hb_send(r->c, 200, "text/plain", text, (size_t)n < sizeof text ? (size_t)n
                                                                           : sizeof text - 1,
                   NULL, NULL);
}
