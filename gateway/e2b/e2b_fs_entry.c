/* EntryInfo (filesystem.proto) from init's stat and listing answers, with
 * owner and group named from the sandbox's own /etc/passwd and /etc/group
 * (init loads no NSS after pivot_root, and neither does the daemon). */
#include "e2b_fs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NAMES_MAX (1u << 20)   /* a bigger passwd file: ids as numbers */

void hb_e2b_names_load(const hb_lease_t *l, hb_e2b_names_t *n)
{
    size_t len;
    hb_err_t e = {0};
    n->passwd = n->group = NULL;
    if (hb_lease_file_read_buf(l, "/etc/passwd", NAMES_MAX, &n->passwd, &len, &e) < 0)
        n->passwd = NULL;
    if (hb_lease_file_read_buf(l, "/etc/group", NAMES_MAX, &n->group, &len, &e) < 0)
        n->group = NULL;
}

void hb_e2b_names_free(hb_e2b_names_t *n)
{
    free(n->passwd);
    free(n->group);
    n->passwd = n->group = NULL;
}

/* The name on the line "name:x:id:..." of db whose third field is id. */
static void name_of(const char *db, uint32_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%u", id);
    for (const char *line = db; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2 && (size_t)(c2 + 1 - line) < len) {
            char *num_end = NULL;
            unsigned long v = strtoul(c2 + 1, &num_end, 10);
            if (num_end != c2 + 1 && *num_end == ':' && v == id && (size_t)(c1 - line) < cap &&
                c1 > line) {
                memcpy(out, line, (size_t)(c1 - line));
                out[c1 - line] = '\0';
                return;
            }
        }
        line = end ? end + 1 : NULL;
    }
}

const char *hb_e2b_ftype(hb_ftype_t t)
{
    switch (t) {
    case HB_FT_FILE: return "FILE_TYPE_FILE";
    case HB_FT_DIR: return "FILE_TYPE_DIRECTORY";
    case HB_FT_SYMLINK: return "FILE_TYPE_SYMLINK";
    default: return "FILE_TYPE_UNSPECIFIED";
    }
}

/* Go's os.FileMode.String(), which envd reports: "-rw-r--r--", "drwxr-xr-x". */
static void permissions(uint32_t mode, char out[16])
{
    size_t o = 0;
    char type = S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'L' : S_ISFIFO(mode) ? 'p'
              : S_ISSOCK(mode) ? 'S' : S_ISCHR(mode) ? 'c' : S_ISBLK(mode) ? 'D' : 0;
    if (type == 'c')
        out[o++] = 'D';
    if (type)
        out[o++] = type;
    if (mode & S_ISUID)
        out[o++] = 'u';
    if (mode & S_ISGID)
        out[o++] = 'g';
    if (mode & S_ISVTX)
        out[o++] = 't';
    if (o == 0)
        out[o++] = '-';
    static const char rwx[] = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        out[o++] = (mode & (1u << (8 - i))) ? rwx[i] : '-';
    out[o] = '\0';
}

json_t *hb_e2b_entry(const hb_e2b_names_t *n, const char *path, hb_ftype_t type, uint64_t size,
                     uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime)
{
    char owner[64], group[64], perm[16];
    name_of(n ? n->passwd : NULL, uid, owner, sizeof owner);
    name_of(n ? n->group : NULL, gid, group, sizeof group);
    permissions(mode, perm);
    const char *slash = strrchr(path, '/');
    const char *name = slash && slash[1] ? slash + 1 : path;
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:o}", "name", name,
                     "type", hb_e2b_ftype(type), "path", path,
                     "size", hb_pb_int64((int64_t)size), "mode", (json_int_t)(mode & 0777),
                     "permissions", perm, "owner", owner, "group", group,
                     "modifiedTime", hb_pb_time(mtime * 1000));
}

json_t *hb_e2b_entry_of_stat(const hb_e2b_names_t *n, const char *path, const hb_stat_t *st)
{
    return hb_e2b_entry(n, path, st->type, st->size, st->mode, st->uid, st->gid, st->mtime);
}

json_t *hb_e2b_stat_entry(const hb_lease_t *l, const hb_e2b_names_t *n, const char *path,
                          hb_err_t *e)
{
    hb_stat_t st;
    if (hb_lease_file_stat(l, path, false, &st, e) < 0)
        return NULL;
    json_t *j = hb_e2b_entry_of_stat(n, path, &st);
    if (!j)
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    return j;
}

int hb_e2b_fs_fail(hb_e2b_call_t *k, hb_err_t *e, const char *what)
{
    if (e->code == HB_E_INTERNAL)
        hb_lease_explain_gone(k->lease, what, e);
    return hb_cx_fail_err(k, e);
}

const char *hb_e2b_str_field(hb_e2b_call_t *k, const char *field, int *status)
{
    const json_t *v = json_object_get(k->msg, field);
    if (v && !json_is_string(v)) {
        *status = hb_cx_fail(k, "invalid_argument", "%s: must be a string", field);
        return NULL;
    }
    const char *s = v ? json_string_value(v) : "";
    if (!s[0]) {
        *status = hb_cx_fail(k, "invalid_argument", "%s: required", field);
        return NULL;
    }
    return s;
}
