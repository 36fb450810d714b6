/* The cluster's state and the calls the gateway makes (cluster.h). */
#include "cluster_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"   /* hb_name_valid */

hb_cl_t *hb_cl;

static int labels_parse(hb_cl_t *c, const hb_cfg_LIST *l, hb_err_t *e)
{
    c->labels = json_object();
    for (int i = 0; c->labels && i < l->n; i++) {
        const char *kv = l->item[i], *eq = strchr(kv, '=');
        size_t kn = eq ? (size_t)(eq - kv) : 0;
        if (!eq || kn == 0 || kn >= HB_ID_MAX || strlen(kv) >= HB_CL_LABEL_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "--node-label %.80s: must be key=value (at most "
                           "%d characters)", kv, HB_CL_LABEL_MAX - 1);
        char key[HB_ID_MAX];
        memcpy(key, kv, kn);
        key[kn] = '\0';
        json_object_set_new(c->labels, key, json_string(eq + 1));
    }
    return c->labels ? 0 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
}

static int names_set(hb_cl_t *c, const hb_cluster_args_t *a, hb_err_t *e)
{
    const hb_config_t *o = a->cfg;
    char host[HB_CL_NAME_MAX] = "";
    if (o->node_name)
        snprintf(c->node, sizeof c->node, "%s", o->node_name);
    else if (gethostname(host, sizeof host - 1) == 0)
        snprintf(c->node, sizeof c->node, "%s", host);
    if (!hb_name_valid(c->node) || (o->node_name && strlen(o->node_name) >= HB_CL_NAME_MAX))
        return hb_fail(e, HB_E_INVALID, 0, "--node-name %.80s: must match "
                       "^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$", o->node_name ? o->node_name : host);
    bool any = strcmp(a->host, "0.0.0.0") == 0 || strcmp(a->host, "::") == 0;
    if (o->advertise)
        snprintf(c->url, sizeof c->url, "%s", o->advertise);
    else
        snprintf(c->url, sizeof c->url, "http://%s:%d", any ? c->node : a->host, a->port);
    if ((o->advertise && strlen(o->advertise) >= HB_CL_URL_MAX) ||
        strncmp(c->url, "http://", 7) != 0 || strchr(c->url, ' '))
        return hb_fail(e, HB_E_INVALID, 0, "--advertise %.80s: must be http://ADDR:PORT",
                       c->url);
    size_t tn = o->cluster_token ? strlen(o->cluster_token) : 0;
    if (tn < HB_CL_TOKEN_MIN || tn > HB_CL_TOKEN_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "--cluster-token: required with --cluster, %d to "
                       "%d characters", HB_CL_TOKEN_MIN, HB_CL_TOKEN_MAX);
    memcpy(c->token, o->cluster_token, tn + 1);
    return 0;
}

static void cl_free(hb_cl_t *c)
{
    if (!c)
        return;
    hb_etcd_free(c->etcd);
    json_decref(c->labels);
    json_decref(c->nodes);
    json_decref(c->sbs);
    json_decref(c->local);
    json_decref(c->pending);
    json_decref(c->fresh);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

int hb_cluster_start(const hb_cluster_args_t *a, hb_err_t *e)
{
    const hb_config_t *o = a->cfg;
    if (!o->cluster)
        return 0;
    hb_cl_t *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->ttl_s = o->cluster_ttl;
    c->overcommit = o->memory_overcommit;
    c->max_sandboxes = o->max_sandboxes;
    c->manager = a->manager;
    c->nodes = json_object();
    c->sbs = json_object();
    c->local = json_object();
    c->pending = json_object();
    c->fresh = json_object();
    snprintf(c->why, sizeof c->why, "not connected to etcd yet");
    if (names_set(c, a, e) < 0 || labels_parse(c, &o->node_label, e) < 0 ||
        !(c->etcd = hb_etcd_new(o->cluster, HB_CL_ETCD_TIMEOUT_MS, e))) {
        cl_free(c);
        return -1;
    }
    hb_cl = c;
    if (pthread_create(&c->th, NULL, hb_cl_sync_main, c) != 0) {
        hb_cl = NULL;
        cl_free(c);
        return hb_fail(e, HB_E_INTERNAL, 0, "cluster: cannot start its thread");
    }
    c->running = true;
    HB_LOG_INFO("cluster: node %s (%s), etcd %s, lease %d s", c->node, c->url, o->cluster,
                c->ttl_s);
    return 0;
}

/* The sync thread woken for a round now, or to stop. */
static void wake(hb_cl_t *c, bool stop)
{
    pthread_mutex_lock(&c->mu);
    c->kick = true;
    c->stop = c->stop || stop;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

void hb_cluster_stop(void)
{
    hb_cl_t *c = hb_cl;
    if (!c)
        return;
    wake(c, true);
    if (c->running)
        pthread_join(c->th, NULL);
    hb_cl = NULL;
    cl_free(c);
}

bool hb_cluster_on(void) { return hb_cl != NULL; }
const char *hb_cluster_node(void) { return hb_cl ? hb_cl->node : ""; }
const char *hb_cluster_token(void) { return hb_cl ? hb_cl->token : ""; }

bool hb_cluster_token_ok(const char *hdr)
{
    if (!hb_cl || !hdr)
        return false;
    size_t n = strlen(hb_cl->token);
    if (strlen(hdr) != n)
        return false;
    unsigned char d = 0;
    for (size_t i = 0; i < n; i++)
        d |= (unsigned char)(hdr[i] ^ hb_cl->token[i]);
    return d == 0;
}

bool hb_cluster_node_alive(const json_t *nodes, const char *node)
{
    return node && json_object_get(nodes, node) != NULL;
}

static const char *url_of(const json_t *nodes, const char *node)
{
    return json_string_value(json_object_get(json_object_get(nodes, node), "url"));
}

/* A string member of the JSON value of prefix + name, read from etcd now,
 * into out (cap bytes). False when etcd does not answer, the key is absent
 * or the member is missing or too long. */
static bool fetch_member(hb_cl_t *c, const char *prefix, const char *name, const char *member,
                         char *out, size_t cap)
{
    char key[HB_CL_URL_MAX], *v = NULL;
    hb_err_t e = {0};
    snprintf(key, sizeof key, "%s%s", prefix, name);
    if (hb_etcd_get(c->etcd, key, &v, &e) < 0 || !v)
        return false;
    json_t *j = json_loads(v, 0, NULL);
    free(v);
    const char *m = json_string_value(json_object_get(j, member));
    bool ok = m && strlen(m) < cap;
    if (ok)
        snprintf(out, cap, "%s", m);
    json_decref(j);
    return ok;
}

/* The node of an id the snapshot does not know yet (created a moment ago
 * elsewhere). */
static bool fetch_owner(hb_cl_t *c, const char *id, char node[HB_CL_NAME_MAX])
{
    return fetch_member(c, HB_CL_PREFIX_SANDBOXES, id, "node", node, HB_CL_NAME_MAX);
}

/* A node the snapshot does not show (lost, or back a moment ago): its URL
 * from etcd now, so that a node is lost only when etcd says so. */
static bool fetch_node_url(hb_cl_t *c, const char *node, char url[HB_CL_URL_MAX])
{
    return fetch_member(c, HB_CL_PREFIX_NODES, node, "url", url, HB_CL_URL_MAX);
}

bool hb_cluster_node_registered(const char *node)
{
    char key[HB_CL_NAME_MAX + 32], *v = NULL;
    hb_err_t e = {0};
    if (!hb_cl)
        return false;
    snprintf(key, sizeof key, HB_CL_PREFIX_NODES "%s", node);
    if (hb_etcd_get(hb_cl->etcd, key, &v, &e) < 0)
        return true;   /* etcd cannot tell: not known to be lost */
    bool there = v != NULL;
    free(v);
    return there;
}

hb_cl_where_t hb_cluster_where(const char *id, char node[HB_CL_NAME_MAX], char url[HB_CL_URL_MAX],
                               bool ask_etcd)
{
    hb_cl_t *c = hb_cl;
    node[0] = url[0] = '\0';
    if (!c)
        return HB_CL_LOCAL;
    pthread_mutex_lock(&c->mu);
    bool local = json_object_get(c->local, id) || json_object_get(c->pending, id);
    const char *n = json_string_value(json_object_get(json_object_get(c->sbs, id), "node"));
    if (n)
        snprintf(node, HB_CL_NAME_MAX, "%s", n);
    pthread_mutex_unlock(&c->mu);
    if (local || (node[0] && strcmp(node, c->node) == 0))
        return HB_CL_LOCAL;
    if (!node[0] && (!ask_etcd || !fetch_owner(c, id, node) || strcmp(node, c->node) == 0))
        return HB_CL_LOCAL;   /* nowhere else: the local handler says 404 */
    pthread_mutex_lock(&c->mu);
    const char *u = url_of(c->nodes, node);
    if (u)
        snprintf(url, HB_CL_URL_MAX, "%s", u);
    pthread_mutex_unlock(&c->mu);
    return u || (ask_etcd && fetch_node_url(c, node, url)) ? HB_CL_REMOTE : HB_CL_LOST;
}

static json_t *copy_of(json_t **which)
{
    pthread_mutex_lock(&hb_cl->mu);
    json_t *j = json_deep_copy(*which);
    pthread_mutex_unlock(&hb_cl->mu);
    return j;
}

json_t *hb_cluster_nodes(void) { return hb_cl ? copy_of(&hb_cl->nodes) : json_object(); }
json_t *hb_cluster_sandboxes(void) { return hb_cl ? copy_of(&hb_cl->sbs) : json_object(); }

/* prefix read from etcd now; the snapshot's copy when etcd does not answer. */
static json_t *now_or(const char *prefix, json_t *(*snapshot)(void))
{
    hb_err_t e = {0};
    json_t *kv = hb_cl ? hb_etcd_range(hb_cl->etcd, prefix, &e) : NULL;
    if (!kv)
        return snapshot();
    json_t *j = hb_cl_parsed(kv, prefix);
    json_decref(kv);
    return j;
}

json_t *hb_cluster_sandboxes_now(void)
{
    return now_or(HB_CL_PREFIX_SANDBOXES, hb_cluster_sandboxes);
}

json_t *hb_cluster_nodes_now(void) { return now_or(HB_CL_PREFIX_NODES, hb_cluster_nodes); }

void hb_cluster_kick(void)
{
    if (hb_cl)
        wake(hb_cl, false);
}

bool hb_cluster_healthy(char *why, size_t cap)
{
    hb_cl_t *c = hb_cl;
    if (!c)
        return true;
    pthread_mutex_lock(&c->mu);
    bool ok = c->etcd_ok;
    snprintf(why, cap, "%s", ok ? "" : c->why);
    pthread_mutex_unlock(&c->mu);
    return ok;
}

void hb_cl_set_etcd(hb_cl_t *c, bool ok, const char *why)
{
    pthread_mutex_lock(&c->mu);
    bool was = c->etcd_ok;
    c->etcd_ok = ok;
    if (!ok)
        snprintf(c->why, sizeof c->why, "%s", why);
    pthread_mutex_unlock(&c->mu);
    if (was && !ok)
        HB_LOG_WARN("cluster: cannot register with etcd (%s): local sandboxes keep working, "
                    "creates are refused", why);
    else if (!was && ok)
        HB_LOG_INFO("cluster: etcd reachable; node %s registered", c->node);
}
