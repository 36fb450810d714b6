/* POST /files: multipart/form-data (each part's filename is its target
 * path, else ?path=) or, at envdVersion >= 0.5.7, application/octet-stream
 * with ?path= (gzip'd too: the SDK's write(..., {gzip: true})). Streamed from the connection into init's write, never held
 * in memory; each file bounded by conf->max_file_size, the parts counted.
 * Files and missing parents are made as the calling user, as envd does
 * (hb_lease_file_write_as), so commands run as that user can change them.
 * The answer is envd's: [{"name", "type": "file", "path"}, ...]. */
#include "e2b_files.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2b_multipart.h"
#include "gzip.h"

#define PARTS_MAX 1000

static json_t *written(const char *path)
{
    const char *slash = strrchr(path, '/');
    return json_pack("{s:s, s:s, s:s}", "name", slash ? slash + 1 : path, "type", "file",
                     "path", path);
}

/* One file from src: 0 with its entry appended to out, or the error sent. */
static int write_one(hb_e2b_call_t *k, const hb_e2b_files_q_t *q, const char *target,
                     const char *field, hb_src_cb src, void *ud, hb_err_t *src_err, json_t *out)
{
    hb_err_t e = {0};
    char *path = hb_e2b_path(k, target, field, &e);
    if (!path)
        return hb_e2b_files_fail_err(k, &e);
    uint64_t n = 0;
    /* A file replaced keeps its mode and owner, as envd's O_TRUNC open does. */
    int rc = hb_lease_file_write_as(k->lease, path, 0644 | HB_FILE_KEEP,
                                    k->r->conf->max_file_size, q->user, src, ud, &n, &e);
    if (rc < 0 && src_err && src_err->code != HB_OK)
        e = *src_err;    /* the body's fault, not the write's */
    int status = rc < 0 ? hb_e2b_files_fail_err(k, &e) : 0;
    if (rc == 0)
        json_array_append_new(out, written(path));
    free(path);
    return status;
}

static int reply(hb_e2b_call_t *k, json_t *out)
{
    k->answered = true;
    return hb_reply_json(k->r->c, 200, out);
}

/* ---- application/octet-stream, gzip'd or not ---- */

/* The gunzipped body's failure, when that is what stopped the write. */
typedef struct {
    hb_gz_inflate_t z;
    hb_err_t        err;
} gz_src_t;

static int gz_src(void *ud, void *buf, size_t cap, size_t *got)
{
    gz_src_t *g = ud;
    int rc = hb_gz_read_src(&g->z, buf, cap, got);
    if (rc < 0 && g->z.bad)
        hb_fail(&g->err, HB_E_INVALID, 0, "body: %s", g->z.bad);
    return rc;
}

static int octet(hb_e2b_call_t *k, const hb_e2b_files_q_t *q, bool gz)
{
    if (!q->has_path)
        return hb_e2b_files_fail(k, 400, "path: required for an application/octet-stream upload");
    uint64_t max = k->r->conf->max_file_size;
    long long clen = k->r->ri->content_length;
    if (!gz && clen > 0 && (unsigned long long)clen > max)
        return hb_e2b_files_fail(k, 413, "body: larger than the %llu byte upload limit",
                                 (unsigned long long)max);
    hb_gw_body_t body = {.c = k->r->c, .expect = clen};
    gz_src_t *g = gz ? calloc(1, sizeof *g) : NULL;
    /* compressed input is bounded too: empty deflate blocks inflate to nothing */
    if (gz && (!g || hb_gz_inflate_init(&g->z, hb_gw_body_src, &body, max + max / 8 + (1u << 20))
                         < 0)) {
        free(g);
        return hb_e2b_files_fail(k, 500, "out of memory");
    }
    json_t *out = json_array();
    int status = gz ? write_one(k, q, q->path, "path", gz_src, g, &g->err, out)
                    : write_one(k, q, q->path, "path", hb_gw_body_src, &body, NULL, out);
    if (g) {
        hb_gz_inflate_end(&g->z);
        free(g);
    }
    if (status) {
        json_decref(out);
        return status;
    }
    return reply(k, out);
}

/* ---- multipart/form-data ---- */

typedef struct {
    hb_mp_t *mp;
    hb_err_t err;
} part_src_t;

static int part_src(void *ud, void *buf, size_t cap, size_t *got)
{
    part_src_t *p = ud;
    return hb_mp_read(p->mp, buf, cap, got, &p->err);
}

static int body_src(void *ud, void *buf, size_t cap, size_t *got)
{
    return hb_gw_body_src(ud, buf, cap, got);
}

static int multipart(hb_e2b_call_t *k, const hb_e2b_files_q_t *q, const char *ctype)
{
    char boundary[HB_MP_BOUNDARY_MAX + 1];
    hb_err_t e = {0};
    if (hb_mp_boundary(ctype, boundary, sizeof boundary, &e) < 0)
        return hb_e2b_files_fail_err(k, &e);
    hb_gw_body_t body = {.c = k->r->c, .expect = k->r->ri->content_length};
    part_src_t p = {.mp = malloc(sizeof *p.mp)};
    char *name = malloc(HB_PATH_MAX);
    json_t *out = json_array();
    int status = 0, rc = 0;
    if (!p.mp || !name || !out) {
        status = hb_e2b_files_fail(k, 500, "out of memory");
        goto out;
    }
    hb_mp_init(p.mp, boundary, body_src, &body);
    for (size_t parts = 0; !status && (rc = hb_mp_next(p.mp, name, HB_PATH_MAX, &e)) == 1;
         parts++) {
        if (parts >= PARTS_MAX)
            status = hb_e2b_files_fail(k, 413, "body: over %d parts", PARTS_MAX);
        else if (!name[0] && !q->has_path)
            status = hb_e2b_files_fail(k, 400, "filename: a part has none, and no ?path=");
        else
            status = write_one(k, q, name[0] ? name : q->path, "filename", part_src, &p,
                               &p.err, out);
    }
    if (!status && rc < 0)
        status = hb_e2b_files_fail_err(k, &e);
    else if (!status && json_array_size(out) == 0)
        status = hb_e2b_files_fail(k, 400, "body: no file part");
    if (!status) {
        status = reply(k, out);
        out = NULL;
    }
out:
    json_decref(out);
    free(name);
    free(p.mp);
    return status;
}

int hb_e2b_files_upload(hb_e2b_call_t *k, const hb_e2b_files_q_t *q)
{
    const char *ctype = mg_get_header(k->r->c, "Content-Type");
    const char *enc = mg_get_header(k->r->c, "Content-Encoding");
    bool gz = enc && (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "x-gzip") == 0);
    bool octets = ctype && strncasecmp(ctype, "application/octet-stream", 24) == 0;
    if (enc && strcasecmp(enc, "identity") != 0 && !(gz && octets))
        return hb_e2b_files_fail(k, 415, "Content-Encoding: only gzip, on an "
                                 "application/octet-stream upload");
    if (octets)
        return octet(k, q, gz);
    if (ctype && strncasecmp(ctype, "multipart/form-data", 19) == 0)
        return multipart(k, q, ctype);
    return hb_e2b_files_fail(k, 415, "Content-Type: multipart/form-data or "
                             "application/octet-stream");
}
