/* hb_archive_*: tar streams to and from init (see files_archive.h). */
#include "files_archive.h"
#include "initclient.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>

#define ARCHIVE_TIMEOUT_MS 60000   /* between two frames from init */

static int check(const char *path, hb_err_t *e)
{
    const char *why;
    return hb_path_check(path, &why) < 0 ? hb_fail(e, HB_E_INVALID, 0, "path: %s", why) : 0;
}

static int stream_out(hb_initconn_t *c, int (*on_start)(void *ud), hb_sink_cb sink, void *ud,
                      hb_err_t *e)
{
    bool started = false;
    for (;;) {
        hb_initans_t a;
        if (hb_initconn_next(c, &a, ARCHIVE_TIMEOUT_MS, e) < 0)
            return -1;
        if (a.t == HB_ANS_END)
            return started ? 0 : hb_fail(e, HB_E_INTERNAL, EPROTO, "archive: init sent nothing");
        if (a.t != HB_ANS_DATA)
            return hb_init_unexpected(&a, "archive", e);
        if (!started && on_start && on_start(ud) < 0)
            return hb_fail(e, HB_E_INTERNAL, ECANCELED, "archive aborted by the sink");
        started = true;
        if (a.data.len && sink(ud, a.data.ptr, a.data.len) < 0)
            return hb_fail(e, HB_E_INTERNAL, ECANCELED, "archive aborted by the sink");
    }
}

int hb_archive_get(const hb_sandbox_t *sb, const char *path, int (*on_start)(void *ud),
                   hb_sink_cb sink, void *ud, hb_err_t *e)
{
    if (check(path, e) < 0)
        return -1;
    hb_initreq_t r = {.op = HB_OP_TAR_CREATE, .path = path};
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, &r, e) < 0)
        return -1;
    int rc = stream_out(&c, on_start, sink, ud, e);
    hb_initconn_close(&c);
    return rc;
}

int hb_archive_put(const hb_sandbox_t *sb, const char *path, uint64_t max, hb_src_cb src,
                   void *ud, uint64_t *size, hb_err_t *e)
{
    *size = 0;
    if (check(path, e) < 0)
        return -1;
    hb_initreq_t r = {.op = HB_OP_TAR_EXTRACT, .path = path, .max = max};
    uint64_t total = 0;
    int rc = hb_init_put(sb, &r, "archive", max, src, ud, ARCHIVE_TIMEOUT_MS, &total, e);
    if (rc == 0)
        *size = total;
    return rc;
}
