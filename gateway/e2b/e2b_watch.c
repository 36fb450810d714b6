/* filesystem.Filesystem/WatchDir: a server stream of the changes below a
 * directory, as init's inotify reports them (its fs_watch request), or,
 * from an init older than that, found by polling (e2b_watch.h). Either is
 * set up before the `start` event, so whatever the client does once its
 * watchDir call returned is seen. Keepalives while quiet (every 5 s at most, so a
 * departed client frees its worker and stream slot soon: civetweb sees a
 * closed connection only on a write); the call's deadline ends it. */
#include "e2b_watch.h"

#include <stdlib.h>
#include <time.h>

#include "bus.h"
#include "e2b_fs.h"
#include "gw_streams.h"
#include "initmsg.h"   /* HB_FSEV_* */

#define PROBE_MS 5000
#define TICK_MS  1000   /* the longest wait for init between checks */

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

/* A quiet moment: 1 to go on, else the stream is over (*status). */
static int quiet(watch_t *w, int *status)
{
    int64_t now = hb_now_ms();
    int every = w->k->keepalive_ms < PROBE_MS ? w->k->keepalive_ms : PROBE_MS;
    if (w->k->deadline_ms && now >= w->k->deadline_ms) {
        *status = hb_cx_fail(w->k, "deadline_exceeded", "the call's Connect-Timeout-Ms passed");
        return 0;
    }
    if (now - w->last_ms >= every) {
        w->last_ms = now;
        if (hb_cx_stream_send(w->k, json_pack("{s:{}}", "keepalive")) < 0) {
            *status = 200;   /* the client left */
            return 0;
        }
    }
    return 1;
}

/* Relay init's inotify events until the client leaves, the deadline
 * passes, the directory or the sandbox goes. */
static int relay(hb_e2b_call_t *k, hb_fs_watch_t *fw)
{
    static const char *const names[] = {
        [HB_FSEV_CREATE] = "EVENT_TYPE_CREATE", [HB_FSEV_WRITE] = "EVENT_TYPE_WRITE",
        [HB_FSEV_REMOVE] = "EVENT_TYPE_REMOVE", [HB_FSEV_RENAME] = "EVENT_TYPE_RENAME",
        [HB_FSEV_CHMOD] = "EVENT_TYPE_CHMOD"};
    watch_t w = {.k = k, .last_ms = hb_now_ms()};
    char *name = malloc(HB_PATH_MAX);
    int status = name ? 0 : hb_cx_fail(k, "internal", "out of memory");
    while (name) {
        int ev = 0;
        hb_err_t e = {0};
        int rc = hb_fs_watch_next(fw, TICK_MS, name, HB_PATH_MAX, &ev, &e);
        if (rc == 1 && ev >= HB_FSEV_CREATE && ev <= HB_FSEV_CHMOD &&
            send_event(&w, name, names[ev]) != 0) {
            status = 200;   /* the client left */
            break;
        }
        if (rc == 2) {      /* the watched directory itself went */
            status = hb_cx_stream_end(k);
            break;
        }
        if (rc < 0) {
            status = hb_e2b_fs_fail(k, &e, "watch");
            break;
        }
        if (!quiet(&w, &status))
            break;
    }
    free(name);
    return status;
}

/* Poll until the client leaves, the deadline passes or the sandbox goes
 * (an init older than fs_watch). */
static int pump(hb_e2b_call_t *k, const char *dir, bool recursive, hb_snap_t *snap)
{
    watch_t w = {.k = k, .last_ms = hb_now_ms()};
    for (;;) {
        nap(HB_WATCH_TICK_MS);
        int status;
        if (!quiet(&w, &status))
            return status;
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
    hb_fs_watch_t *fw = hb_lease_fs_watch(k->lease, dir, recursive, &e);
    if (fw) {
        if (hb_cx_stream_begin(k) < 0 || hb_cx_stream_send(k, json_pack("{s:{}}", "start")) < 0)
            status = 200;   /* the client left */
        else
            status = relay(k, fw);
        hb_fs_watch_close(fw);
    } else if (hb_snap_take(k->lease, dir, recursive, &snap, &e) < 0)
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
