/* filesystem.Filesystem/WatchDir: a server stream of the changes below a
 * directory, found by polling (e2b_watch.h). The first listing is taken
 * before the `start` event, so whatever the client does once its watchDir
 * call returned is seen. Keepalives while quiet (every 5 s at most, so a
 * departed client frees its worker and stream slot soon: civetweb sees a
 * closed connection only on a write); the call's deadline ends it. */
#include "e2b_watch.h"

#include <stdlib.h>
#include <time.h>

#include "bus.h"
#include "e2b_fs.h"
#include "gw_streams.h"

#define PROBE_MS 5000

typedef struct {
    hb_e2b_call_t *k;
    int64_t        last_ms;    /* of the last message sent */
} watch_t;

static int send_event(void *ud, const char *name, const char *type)
{
    watch_t *w = ud;
    w->last_ms = hb_now_ms();
    return hb_cx_stream_send(w->k, json_pack("{s:{s:s, s:s}}", "filesystem", "name", name,
                                             "type", type));
}

static void nap(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Poll until the client leaves, the deadline passes or the sandbox goes. */
static int pump(hb_e2b_call_t *k, const char *dir, bool recursive, hb_snap_t *snap)
{
    watch_t w = {.k = k, .last_ms = hb_now_ms()};
    int every = k->keepalive_ms < PROBE_MS ? k->keepalive_ms : PROBE_MS;
    for (;;) {
        nap(HB_WATCH_TICK_MS);
        int64_t now = hb_now_ms();
        if (k->deadline_ms && now >= k->deadline_ms)
            return hb_cx_fail(k, "deadline_exceeded", "the call's Connect-Timeout-Ms passed");
        hb_snap_t next;
        hb_err_t e = {0};
        if (hb_snap_take(k->lease, dir, recursive, &next, &e) < 0) {
            if (e.code == HB_E_NOTFOUND)   /* the watched directory itself went */
                return hb_cx_stream_end(k);
            return hb_e2b_fs_fail(k, &e, "watch");
        }
        int rc = hb_snap_diff(snap, &next, send_event, &w);
        hb_snap_free(snap);
        *snap = next;
        if (rc == 0 && now - w.last_ms >= every) {
            w.last_ms = now;
            rc = hb_cx_stream_send(k, json_pack("{s:{}}", "keepalive"));
        }
        if (rc != 0)
            return 200;   /* the client left */
    }
}

int hb_e2b_fs_watch(hb_e2b_call_t *k)
{
    int status;
    char *dir = hb_watch_dir(k, &status);
    if (!dir)
        return status;
    bool recursive = json_is_true(json_object_get(k->msg, "recursive"));
    hb_snap_t snap = {0};
    hb_err_t e = {0};
    if (hb_streams_enter(k->sandbox_id, &e) < 0) {
        free(dir);
        return hb_cx_fail_err(k, &e);
    }
    if (hb_snap_take(k->lease, dir, recursive, &snap, &e) < 0)
        status = hb_e2b_fs_fail(k, &e, "watch");
    else if (hb_cx_stream_begin(k) < 0 || hb_cx_stream_send(k, json_pack("{s:{}}", "start")) < 0)
        status = 200;   /* the client left */
    else
        status = pump(k, dir, recursive, &snap);
    hb_snap_free(&snap);
    hb_streams_leave(k->sandbox_id);
    free(dir);
    return status;
}
