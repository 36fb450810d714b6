/* Preview ports (issue 16): a sandbox's TCP port served through the
 * daemon's one port, in the path form /api/v1/hiveboxes/:id/ports/:port/...
 * and the host form http://{port}-{id}.{--preview-domain}/... The proxy
 * reaches the port through the sandbox's init (port.h), so every network
 * mode works and nothing is opened on the host. README "Preview ports". */
#ifndef HB_GW_PREVIEW_H
#define HB_GW_PREVIEW_H

#include "gw_internal.h"

/* /api/v1/hiveboxes/:id/ports/:port[/...]: the proxy, and the admin's
 * PUT .../ports/:port and POST .../ports/:port/url (gw_ports.c). It checks
 * its own credentials. */
int hb_h_preview(hb_req_t *r);
/* GET .../ports (admin key): the ports listening inside (gw_ports.c). */
int hb_h_ports(hb_req_t *r);
/* Before the URI router: a request whose Host is below --preview-domain.
 * The status sent, or -1 when the request is not a preview's. */
int hb_pv_host_dispatch(hb_req_t *r);

/* ---- inside the preview's files ---- */
typedef struct {
    hb_req_t   *r;
    unsigned    port;
    const char *path;              /* forwarded path, decoded, from "/" on */
    char        cookie_path[160];  /* where our cookie applies */
    bool        is_public;
    bool        path_form;         /* on the API's origin: its pages are sandboxed (CSP) */
    const char *extra;             /* more request header lines, or NULL (issue 20) */
    bool        cluster_fwd;       /* to the owning node (hb_pv_req_t.cluster_fwd) */
} hb_pv_t;

/* Credentials check: 0 when the request may go on, else the status sent
 * (401, or the redirect that turns a signed URL into a cookie). */
int hb_pv_access(hb_pv_t *p, const hb_lease_t *l);
/* The relay, on a connected socket up (closed by the caller). */
int hb_pv_proxy(hb_pv_t *p, int up);
/* Whether port is public for the leased sandbox (gw_ports.c). */
bool hb_pv_is_public(const hb_lease_t *l, unsigned port);
int hb_pv_port_set(hb_req_t *r, unsigned port);   /* PUT .../ports/:port */
int hb_pv_url_mint(hb_req_t *r, unsigned port);   /* POST .../ports/:port/url */

#endif
