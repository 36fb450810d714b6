/* A watched directory's listings and their differences (e2b_watch.h). */
#include "e2b_watch.h"

#include <stdlib.h>
#include <string.h>

#include "e2b_fs.h"

static int by_rel(const void *a, const void *b)
{
    return strcmp(((const hb_snap_ent_t *)a)->rel, ((const hb_snap_ent_t *)b)->rel);
}

void hb_snap_free(hb_snap_t *s)
{
    for (size_t i = 0; s->v && i < s->n; i++)
        free(s->v[i].rel);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

int hb_snap_take(const hb_lease_t *l, const char *dir, bool recursive, hb_snap_t *out,
                 hb_err_t *e)
{
    hb_dirent_t *v = NULL;
    size_t n = 0;
    bool truncated = false;
    out->v = NULL;
    out->n = 0;
    if (hb_lease_file_list(l, dir, recursive, HB_WATCH_ENTRIES_MAX, &v, &n, &truncated, e) < 0)
        return -1;
    if (truncated) {
        hb_dirents_free(v, n);
        return hb_fail(e, HB_E_LIMIT, 0, "path: %s holds over %d entries, too many to watch",
                       dir, HB_WATCH_ENTRIES_MAX);
    }
    size_t skip = strcmp(dir, "/") == 0 ? 1 : strlen(dir) + 1;
    out->v = calloc(n ? n : 1, sizeof *out->v);
    bool oom = !out->v;
    for (size_t i = 0; !oom && i < n; i++) {
        if (strlen(v[i].path) <= skip || strncmp(v[i].path, dir, skip - 1) != 0 ||
            v[i].path[skip - 1] != '/')
            continue;   /* the directory itself, or not below it */
        hb_snap_ent_t *s = &out->v[out->n];
        if (!(s->rel = strdup(v[i].path + skip))) {
            oom = true;
            break;
        }
        s->type = v[i].type;
        s->size = v[i].size;
        s->mode = v[i].mode;
        s->mtime = v[i].mtime;
        out->n++;
    }
    hb_dirents_free(v, n);
    if (oom) {
        hb_snap_free(out);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    qsort(out->v, out->n, sizeof *out->v, by_rel);
    return 0;
}

/* What changed in an entry that is in both listings. */
static int changed(const hb_snap_ent_t *a, const hb_snap_ent_t *b, hb_snap_emit_fn emit, void *ud)
{
    int rc = 0;
    if (a->type != b->type) {   /* replaced by another kind of thing */
        if ((rc = emit(ud, b->rel, "EVENT_TYPE_REMOVE")) != 0)
            return rc;
        return emit(ud, b->rel, "EVENT_TYPE_CREATE");
    }
    if (b->type != HB_FT_DIR && (a->size != b->size || a->mtime != b->mtime))
        rc = emit(ud, b->rel, "EVENT_TYPE_WRITE");
    if (rc == 0 && (a->mode & 07777) != (b->mode & 07777))
        rc = emit(ud, b->rel, "EVENT_TYPE_CHMOD");
    return rc;
}

int hb_snap_diff(const hb_snap_t *old, const hb_snap_t *now, hb_snap_emit_fn emit, void *ud)
{
    size_t i = 0, j = 0;
    int rc = 0;
    while (rc == 0 && (i < old->n || j < now->n)) {
        int c = i == old->n ? 1 : j == now->n ? -1 : strcmp(old->v[i].rel, now->v[j].rel);
        if (c < 0) {
            rc = emit(ud, old->v[i++].rel, "EVENT_TYPE_REMOVE");
        } else if (c > 0) {
            const hb_snap_ent_t *b = &now->v[j++];
            rc = emit(ud, b->rel, "EVENT_TYPE_CREATE");
            if (rc == 0 && b->type == HB_FT_FILE && b->size > 0)
                rc = emit(ud, b->rel, "EVENT_TYPE_WRITE");
        } else {
            rc = changed(&old->v[i++], &now->v[j++], emit, ud);
        }
    }
    return rc;
}

char *hb_watch_dir(hb_e2b_call_t *k, int *status)
{
    const char *raw = hb_e2b_str_field(k, "path", status);
    if (!raw)
        return NULL;
    hb_err_t e = {0};
    hb_stat_t st;
    char *dir = hb_e2b_path(k, raw, "path", &e);
    if (!dir) {
        *status = hb_cx_fail_err(k, &e);
        return NULL;
    }
    if (hb_lease_file_stat(k->lease, dir, true, &st, &e) < 0) {
        if (e.code == HB_E_NOTFOUND)
            hb_fail(&e, HB_E_NOTFOUND, e.sys_errno, "path: %s does not exist", dir);
        *status = hb_e2b_fs_fail(k, &e, "watch");
    } else if (st.type != HB_FT_DIR) {
        *status = hb_cx_fail(k, "invalid_argument", "path: %s is not a directory", dir);
    } else {
        return dir;
    }
    free(dir);
    return NULL;
}
