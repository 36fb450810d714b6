/* POST /api/v1/hiveboxes with the cluster on (gw_cluster.h): the body's
 * node_selector taken out and checked, a name given when there is none,
 * the node chosen (cluster.h: most free memory among those whose labels
 * match), and the create sent there as a peer (this node too), whose
 * answer is relayed; the peer reserves the name in etcd, then creates. */
#include "gw_cluster.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cluster.h"
#include "curl_body.h"
#include "log.h"
#include "req_parse.h"   /* HB_JSON_BODY_MAX */

#define SELECTOR_MAX 16
#define CREATE_MS    300000
#define PLACE_TRIES  3        /* nodes a create is offered to before a 503 */

static int selector_take(json_t *body, json_t **sel, hb_err_t *e)
{
    json_t *s = json_object_get(body, "node_selector");
    *sel = NULL;
    if (!s || json_is_null(s)) {
        json_object_del(body, "node_selector");
        return 0;
    }
    if (!json_is_object(s) || json_object_size(s) > SELECTOR_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "node_selector: must be an object of at most %d "
                       "label: value strings", SELECTOR_MAX);
    const char *k;
    json_t *v;
    json_object_foreach(s, k, v) {
        if (!json_is_string(v) || strlen(k) >= HB_CL_LABEL_MAX ||
            json_string_length(v) >= HB_CL_LABEL_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "node_selector: %.64s: must be a string of "
                           "fewer than %d characters", k, HB_CL_LABEL_MAX);
    }
    *sel = json_incref(s);
    json_object_del(body, "node_selector");
    return 0;
}

/* The name, given or made here (the manager's form, hb-xxxxxxxx): it must
 * be known before the create, to be reserved. "" when the given one is not
 * a valid name (the create's own parser says why). */
static int name_of(json_t *body, char id[HB_ID_MAX])
{
    json_t *n = json_object_get(body, "name");
    if (n && !json_is_null(n)) {
        const char *s = json_string_value(n);
        snprintf(id, HB_ID_MAX, "%s", s && strlen(s) < HB_ID_MAX && hb_name_valid(s) ? s : "");
        return 0;
    }
    uint32_t r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    snprintf(id, HB_ID_MAX, "hb-%08x", r);
    return json_object_set_new(body, "name", json_string(id));
}

/* Here: the name reserved, the create, the reservation kept or dropped. */
static int create_here(hb_req_t *r, const char *id, const char *text)
{
    hb_err_t e = {0};
    if (id[0] && hb_cluster_reserve(id, &e) < 0)
        return hb_reply_err(r, &e);
    int status = hb_gw_create_body(r, text, strlen(text));
    if (id[0])
        hb_cluster_created(id, status == 201);
    return status;
}

/* One node's answer to the create, sent as a peer: its status (0 when it
 * could not be reached) and body in *b. */
static long create_on(const char *url, const char *text, hb_curl_body_t *b)
{
    char target[HB_CL_URL_MAX + 32], tok[HB_CL_TOKEN_MAX + 64];
    snprintf(target, sizeof target, "%s/api/v1/hiveboxes", url);
    snprintf(tok, sizeof tok, "%s: %s", HB_CL_TOKEN_HDR, hb_cluster_token());
    CURL *h = curl_easy_init();
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    hd = hd ? curl_slist_append(hd, tok) : NULL;
    hd = hd ? curl_slist_append(hd, HB_CL_FWD_HDR ": 1") : NULL;
    long status = 0;
    if (h && hd) {
        curl_easy_setopt(h, CURLOPT_URL, target);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hb_curl_body_sink);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CREATE_MS);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROXY, "");
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    return status;
}

/* The candidates in turn, this node included (as a peer of itself, so that
 * its answer can be read too): a node that is full (503) or gone gives way
 * to the next, so a create never fails for "full" while another node has
 * room -- even when the capacity figures lag behind a burst of creates. */
static int create_placed(hb_req_t *r, const json_t *cands, const char *text)
{
    size_t i, tries = json_array_size(cands) < PLACE_TRIES ? json_array_size(cands)
                                                           : PLACE_TRIES;
    for (i = 0; i < tries; i++) {
        const json_t *c = json_array_get(cands, i);
        const char *node = json_string_value(json_object_get(c, "name"));
        hb_curl_body_t b = {.max = HB_JSON_BODY_MAX};
        long status = create_on(json_string_value(json_object_get(c, "url")), text, &b);
        bool next = (status == 0 || status == 503) && i + 1 < tries;
        if (next)
            HB_LOG_INFO("cluster: create on node %s answered %ld; trying the next node", node,
                        status);
        int sent = next ? -1
                   : status == 0 ? hb_reply_error(r->c, 503, "create: node %s cannot be "
                                                  "reached", node)
                                 : hb_send(r->c, (int)status, "application/json",
                                           b.p ? b.p : "", b.len, NULL, NULL);
        free(b.p);
        if (sent >= 0)
            return sent;
    }
    return hb_reply_error(r->c, 503, "create: no node could take it");
}

static int place_and_create(hb_req_t *r, json_t *body, const json_t *sel, bool peer)
{
    char id[HB_ID_MAX];
    hb_err_t e = {0};
    if (name_of(body, id) < 0)
        return hb_reply_error(r->c, 500, "out of memory");
    json_t *cands = peer ? NULL : hb_cluster_candidates(sel, 0, &e);
    if (!peer && !cands)
        return hb_reply_err(r, &e);
    char *text = json_dumps(body, JSON_COMPACT);
    int status = !text   ? hb_reply_error(r->c, 500, "out of memory")
                 : peer ? create_here(r, id, text)
                        : create_placed(r, cands, text);
    free(text);
    json_decref(cands);
    return status;
}

int hb_gw_cluster_create(hb_req_t *r, bool peer)
{
    char *raw = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &raw, &len, &e) < 0)
        return hb_reply_err(r, &e);
    json_t *body = hb_req_load_object(raw, len, &e), *sel = NULL;
    int status;
    if (!body || selector_take(body, &sel, &e) < 0)
        status = hb_reply_err(r, &e);
    else
        status = place_and_create(r, body, sel, peer);
    json_decref(sel);
    json_decref(body);
    free(raw);
    return status;
}
