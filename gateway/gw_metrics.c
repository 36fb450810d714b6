/* GET /metrics: the Prometheus page (text format 0.0.4).
 *
 * Auth is checked here, not in gateway.c: the API key or --metrics-token
 * as a Bearer token (both compared in constant time, both always
 * compared), or nothing with --metrics-public. The metrics token opens
 * this page only: gateway.c's check for every other route knows only the
 * API key.
 *
 * The page is sections concatenated, each with its own # HELP/# TYPE
 * lines and names no other section uses: the metrics actor's (lifecycle,
 * execs, per sandbox, host, events, the daemon process), the gateway's
 * HTTP figures (http_metrics.h), the OpenCode proxy's, the webhook
 * actor's (it always runs; a section that does not answer in time is
 * skipped quietly), and what the gateway adds itself: image build state (the
 * manager's IMAGE_LIST) and events dropped for slow SSE clients. */
#include "gw_internal.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "dnsfwd.h"
#include "bus.h"
#include "http_metrics.h"
#include "json_out.h"
#include "metrics_prom.h"

#define CORE_MS     10000   /* the metrics actor answers from memory */
#define OPTIONAL_MS 2000    /* the proxy and webhook actors: a section may be missing */

static bool authorized(const hb_req_t *r)
{
    if (r->conf->metrics_public)
        return true;
    const char *h = mg_get_header(r->c, "Authorization");
    bool key = hb_auth_bearer_ok(h, r->conf->api_key);
    bool token = r->conf->metrics_token && hb_auth_bearer_ok(h, r->conf->metrics_token);
    return key || token;
}

static int unauthorized(hb_req_t *r)
{
    size_t len = 0;
    json_t *j = hb_json_error("missing or invalid token (Authorization: Bearer <API key or "
                              "metrics token>)");
    char *text = j ? hb_json_text(j, &len) : NULL;
    json_decref(j);
    if (!text)
        return hb_reply_error(r->c, 500, "out of memory");
    hb_send(r->c, 401, "application/json", text, len, "WWW-Authenticate", "Bearer");
    free(text);
    return 401;
}

/* An actor's section (METRICS_TEXT -> R_TEXT) appended; -1 if it did not answer. */
static int actor_section(hb_prom_t *p, const char *ep, int64_t ms, hb_err_t *e)
{
    hb_msg_t q = {.type = HB_MSG_METRICS_TEXT}, rep;
    int rc = hb_bus_call(ep, &q, &rep, ms, e);
    hb_msg_clear(&q);
    if (rc < 0)
        return -1;
    if (rep.text.data)
        hb_prom_append(p, rep.text.data, rep.text.len);
    hb_msg_clear(&rep);
    return 0;
}

static void http_section(hb_prom_t *p)
{
    size_t len = 0;
    char *text = hb_http_metrics_text(&len);
    if (text)
        hb_prom_append(p, text, len);
    else
        p->oom = true;
    free(text);
}

/* hivebox_image_build_state{image,state}: 1 for the state each image is in. */
static void images_section(hb_prom_t *p, const hb_req_t *r)
{
    static const char *const states[] = {"ready", "building", "failed"};
    hb_msg_t q = {.type = HB_MSG_IMAGE_LIST}, rep;
    hb_err_t e = {0};
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, OPTIONAL_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return;
    hb_prom_head(p, "hivebox_image_build_state", "gauge",
                 "1 for the state an image is in (the default image is built at first start).");
    for (size_t i = 0; i < rep.items_n; i++) {
        const hb_catitem_t *it = &rep.items[i];
        const char *st = it->state && it->state[0] ? it->state : "ready";
        for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
            const char *l[4] = {"image", it->name ? it->name : "", "state", states[k]};
            hb_prom_sample(p, "hivebox_image_build_state", l, 2, strcmp(st, states[k]) == 0);
        }
    }
    hb_msg_clear(&rep);
}

static void gateway_section(hb_prom_t *p, const hb_req_t *r)
{
    hb_prom_head(p, "hivebox_events_dropped_total", "counter",
                 "Events dropped for GET /api/v1/events clients that did not keep up.");
    hb_prom_plain(p, "hivebox_events_dropped_total",
                  r->events ? (double)hb_ev_hub_dropped(r->events) : 0);
}

int hb_h_metrics(hb_req_t *r)
{
    if (!authorized(r))
        return unauthorized(r);
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_prom_t p;
    hb_prom_init(&p);
    hb_err_t e = {0};
    if (actor_section(&p, r->conf->ep.metrics, CORE_MS, &e) < 0) {
        hb_prom_free(&p);
        return hb_reply_err(r, &e);
    }
    http_section(&p);
    hb_err_t skip = {0};
    actor_section(&p, r->conf->ep.proxy, OPTIONAL_MS, &skip);
    actor_section(&p, r->conf->ep.webhook, OPTIONAL_MS, &skip);
    if (r->conf->rt && r->conf->rt->net.dns_fwd)   /* issue 16: the DNS forwarder's */
        actor_section(&p, HB_EP_DNSFWD, OPTIONAL_MS, &skip);
    actor_section(&p, r->conf->ep.manager, OPTIONAL_MS, &skip);   /* issue 19: the pool */
    images_section(&p, r);
    gateway_section(&p, r);
    size_t len = 0;
    char *text = hb_prom_take(&p, &len);
    if (!text)
        return hb_reply_error(r->c, 500, "out of memory");
    hb_send(r->c, 200, HB_PROM_CTYPE, text, len, NULL, NULL);
    free(text);
    return 200;
}
