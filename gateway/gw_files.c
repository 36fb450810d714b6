/* File handlers. Uploads and downloads stream: the civetweb worker leases
 * the sandbox handle from its supervisor (lease.h), runs the file write /
 * read itself with mg_read / mg_write as source and sink, and gives the
 * lease back. So gigabytes never pass through an actor's queue, and a slow
 * client holds only its own worker thread. Listing is an ordinary actor call. */
#include "gw_internal.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "json_out.h"
#include "log.h"
#include "path.h"
#include "query.h"
#include "req_parse.h"
#include "runtime.h"

#define LIST_MS  120000

int hb_gw_lease_take(hb_req_t *r, hb_lease_t **l)
{
    hb_err_t e = {0};
    return hb_lease_take(r->conf->ep.manager, r->route.id, l, &e) < 0 ? hb_reply_err(r, &e) : 0;
}

/* ---- upload ---- */

int hb_gw_body_src(void *ud, void *buf, size_t cap, size_t *got)
{
    hb_gw_body_t *u = ud;
    int n = mg_read(u->c, buf, cap > (1u << 30) ? (1u << 30) : cap);
    if (n < 0)
        return -1;
    if (n == 0 && u->expect >= 0 && u->got < u->expect)
        return -1;   /* the client went away early: keep the old file */
    u->got += n;
    *got = (size_t)n;
    return 0;
}

static int upload(hb_req_t *r, const char *path)
{
    long long clen = r->ri->content_length;
    if (clen > 0 && (unsigned long long)clen > r->conf->max_file_size)
        return hb_reply_error(r->c, 413, "body: larger than the %llu byte upload limit",
                              (unsigned long long)r->conf->max_file_size);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    hb_gw_body_t u = {.c = r->c, .expect = clen};
    uint64_t written = 0;
    hb_err_t e = {0};
    int rc = hb_lease_file_write(l, path, 0644 | HB_FILE_KEEP, r->conf->max_file_size, hb_gw_body_src, &u,
                                 &written, &e);
    hb_lease_release(&l);
    if (rc < 0)
        return hb_reply_err(r, &e);
    return hb_reply_json(r->c, 200, json_pack("{s:s, s:I}", "path", path, "size",
                                              (json_int_t)written));
}

/* ---- download ---- */

int hb_gw_download_size(void *ud, uint64_t size)
{
    hb_gw_download_t *d = ud;
    char len[32];
    snprintf(len, sizeof len, "%llu", (unsigned long long)size);
    hb_response_start(d->c, 200);
    mg_response_header_add(d->c, "Content-Type", "application/octet-stream", -1);
    mg_response_header_add(d->c, "Content-Length", len, -1);
    mg_response_header_add(d->c, "Cache-Control", "no-store", -1);
    /* If the file changes size mid-read the body cannot match the length:
     * closing the connection afterwards keeps the client from misparsing. */
    mg_response_header_add(d->c, "Connection", "close", -1);
    mg_response_header_send(d->c);
    d->started = true;
    return 0;
}

int hb_gw_download_sink(void *ud, const void *data, size_t len)
{
    hb_gw_download_t *d = ud;
    return mg_write(d->c, data, len) == (int)len ? 0 : -1;
}

static int download(hb_req_t *r, const char *path)
{
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    hb_gw_download_t d = {.c = r->c};
    hb_err_t e = {0};
    int rc = hb_lease_file_read(l, path, 0, hb_gw_download_size, hb_gw_download_sink, &d,
                                &e);
    hb_lease_release(&l);
    return hb_gw_download_done(r, rc, d.started, &e, path);
}

int hb_gw_download_done(hb_req_t *r, int rc, bool started, const hb_err_t *e, const char *path)
{
    if (rc == 0)
        return 200;
    if (!started)
        return hb_reply_err(r, e);
    HB_LOG_WARN("download of %s from %s broke off: %s", path, r->route.id, e->msg);
    return 200;   /* the 200 is out; the connection closes short of the end */
}

char *hb_gw_query_path(hb_req_t *r, hb_err_t *e)
{
    char *path = malloc(HB_PATH_MAX);
    if (!path) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    if (hb_req_parse_path(r->ri->query_string, true, path, HB_PATH_MAX, e) < 0) {
        free(path);
        return NULL;
    }
    return path;
}

int hb_h_files(hb_req_t *r)
{
    if (hb_method_is(r, "DELETE"))
        return hb_gw_files_delete(r);
    bool put = hb_method_is(r, "PUT"), get = hb_method_is(r, "GET");
    if (!put && !get)
        return hb_reply_405(r);
    hb_err_t e = {0};
    char *path = hb_gw_query_path(r, &e);
    int status = !path ? hb_reply_err(r, &e) : put ? upload(r, path) : download(r, path);
    free(path);
    return status;
}

int hb_h_files_list(hb_req_t *r)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_msg_t q = {.type = HB_MSG_SB_LSFILES}, rep;
    hb_err_t e = {0};
    if (hb_query_bool(r->ri->query_string, "recursive", true, &q.recursive, &e) < 0)
        return hb_reply_err(r, &e);
    q.path = malloc(HB_PATH_MAX);
    if (!q.path || hb_str_set(&q.id, r->route.id) < 0) {
        hb_msg_clear(&q);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    if (hb_req_parse_path(r->ri->query_string, false, q.path, HB_PATH_MAX, &e) < 0) {
        hb_msg_clear(&q);
        return hb_reply_err(r, &e);
    }
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, LIST_MS, &e);
    if (rc < 0 && e.code == HB_E_NOTDIR) {
        /* The seed's 500, but the caller's mistake: say what to call instead. */
        HB_LOG_INFO("GET files/list %s in %s: client error: not a directory", q.path, r->route.id);
        snprintf(e.msg, sizeof e.msg, "path: %s is not a directory; download a file with "
                 "GET /api/v1/hiveboxes/%s/files?path=%s", q.path, r->route.id, q.path);
    }
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status = hb_reply_json(r->c, 200, hb_json_entries(&rep));
    hb_msg_clear(&rep);
    return status;
}
