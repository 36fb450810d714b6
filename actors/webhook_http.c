/* libcurl's multi interface on curl's socket callbacks (see webhook_http.h):
 * curl tells which sockets it waits on and when its timer is due; the
 * actor's zmq_poll waits on them with its own sockets. The table of sockets
 * is bounded: curl gets an error for one more. */
#include "webhook_http.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "bus.h"   /* hb_now_ms */

typedef struct {
    curl_socket_t fd;
    int           what;   /* CURL_POLL_IN/OUT/INOUT */
} sock_t;

struct hb_wh_http {
    CURLM         *multi;
    hb_wh_done_fn *done;
    void          *ctx;
    sock_t         socks[HB_WEBHOOK_SOCKS_MAX];
    int            nsocks;
    int64_t        timer_at;   /* hb_now_ms() time; -1: none */
    struct xfer   *live;       /* the attempts in the multi handle */
};

/* One attempt: what must live as long as its transfer. */
typedef struct xfer {
    CURL              *easy;
    struct curl_slist *hdr;
    void              *tag;
    struct xfer       *prev, *next;   /* in h->live */
} xfer_t;

static void xfer_free(xfer_t *x)
{
    curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->hdr);
    free(x);
}

/* Out of the multi handle and h->live, and freed. */
static void xfer_end(hb_wh_http_t *h, xfer_t *x)
{
    curl_multi_remove_handle(h->multi, x->easy);
    if (x->prev)
        x->prev->next = x->next;
    else
        h->live = x->next;
    if (x->next)
        x->next->prev = x->prev;
    xfer_free(x);
}

/* ---- curl's callbacks ---- */

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    hb_wh_http_t *h = userp;
    int i = 0;
    while (i < h->nsocks && h->socks[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < h->nsocks)
            h->socks[i] = h->socks[--h->nsocks];
        return 0;
    }
    if (i == h->nsocks) {
        if (h->nsocks == HB_WEBHOOK_SOCKS_MAX)
            return -1;   /* that transfer fails */
        h->socks[h->nsocks++].fd = fd;
    }
    h->socks[i].what = what;
    return 0;
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
    hb_wh_http_t *h = userp;
    h->timer_at = ms < 0 ? -1 : hb_now_ms() + ms;
    return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *userp)
{
    return size * n;   /* a receiver's answer is not ours to read */
}

/* ---- the handle ---- */

hb_wh_http_t *hb_wh_http_new(hb_wh_done_fn *done, void *ctx)
{
    hb_wh_http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (!(h->multi = curl_multi_init())) {
        free(h);
        return NULL;
    }
    h->done = done;
    h->ctx = ctx;
    h->timer_at = -1;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void hb_wh_http_free(hb_wh_http_t *h)
{
    if (!h)
        return;
    for (xfer_t *x = h->live, *next; x; x = next) {
        next = x->next;
        curl_multi_remove_handle(h->multi, x->easy);
        xfer_free(x);
    }
    h->live = NULL;
    curl_multi_cleanup(h->multi);
    free(h);
}

static struct curl_slist *headers(const hb_wh_post_t *p)
{
    char line[3][160];
    snprintf(line[0], sizeof line[0], "X-HiveBox-Event: %s", p->type);
    snprintf(line[1], sizeof line[1], "X-HiveBox-Delivery: %s", p->id);
    snprintf(line[2], sizeof line[2], "X-HiveBox-Signature: %s", p->signature);
    /* "Expect:" off: no 100-continue round trip (and its 1 s wait) for big bodies */
    const char *all[] = {"Content-Type: application/json", line[0], line[1], line[2], "Expect:"};
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        struct curl_slist *next = curl_slist_append(l, all[i]);
        if (!next) {
            curl_slist_free_all(l);
            return NULL;
        }
        l = next;
    }
    return l;
}

static void set_options(CURL *c, const hb_wh_post_t *p, xfer_t *x)
{
    curl_easy_setopt(c, CURLOPT_URL, p->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, p->user_agent);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)HB_WEBHOOK_CONNECT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)HB_WEBHOOK_ATTEMPT_MS);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
}

int hb_wh_http_post(hb_wh_http_t *h, const hb_wh_post_t *p, void *tag)
{
    xfer_t *x = calloc(1, sizeof *x);
    if (!x)
        return -1;
    x->tag = tag;
    if (!(x->easy = curl_easy_init()) || !(x->hdr = headers(p))) {
        xfer_free(x);
        return -1;
    }
    set_options(x->easy, p, x);
    if (curl_multi_add_handle(h->multi, x->easy) != CURLM_OK) {
        xfer_free(x);
        return -1;
    }
    x->next = h->live;
    if (h->live)
        h->live->prev = x;
    h->live = x;
    return 0;
}

/* ---- driving it ---- */

int hb_wh_http_items(const hb_wh_http_t *h, zmq_pollitem_t *items, int cap)
{
    int n = 0;
    for (int i = 0; i < h->nsocks && n < cap; i++) {
        int w = h->socks[i].what;
        items[n++] = (zmq_pollitem_t){
            .socket = NULL, .fd = h->socks[i].fd,
            .events = (short)(((w & CURL_POLL_IN) ? ZMQ_POLLIN : 0) |
                              ((w & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0))};
    }
    return n;
}

int64_t hb_wh_http_wait(const hb_wh_http_t *h)
{
    if (h->timer_at < 0)
        return -1;
    int64_t left = h->timer_at - hb_now_ms();
    return left > 0 ? left : 0;
}

/* Each attempt that ended goes back to its owner. */
static void finished(hb_wh_http_t *h)
{
    CURLMsg *msg;
    int left = 0;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        xfer_t *x = NULL;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (rc == CURLE_OK)
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        char why[96] = "";
        if (rc != CURLE_OK)   /* curl's generic words: its error buffer may name the URL */
            snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
        else if (status < 200 || status > 299)
            snprintf(why, sizeof why, "HTTP %ld", status);
        if (!x)
            continue;   /* not one of ours: cannot be */
        void *tag = x->tag;
        xfer_end(h, x);
        h->done(h->ctx, tag, status, why);
    }
}

void hb_wh_http_run(hb_wh_http_t *h, const zmq_pollitem_t *items, int n)
{
    int running = 0;
    for (int i = 0; i < n; i++) {
        int ev = ((items[i].revents & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0) |
                 ((items[i].revents & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((items[i].revents & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
        if (ev)
            curl_multi_socket_action(h->multi, items[i].fd, ev, &running);
    }
    if (h->timer_at >= 0 && hb_now_ms() >= h->timer_at) {
        h->timer_at = -1;   /* curl sets the next one */
        curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    finished(h);
}
