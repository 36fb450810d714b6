/* A directory's changes, streamed by init (its fs_watch request, inotify
 * inside the sandbox): one connection held open while the caller reads;
 * closing it ends init's side. */
#include "initclient.h"
#include "path.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define OPEN_TIMEOUT_MS  10000   /* init answers once its watches are set */
#define FRAME_TIMEOUT_MS 30000   /* once a frame has begun, the rest of it */

struct hb_fs_watch {
    hb_initconn_t c;
};

hb_fs_watch_t *hb_fs_watch_open(const hb_sandbox_t *sb, const char *path, bool recursive,
                                hb_err_t *e)
{
    const char *why = NULL;
    if (hb_path_check(path, &why) < 0) {
        hb_fail(e, HB_E_INVALID, 0, "path: %s", why ? why : "not a valid path");
        return NULL;
    }
    hb_fs_watch_t *w = calloc(1, sizeof *w);
    if (!w) {
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    hb_initreq_t q = {.op = HB_OP_FS_WATCH, .path = path, .recursive = recursive};
    if (hb_initconn_start(&w->c, sb, &q, e) < 0) {
        free(w);
        return NULL;
    }
    hb_initans_t a;
    int rc = hb_initconn_next(&w->c, &a, OPEN_TIMEOUT_MS, e);
    if (rc == 0 && a.t != HB_ANS_OK)
        rc = hb_init_unexpected(&a, "watch", e);
    if (rc < 0) {
        hb_fs_watch_close(w);
        return NULL;
    }
    return w;
}

int hb_fs_watch_next(hb_fs_watch_t *w, int timeout_ms, char *name, size_t cap, int *ev,
                     hb_err_t *e)
{
    struct pollfd p = {.fd = w->c.fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        return hb_fail_sys(e, HB_E_INTERNAL, errno, "watch: poll");
    if (n <= 0)
        return 0;
    hb_initans_t a;
    if (hb_initconn_next(&w->c, &a, FRAME_TIMEOUT_MS, e) < 0)
        return -1;
    if (a.t == HB_ANS_END)
        return 2;
    if (a.t != HB_ANS_FSEV)
        return hb_init_unexpected(&a, "watch", e);
    if (a.name.len >= cap)
        return hb_fail(e, HB_E_INTERNAL, EPROTO, "watch: a name over %zu bytes", cap - 1);
    memcpy(name, a.name.ptr, a.name.len);
    name[a.name.len] = '\0';
    *ev = (int)a.ev;
    return 1;
}

void hb_fs_watch_close(hb_fs_watch_t *w)
{
    if (!w)
        return;
    hb_initconn_close(&w->c);
    free(w);
}
