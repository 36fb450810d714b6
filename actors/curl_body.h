/* A response body collected by libcurl, bounded (the cluster's etcd client
 * and its forwarded creates). */
#ifndef HB_CURL_BODY_H
#define HB_CURL_BODY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char  *p;      /* malloc'd, NUL-terminated; NULL while empty */
    size_t len;
    size_t max;    /* past it the transfer fails and over is set */
    bool   over;
} hb_curl_body_t;

/* CURLOPT_WRITEFUNCTION, with an hb_curl_body_t as CURLOPT_WRITEDATA. */
size_t hb_curl_body_sink(char *data, size_t size, size_t n, void *ud);

#endif
