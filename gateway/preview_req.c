/* The forwarded request head (preview_req.h). */
#include "preview_req.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "preview_auth.h"

typedef struct {
    char *p;
    size_t cap, len;
    bool over;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = o->over ? -1 : vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        o->over = true;
    else
        o->len += (size_t)n;
}

static bool ours_param(const char *kv, size_t n)
{
    return (n >= 7 && strncmp(kv, "hb_sig=", 7) == 0) || (n >= 7 && strncmp(kv, "hb_exp=", 7) == 0) ||
           (n == 6 && (strncmp(kv, "hb_sig", 6) == 0 || strncmp(kv, "hb_exp", 6) == 0));
}

int hb_pv_query_strip(const char *qs, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (const char *p = qs; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        if (n && !ours_param(p, n)) {
            if (len + n + 2 > cap)
                return -1;
            if (len)
                out[len++] = '&';
            memcpy(out + len, p, n);
            len += n;
            out[len] = '\0';
        }
        p = amp ? amp + 1 : p + n;
    }
    return 0;
}

/* Percent-encode what a path may not carry as it is. */
static void put_path(out_t *o, const char *path)
{
    static const char keep[] = "-._~/:@!$&'()*+,;=";
    for (const unsigned char *p = (const unsigned char *)path; *p && !o->over; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(keep, *p))
            put(o, "%c", *p);
        else
            put(o, "%%%02X", *p);
    }
}

/* Never forwarded: hop-by-hop, recomputed, or the cluster's own headers
 * (HB_CL_TOKEN_HDR, HB_CL_FWD_HDR: a forwarder adds its own in extra; a
 * client's or a peer's must reach neither a service nor another node). The
 * preview token goes on only to the node that checks it (cluster_fwd). */
static bool hop_by_hop(const char *name, bool cluster_fwd)
{
    static const char *const drop[] = {
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "content-length", "upgrade", "expect", "x-hivebox-cluster-token",
        "x-hivebox-forwarded", NULL,
    };
    for (size_t i = 0; drop[i]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return true;
    return !cluster_fwd && strcasecmp(name, HB_PV_TOKEN_HDR) == 0;
}

/* The Cookie header without ours; nothing when none is left. */
static void put_cookies(out_t *o, const char *v)
{
    bool first = true;
    for (const char *p = v; *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        bool ours = n > strlen(HB_PV_COOKIE) && strncmp(p, HB_PV_COOKIE "=", strlen(HB_PV_COOKIE) + 1) == 0;
        if (n && !ours) {
            put(o, "%s%.*s", first ? "Cookie: " : "; ", (int)n, p);
            first = false;
        }
        p += n;
    }
    if (!first)
        put(o, "\r\n");
}

static bool our_key(const char *v, const char *key)
{
    return hb_auth_bearer_ok(v, key);
}

static void put_headers(out_t *o, const struct mg_request_info *ri, const hb_pv_req_t *q)
{
    for (int i = 0; i < ri->num_headers; i++) {
        const char *n = ri->http_headers[i].name, *v = ri->http_headers[i].value;
        if (n && v && q->upgrade && strcasecmp(n, "Upgrade") == 0)
            put(o, "Upgrade: %s\r\nConnection: Upgrade\r\n", v);
        if (!n || !v || hop_by_hop(n, q->cluster_fwd) ||
            (strcasecmp(n, "Authorization") == 0 && our_key(v, q->api_key)))
            continue;
        if (strcasecmp(n, "Cookie") == 0 && !q->cluster_fwd)
            put_cookies(o, v);
        else
            put(o, "%s: %s\r\n", n, v);
    }
}

int hb_pv_path_encode(const char *path, char *out, size_t cap)
{
    out_t o = {.p = out, .cap = cap};
    out[0] = '\0';
    put_path(&o, path);
    return o.over ? -1 : 0;
}

int hb_pv_req_head(const struct mg_request_info *ri, const hb_pv_req_t *q, char *out,
                   size_t cap)
{
    out_t o = {.p = out, .cap = cap};
    char qs[8192];
    if (q->cluster_fwd && snprintf(qs, sizeof qs, "%s", ri->query_string ? ri->query_string : "") >= (int)sizeof qs)
        return -1;
    if (!q->cluster_fwd && hb_pv_query_strip(ri->query_string, qs, sizeof qs) < 0)
        return -1;
    put(&o, "%s ", ri->request_method);
    put_path(&o, q->path);
    put(&o, "%s%s HTTP/1.1\r\n", qs[0] ? "?" : "", qs);
    put_headers(&o, ri, q);
    put(&o, "X-Forwarded-For: %s\r\nX-Forwarded-Proto: http\r\n", ri->remote_addr);
    if (q->extra)
        put(&o, "%s", q->extra);
    if (!q->upgrade)
        put(&o, "Connection: close\r\n");
    if (q->chunked)
        put(&o, "Transfer-Encoding: chunked\r\n");
    else if (ri->content_length > 0)
        put(&o, "Content-Length: %lld\r\n", ri->content_length);
    put(&o, "\r\n");
    return o.over ? -1 : (int)o.len;
}
