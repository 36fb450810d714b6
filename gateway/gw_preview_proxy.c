/* The relay of one preview request (gw_preview.h): the head and body up,
 * the service's head checked and passed down with its body as it comes;
 * after a 101, raw bytes both ways. The client's connection is closed at
 * the end (Connection: close), so the service's own framing -- a length,
 * chunks, or the end of the connection -- reaches the client unchanged
 * and nothing is parsed or buffered past the head. */
#include "gw_preview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gw_reqlog.h"
#include "http_status.h"
#include "log.h"
#include "preview_parse.h"
#include "preview_relay.h"
#include "rawsock.h"
#include "preview_req.h"
#include "reqid.h"

#define HEAD_MS        120000             /* the service's answer may take a while */
#define IDLE_MS        600000             /* a silent body (an event stream) */
#define TUNNEL_IDLE_MS (30 * 60 * 1000)   /* a silent WebSocket */
#define PATH_FORM_CSP  "sandbox allow-scripts allow-forms allow-popups allow-modals " \
                       "allow-downloads"   /* never allow-same-origin */

static int bad_gateway(hb_pv_t *p, const char *why)
{
    hb_err_t e = {0};
    hb_fail(&e, HB_E_UPSTREAM, 0, "port %u: %s", p->port, why);
    return hb_reply_err(p->r, &e);
}

static bool drop_down(const char *name, bool upgraded)
{
    static const char *const drop[] = {
        "connection", "keep-alive", "proxy-connection", "te", HB_REQID_HEADER, NULL,
    };
    for (size_t i = 0; drop[i]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return true;
    return !upgraded && strcasecmp(name, "upgrade") == 0;
}

/* The service's head as the client gets it. -1 if the client is gone. */
static int head_down(hb_pv_t *p, const hb_pv_head_t *h, bool upgraded)
{
    struct mg_connection *c = p->r->c;
    if (mg_printf(c, "HTTP/1.1 %d %s\r\n", h->status, hb_http_reason(h->status)) <= 0)
        return -1;
    for (size_t i = 0; i < h->n; i++)
        if (!drop_down(h->h[i].name, upgraded) &&
            mg_printf(c, "%s: %s\r\n", h->h[i].name, h->h[i].value) <= 0)
            return -1;
    /* The path form shares the API's and the dashboard's origin: a page of
     * the service must not reach them (the dashboard keeps the key in
     * sessionStorage), so it runs in an opaque origin. The host form has an
     * origin of its own. */
    if (p->path_form && mg_printf(c, "Content-Security-Policy: " PATH_FORM_CSP "\r\n") <= 0)
        return -1;
    return mg_printf(c, "Connection: %s\r\n%s: %s\r\n\r\n", upgraded ? "Upgrade" : "close",
                     HB_REQID_HEADER, hb_reqlog_id()) > 0 ? 0 : -1;
}

/* Read the service's final head into buf (cap bytes): its length with *h
 * and *have (bytes in buf), 1xx heads but 101 skipped; or -1 after the 502
 * (sent, its status in *status). */
static int head_up(hb_pv_t *p, int up, char *buf, size_t cap, hb_pv_head_t *h, size_t *have,
                   int *status)
{
    size_t len = 0;
    for (;;) {
        int hl = hb_pv_head_parse(buf, len, h);
        if (hl < 0) {
            *status = bad_gateway(p, "the service's answer is not HTTP/1.x, or its head is "
                                     "malformed or larger than 16 KiB");
            return -1;
        }
        if (hl > 0 && (h->status >= 200 || h->status == 101)) {
            *have = len;
            return hl;
        }
        if (hl > 0) {   /* 100 Continue and the like: not for the client */
            memmove(buf, buf + hl, len - (size_t)hl);
            len -= (size_t)hl;
            continue;
        }
        ssize_t n = len < cap ? hb_raw_recv(up, buf + len, cap - len, HEAD_MS) : -1;
        if (n <= 0) {
            *status = bad_gateway(p, n == 0 ? "the service closed the connection without an "
                                              "answer" : "the service sent no answer in time");
            return -1;
        }
        len += (size_t)n;
    }
}

static bool no_body(const hb_pv_t *p, int status)
{
    return hb_method_is(p->r, "HEAD") || status == 204 || status == 304;
}

/* Everything after a complete head: the tunnel or the body. */
static void rest_down(hb_pv_t *p, int up, const hb_pv_head_t *h, bool upgraded, char *buf,
                      size_t extra)
{
    struct mg_connection *c = p->r->c;
    if (extra && mg_write(c, buf, extra) != (int)extra)
        return;
    if (upgraded) {
        int client = hb_raw_client_fd(p->r->ri);
        if (client < 0) {
            HB_LOG_WARN("preview %s:%u: the client's socket was not found; the upgraded "
                        "connection ends", p->r->route.id, p->port);
            return;
        }
        hb_pv_tunnel(client, up, buf, TUNNEL_IDLE_MS);
        shutdown(client, SHUT_RDWR);   /* civetweb closes it on return */
        return;
    }
    if (!no_body(p, h->status))
        hb_pv_body_down(up, c, buf, IDLE_MS);
}

/* A request body without a length comes only chunked (RFC 9112 6.3): a GET
 * civetweb gives no length is a request without a body. */
static bool chunked_body(struct mg_connection *c)
{
    const char *te = mg_get_header(c, "Transfer-Encoding");
    return te && strcasestr(te, "chunked");
}

int hb_pv_proxy(hb_pv_t *p, int up)
{
    const struct mg_request_info *ri = p->r->ri;
    hb_pv_req_t q = {.path = p->path, .api_key = p->r->conf->api_key,
                     .upgrade = mg_get_header(p->r->c, "Upgrade") != NULL,
                     .chunked = chunked_body(p->r->c), .extra = p->extra,
                     .cluster_fwd = p->cluster_fwd};
    char *buf = malloc(HB_PV_BUF > HB_PV_HEAD_MAX ? HB_PV_BUF : HB_PV_HEAD_MAX);
    if (!buf)
        return hb_reply_error(p->r->c, 500, "out of memory");
    int status, n = hb_pv_req_head(ri, &q, buf, HB_PV_REQ_HEAD_MAX);
    if (n < 0) {
        free(buf);
        return hb_reply_error(p->r->c, 400, "headers: too large to forward (%d KiB at most)",
                              HB_PV_REQ_HEAD_MAX >> 10);
    }
    if (hb_raw_send_all(up, buf, (size_t)n, HEAD_MS) < 0) {
        free(buf);
        return bad_gateway(p, "the service closed the connection");
    }
    /* A body the service stopped reading: its answer may still say why. */
    if (!q.upgrade && (ri->content_length > 0 || q.chunked))
        hb_pv_body_up(p->r->c, up, q.chunked, buf, IDLE_MS);
    hb_pv_head_t *h = malloc(sizeof *h);
    size_t have = 0;
    int hl = h ? head_up(p, up, buf, HB_PV_HEAD_MAX, h, &have, &status) : -1;
    if (!h)
        status = hb_reply_error(p->r->c, 500, "out of memory");
    if (hl > 0) {
        bool upgraded = h->status == 101 && q.upgrade;
        status = h->status;
        mg_disable_connection_keep_alive(p->r->c);
        if (head_down(p, h, upgraded) == 0)
            rest_down(p, up, h, upgraded, memmove(buf, buf + hl, have - (size_t)hl),
                      have - (size_t)hl);
    }
    free(h);
    free(buf);
    return status;
}
