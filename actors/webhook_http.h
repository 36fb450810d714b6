/* The webhooks' HTTP client: one libcurl multi handle that the webhook
 * actor drives from its own poll loop (curl's sockets beside its ZeroMQ
 * sockets in one zmq_poll), so a single thread runs every delivery and
 * none of them ever blocks it: a receiver that never answers costs a socket
 * until the attempt's timeout, nothing else.
 *
 * Each attempt: POST, connect timeout HB_WEBHOOK_CONNECT_MS, whole attempt
 * HB_WEBHOOK_ATTEMPT_MS, no redirects followed, http and https only; the
 * answer's body is read and thrown away (a receiver's reply is never
 * parsed). */
#ifndef HB_WEBHOOK_HTTP_H
#define HB_WEBHOOK_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define HB_WEBHOOK_CONNECT_MS 5000
#define HB_WEBHOOK_ATTEMPT_MS 10000
#define HB_WEBHOOK_SOCKS_MAX  64   /* curl sockets at once (a few per URL in flight) */

typedef struct hb_wh_http hb_wh_http_t;

/* An attempt ended: status is the HTTP status (0: none came), why a short
 * reason when it is not a 2xx (never the URL). */
typedef void(hb_wh_done_fn)(void *ctx, void *tag, long status, const char *why);

hb_wh_http_t *hb_wh_http_new(hb_wh_done_fn *done, void *ctx);
/* Ends every attempt in flight (done is not called) and frees h. */
void hb_wh_http_free(hb_wh_http_t *h);

typedef struct {
    const char *url, *body;   /* body must live until done (not copied) */
    size_t      len;
    const char *type, *id, *signature, *user_agent;
} hb_wh_post_t;

/* Start a POST; tag comes back to done. 0, or -1 (done is not called). */
int hb_wh_http_post(hb_wh_http_t *h, const hb_wh_post_t *p, void *tag);

/* curl's sockets as poll items into items[0..cap): how many. */
int hb_wh_http_items(const hb_wh_http_t *h, zmq_pollitem_t *items, int cap);
/* ms until curl's timer is due (0: now, -1: none). */
int64_t hb_wh_http_wait(const hb_wh_http_t *h);
/* After the poll: act on the ready items (n of them) and a due timer, then
 * call done for each attempt that ended. */
void hb_wh_http_run(hb_wh_http_t *h, const zmq_pollitem_t *items, int n);

#endif
