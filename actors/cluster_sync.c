/* The cluster's one thread of etcd I/O (cluster.h): every third of the
 * lease TTL (or at once when kicked) it keeps the lease alive, writes the
 * node's capacity, reconciles this node's sandbox keys with the manager's
 * list and refreshes the snapshot the gateway reads. */
#include "cluster_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "json_out.h"   /* the list row, as the gateway writes it */
#include "log.h"
#include "runtime.h"

#define LIST_MS    5000
#define DESTROY_MS 120000

/* A node name is one daemon's: a key of that name written by another URL
 * (a second daemon given the same --node-name) is refused until it goes.
 * Our own URL there is this daemon's previous run, whose lease has not
 * expired yet. */
static int name_free(hb_cl_t *c, const char *key, hb_err_t *e)
{
    char *old = NULL;
    if (hb_etcd_get(c->etcd, key, &old, e) < 0)
        return -1;
    json_t *j = old ? json_loads(old, 0, NULL) : NULL;
    const char *url = json_string_value(json_object_get(j, "url"));
    int rc = url && strcmp(url, c->url) != 0
                 ? hb_fail(e, HB_E_EXISTS, 0, "node name %s is held by %s: give each node "
                           "its own --node-name", c->node, url)
                 : 0;
    json_decref(j);
    free(old);
    return rc;
}

/* A lease that lives: kept alive, or a new one after it expired (the node
 * was away longer than its TTL: it registers again). */
static int lease_ensure(hb_cl_t *c, const char *key, hb_err_t *e)
{
    if (c->lease) {
        int alive = hb_etcd_lease_keepalive(c->etcd, c->lease, e);
        if (alive != 0)
            return alive < 0 ? -1 : 0;
        HB_LOG_WARN("cluster: lease of node %s expired; registering again", c->node);
        c->lease = 0;
    }
    if (name_free(c, key, e) < 0)
        return -1;
    return hb_etcd_lease_grant(c->etcd, c->ttl_s, &c->lease, e);
}

static int put_json(hb_cl_t *c, const char *key, json_t *v, int64_t lease, hb_err_t *e)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    int rc = text ? hb_etcd_put(c->etcd, key, text, lease, e) : -1;
    free(text);
    return rc;
}

/* A sandbox's key value: its node and its row as this node lists it (the
 * changing uptime and TTL left out: the lists compute them from the times). */
static json_t *sb_value(const hb_cl_t *c, const hb_sbinfo_t *s)
{
    json_t *list = hb_json_list(s, 1, s->created_at, false);
    json_t *v = json_incref(json_array_get(json_object_get(list, "sandboxes"), 0));
    json_decref(list);
    if (!v)
        return NULL;
    json_object_del(v, "uptime_seconds");
    json_object_del(v, "ttl_seconds");
    json_object_set_new(v, "node", json_string(c->node));
    json_object_set_new(v, "created_at", json_integer((json_int_t)s->created_at));
    json_object_set_new(v, "expires_at", json_integer((json_int_t)s->expires_at));
    return v;
}

static void destroy_local(hb_cl_t *c, const char *id)
{
    hb_msg_t q = {.type = HB_MSG_SB_DESTROY}, rep;
    hb_err_t e = {0};
    if (hb_str_set(&q.id, id) < 0)
        return;
    if (hb_bus_call(c->manager, &q, &rep, DESTROY_MS, &e) < 0 && e.code != HB_E_NOTFOUND)
        HB_LOG_WARN("cluster: destroying %s (marked while node %s was away): %s", id, c->node,
                    e.msg);
    else
        HB_LOG_INFO("cluster: destroyed %s, marked for destruction while node %s was away",
                    id, c->node);
    hb_msg_clear(&q);
    hb_msg_clear(&rep);
}

/* One local sandbox against its key: added, refreshed, or destroyed when
 * another node marked it. */
static void sync_one(hb_cl_t *c, const hb_sbinfo_t *s, const json_t *have, const char *key)
{
    hb_err_t e = {0};
    json_t *old = have ? json_loads(json_string_value(have), 0, NULL) : NULL;
    const char *owner = json_string_value(json_object_get(old, "node"));
    if (old && owner && strcmp(owner, c->node) != 0) {
        HB_LOG_WARN("cluster: sandbox %s is here but its name is held by node %s", s->id,
                    owner);
    } else if (json_is_true(json_object_get(old, "destroy"))) {
        destroy_local(c, s->id);
        hb_etcd_delete(c->etcd, key, &e);
    } else {
        json_t *v = sb_value(c, s);
        if (!old) {
            char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
            if (text && hb_etcd_create(c->etcd, key, text, NULL, &e) == 0)
                HB_LOG_WARN("cluster: sandbox %s: its name was taken meanwhile", s->id);
            free(text);
            json_decref(v);
        } else if (!json_equal(v, old)) {
            put_json(c, key, v, 0, &e);
        } else {
            json_decref(v);
        }
    }
    json_decref(old);
}

void hb_cluster_created_row(const hb_sbinfo_t *s)
{
    hb_cl_t *c = hb_cl;
    hb_err_t e = {0};
    char key[HB_ID_MAX + 32];
    if (!c || !s->id)
        return;
    snprintf(key, sizeof key, HB_CL_PREFIX_SANDBOXES "%s", s->id);
    put_json(c, key, sb_value(c, s), 0, &e);   /* failing, the next round writes it */
}

static bool in_list(const hb_msg_t *rep, const char *id)
{
    for (size_t i = 0; i < rep->sandboxes_n; i++)
        if (rep->sandboxes[i].id && strcmp(rep->sandboxes[i].id, id) == 0)
            return true;
    return false;
}

/* Keys of this node with no sandbox behind them (destroyed, timed out,
 * a create that died with the daemon) go, except creates in progress. */
static void drop_stale(hb_cl_t *c, const hb_msg_t *rep, json_t *sbs, json_t *fresh)
{
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(sbs, tmp, key, v) {
        const char *id = key + strlen(HB_CL_PREFIX_SANDBOXES);
        json_t *o = json_loads(json_string_value(v), 0, NULL);
        const char *owner = json_string_value(json_object_get(o, "node"));
        bool mine = owner && strcmp(owner, c->node) == 0;
        json_decref(o);
        if (!mine || in_list(rep, id))
            continue;
        pthread_mutex_lock(&c->mu);
        bool busy = json_object_get(c->pending, id) || json_object_get(fresh, id) ||
                    json_object_get(c->fresh, id);
        pthread_mutex_unlock(&c->mu);
        hb_err_t e = {0};
        if (!busy && hb_etcd_delete(c->etcd, key, &e) == 0)
            json_object_del(sbs, key);
    }
}

static void reconcile(hb_cl_t *c, const hb_msg_t *rep, json_t *sbs, json_t *fresh)
{
    for (size_t i = 0; i < rep->sandboxes_n; i++) {
        const hb_sbinfo_t *s = &rep->sandboxes[i];
        char key[HB_ID_MAX + 32];
        if (!s->id)
            continue;
        snprintf(key, sizeof key, HB_CL_PREFIX_SANDBOXES "%s", s->id);
        sync_one(c, s, json_object_get(sbs, key), key);
    }
    drop_stale(c, rep, sbs, fresh);
}

/* prefix/<name> -> text, into name -> parsed object. */
json_t *hb_cl_parsed(const json_t *kv, const char *prefix)
{
    json_t *out = json_object(), *v;
    const char *k;
    json_object_foreach((json_t *)kv, k, v) {
        json_t *o = json_loads(json_string_value(v), 0, NULL);
        if (json_is_object(o))
            json_object_set_new(out, k + strlen(prefix), o);
        else
            json_decref(o);
    }
    return out;
}

static void publish(hb_cl_t *c, const hb_msg_t *rep, json_t *nodes, json_t *sbs)
{
    json_t *local = json_object();
    for (size_t i = 0; local && i < rep->sandboxes_n; i++)
        if (rep->sandboxes[i].id)
            json_object_set_new(local, rep->sandboxes[i].id, json_true());
    pthread_mutex_lock(&c->mu);
    json_decref(c->nodes);
    json_decref(c->sbs);
    json_decref(c->local);
    c->nodes = hb_cl_parsed(nodes, HB_CL_PREFIX_NODES);
    c->sbs = hb_cl_parsed(sbs, HB_CL_PREFIX_SANDBOXES);
    c->local = local;
    json_object_update(c->local, c->fresh);
    pthread_mutex_unlock(&c->mu);
}

/* The etcd part of a round, after the manager's list. */
static int round_etcd(hb_cl_t *c, const hb_msg_t *rep, json_t *fresh, hb_err_t *e)
{
    uint64_t committed = 0;
    for (size_t i = 0; i < rep->sandboxes_n; i++)
        committed += rep->sandboxes[i].memory_bytes;
    char key[HB_CL_NAME_MAX + 32];
    snprintf(key, sizeof key, HB_CL_PREFIX_NODES "%s", c->node);
    if (lease_ensure(c, key, e) < 0 ||
        put_json(c, key, hb_cl_node_value(c, rep->sandboxes_n, committed), c->lease, e) < 0)
        return -1;
    json_t *sbs = hb_etcd_range(c->etcd, HB_CL_PREFIX_SANDBOXES, e);
    if (!sbs)
        return -1;
    reconcile(c, rep, sbs, fresh);
    json_t *nodes = hb_etcd_range(c->etcd, HB_CL_PREFIX_NODES, e);
    if (nodes)
        publish(c, rep, nodes, sbs);
    json_decref(nodes);
    json_decref(sbs);
    return nodes ? 0 : -1;
}

static void sync_round(hb_cl_t *c)
{
    hb_msg_t q = {.type = HB_MSG_SB_LIST}, rep;
    hb_err_t e = {0};
    /* Creates that end during the round are kept from drop_stale: the
     * list below may predate them. */
    pthread_mutex_lock(&c->mu);
    json_t *fresh = c->fresh;
    c->fresh = json_object();
    pthread_mutex_unlock(&c->mu);
    int called = hb_bus_call(c->manager, &q, &rep, LIST_MS, &e);
    hb_msg_clear(&q);   /* the call set its reply address */
    if (called < 0) {
        HB_LOG_WARN("cluster: the manager's list: %s", e.msg);
        json_decref(fresh);
        return;
    }
    int rc = round_etcd(c, &rep, fresh, &e);
    hb_cl_set_etcd(c, rc == 0, e.msg);
    hb_msg_clear(&rep);
    json_decref(fresh);
}

static void wait_next(hb_cl_t *c, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->stop && !c->kick)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
            break;
    c->kick = false;
    pthread_mutex_unlock(&c->mu);
}

void *hb_cl_sync_main(void *arg)
{
    hb_cl_t *c = arg;
    int period_ms = c->ttl_s * 1000 / 3;
    for (;;) {
        sync_round(c);
        wait_next(c, period_ms);
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop)
            break;
    }
    /* A clean stop: the node leaves now rather than at its lease's end. */
    char key[HB_CL_NAME_MAX + 32];
    hb_err_t e = {0};
    snprintf(key, sizeof key, HB_CL_PREFIX_NODES "%s", c->node);
    if (c->lease)
        hb_etcd_delete(c->etcd, key, &e);
    return NULL;
}
