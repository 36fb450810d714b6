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

/* How many components path has below base ("/a" under "/": 1). */
static unsigned depth_below(const char *base, const char *path)
{
    size_t bl = strlen(base);
    const char *p = path + (bl == 1 ? 0 : bl);
    unsigned d = 0;
    for (; *p; p++)
        d += *p == '/';
    return d;
}

static json_t *entries_json(const hb_e2b_names_t *n, const char *base, const hb_dirent_t *v,
                            size_t count, unsigned depth)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        if (depth_below(base, v[i].path) > depth || strcmp(v[i].path, base) == 0)
            continue;
        json_array_append_new(arr, hb_e2b_entry(n, v[i].path, v[i].type, v[i].size,
                                                v[i].mode, v[i].uid, v[i].gid, v[i].mtime));
    }
    return arr;
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
    hb_dirent_t *v = NULL;
    size_t count = 0;
    bool truncated = false;
    hb_err_t e = {0};
    hb_stat_t st;
    if (hb_lease_file_stat(k->lease, path, true, &st, &e) == 0 && st.type != HB_FT_DIR)
        status = hb_cx_fail(k, "invalid_argument", "path: %s is not a directory", path);
    else if (e.code != HB_OK ||
             hb_lease_file_list(k->lease, path, depth > 1, LIST_MAX, &v, &count, &truncated,
                                &e) < 0)
        status = hb_e2b_fs_fail(k, &e, "list");
    else if (truncated)
        status = hb_cx_fail(k, "resource_exhausted", "path: %s holds over %d entries to that "
                            "depth", path, LIST_MAX);
    else {
        hb_e2b_names_t n;
        hb_e2b_names_load(k->lease, &n);
        status = hb_cx_reply(k, json_pack("{s:o}", "entries",
                                          entries_json(&n, path, v, count, (unsigned)depth)));
        hb_e2b_names_free(&n);
    }
    hb_dirents_free(v, count);
    free(path);
    return status;
}
