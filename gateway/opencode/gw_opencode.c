/* /api/v1/hiveboxes/:id/opencode/... : the streaming proxy to the sandbox's
 * OpenCode server. The proxy actor (actors/opencode/proxy.h) owns the server; this
 * civetweb worker asks it for the server (OC_OPEN, which may start it and
 * wait for its health), forwards the request with libcurl and streams the
 * answer back as it comes (SSE events one by one, no buffering, no idle
 * timeout), then says it is done (OC_CLOSE) so that idle time is counted.
 *
 * Forwarded: the method, the path after /opencode (the bare /opencode/ is
 * "/"), the raw query string, the request headers minus our Authorization
 * and the hop-by-hop ones, plus OpenCode's own credential, and the body
 * (streamed). Returned: the status and every header (repeated ones kept)
 * minus hop-by-hop ones, and the body with the LLM key masked. */
#include "gw_internal.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bus.h"
#include "json_depth.h"
#include "opencode_conf.h"
#include "opencode_guard.h"
#include "opencode_proc.h"
#include "opencode_redact.h"
#include "oc_streams.h"
#include "proxy.h"

#define OPEN_MS         120000   /* a cold start waits for the server's health */
#define CONNECT_MS      10000
#define PREFIX          "/api/v1/hiveboxes/"
#define HDR_LINE_MAX    16384
#define RETRY_FOR_MS    10000    /* a killed server may take seconds to be seen gone */
#define HB_OC_BODY_MAX  (32u << 20)   /* prompts may carry files as data URLs */
#define RETRY_US        (300 * 1000)

typedef struct {
    struct mg_connection *c;
    bool        head;          /* HEAD: no body goes back */
    long        status;        /* of the final (non-1xx) response; 0 until seen */
    bool        has_length;
    bool        sent;          /* response headers are out */
    bool        chunked;       /* we frame the body in chunks */
    bool        client_gone;
    bool        stream;        /* text/event-stream: ends at once on daemon shutdown */
    hb_oc_stream_t *notes;     /* an event stream: HiveBox's own notes go in too */
    const char *id;
    hb_redact_t redact;
} fwd_t;

/* Request headers never forwarded (hop-by-hop, ours, or recomputed). */
static bool drop_request_header(const char *name)
{
    static const char *const drop[] = {
        "host", "authorization", "connection", "keep-alive", "proxy-authorization",
        "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length",
        "expect", "accept-encoding", "x-api-key",
        "x-hivebox-cluster-token", "x-hivebox-forwarded",   /* the cluster's (gw_cluster.h) */
        NULL,
    };
    for (size_t i = 0; drop[i]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return true;
    return false;
}

static bool drop_response_header(const char *name)
{
    static const char *const drop[] = {
        "connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "www-authenticate",
        "x-request-id",   /* ours, for the daemon's log (gw_reqlog.h) */
        NULL,
    };
    for (size_t i = 0; drop[i]; i++)
        if (strcasecmp(name, drop[i]) == 0)
            return true;
    return false;
}

/* ---- upstream -> client ---- */

static int raw_write(void *ud, const char *data, size_t len)
{
    fwd_t *f = ud;
    int rc = f->chunked ? mg_send_chunk(f->c, data, (unsigned)len)
                        : mg_write(f->c, data, len);
    if (rc <= 0) {
        f->client_gone = true;
        return -1;
    }
    return 0;
}

static int client_write(void *ud, const char *data, size_t len)
{
    fwd_t *f = ud;
    return f->notes ? hb_oc_stream_write(f->notes, data, len) : raw_write(f, data, len);
}

static void send_headers(fwd_t *f)
{
    if (f->sent)
        return;
    bool bodyless = f->head || f->status == 204 || f->status == 304;
    if (!f->has_length && !bodyless) {
        mg_response_header_add(f->c, "Transfer-Encoding", "chunked", -1);
        f->chunked = true;
    }
    mg_response_header_send(f->c);
    f->sent = true;
    if (f->stream && !f->head)
        f->notes = hb_oc_stream_open(f->id, raw_write, f);
}

static void on_status_line(fwd_t *f, const char *line)
{
    int code = 0;
    if (sscanf(line, "HTTP/%*s %d", &code) != 1 || code < 100 || code > 599)
        return;
    f->status = code;
    f->has_length = false;
    if (code >= 200)
        hb_response_start(f->c, code);
}

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    fwd_t *f = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        char line[64];
        snprintf(line, sizeof line, "%.*s", (int)(len < 63 ? len : 63), buf);
        on_status_line(f, line);
        return len;
    }
    if (f->status < 200 || f->sent)
        return len;   /* 1xx headers, or trailers */
    if (len <= 2) {   /* the blank line: end of the headers */
        send_headers(f);
        return len;
    }
    char *colon = memchr(buf, ':', len);
    if (!colon || len > HDR_LINE_MAX)
        return len;
    char name[256];
    size_t nl = (size_t)(colon - buf);
    if (nl == 0 || nl >= sizeof name)
        return len;
    memcpy(name, buf, nl);
    name[nl] = '\0';
    if (drop_response_header(name))
        return len;
    const char *v = colon + 1;
    size_t vl = len - nl - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
        vl--;
    if (strcasecmp(name, "Content-Length") == 0)
        f->has_length = true;
    if (strcasecmp(name, "Content-Type") == 0 && vl >= 17 &&
        strncasecmp(v, "text/event-stream", 17) == 0)
        f->stream = true;
    mg_response_header_add(f->c, name, v, (int)vl);   /* repeated names are kept */
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud)
{
    fwd_t *f = ud;
    size_t len = size * n;
    send_headers(f);
    if (f->head)
        return len;
    return hb_redact_feed(&f->redact, buf, len, client_write, f) == 0 ? len : 0;
}

/* No timeout on a transfer (an event stream lasts as long as its client),
 * but none outlives the daemon's stop: streams end when it begins, other
 * requests a second before its deadline (hb_bus_set_deadline). */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    const fwd_t *f = ud;
    int64_t deadline = hb_bus_deadline();
    if (deadline == 0)
        return 0;
    return f->stream || hb_now_ms() >= deadline - 1000;
}

/* ---- client -> upstream ---- */

/* The path after /opencode in uri ("/" for the bare /opencode/). */
static const char *path_after(const char *uri, const char *id)
{
    size_t skip = strlen(PREFIX) + strlen(id) + strlen("/opencode");
    if (strlen(uri) < skip)
        return "/";
    const char *rest = uri + skip;
    return rest[0] ? rest : "/";
}

/* civetweb hands us the path decoded (local_uri_raw too) and cleaned of dot
 * segments (local_uri). That one form is checked by the guard and, encoded
 * again, forwarded: what was checked is what OpenCode's router sees. */
static const char *decoded_path(const struct mg_request_info *ri, const char *id)
{
    return path_after(ri->local_uri, id);
}

static const char *blocked(const struct mg_request_info *ri, const char *id)
{
    return hb_oc_route_blocked(ri->request_method, decoded_path(ri, id));
}

/* Percent-encode all but RFC 3986 unreserved bytes, '/' and the sub-delims
 * a path may carry as they are. malloc'd; the caller frees. */
static char *encode_path(const char *path)
{
    static const char keep[] = "-._~/:@!$&'()*+,;=";
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *out = malloc(3 * n + 1), *o = out;
    if (!out)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr(keep, *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

static struct curl_slist *request_headers(const struct mg_request_info *ri, const char *auth)
{
    struct curl_slist *h = NULL;
    char *line = NULL;
    for (int i = 0; i < ri->num_headers; i++) {
        const struct mg_header *mh = &ri->http_headers[i];
        if (!mh->name || !mh->value || drop_request_header(mh->name))
            continue;
        /* "Name;" is curl's way to send a header with an empty value. */
        if (asprintf(&line, mh->value[0] ? "%s: %s" : "%s;", mh->name, mh->value) < 0)
            continue;
        struct curl_slist *nh = curl_slist_append(h, line);
        free(line);
        if (nh)
            h = nh;
    }
    if (asprintf(&line, "Authorization: %s", auth) >= 0) {
        struct curl_slist *nh = curl_slist_append(h, line);
        explicit_bzero(line, strlen(line));
        free(line);
        if (nh)
            h = nh;
    }
    struct curl_slist *nh = curl_slist_append(h, "Expect:");
    return nh ? nh : h;
}

typedef struct {
    bool   present;
    char  *data;   /* malloc'd, NUL-terminated; owned by hb_h_opencode */
    size_t len;
} body_t;

static bool has_body(struct mg_connection *c, const struct mg_request_info *ri)
{
    const char *te = mg_get_header(c, "Transfer-Encoding");
    return ri->content_length > 0 || (te && strcasestr(te, "chunked"));
}

/* The body was read (and checked) before: it goes up from memory, which
 * also lets a retry send it again. */
static void set_method(CURL *cu, const struct mg_request_info *ri, const body_t *b, fwd_t *f)
{
    const char *m = ri->request_method;
    if (strcmp(m, "GET") == 0 && !b->present) {
        curl_easy_setopt(cu, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
        f->head = true;
    } else if (b->present || strcmp(m, "POST") == 0) {
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, b->data ? b->data : "");
        curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->len);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, m);
    } else {
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, m);
    }
}

/* Nothing came back because the server is not there. A server killed a
 * moment ago may still hold its listening socket, so a connection is
 * accepted and then reset: for requests that are safe to send twice that
 * counts as gone too; others are retried only when nothing was connected. */
static bool server_gone(CURLcode rc, const char *method)
{
    if (rc == CURLE_COULDNT_CONNECT)
        return true;
    bool idempotent = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
                      strcmp(method, "OPTIONS") == 0 || strcmp(method, "PUT") == 0 ||
                      strcmp(method, "DELETE") == 0;
    return idempotent && (rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
                          rc == CURLE_SEND_ERROR);
}

/* Forward one request to the server on port; replies to the client in
 * every case but one: when the server is not there (it just died, see
 * server_gone): then -1, nothing sent to the client, and the caller may
 * retry. */
static int forward(hb_req_t *r, const body_t *body, uint16_t port, const char *auth,
                   const char *key, bool last)
{
    fwd_t f = {.c = r->c, .id = r->route.id};
    CURL *cu = curl_easy_init();
    if (!cu || hb_redact_init(&f.redact, key) < 0) {
        curl_easy_cleanup(cu);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    char *path = encode_path(decoded_path(r->ri, r->route.id));
    const char *qs = r->ri->query_string;
    char *url = NULL;
    if (!path || asprintf(&url, "http://127.0.0.1:%u%s%s%s", (unsigned)port, path,
                          qs ? "?" : "", qs ? qs : "") < 0) {
        free(path);
        curl_easy_cleanup(cu);
        hb_redact_free(&f.redact);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    struct curl_slist *hdrs = request_headers(r->ri, auth);
    free(path);
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(cu, CURLOPT_PROXY, "");
    curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(cu, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt(cu, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, &f);
    curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(cu, CURLOPT_BUFFERSIZE, 16384L);
    curl_easy_setopt(cu, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(cu, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(cu, CURLOPT_XFERINFODATA, &f);
    set_method(cu, r->ri, body, &f);
    CURLcode rc = curl_easy_perform(cu);
    int status = (int)f.status;
    if (!f.sent && f.status >= 200 && rc == CURLE_OK)
        send_headers(&f);   /* a response without a body */
    if (f.sent) {
        if (!f.client_gone)
            hb_redact_flush(&f.redact, client_write, &f);
        hb_oc_stream_close(f.notes);   /* no note may be written after the last chunk */
        if (f.chunked && !f.client_gone)
            mg_send_chunk(r->c, "", 0);
    } else if (!last && server_gone(rc, r->ri->request_method)) {
        status = -1;
    } else {
        status = hb_reply_error(r->c, 502, "opencode serve unreachable: %s",
                                curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(cu);
    free(url);
    hb_redact_free(&f.redact);
    return status;
}

/* One round: get the server from the proxy actor (starting it if need
 * be), forward, tell the actor the request is over. -1: the server was gone
 * (a crash the actor had not noticed yet); the next round restarts it. */
static int open_and_forward(hb_req_t *r, const body_t *body, bool last)
{
    hb_msg_t q = {.type = HB_MSG_OC_OPEN}, rep;
    hb_err_t e = {0};
    if (hb_str_set(&q.id, r->route.id) < 0)
        return hb_reply_error(r->c, 500, "out of memory");
    int rc = hb_bus_call(r->conf->ep.proxy, &q, &rep, OPEN_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status = 502;
    if (rep.port > 0 && rep.port < 65536 && rep.secret)
        status = forward(r, body, (uint16_t)rep.port, rep.secret, rep.llm_api_key, last);
    else
        hb_reply_error(r->c, 502, "opencode: malformed reply from the proxy actor");
    hb_msg_clear(&rep);
    hb_msg_t done = {.type = HB_MSG_OC_CLOSE, .id = r->route.id};
    hb_bus_post(r->conf->ep.proxy, &done);   /* done borrows */
    if (status < 0)
        usleep(RETRY_US);
    return status;
}

int hb_h_opencode(hb_req_t *r)
{
    if (!r->oc->enabled)
        return hb_reply_error(r->c, 404, "no OpenCode agent: OpenCode is disabled on this daemon "
                              "(HIVEBOX_OPENCODE=false)");
    const char *why = blocked(r->ri, r->route.id);
    if (why)
        return hb_reply_error(r->c, 403, "this OpenCode route is not available through HiveBox: "
                              "it %s (use the sandbox's own API: exec, files, mcp)", why);
    body_t body = {.present = has_body(r->c, r->ri)};
    hb_err_t e = {0};
    if (body.present && hb_read_body(r->c, HB_OC_BODY_MAX, &body.data, &body.len, &e) < 0)
        return hb_reply_err(r, &e);
    why = body.present ? hb_oc_body_blocked(body.data, body.len) : NULL;
    int status;   /* 0: not answered yet; -1: the server was gone, again */
    if (why == hb_oc_too_deep)
        status = hb_reply_error(r->c, 400, "body: JSON nested deeper than %u levels",
                                HB_JSON_DEPTH_MAX);
    else if (why)
        status = hb_reply_error(r->c, 403, "this OpenCode request is not accepted by HiveBox: it "
                                "%s", why);
    else
        status = hb_gw_prompt_check(r, decoded_path(r->ri, r->route.id), body.data, body.len);
    int64_t give_up = hb_now_ms() + RETRY_FOR_MS;
    while (status <= 0)
        status = open_and_forward(r, &body, hb_now_ms() + RETRY_US / 1000 >= give_up);
    free(body.data);
    return status;
}
