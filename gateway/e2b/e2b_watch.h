/* Watching a directory by polling its listing (e2b_watch*.c): what the
 * watcher trio (CreateWatcher / GetWatcherEvents, which outlive a call and
 * its lease) and a WatchDir on an init older than fs_watch use; a WatchDir
 * otherwise relays init's inotify events (e2b_watch.c). A poll compares a
 * listing (taken every HB_WATCH_TICK_MS for a stream) with the one before: a new entry is CREATE (then WRITE when it
 * has bytes), a changed size or mtime WRITE, a changed mode CHMOD, a
 * vanished one REMOVE. A rename reads as REMOVE + CREATE; changes that
 * keep size and mtime (to the second) within one tick are not seen. */
#ifndef HB_E2B_WATCH_H
#define HB_E2B_WATCH_H

#include "e2b_call.h"

#define HB_WATCH_TICK_MS     200
#define HB_WATCH_ENTRIES_MAX 10000   /* a bigger tree is refused, not half watched */
#define HB_WATCH_EVENTS_MAX  1000    /* per GetWatcherEvents answer */

typedef struct {
    char      *rel;        /* below the watched directory, e.g. "a/b.txt" */
    hb_ftype_t type;
    uint64_t   size;
    uint32_t   mode;
    int64_t    mtime;
} hb_snap_ent_t;

typedef struct {
    hb_snap_ent_t *v;   /* sorted by rel */
    size_t         n;
} hb_snap_t;

/* The listing of dir (recursive or its children only). 0, or -1 with *e
 * (HB_E_LIMIT past HB_WATCH_ENTRIES_MAX). */
int  hb_snap_take(const hb_lease_t *l, const char *dir, bool recursive, hb_snap_t *out,
                  hb_err_t *e);
void hb_snap_free(hb_snap_t *s);
/* The events from old to now, in order, to emit (name, "EVENT_TYPE_...");
 * emit returns non-zero to stop. Returns what the last emit returned. */
typedef int (*hb_snap_emit_fn)(void *ud, const char *name, const char *type);
int  hb_snap_diff(const hb_snap_t *old, const hb_snap_t *now, hb_snap_emit_fn emit, void *ud);

/* A directory to watch: the request's path resolved and checked to be a
 * directory; NULL after answering (status in *status). */
char *hb_watch_dir(hb_e2b_call_t *k, int *status);

#endif
