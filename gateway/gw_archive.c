/* GET/PUT/HEAD /api/v1/hiveboxes/:id/files/archive?path=: a directory tree
 * (or one file) as a tar stream. Init makes and unpacks the archive inside
 * the sandbox (actors/runtime/files_archive.h); this worker streams it
 * between the client and init under a lease of the sandbox handle, as the
 * single-file routes do (gw_files.c), a chunk at a time both ways. gzip is
 * done here, so init stays small: GET compresses when Accept-Encoding
 * allows it, PUT inflates a Content-Encoding: gzip body. The upload cap
 * (max_file_size) bounds the archive's uncompressed bytes, counted as they
 * arrive. HEAD says what path is (X-Hivebox-Path-Type), for `hivebox cp`. */
#include "gw_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "files_archive.h"
#include "gzip.h"
#include "http_status.h"
#include "runtime.h"

/* ---- GET ---- */

typedef struct {
    struct mg_connection *c;
    hb_gz_deflate_t      *gz;       /* NULL: plain tar */
    bool                  started;  /* the 200 is out */
} dl_t;

static int put_chunk(void *ud, const void *p, size_t n)
{
    const dl_t *d = ud;
    return mg_send_chunk(d->c, p, (unsigned)n) > 0 ? 0 : -1;
}

static int dl_start(void *ud)
{
    dl_t *d = ud;
    d->started = true;
    hb_response_start(d->c, 200);
    mg_response_header_add(d->c, "Content-Type", "application/x-tar", -1);
    mg_response_header_add(d->c, "Transfer-Encoding", "chunked", -1);
    if (d->gz)
        mg_response_header_add(d->c, "Content-Encoding", "gzip", -1);
    mg_response_header_add(d->c, "Cache-Control", "no-store", -1);
    /* A failure midway ends the connection without the last chunk, which a
     * client sees as a broken transfer, never as a complete archive. */
    mg_response_header_add(d->c, "Connection", "close", -1);
    mg_response_header_send(d->c);
    return 0;
}

static int dl_sink(void *ud, const void *p, size_t n)
{
    dl_t *d = ud;
    return d->gz ? hb_gz_deflate(d->gz, p, n, false, put_chunk, d) : put_chunk(d, p, n);
}

/* A compressor when the client takes gzip; NULL: plain tar. */
static hb_gz_deflate_t *gzip_for(hb_req_t *r)
{
    hb_gz_deflate_t *gz = NULL;
    if (hb_gz_accepted(mg_get_header(r->c, "Accept-Encoding")) &&
        (!(gz = malloc(sizeof *gz)) || hb_gz_deflate_init(gz) < 0)) {
        free(gz);
        gz = NULL;
    }
    return gz;
}

static int download(hb_req_t *r, const char *path)
{
    dl_t d = {.c = r->c, .gz = gzip_for(r)};
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    int status = hb_gw_lease_take(r, &l), rc = -1;
    if (status == 0) {
        rc = hb_lease_archive_get(l, path, dl_start, dl_sink, &d, &e);
        hb_lease_release(&l);
        if (rc == 0 && (!d.gz || hb_gz_deflate(d.gz, NULL, 0, true, put_chunk, &d) == 0))
            mg_send_chunk(r->c, "", 0);
        status = hb_gw_download_done(r, rc, d.started, &e, path);
    }
    if (d.gz) {
        hb_gz_deflate_end(d.gz);
        free(d.gz);
    }
    return status;
}

/* ---- PUT ---- */

static int upload(hb_req_t *r, const char *path)
{
    uint64_t max = r->conf->max_file_size;
    const char *enc = mg_get_header(r->c, "Content-Encoding");
    bool gz = enc && (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0);
    if (enc && !gz && strcasecmp(enc, "identity") != 0)
        return hb_reply_error(r->c, 415, "Content-Encoding: only gzip (or none) is accepted");
    long long clen = r->ri->content_length;
    if (!gz && clen > 0 && (unsigned long long)clen > max)
        return hb_reply_error(r->c, 413, "body: larger than the %llu byte upload limit",
                              (unsigned long long)max);
    hb_gw_body_t b = {.c = r->c, .expect = clen};
    hb_gz_inflate_t *z = gz ? malloc(sizeof *z) : NULL;
    /* compressed input is bounded too: empty deflate blocks inflate to nothing */
    uint64_t zmax = max + max / 8 + (1u << 20);
    if (gz && (!z || hb_gz_inflate_init(z, hb_gw_body_src, &b, zmax) < 0)) {
        free(z);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status == 0) {
        uint64_t size = 0;
        hb_err_t e = {0};
        int rc = hb_lease_archive_put(l, path, max, gz ? hb_gz_read_src : hb_gw_body_src,
                                      gz ? (void *)z : (void *)&b, &size, &e);
        hb_lease_release(&l);
        if (rc < 0 && z && z->bad)
            hb_fail(&e, HB_E_INVALID, 0, "body: %s", z->bad);
        status = rc < 0 ? hb_reply_err(r, &e)
                        : hb_reply_json(r->c, 200, json_pack("{s:s, s:I}", "path", path, "size",
                                                             (json_int_t)size));
    }
    if (z) {
        hb_gz_inflate_end(z);
        free(z);
    }
    return status;
}

/* ---- HEAD ---- */

/* A HEAD answer has no body, an error's neither. */
static int head_reply(hb_req_t *r, int status, const char *type)
{
    hb_response_start(r->c, status);
    mg_response_header_add(r->c, "Content-Length", "0", -1);
    mg_response_header_add(r->c, "Cache-Control", "no-store", -1);
    if (type)
        mg_response_header_add(r->c, "X-Hivebox-Path-Type", type, -1);
    mg_response_header_send(r->c);
    return status;
}

static int head(hb_req_t *r, const char *path)
{
    static const char *const types[] = {"file", "directory", "symlink", "other"};
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    hb_stat_t st;
    if (hb_lease_take(r->conf->ep.manager, r->route.id, &l, &e) < 0)
        return head_reply(r, hb_http_status(e.code), NULL);
    int rc = hb_lease_file_stat(l, path, true, &st, &e);
    hb_lease_release(&l);
    return rc < 0 ? head_reply(r, hb_http_status(e.code), NULL)
                  : head_reply(r, 200, types[st.type & 3]);
}

int hb_h_files_archive(hb_req_t *r)
{
    bool put = hb_method_is(r, "PUT"), get = hb_method_is(r, "GET"),
         is_head = hb_method_is(r, "HEAD");
    if (!put && !get && !is_head)
        return hb_reply_405(r);
    hb_err_t e = {0};
    char *path = hb_gw_query_path(r, &e);
    int status;
    if (!path)
        status = is_head ? head_reply(r, hb_http_status(e.code), NULL) : hb_reply_err(r, &e);
    else
        status = put ? upload(r, path) : get ? download(r, path) : head(r, path);
    free(path);
    return status;
}
