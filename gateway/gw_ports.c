/* The admin's preview routes (gw_preview.h): GET .../ports (what listens
 * inside, read from the sandbox's own /proc/net/tcp and tcp6 through init),
 * PUT .../ports/:port {"public": bool}, POST .../ports/:port/url (a signed,
 * expiring link). */
#include "gw_preview.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "bus.h"
#include "preview_auth.h"
#include "preview_body.h"
#include "preview_parse.h"
#include "preview_ports.h"

#define PROC_TCP_MAX (4u << 20)   /* 150 bytes a socket: ~28,000 sockets */
#define PORTS_MAX    1024         /* listed */
#define SET_MS       10000

bool hb_pv_is_public(const hb_lease_t *l, unsigned port)
{
    return hb_pv_ports_has(hb_lease_state_dir(l), port);
}

/* "http://host" the client reached us by (its Host header). */
static void base_url(const hb_req_t *r, char *out, size_t cap)
{
    const char *host = mg_get_header(r->c, "Host");
    bool sane = host && *host && strlen(host) < 256 && !strpbrk(host, "/ \t\"<>\\");
    snprintf(out, cap, "http://%s", sane ? host : "127.0.0.1");
}

/* The path form's URL and, with --preview-domain, the host form's. */
static json_t *urls(const hb_req_t *r, unsigned port, const char *query)
{
    char base[300], u[1024];
    base_url(r, base, sizeof base);
    json_t *o = json_object();
    snprintf(u, sizeof u, "%s/api/v1/hiveboxes/%s/ports/%u/%s", base, r->route.id, port, query);
    json_object_set_new(o, "path_url", json_string(u));
    if (hb_pv_domain()) {
        snprintf(u, sizeof u, "http://%u-%s.%s/%s", port, r->route.id, hb_pv_domain(), query);
        json_object_set_new(o, "host_url", json_string(u));
    }
    json_object_set(o, "url", json_object_get(o, hb_pv_domain() ? "host_url" : "path_url"));
    return o;
}

/* One port's answer: its URLs (query appended), number and access. */
static json_t *port_json(const hb_req_t *r, unsigned port, bool pub, const char *query)
{
    json_t *o = urls(r, port, query);
    json_object_set_new(o, "port", json_integer(port));
    json_object_set_new(o, "access", json_string(pub ? "public" : "private"));
    return o;
}

static void listening(const hb_lease_t *l, const char *file, unsigned *v, size_t *n)
{
    char *buf = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_lease_file_read_buf(l, file, PROC_TCP_MAX, &buf, &len, &e) == 0)
        hb_pv_proc_tcp(buf, len, v, PORTS_MAX, n);
    free(buf);
}

int hb_h_ports(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    unsigned *v = calloc(PORTS_MAX, sizeof *v);
    size_t n = 0;
    char tok[HB_PV_TOKEN_LEN + 1];
    if (!v) {
        hb_lease_release(&l);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    listening(l, "/proc/net/tcp", v, &n);
    listening(l, "/proc/net/tcp6", v, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, port_json(r, v[i], hb_pv_is_public(l, v[i]), ""));
    }
    json_t *j = json_pack("{s:o}", "ports", arr);
    if (hb_pv_token(l, tok) == 0)
        json_object_set_new(j, "preview_token", json_string(tok));
    hb_lease_release(&l);
    free(v);
    return hb_reply_json(r->c, 200, j);
}

int hb_pv_port_set(hb_req_t *r, unsigned port)
{
    if (!hb_auth_bearer_ok(mg_get_header(r->c, "Authorization"), r->conf->api_key))
        return hb_reply_error(r->c, 401, "missing or invalid API key (Authorization: Bearer <key>)");
    char *body = NULL;
    size_t len = 0;
    bool pub = false;
    hb_err_t e = {0};
    if (hb_read_body(r->c, 4096, &body, &len, &e) < 0 ||
        hb_pv_parse_public(body, len, &pub, &e) < 0) {
        free(body);
        return hb_reply_err(r, &e);
    }
    free(body);
    hb_msg_t q = {.type = HB_MSG_SB_PORT_PUBLIC, .port = port, .public_port = pub}, rep;
    if (hb_str_set(&q.id, r->route.id) < 0)
        return hb_reply_error(r->c, 500, "out of memory");
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, SET_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 200, port_json(r, port, pub, ""));
}

int hb_pv_url_mint(hb_req_t *r, unsigned port)
{
    char *body = NULL, sig[HB_PV_SIG_LEN + 1], query[160];
    size_t len = 0;
    int64_t secs = 0;
    hb_err_t e = {0};
    if (hb_read_body(r->c, 4096, &body, &len, &e) < 0 ||
        hb_pv_parse_expires(body, len, &secs, &e) < 0) {
        free(body);
        return hb_reply_err(r, &e);
    }
    free(body);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    int64_t exp = (int64_t)time(NULL) + secs;
    hb_pv_sign(l, port, exp, sig);
    bool pub = hb_pv_is_public(l, port);
    hb_lease_release(&l);
    snprintf(query, sizeof query, "?hb_exp=%" PRId64 "&hb_sig=%s", exp, sig);
    json_t *j = port_json(r, port, pub, query);
    json_object_set_new(j, "expires_at", json_integer(exp));
    return hb_reply_json(r->c, 200, j);
}
