/* hb_file_*: file operations inside a sandbox, done by its init (the daemon
 * never joins a sandbox path onto a host path). */
#include "initclient.h"
#include "log.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FILE_TIMEOUT_MS 60000       /* between two frames from init */
#define LIST_HARD_MAX   (1u << 20)

static int check_path(const char *path, const char *field, hb_err_t *e)
{
    const char *why;
    if (hb_path_check(path, &why) < 0)
        return hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why);
    return 0;
}


/* Request + single final answer of type want. */
static int simple(const hb_sandbox_t *sb, const hb_initreq_t *r, hb_ansty_t want,
                  hb_initans_t *a, const char *what, hb_err_t *e)
{
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, r, e) < 0)
        return -1;
    int rc = hb_initconn_next(&c, a, FILE_TIMEOUT_MS, e);
    if (rc == 0 && a->t != want)
        rc = hb_init_unexpected(a, what, e);
    hb_initconn_close(&c);
    return rc;
}

/* ---- write ---- */

int hb_file_write(const hb_sandbox_t *sb, const char *path, uint32_t mode, uint64_t max_size,
                  hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e)
{
    return hb_file_write_as(sb, path, mode, max_size, NULL, src, ud, written, e);
}

/* The request's optional user: NULL or "" for none. */
static int owner_of(const char *user, hb_initstr_t *out, hb_err_t *e)
{
    size_t len = user ? strlen(user) : 0;
    if (len > HB_USER_MAX)
        return hb_fail(e, HB_E_INVALID, 0, "user: longer than %d bytes", HB_USER_MAX);
    *out = (hb_initstr_t){.ptr = user, .len = len};
    return 0;
}

int hb_file_write_as(const hb_sandbox_t *sb, const char *path, uint32_t mode, uint64_t max_size,
                     const char *user, hb_src_cb src, void *ud, uint64_t *written, hb_err_t *e)
{
    hb_initstr_t owner;
    if (written)
        *written = 0;
    if (check_path(path, "path", e) < 0 || owner_of(user, &owner, e) < 0)
        return -1;
    bool keep = (mode & HB_FILE_KEEP) != 0;
    mode &= ~HB_FILE_KEEP;
    if (mode > 07777)
        return hb_fail(e, HB_E_INVALID, 0, "mode: out of range");
    hb_initreq_t w = {.op = HB_OP_WRITE, .path = path, .mode = mode, .max = max_size,
                      .keep = keep, .user = owner};
    uint64_t total = 0;
    int rc = hb_init_put(sb, &w, "file", max_size, src, ud, FILE_TIMEOUT_MS, &total, e);
    if (rc == 0 && written)
        *written = total;
    return rc;
}

typedef struct {
    const char *p;
    size_t left;
} membuf_t;

static int mem_src(void *ud, void *buf, size_t cap, size_t *got)
{
    membuf_t *m = ud;
    *got = m->left < cap ? m->left : cap;
    memcpy(buf, m->p, *got);
    m->p += *got;
    m->left -= *got;
    return 0;
}

int hb_file_write_buf(const hb_sandbox_t *sb, const char *path, const void *buf, size_t len,
                      hb_err_t *e)
{
    membuf_t m = {buf, len};
    return hb_file_write(sb, path, 0, 0, mem_src, &m, NULL, e);
}

/* ---- read ---- */

static int download(hb_initconn_t *c, uint64_t max, hb_size_cb on_size, hb_sink_cb sink,
                    void *ud, hb_err_t *e)
{
    hb_initans_t a;
    if (hb_initconn_next(c, &a, FILE_TIMEOUT_MS, e) < 0)
        return -1;
    if (a.t != HB_ANS_FILE)
        return hb_init_unexpected(&a, "read", e);
    uint64_t size = a.size, total = 0;
    if (max && size > max)
        return hb_fail(e, HB_E_TOOBIG, EFBIG, "file is %llu bytes, over %llu",
                       (unsigned long long)size, (unsigned long long)max);
    if (on_size && on_size(ud, size) < 0)
        return hb_fail(e, HB_E_INTERNAL, ECANCELED, "read aborted by the sink");
    for (;;) {
        if (hb_initconn_next(c, &a, FILE_TIMEOUT_MS, e) < 0)
            return -1;
        if (a.t == HB_ANS_END)
            break;
        if (a.t != HB_ANS_DATA)
            return hb_init_unexpected(&a, "read", e);
        total += a.data.len;
        if (total > size)
            return hb_fail(e, HB_E_INTERNAL, EPROTO, "read: init sent more than announced");
        if (a.data.len && sink(ud, a.data.ptr, a.data.len) < 0)
            return hb_fail(e, HB_E_INTERNAL, ECANCELED, "read aborted by the sink");
    }
    if (total != size)
        return hb_fail(e, HB_E_INTERNAL, EIO, "read: file changed while being read");
    return 0;
}

int hb_file_read(const hb_sandbox_t *sb, const char *path, uint64_t max_size, hb_size_cb on_size,
                 hb_sink_cb sink, void *ud, hb_err_t *e)
{
    if (check_path(path, "path", e) < 0)
        return -1;
    hb_initreq_t r = {.op = HB_OP_READ, .path = path, .max = max_size};
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, &r, e) < 0)
        return -1;
    int rc = download(&c, max_size, on_size, sink, ud, e);
    hb_initconn_close(&c);
    return rc;
}

typedef struct {
    char *buf;
    size_t len, cap;
} grow_t;

static int grow_size(void *ud, uint64_t size)
{
    grow_t *g = ud;
    /* The size comes from the sandbox: allocate as data arrives, not up front. */
    g->cap = size < (1u << 20) ? (size_t)size + 1 : (1u << 20);
    g->buf = malloc(g->cap);
    return g->buf ? 0 : -1;
}

static int grow_sink(void *ud, const void *data, size_t len)
{
    grow_t *g = ud;
    if (g->len + len + 1 > g->cap) {
        size_t nc = g->cap * 2;
        while (nc < g->len + len + 1)
            nc *= 2;
        char *nb = realloc(g->buf, nc);
        if (!nb)
            return -1;
        g->buf = nb;
        g->cap = nc;
    }
    memcpy(g->buf + g->len, data, len);
    g->len += len;
    return 0;
}

int hb_file_read_buf(const hb_sandbox_t *sb, const char *path, uint64_t max_size, char **buf,
                     size_t *len, hb_err_t *e)
{
    grow_t g = {0};
    *buf = NULL;
    *len = 0;
    if (hb_file_read(sb, path, max_size, grow_size, grow_sink, &g, e) < 0) {
        free(g.buf);
        return -1;
    }
    g.buf[g.len] = '\0';
    *buf = g.buf;
    *len = g.len;
    return 0;
}

/* ---- list ---- */

typedef struct {
    hb_dirent_t *v;
    size_t n, cap, max;
    bool truncated;
} ents_t;

static int add_ents(ents_t *s, const hb_initans_t *a)
{
    for (uint32_t i = 0; i < a->ents.n; i++) {
        const char *p;
        size_t pl;
        unsigned type;
        uint64_t size;
        hb_initans_ent(a, i, &p, &pl, &type, &size);
        if (s->n >= s->max) {
            s->truncated = true;
            return 0;
        }
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 256;
            hb_dirent_t *nv = realloc(s->v, nc * sizeof *nv);
            if (!nv)
                return -1;
            s->v = nv;
            s->cap = nc;
        }
        char *path = strndup(p, pl);
        if (!path)
            return -1;
        char *slash = strrchr(path, '/');
        hb_initmeta_t m;
        bool meta = hb_initans_meta(a, i, &m) == 0;
        s->v[s->n++] = (hb_dirent_t){.path = path, .name = slash + 1,
                                     .type = (hb_ftype_t)type, .size = size, .has_meta = meta,
                                     .mode = meta ? m.mode : 0, .uid = meta ? m.uid : 0,
                                     .gid = meta ? m.gid : 0, .mtime = meta ? m.mtime : 0};
    }
    return 0;
}

static int collect_ents(hb_initconn_t *c, ents_t *s, hb_err_t *e)
{
    hb_initans_t a;
    for (;;) {
        if (hb_initconn_next(c, &a, FILE_TIMEOUT_MS, e) < 0)
            return -1;
        if (a.t == HB_ANS_END) {
            s->truncated |= a.truncated;
            return 0;
        }
        if (a.t != HB_ANS_ENTS)
            return hb_init_unexpected(&a, "list", e);
        if (add_ents(s, &a) < 0)
            return hb_fail(e, HB_E_INTERNAL, ENOMEM, "list: out of memory");
    }
}

int hb_file_list(const hb_sandbox_t *sb, const char *path, bool recursive, size_t max_entries,
                 hb_dirent_t **ents, size_t *n, bool *truncated, hb_err_t *e)
{
    *ents = NULL;
    *n = 0;
    *truncated = false;
    if (check_path(path, "path", e) < 0)
        return -1;
    size_t max = max_entries && max_entries < LIST_HARD_MAX ? max_entries : LIST_HARD_MAX;
    hb_initreq_t l = {.op = HB_OP_LIST, .path = path, .recursive = recursive, .max = max};
    ents_t s = {.max = max};
    hb_initconn_t c;
    if (hb_initconn_start(&c, sb, &l, e) < 0)
        return -1;
    int rc = collect_ents(&c, &s, e);
    hb_initconn_close(&c);
    if (rc < 0 && e && e->sys_errno == ENOTDIR)
        e->code = HB_E_NOTDIR;   /* the seed's contract: "500 if path is not a directory" */
    if (rc < 0) {
        hb_dirents_free(s.v, s.n);
        return -1;
    }
    *ents = s.v;
    *n = s.n;
    *truncated = s.truncated;
    return 0;
}

/* name points into path: only path is freed. */
void hb_dirents_free(hb_dirent_t *ents, size_t n)
{
    for (size_t i = 0; ents && i < n; i++)
        free(ents[i].path);
    free(ents);
}

/* ---- stat, mkdir, rename, remove ---- */

int hb_file_stat(const hb_sandbox_t *sb, const char *path, bool follow, hb_stat_t *st, hb_err_t *e)
{
    if (check_path(path, "path", e) < 0)
        return -1;
    hb_initreq_t s = {.op = HB_OP_STAT, .path = path, .follow = follow};
    hb_initans_t a;
    if (simple(sb, &s, HB_ANS_STAT, &a, "stat", e) < 0)
        return -1;
    *st = (hb_stat_t){.type = (hb_ftype_t)a.type, .size = a.size, .mode = (uint32_t)a.mode,
                      .uid = (uint32_t)a.uid, .gid = (uint32_t)a.gid, .mtime = a.mtime,
                      .atime = a.atime, .ctime = a.ctime};
    return 0;
}

int hb_file_mkdir(const hb_sandbox_t *sb, const char *path, bool parents, hb_err_t *e)
{
    return hb_file_mkdir_as(sb, path, parents, NULL, e);
}

int hb_file_mkdir_as(const hb_sandbox_t *sb, const char *path, bool parents, const char *user,
                     hb_err_t *e)
{
    hb_initstr_t owner;
    if (check_path(path, "path", e) < 0 || owner_of(user, &owner, e) < 0)
        return -1;
    hb_initreq_t s = {.op = HB_OP_MKDIR, .path = path, .parents = parents, .user = owner};
    hb_initans_t a;
    return simple(sb, &s, HB_ANS_OK, &a, "mkdir", e);
}

int hb_file_rename(const hb_sandbox_t *sb, const char *from, const char *to, hb_err_t *e)
{
    if (check_path(from, "from", e) < 0 || check_path(to, "to", e) < 0)
        return -1;
    hb_initreq_t s = {.op = HB_OP_RENAME, .from = from, .to = to};
    hb_initans_t a;
    return simple(sb, &s, HB_ANS_OK, &a, "rename", e);
}

int hb_file_remove(const hb_sandbox_t *sb, const char *path, bool recursive, hb_err_t *e)
{
    if (check_path(path, "path", e) < 0)
        return -1;
    hb_initreq_t s = {.op = HB_OP_REMOVE, .path = path, .recursive = recursive};
    hb_initans_t a;
    return simple(sb, &s, HB_ANS_OK, &a, "remove", e);
}
