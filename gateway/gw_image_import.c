/* POST /api/v1/images?name=NAME with an OCI or docker archive as the body
 * (application/x-tar or application/octet-stream): the body is streamed to
 * a temp file under <data>/images (never whole in memory), capped by
 * --max-image-import (413), then imported on this request thread (no actor
 * waits for it: an import reads and writes gigabytes). At most
 * IMPORTS_MAX imports run at once (429 past that). The temp file goes on
 * every path; a crash's is removed at the next start (hb_oci_clean_stale). */
#include "gw_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "query.h"

#define IMPORTS_MAX 2
#define CHUNK       (256u * 1024)

static atomic_int running;

static bool type_ok(const char *ct)
{
    if (!ct || !ct[0])
        return true;
    size_t n = strcspn(ct, ";");
    return (n == 17 && strncasecmp(ct, "application/x-tar", n) == 0) ||
           (n == 24 && strncasecmp(ct, "application/octet-stream", n) == 0);
}

/* The body into fd: 0, or -1 with *e set (the reply waits until the temp
 * file is gone: a client that sees it never sees the file). */
static int spool(hb_req_t *r, int fd, uint64_t max, hb_err_t *e)
{
    char *buf = malloc(CHUNK);
    if (!buf)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    long long want = r->ri->content_length;
    uint64_t got = 0;
    int status = 0;
    for (;;) {
        if (want >= 0 && got == (uint64_t)want)
            break;
        int n = mg_read(r->c, buf, CHUNK);
        if (n <= 0) {
            if (want >= 0)
                status = hb_fail(e, HB_E_INVALID, 0, "body: cut short after %llu of %lld bytes",
                                 (unsigned long long)got, want);
            break;
        }
        got += (uint64_t)n;
        if (got > max) {
            status = hb_fail(e, HB_E_TOOBIG, 0, "body: larger than the %llu byte import limit "
                             "(--max-image-import)", (unsigned long long)max);
            break;
        }
        for (const char *p = buf; n > 0 && status == 0;) {
            ssize_t w = write(fd, p, (size_t)n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                status = hb_fail_sys(e, errno == ENOSPC ? HB_E_NOSPACE : HB_E_INTERNAL, errno,
                                     "spooling the upload");
            else {
                p += w;
                n -= (int)w;
            }
        }
        if (status)
            break;
    }
    free(buf);
    return status;
}

/* The 201 answer: the image as GET /api/v1/images lists it. */
static int created(hb_req_t *r, const hb_runtime_t *rt, const char *name)
{
    hb_image_facts_t f;
    json_t *j = json_pack("{s:s, s:b, s:s, s:s, s:I}", "name", name, "ready", 1, "state",
                          "ready", "kind", "oci", "created_at", (json_int_t)time(NULL));
    if (j && hb_image_facts(rt, name, &f) == 0 && f.os[0])
        json_object_set_new(j, "os", json_string(f.os));
    return hb_reply_json(r->c, 201, j);
}

static int import(hb_req_t *r, const hb_runtime_t *rt, const char *name, uint64_t max)
{
    char path[HB_HOSTPATH_MAX + 64];
    static atomic_uint seq;
    hb_err_t e = {0};
    /* beside the images: the same filesystem, and 0700 (hb_runtime_init made it) */
    snprintf(path, sizeof path, "%s/images/.upload.tmp-%d-%u", rt->data_dir, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return hb_reply_error(r->c, 500, "cannot spool the upload: %s", strerror(errno));
    int rc = spool(r, fd, max, &e);
    if (close(fd) < 0 && rc == 0)
        rc = hb_fail_sys(&e, HB_E_INTERNAL, errno, "spooling the upload");
    if (rc == 0)
        rc = hb_oci_import(rt, name, path, max, &e);
    unlink(path);
    return rc < 0 ? hb_reply_err(r, &e) : created(r, rt, name);
}

int hb_h_image_import(hb_req_t *r)
{
    const hb_runtime_t *rt = r->conf->rt;
    uint64_t max = r->conf->max_image_import;
    char name[HB_ID_MAX + 1];
    size_t nl;
    if (!rt)
        return hb_reply_error(r->c, 503, "image import is not available here");
    const char *ct = mg_get_header(r->c, "Content-Type");
    if (!type_ok(ct))
        return hb_reply_error(r->c, 415, "Content-Type: an archive is application/x-tar or "
                              "application/octet-stream (a build is application/json), not %.60s",
                              ct);
    int q = hb_query_param(r->ri->query_string, "name", name, sizeof name, &nl);
    if (q <= 0 || nl != strlen(name) || !hb_name_valid(name))
        return hb_reply_error(r->c, 400, "name: %s", q == 0 ? "required (?name=NAME)"
                              : "an image name is 1-63 letters, digits, '_', '.' or '-'");
    if (hb_image_exists(rt, name))
        return hb_reply_error(r->c, 409, "image '%s' already exists", name);
    long long clen = r->ri->content_length;
    if (clen > 0 && (unsigned long long)clen > max)
        return hb_reply_error(r->c, 413, "body: larger than the %llu byte import limit "
                              "(--max-image-import)", (unsigned long long)max);
    if (atomic_fetch_add(&running, 1) >= IMPORTS_MAX) {
        atomic_fetch_sub(&running, 1);
        return hb_reply_error(r->c, 429, "%d image imports are running: try again later",
                              IMPORTS_MAX);
    }
    int status = import(r, rt, name, max);
    atomic_fetch_sub(&running, 1);
    return status;
}
