/* CreateWatcher / GetWatcherEvents / RemoveWatcher: the watch the Python
 * SDK's sync client polls. A watcher is the last listing of its directory
 * (e2b_watch.h); each GetWatcherEvents lists again and answers the
 * differences since the call before. The table lives in the gateway like
 * the WebSocket tickets (gw_ticket.c): fixed size, one mutex, a watcher
 * bound to its sandbox (and that sandbox's life: created_at), freed by
 * RemoveWatcher or after WATCHER_IDLE_MS without a call. */
#include "e2b_watch.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bus.h"
#include "e2b_fs.h"

#define WATCHERS_MAX     64
#define PER_SANDBOX_MAX  16
#define WATCHER_IDLE_MS  (10 * 60 * 1000)
#define ID_LEN           32

typedef struct {
    int64_t   created_at;      /* the sandbox's: a re-created name is another */
    char     *dir;
    int64_t   last_ms;
    hb_snap_t snap;
    bool      used, busy;      /* busy: a GetWatcherEvents is listing */
    bool      recursive;
    char      id[ID_LEN + 1];
    char      sandbox[HB_ID_MAX];
} watcher_t;

static watcher_t table[WATCHERS_MAX];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void drop(watcher_t *w)
{
    free(w->dir);
    hb_snap_free(&w->snap);
    memset(w, 0, sizeof *w);
}

/* Under mu: the caller's watcher named id, or NULL. Idle ones are freed. */
static watcher_t *find(const hb_e2b_call_t *k, const char *id)
{
    int64_t now = hb_now_ms();
    watcher_t *hit = NULL;
    for (size_t i = 0; i < WATCHERS_MAX; i++) {
        watcher_t *w = &table[i];
        if (w->used && !w->busy && now - w->last_ms > WATCHER_IDLE_MS)
            drop(w);
        if (w->used && id && strcmp(w->id, id) == 0 && strcmp(w->sandbox, k->sandbox_id) == 0 &&
            w->created_at == hb_lease_created_at(k->lease))
            hit = w;
    }
    return hit;
}

/* Under mu: a free slot, or NULL with *e (HB_E_LIMIT). */
static watcher_t *slot(const hb_e2b_call_t *k, hb_err_t *e)
{
    find(k, NULL);   /* frees the idle */
    watcher_t *free_slot = NULL;
    int mine = 0;
    for (size_t i = 0; i < WATCHERS_MAX; i++) {
        if (!table[i].used && !free_slot)
            free_slot = &table[i];
        mine += table[i].used && strcmp(table[i].sandbox, k->sandbox_id) == 0;
    }
    if (mine >= PER_SANDBOX_MAX || !free_slot) {
        hb_fail(e, HB_E_LIMIT, 0, "watchers: %d are open (at most %d per sandbox, %d in all); "
                "remove one first", mine, PER_SANDBOX_MAX, WATCHERS_MAX);
        return NULL;
    }
    return free_slot;
}

int hb_e2b_fs_watcher_new(hb_e2b_call_t *k)
{
    int status;
    char *dir = hb_watch_dir(k, &status);
    if (!dir)
        return status;
    bool recursive = json_is_true(json_object_get(k->msg, "recursive"));
    unsigned char raw[ID_LEN / 2];
    hb_snap_t snap = {0};
    hb_err_t e = {0};
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        hb_fail(&e, HB_E_INTERNAL, 0, "getrandom failed");
    else
        hb_snap_take(k->lease, dir, recursive, &snap, &e);
    if (e.code != HB_OK) {
        free(dir);
        return hb_e2b_fs_fail(k, &e, "watch");
    }
    pthread_mutex_lock(&mu);
    watcher_t *w = slot(k, &e);
    if (w) {
        *w = (watcher_t){.used = true, .dir = dir, .recursive = recursive, .snap = snap,
                         .created_at = hb_lease_created_at(k->lease), .last_ms = hb_now_ms()};
        snprintf(w->sandbox, sizeof w->sandbox, "%s", k->sandbox_id);
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf(w->id + 2 * i, 3, "%02x", raw[i]);
    }
    char id[ID_LEN + 1];
    snprintf(id, sizeof id, "%s", w ? w->id : "");
    pthread_mutex_unlock(&mu);
    if (!w) {
        free(dir);
        hb_snap_free(&snap);
        return hb_cx_fail_err(k, &e);
    }
    return hb_cx_reply(k, json_pack("{s:s}", "watcherId", id));
}

typedef struct {
    json_t *events;
} collect_t;

static int collect(void *ud, const char *name, const char *type)
{
    collect_t *c = ud;
    if (json_array_size(c->events) >= HB_WATCH_EVENTS_MAX)
        return 1;   /* the rest of this round is dropped, as a full queue would */
    json_array_append_new(c->events, json_pack("{s:s, s:s}", "name", name, "type", type));
    return 0;
}

int hb_e2b_fs_watcher_get(hb_e2b_call_t *k)
{
    int status;
    const char *id = hb_e2b_str_field(k, "watcherId", &status);
    if (!id)
        return status;
    pthread_mutex_lock(&mu);
    watcher_t *w = find(k, id);
    bool busy = w && w->busy;
    char *dir = w && !busy ? strdup(w->dir) : NULL;
    bool recursive = w && w->recursive;
    if (w && dir)
        w->busy = true;
    pthread_mutex_unlock(&mu);
    if (!w)
        return hb_cx_fail(k, "not_found", "watcherId: no watcher %s in this sandbox", id);
    if (busy)   /* another call is listing: it answers the changes */
        return hb_cx_reply(k, json_pack("{s:[]}", "events"));
    hb_snap_t now = {0};
    hb_err_t e = {0};
    collect_t c = {.events = json_array()};
    if (!dir)
        hb_fail(&e, HB_E_INTERNAL, 0, "out of memory");
    else
        hb_snap_take(k->lease, dir, recursive, &now, &e);
    pthread_mutex_lock(&mu);   /* w stays ours while busy: find never drops it */
    if (e.code == HB_OK) {
        hb_snap_diff(&w->snap, &now, collect, &c);
        hb_snap_free(&w->snap);
        w->snap = now;
    }
    w->busy = false;
    w->last_ms = hb_now_ms();
    pthread_mutex_unlock(&mu);
    free(dir);
    if (e.code != HB_OK) {
        json_decref(c.events);
        return hb_e2b_fs_fail(k, &e, "watch");
    }
    return hb_cx_reply(k, json_pack("{s:o}", "events", c.events));
}

int hb_e2b_fs_watcher_del(hb_e2b_call_t *k)
{
    int status;
    const char *id = hb_e2b_str_field(k, "watcherId", &status);
    if (!id)
        return status;
    pthread_mutex_lock(&mu);
    watcher_t *w = find(k, id);
    bool found = w && !w->busy;
    if (found)
        drop(w);
    pthread_mutex_unlock(&mu);
    if (!found)
        return w ? hb_cx_fail(k, "failed_precondition", "watcherId: %s is being read; retry", id)
                 : hb_cx_fail(k, "not_found", "watcherId: no watcher %s in this sandbox", id);
    return hb_cx_reply(k, json_object());
}
