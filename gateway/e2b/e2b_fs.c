/* filesystem.Filesystem's unary methods (filesystem.proto): Stat, MakeDir,
 * Move, ListDir, Remove, on the lease's file operations (init's requests,
 * never commands). Paths are E2B's: relative ones are the calling user's
 * home's (hb_e2b_path). What MakeDir and Move create is the caller's, as
 * envd (running as that user) makes it. */
#include "e2b_fs.h"

#include <stdlib.h>
#include <string.h>

#include "path.h"

#define LIST_MAX   20000   /* entries in one ListDir answer */
#define DEPTH_MAX  64

/* The request's path field, resolved: NULL after answering (*status). */
static char *path_field(hb_e2b_call_t *k, const char *field, int *status)
{
    const char *raw = hb_e2b_str_field(k, field, status);
    if (!raw)
        return NULL;
    hb_err_t e = {0};
    char *p = hb_e2b_path(k, raw, field, &e);
    if (!p)
        *status = hb_cx_fail_err(k, &e);
    return p;
}

/* {"entry": EntryInfo of path} as the answer. */
static int reply_entry(hb_e2b_call_t *k, const char *path, const char *what)
{
    hb_e2b_names_t n;
    hb_e2b_names_load(k->lease, &n);
    hb_err_t e = {0};
    json_t *entry = hb_e2b_stat_entry(k->lease, &n, path, &e);
    hb_e2b_names_free(&n);
    if (!entry)
        return hb_e2b_fs_fail(k, &e, what);
    return hb_cx_reply(k, json_pack("{s:o}", "entry", entry));
}

int hb_e2b_fs_stat(hb_e2b_call_t *k)
{
    int status;
    char *path = path_field(k, "path", &status);
    if (!path)
        return status;
    status = reply_entry(k, path, "stat");
    free(path);
    return status;
}

int hb_e2b_fs_mkdir(hb_e2b_call_t *k)
{
    int status;
    char *path = path_field(k, "path", &status);
    if (!path)
        return status;
    hb_err_t e = {0};
    hb_stat_t st;
    if (hb_lease_file_stat(k->lease, path, true, &st, &e) == 0)
        status = st.type == HB_FT_DIR
                     ? hb_cx_fail(k, "already_exists", "path: %s already exists", path)
                     : hb_cx_fail(k, "invalid_argument", "path: %s exists and is not a "
                                  "directory", path);
    else if (e.code != HB_E_NOTFOUND ||
             hb_lease_file_mkdir_as(k->lease, path, true, k->user, &e) < 0)
        status = hb_e2b_fs_fail(k, &e, "mkdir");
    else
        status = reply_entry(k, path, "mkdir");
    free(path);
    return status;
}

/* Move's destination's parent, made when missing (envd does). */
static int parent_made(hb_e2b_call_t *k, const char *path, hb_err_t *e)
{
    char dir[HB_PATH_MAX];
    const char *base;
    if (hb_path_split(path, dir, sizeof dir, &base) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "destination: not a valid path");
    hb_stat_t st;
    if (hb_lease_file_stat(k->lease, dir, true, &st, e) == 0)
        return 0;
    if (e->code != HB_E_NOTFOUND)
        return -1;
    return hb_lease_file_mkdir_as(k->lease, dir, true, k->user, e);
}

int hb_e2b_fs_move(hb_e2b_call_t *k)
{
    int status = 0;
    char *from = path_field(k, "source", &status);
    char *to = from ? path_field(k, "destination", &status) : NULL;
    hb_err_t e = {0};
    hb_stat_t st;
    if (!from || !to)
        goto out;
    if (hb_lease_file_stat(k->lease, from, false, &st, &e) < 0) {
        if (e.code == HB_E_NOTFOUND)
            hb_fail(&e, HB_E_NOTFOUND, e.sys_errno, "source: %s does not exist", from);
        status = hb_e2b_fs_fail(k, &e, "move");
    } else if (parent_made(k, to, &e) < 0 || hb_lease_file_rename(k->lease, from, to, &e) < 0) {
        status = hb_e2b_fs_fail(k, &e, "move");
    } else {
        status = reply_entry(k, to, "move");
    }
out:
    free(from);
    free(to);
    return status;
}

int hb_e2b_fs_remove(hb_e2b_call_t *k)
{
    int status;
    char *path = path_field(k, "path", &status);
    if (!path)
        return status;
    hb_err_t e = {0};
    hb_stat_t st;
    if (hb_lease_file_stat(k->lease, path, false, &st, &e) < 0 ||
        hb_lease_file_remove(k->lease, path, st.type == HB_FT_DIR, &e) < 0) {
        if (e.code == HB_E_NOTFOUND)
            hb_fail(&e, HB_E_NOTFOUND, e.sys_errno, "path: %s does not exist", path);
        status = hb_e2b_fs_fail(k, &e, "remove");
    } else {
        status = hb_cx_reply(k, json_object());
    }
    free(path);
    return status;
}

/* ---- ListDir ---- */

typedef struct {
    const hb_e2b_call_t *k;
    hb_e2b_names_t       names;
    json_t              *entries;
    char               **next;     /* the directories of the next level */
    size_t               n_next;
} walk_t;

/* One directory's children into the answer; its subdirectories (not links
 * to them, as envd's walk) queued when more levels are wanted. */
static int walk_dir(walk_t *w, const char *dir, bool deeper, hb_err_t *e)
{
    hb_dirent_t *v = NULL;
    size_t n = 0;
    bool truncated = false;
    size_t room = LIST_MAX - json_array_size(w->entries);
    if (hb_lease_file_list(w->k->lease, dir, false, room, &v, &n, &truncated, e) < 0)
        return -1;
    int rc = 0;
    if (truncated || json_array_size(w->entries) + n > LIST_MAX)
        rc = hb_fail(e, HB_E_TOOBIG, 0, "path: over %d entries to that depth; list with a "
                     "smaller depth", LIST_MAX);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (strcmp(v[i].path, dir) == 0)
            continue;
        json_array_append_new(w->entries, hb_e2b_entry(&w->names, v[i].path, v[i].type,
                                                       v[i].size, v[i].mode, v[i].uid,
                                                       v[i].gid, v[i].mtime));
        if (deeper && v[i].type == HB_FT_DIR) {
            char **grown = realloc(w->next, (w->n_next + 1) * sizeof *grown);
            if (!grown || !(grown[w->n_next] = strdup(v[i].path))) {
                if (grown)
                    w->next = grown;
                rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
                break;
            }
            w->next = grown;
            w->n_next++;
        }
    }
    hb_dirents_free(v, n);
    return rc;
}

static void free_dirs(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Level by level, one listing per directory: a deep tree below costs
 * nothing past the depth asked for. */
static int walk(walk_t *w, const char *path, unsigned depth, hb_err_t *e)
{
    char **level = malloc(sizeof *level);
    size_t n = 1;
    if (!level || !(level[0] = strdup(path))) {
        free(level);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    int rc = 0;
    for (unsigned d = 1; rc == 0 && d <= depth && n > 0; d++) {
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = walk_dir(w, level[i], d < depth, e);
        free_dirs(level, n);
        level = w->next;
        n = w->n_next;
        w->next = NULL;
        w->n_next = 0;
    }
    free_dirs(level, n);
    return rc;
}

int hb_e2b_fs_list(hb_e2b_call_t *k)
{
    int64_t depth = 1;
    if (hb_pb_get_int64(k->msg, "depth", 1, &depth) < 0 || depth < 0 || depth > DEPTH_MAX)
        return hb_cx_fail(k, "invalid_argument", "depth: 1 to %d", DEPTH_MAX);
    if (depth == 0)
        depth = 1;   /* proto3's default */
    int status;
    char *path = path_field(k, "path", &status);
    if (!path)
        return status;
    hb_err_t e = {0};
    hb_stat_t st;
    if (hb_lease_file_stat(k->lease, path, true, &st, &e) == 0 && st.type != HB_FT_DIR) {
        status = hb_cx_fail(k, "invalid_argument", "path: %s is not a directory", path);
        free(path);
        return status;
    }
    walk_t w = {.k = k, .entries = json_array()};
    hb_e2b_names_load(k->lease, &w.names);
    if (e.code != HB_OK || walk(&w, path, (unsigned)depth, &e) < 0) {
        json_decref(w.entries);
        status = hb_e2b_fs_fail(k, &e, "list");
    } else {
        status = hb_cx_reply(k, json_pack("{s:o}", "entries", w.entries));
    }
    hb_e2b_names_free(&w.names);
    free(path);
    return status;
}
