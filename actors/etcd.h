/* A small client of etcd's v3 JSON gateway (/v3/..., keys and values in
 * base64) over libcurl: leases, put, create-if-absent, range, delete. Each
 * call tries the endpoints in turn, starting from the last one that
 * answered, so one member down costs nothing after the first miss. Calls
 * block (each bounded by the client's timeout): only the cluster thread
 * and the create path (which needs etcd anyway) make them. */
#ifndef HB_ETCD_H
#define HB_ETCD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hberr.h"

#define HB_ETCD_ENDPOINTS_MAX 16
#define HB_ETCD_URL_MAX       256
#define HB_ETCD_REPLY_MAX     (64u << 20)   /* a range reply past it is refused */

typedef struct hb_etcd hb_etcd_t;

/* urls: "http://h1:2379,http://h2:2379" (at most HB_ETCD_ENDPOINTS_MAX).
 * NULL with *e (HB_E_INVALID naming --cluster) when it is malformed. */
hb_etcd_t *hb_etcd_new(const char *urls, int timeout_ms, hb_err_t *e);
void hb_etcd_free(hb_etcd_t *c);

/* A lease of ttl_s seconds: 0 with *id. */
int hb_etcd_lease_grant(hb_etcd_t *c, int ttl_s, int64_t *id, hb_err_t *e);
/* 1 when the lease lives on, 0 when it expired, -1 when etcd is unreachable. */
int hb_etcd_lease_keepalive(hb_etcd_t *c, int64_t id, hb_err_t *e);
/* key = value (lease 0: none). */
int hb_etcd_put(hb_etcd_t *c, const char *key, const char *value, int64_t lease, hb_err_t *e);
/* key = value only if key does not exist: 1 created, 0 it exists (its value
 * in *old, malloc'd, when old is not NULL), -1 on error. */
int hb_etcd_create(hb_etcd_t *c, const char *key, const char *value, char **old, hb_err_t *e);
/* The keys under prefix as a JSON object key -> value (strings); NULL with *e. */
json_t *hb_etcd_range(hb_etcd_t *c, const char *prefix, hb_err_t *e);
/* One key's value (malloc'd) in *value, NULL when absent. 0 or -1. */
int hb_etcd_get(hb_etcd_t *c, const char *key, char **value, hb_err_t *e);
int hb_etcd_delete(hb_etcd_t *c, const char *key, hb_err_t *e);

#endif
