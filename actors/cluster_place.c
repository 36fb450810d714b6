/* Creates and destroys across the cluster: the unique-name reservation,
 * placement by free memory and labels, the mark left on a lost sandbox's
 * key (cluster.h). */
#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime.h"   /* HB_ID_MAX */

static void key_of(const char *id, char key[HB_ID_MAX + 32])
{
    snprintf(key, HB_ID_MAX + 32, HB_CL_PREFIX_SANDBOXES "%s", id);
}

int hb_cluster_reserve(const char *id, hb_err_t *e)
{
    hb_cl_t *c = hb_cl;
    char key[HB_ID_MAX + 32], *old = NULL;
    key_of(id, key);
    json_t *v = json_pack("{s:s, s:s, s:I}", "node", c->node, "status", "creating",
                          "created_at", (json_int_t)time(NULL));
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!text)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    pthread_mutex_lock(&c->mu);
    json_object_set_new(c->pending, id, json_true());   /* the sync thread leaves it alone */
    pthread_mutex_unlock(&c->mu);
    int rc = hb_etcd_create(c->etcd, key, text, &old, e);
    free(text);
    if (rc == 1)
        return 0;
    pthread_mutex_lock(&c->mu);
    json_object_del(c->pending, id);
    pthread_mutex_unlock(&c->mu);
    if (rc < 0)
        return hb_fail(e, HB_E_UNAVAIL, 0, "cluster: etcd is unreachable, creates are refused "
                       "until it answers (%s)", e->msg);
    json_t *j = old ? json_loads(old, 0, NULL) : NULL;
    const char *n = json_string_value(json_object_get(j, "node"));
    hb_fail(e, HB_E_EXISTS, 0, "name: %s already exists in the cluster (on node %s)", id,
            n ? n : "?");
    json_decref(j);
    free(old);
    return -1;
}

void hb_cluster_created(const char *id, bool ok)
{
    hb_cl_t *c = hb_cl;
    char key[HB_ID_MAX + 32];
    hb_err_t e = {0};
    if (!ok) {
        key_of(id, key);
        hb_etcd_delete(c->etcd, key, &e);   /* on failure the sync thread removes it */
    }
    pthread_mutex_lock(&c->mu);
    if (ok) {
        json_object_set_new(c->local, id, json_true());
        json_object_set_new(c->fresh, id, json_true());
    }
    json_object_del(c->pending, id);
    pthread_mutex_unlock(&c->mu);
    hb_cluster_kick();
}

void hb_cluster_destroyed(const char *id)
{
    hb_cl_t *c = hb_cl;
    char key[HB_ID_MAX + 32];
    hb_err_t e = {0};
    char why[8];
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    json_object_del(c->local, id);
    json_object_del(c->fresh, id);
    pthread_mutex_unlock(&c->mu);
    key_of(id, key);
    if (!hb_cluster_healthy(why, sizeof why) || hb_etcd_delete(c->etcd, key, &e) < 0)
        hb_cluster_kick();
}

int hb_cluster_mark_destroy(const char *id, hb_err_t *e)
{
    hb_cl_t *c = hb_cl;
    char key[HB_ID_MAX + 32], *v = NULL;
    key_of(id, key);
    if (hb_etcd_get(c->etcd, key, &v, e) < 0)
        return -1;
    json_t *j = v ? json_loads(v, 0, NULL) : NULL;
    free(v);
    if (!j)
        return hb_fail(e, HB_E_NOTFOUND, 0, "sandbox not found");
    json_object_set_new(j, "destroy", json_true());
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    int rc = text ? hb_etcd_put(c->etcd, key, text, 0, e) : hb_fail(e, HB_E_INTERNAL, 0, "out "
                                                                    "of memory");
    free(text);
    return rc;
}

static bool labels_match(const json_t *labels, const json_t *selector)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)selector, k, v) {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

/* A node's room for one more sandbox of memory bytes: its free memory,
 * or -1 when it has none (or no slot). */
static double room(const json_t *n, uint64_t memory)
{
    double free_b = (double)json_integer_value(json_object_get(n, "memory_free"));
    json_int_t count = json_integer_value(json_object_get(n, "sandboxes"));
    json_int_t max = json_integer_value(json_object_get(n, "max_sandboxes"));
    if ((max && count >= max) || free_b < (double)memory)
        return -1;
    return free_b;
}

/* Insertion into the candidates, kept in decreasing room. */
static void add_sorted(json_t *arr, json_t *cand, double r)
{
    size_t i = 0;
    while (i < json_array_size(arr) &&
           json_real_value(json_object_get(json_array_get(arr, i), "room")) >= r)
        i++;
    json_object_set_new(cand, "room", json_real(r));
    json_array_insert_new(arr, i, cand);
}

json_t *hb_cluster_candidates(const json_t *selector, uint64_t memory, hb_err_t *e)
{
    json_t *nodes = hb_cluster_nodes(), *arr = json_array(), *n;
    const char *name;
    size_t matching = 0;
    json_object_foreach(nodes, name, n) {
        if (selector && !labels_match(json_object_get(n, "labels"), selector))
            continue;
        matching++;
        double r = room(n, memory);
        const char *u = json_string_value(json_object_get(n, "url"));
        if (r >= 0 && u)
            add_sorted(arr, json_pack("{s:s, s:s}", "name", name, "url", u), r);
    }
    json_decref(nodes);
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        hb_fail(e, HB_E_UNAVAIL, 0, "%s", matching ? "no node has room for this sandbox "
                "(memory or sandbox count)" : "node_selector: no live node has these labels");
        return NULL;
    }
    return arr;
}
