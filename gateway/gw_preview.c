/* The preview proxy's entry points (gw_preview.h): which sandbox and port
 * a request is for, the caps, the connection through init. */
#include "gw_preview.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "gw_reqlog.h"
#include "preview_auth.h"
#include "preview_limit.h"
#include "preview_parse.h"

#define SB_PREFIX "/api/v1/hiveboxes/"

/* Lease, credentials, caps, connect; then the relay. The lease is given
 * back once the socket is there: the connection does not need the
 * sandbox's handle, and a destroy ends it by killing the service. */
static int serve(hb_pv_t *p)
{
    hb_req_t *r = p->r;
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    p->is_public = hb_pv_is_public(l, p->port);
    status = hb_pv_access(p, l);
    if (status) {
        hb_lease_release(&l);
        return status;
    }
    if (hb_pv_enter(r->route.id, hb_pv_cap_sandbox(), hb_pv_cap_total(), &e) < 0) {
        hb_lease_release(&l);
        return hb_reply_err(r, &e);
    }
    int up = -1;
    int rc = hb_lease_port_connect(l, p->port, &up, &e);
    hb_lease_release(&l);
    status = rc < 0 ? hb_reply_err(r, &e) : hb_pv_proxy(p, up);
    if (up >= 0)
        close(up);
    hb_pv_leave(r->route.id);
    return status;
}

/* .../ports/PORT without the slash: the page's relative links would
 * resolve one level up, so a browser is sent to .../ports/PORT/ first. */
static int to_slash(hb_req_t *r)
{
    char loc[4200];
    const char *qs = r->ri->query_string;
    snprintf(loc, sizeof loc, "%s/%s%s", r->ri->local_uri, qs ? "?" : "", qs ? qs : "");
    if (hb_response_start(r->c, 308) < 0)
        return hb_reply_error(r->c, 400, "path: a WebSocket needs the port's path, .../ports/PORT/...");
    mg_response_header_add(r->c, "Location", loc, -1);
    mg_response_header_add(r->c, "Content-Length", "0", -1);
    mg_response_header_send(r->c);
    return 308;
}

int hb_h_preview(hb_req_t *r)
{
    const char *uri = r->ri->local_uri;
    size_t skip = strlen(SB_PREFIX) + strlen(r->route.id) + strlen("/ports/");
    const char *seg = strlen(uri) >= skip ? uri + skip : "";
    const char *slash = strchr(seg, '/');
    size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
    hb_pv_t p = {.r = r};
    if (hb_pv_port_parse(seg, n, &p.port) < 0)
        return hb_reply_error(r->c, 400, "port: must be a number from 1 to 65535");
    const char *rest = seg + n;
    if (!*rest && hb_method_is(r, "PUT"))
        return hb_pv_port_set(r, p.port);
    /* The mint is the admin's POST; any other request to /url is the
     * service's own path (README "Preview ports"). */
    if (strcmp(rest, "/url") == 0 && hb_method_is(r, "POST") &&
        hb_auth_bearer_ok(mg_get_header(r->c, "Authorization"), r->conf->api_key))
        return hb_pv_url_mint(r, p.port);
    if (!*rest)
        return to_slash(r);
    p.path = rest;
    p.path_form = true;
    snprintf(p.cookie_path, sizeof p.cookie_path, SB_PREFIX "%s/ports/%u/", r->route.id, p.port);
    return serve(&p);
}

int hb_pv_host_dispatch(hb_req_t *r)
{
    const char *domain = hb_pv_domain();
    hb_pv_t p = {.r = r, .path = r->ri->local_uri ? r->ri->local_uri : "/"};
    if (!domain)
        return -1;
    int m = hb_pv_host_parse(mg_get_header(r->c, "Host"), domain, &p.port, r->route.id);
    if (m == 0)
        return -1;
    r->route.kind = HB_RT_PORT;
    r->route.tpl = HB_TPL_PORT;
    if (m < 0) {
        r->route.id[0] = '\0';
        hb_reqlog_route(r->route.tpl, NULL);
        return hb_reply_error(r->c, 404, "no such preview: the host must be "
                              "{port}-{sandbox id}.%s with a port from 1 to 65535", domain);
    }
    hb_reqlog_route(r->route.tpl, r->route.id);
    snprintf(p.cookie_path, sizeof p.cookie_path, "/");
    return serve(&p);
}
