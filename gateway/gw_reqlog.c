/* The request lifecycle's log line and counts (gw_reqlog.h). All state is
 * the serving worker thread's own: no lock, no message, no allocation. */
#include "gw_reqlog.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http_metrics.h"
#include "log.h"
#include "reqid.h"

static _Thread_local struct {
    bool           active;
    bool           upgraded;   /* the handler let civetweb take a WebSocket on */
    int            status;
    hb_route_tpl_t tpl;
    uint64_t       start_us;
} t_req;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void hb_reqlog_begin(const struct mg_connection *c)
{
    if (t_req.active)   /* civetweb skipped the access callback: close it */
        hb_reqlog_finish(c, NULL);
    char id[HB_LOG_REQID_MAX + 1];
    hb_reqid_take(mg_get_header(c, HB_REQID_HEADER), id);
    hb_log_ctx_begin(id);
    t_req.active = true;
    t_req.upgraded = false;
    t_req.status = 0;
    t_req.tpl = HB_TPL_OTHER;
    t_req.start_us = now_us();
    hb_http_metrics_begin();
}

void hb_reqlog_route(hb_route_tpl_t tpl, const char *sandbox)
{
    t_req.tpl = tpl;
    if (sandbox && sandbox[0])
        hb_log_ctx_sandbox(sandbox);
}

void hb_reqlog_handled(int status)
{
    t_req.status = status;
    t_req.upgraded = status == 0;
}

bool hb_reqlog_adhoc(const struct mg_connection *c)
{
    if (t_req.active)
        return false;
    hb_reqlog_begin(c);
    return true;
}

const char *hb_reqlog_id(void)
{
    if (!hb_log_ctx_request_id()[0]) {
        char id[HB_LOG_REQID_MAX + 1];
        hb_reqid_new(id);
        hb_log_ctx_begin(id);
    }
    return hb_log_ctx_request_id();
}

/* The method as logged: bounded, and only what a method can be made of. */
static void method_of(const struct mg_connection *c, char out[16])
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    const char *m = ri && ri->request_method ? ri->request_method : "-";
    size_t i = 0;
    for (; i < 15 && m[i]; i++) {
        if (!((m[i] >= 'A' && m[i] <= 'Z') || m[i] == '-' || m[i] == '_')) {
            i = 0;   /* a malformed request's: not worth showing */
            break;
        }
        out[i] = m[i];
    }
    if (i == 0)
        out[i++] = '-';
    out[i] = '\0';
}

static void access_line(const struct mg_connection *c, int status, long long bytes,
                        uint64_t dur_us)
{
    const struct mg_request_info *ri = mg_get_request_info(c);
    char method[16], msg[128];
    method_of(c, method);
    const char *route = hb_route_tpl_name(t_req.tpl);
    /* A poller's /healthz every few seconds would drown the log: debug. */
    hb_log_level_t lvl = t_req.tpl == HB_TPL_HEALTHZ && status == 200 ? HB_LOGLVL_DEBUG
                                                                       : HB_LOGLVL_INFO;
    if (!hb_log_enabled(lvl))
        return;
    snprintf(msg, sizeof msg, "http: %s %s %d", method, route, status);
    const char *sandbox = hb_log_ctx_sandbox_id();
    hb_log_field_t f[7];
    size_t n = 0;
    f[n++] = HB_LF_STR("method", method);
    f[n++] = HB_LF_STR("route", route);
    f[n++] = HB_LF_NUM("status", status);
    f[n++] = HB_LF_NUM("duration_ms", (dur_us + 500) / 1000);
    f[n++] = HB_LF_STR("remote", ri && ri->remote_addr[0] ? ri->remote_addr : "-");
    if (sandbox[0])
        f[n++] = HB_LF_STR("sandbox", sandbox);
    if (bytes >= 0)   /* unknown when civetweb's line was cut */
        f[n++] = HB_LF_NUM("bytes", bytes);
    hb_log_fields(lvl, msg, f, n);
}

void hb_reqlog_finish(const struct mg_connection *c, const char *civetweb_line)
{
    if (!t_req.active)
        return;
    int st = -1;
    long long bytes = -1;
    hb_reqid_parse_civetweb(civetweb_line, &st, &bytes);
    int status = t_req.status;
    if (st > 0)
        status = st;   /* civetweb's: what it really sent */
    if (t_req.upgraded && status <= 0)
        status = 101;
    uint64_t dur = now_us() - t_req.start_us;
    hb_http_metrics_end(t_req.tpl, mg_get_request_info(c)->request_method, status, dur);
    access_line(c, status, bytes, dur);
    t_req.active = false;
    hb_log_ctx_end();
}
