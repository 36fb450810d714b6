/* etcd's v3 JSON gateway over libcurl (etcd.h). */
#include "etcd.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "curl_body.h"
#include "e2b_cx.h"   /* hb_b64_encode, hb_b64_decode */

struct hb_etcd {
    char        url[HB_ETCD_ENDPOINTS_MAX][HB_ETCD_URL_MAX];
    int         n;
    int         timeout_ms;
    atomic_int  good;   /* the endpoint that answered last */
};

hb_etcd_t *hb_etcd_new(const char *urls, int timeout_ms, hb_err_t *e)
{
    hb_etcd_t *c = calloc(1, sizeof *c);
    if (!c) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    c->timeout_ms = timeout_ms;
    for (const char *p = urls; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p), whole = n;
        while (n && p[n - 1] == '/')
            n--;   /* "http://h:2379/" is "http://h:2379" */
        bool scheme = strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0;
        if (c->n == HB_ETCD_ENDPOINTS_MAX || n >= HB_ETCD_URL_MAX || !scheme || n < 9 ||
            memchr(p, ' ', n)) {
            hb_fail(e, HB_E_INVALID, 0, "--cluster: \"%.*s\" is not an http(s) URL (at most "
                    "%d, comma-separated)", (int)(n > 80 ? 80 : n), p, HB_ETCD_ENDPOINTS_MAX);
            free(c);
            return NULL;
        }
        memcpy(c->url[c->n++], p, n);
        p = comma ? comma + 1 : p + whole;
    }
    if (c->n == 0) {
        hb_fail(e, HB_E_INVALID, 0, "--cluster: no etcd URL given");
        free(c);
        return NULL;
    }
    return c;
}

void hb_etcd_free(hb_etcd_t *c) { free(c); }

/* One POST to one endpoint: the parsed reply, or NULL (*transport true when
 * the endpoint did not answer: try the next). */
static json_t *post_one(hb_etcd_t *c, int i, const char *path, const char *body, bool *transport,
                        hb_err_t *e)
{
    char url[HB_ETCD_URL_MAX + 64];
    snprintf(url, sizeof url, "%s%s", c->url[i], path);
    CURL *h = curl_easy_init();
    hb_curl_body_t b = {.max = HB_ETCD_REPLY_MAX};
    struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
    if (!h || !hd) {
        curl_slist_free_all(hd);
        curl_easy_cleanup(h);
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hb_curl_body_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->timeout_ms / 2 + 1));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");   /* never an http_proxy of the environment */
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    curl_easy_cleanup(h);
    json_t *j = NULL;
    *transport = rc != CURLE_OK || status >= 500;
    if (*transport)
        hb_fail(e, HB_E_UNAVAIL, 0, "etcd %s: %s", c->url[i],
                rc != CURLE_OK ? curl_easy_strerror(rc) : "server error");
    else if (status != 200 || !(j = json_loadb(b.p ? b.p : "", b.len, 0, NULL)))
        hb_fail(e, HB_E_UNAVAIL, 0, "etcd %s%s: HTTP %ld%s", c->url[i], path, status,
                b.over ? " (reply too large)" : "");
    free(b.p);
    return j;
}

/* body (consumed) to path on the first endpoint that answers. */
static json_t *post(hb_etcd_t *c, const char *path, json_t *body, hb_err_t *e)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    int start = atomic_load(&c->good);
    json_t *j = NULL;
    for (int k = 0; k < c->n && !j; k++) {
        int i = (start + k) % c->n;
        bool transport = false;
        j = post_one(c, i, path, text, &transport, e);
        if (j)
            atomic_store(&c->good, i);
        else if (!transport)
            break;
    }
    free(text);
    return j;
}

static json_t *b64(const char *s)
{
    char *t = hb_b64_encode(s, strlen(s));
    json_t *j = t ? json_string(t) : NULL;
    free(t);
    return j;
}

/* A base64 member of o, decoded (malloc'd, NUL-terminated); NULL if absent. */
static char *unb64(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    unsigned char *out = NULL;
    size_t n = 0;
    if (!s || hb_b64_decode(s, strlen(s), HB_ETCD_REPLY_MAX, &out, &n) < 0)
        return s && !*s ? strdup("") : NULL;
    char *z = realloc(out, n + 1);
    if (!z) {
        free(out);
        return NULL;
    }
    z[n] = '\0';
    return z;
}

/* etcd writes int64 as strings. */
static int64_t int_of(const json_t *j)
{
    if (json_is_integer(j))
        return json_integer_value(j);
    const char *s = json_string_value(j);
    return s ? strtoll(s, NULL, 10) : 0;
}

static json_t *id_str(int64_t id)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRId64, id);
    return json_string(s);
}

int hb_etcd_lease_grant(hb_etcd_t *c, int ttl_s, int64_t *id, hb_err_t *e)
{
    json_t *r = post(c, "/v3/lease/grant", json_pack("{s:i}", "TTL", ttl_s), e);
    *id = r ? int_of(json_object_get(r, "ID")) : 0;
    json_decref(r);
    if (r && *id == 0)
        return hb_fail(e, HB_E_UNAVAIL, 0, "etcd: lease grant answered no ID");
    return r ? 0 : -1;
}

int hb_etcd_lease_keepalive(hb_etcd_t *c, int64_t id, hb_err_t *e)
{
    json_t *r = post(c, "/v3/lease/keepalive", json_pack("{s:o}", "ID", id_str(id)), e);
    if (!r)
        return -1;
    int64_t ttl = int_of(json_object_get(json_object_get(r, "result"), "TTL"));
    json_decref(r);
    return ttl > 0 ? 1 : 0;
}

static json_t *put_req(const char *key, const char *value, int64_t lease)
{
    json_t *q = json_pack("{s:o, s:o}", "key", b64(key), "value", b64(value));
    if (q && lease)
        json_object_set_new(q, "lease", id_str(lease));
    return q;
}

int hb_etcd_put(hb_etcd_t *c, const char *key, const char *value, int64_t lease, hb_err_t *e)
{
    json_t *r = post(c, "/v3/kv/put", put_req(key, value, lease), e);
    json_decref(r);
    return r ? 0 : -1;
}

int hb_etcd_create(hb_etcd_t *c, const char *key, const char *value, char **old, hb_err_t *e)
{
    json_t *q = json_pack("{s:[{s:o, s:s, s:s, s:s}], s:[{s:o}], s:[{s:{s:o}}]}", "compare",
                          "key", b64(key), "target", "CREATE", "result", "EQUAL",
                          "create_revision", "0", "success", "request_put",
                          put_req(key, value, 0), "failure", "request_range", "key", b64(key));
    json_t *r = post(c, "/v3/kv/txn", q, e);
    if (!r)
        return -1;
    int ok = json_is_true(json_object_get(r, "succeeded")) ? 1 : 0;
    if (!ok && old) {
        json_t *resp = json_array_get(json_object_get(r, "responses"), 0);
        json_t *kvs = json_object_get(json_object_get(resp, "response_range"), "kvs");
        *old = unb64(json_array_get(kvs, 0), "value");
    }
    json_decref(r);
    return ok;
}

/* The end of the range of keys that start with prefix: prefix + 1 on its
 * last byte (etcd's own rule for prefixes). */
static json_t *prefix_end(const char *prefix)
{
    size_t n = strlen(prefix);
    char *end = strdup(prefix);
    if (!end || n == 0) {
        free(end);
        return NULL;
    }
    end[n - 1]++;
    json_t *j = b64(end);
    free(end);
    return j;
}

json_t *hb_etcd_range(hb_etcd_t *c, const char *prefix, hb_err_t *e)
{
    json_t *r = post(c, "/v3/kv/range",
                     json_pack("{s:o, s:o}", "key", b64(prefix), "range_end", prefix_end(prefix)), e);
    if (!r)
        return NULL;
    json_t *out = json_object(), *kv;
    size_t i;
    json_array_foreach(json_object_get(r, "kvs"), i, kv) {
        char *k = unb64(kv, "key"), *v = unb64(kv, "value");
        if (k && v)
            json_object_set_new(out, k, json_string(v));
        free(k);
        free(v);
    }
    json_decref(r);
    return out;
}

int hb_etcd_get(hb_etcd_t *c, const char *key, char **value, hb_err_t *e)
{
    *value = NULL;
    json_t *r = post(c, "/v3/kv/range", json_pack("{s:o}", "key", b64(key)), e);
    if (!r)
        return -1;
    *value = unb64(json_array_get(json_object_get(r, "kvs"), 0), "value");
    json_decref(r);
    return 0;
}

int hb_etcd_delete(hb_etcd_t *c, const char *key, hb_err_t *e)
{
    json_t *r = post(c, "/v3/kv/deleterange", json_pack("{s:o}", "key", b64(key)), e);
    json_decref(r);
    return r ? 0 : -1;
}
