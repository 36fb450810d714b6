/* File requests, served by init inside the sandbox root. After pivot_root
 * "/" is the sandbox root, so ".." and symlinks cannot leave it; opens also
 * refuse magic links (/proc/<pid>/root and friends) through openat2. */
#include "agent.h"
#include "log.h"
#include "rmtree_at.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK          HB_CHUNK_MAX
#define DATA_TIMEOUT   60000           /* ms between upload frames */
#define LIST_HARD_MAX  (1u << 20)
#define ENTS_BYTES     (256 * 1024)

static int open_res(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
    struct open_how how = {.flags = (uint64_t)flags | O_CLOEXEC, .mode = mode,
                           .resolve = resolve | RESOLVE_NO_MAGICLINKS};
    int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (fd < 0 && errno == ENOSYS)
        fd = openat(dirfd, path, flags | O_CLOEXEC, mode);
    return fd;
}

static int open_path(const char *path, int flags)
{
    return open_res(AT_FDCWD, path, flags, 0, 0);
}

int agent_open_dir(const char *dir, bool create)
{
    return agent_open_dir_as(dir, create, NULL);
}

/* Open directory dir (O_PATH), creating missing components when create,
 * owned by own when it is given (E2B's writes as the calling user). */
int agent_open_dir_as(const char *dir, bool create, const agent_user_t *own)
{
    int fd = open_path(dir, O_PATH | O_DIRECTORY);
    if (fd >= 0 || errno != ENOENT || !create)
        return fd;
    fd = open_path("/", O_PATH | O_DIRECTORY);
    const char *s = dir;
    char comp[HB_NAME_MAX + 1];
    while (fd >= 0 && *s) {
        while (*s == '/')
            s++;
        size_t n = strcspn(s, "/");
        if (n == 0)
            break;
        memcpy(comp, s, n);     /* n <= HB_NAME_MAX: the path was checked */
        comp[n] = '\0';
        s += n;
        int nfd = open_res(fd, comp, O_PATH | O_DIRECTORY, 0, 0);
        if (nfd < 0 && errno == ENOENT) {
            bool made = mkdirat(fd, comp, 0755) == 0;
            if ((!made && errno != EEXIST) ||
                (made && own && fchownat(fd, comp, own->uid, own->gid, AT_SYMLINK_NOFOLLOW) < 0)) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
            }
            nfd = open_res(fd, comp, O_PATH | O_DIRECTORY, 0, 0);
        }
        int e = errno;
        close(fd);
        errno = e;
        fd = nfd;
    }
    return fd;
}

/* Open the parent of path; *base points at the last component. */
static int open_parent(const char *path, bool create, const agent_user_t *own, const char **base,
                       char *dir)
{
    if (hb_path_split(path, dir, HB_PATH_MAX, base) < 0 || **base == '\0') {
        errno = EINVAL;
        return -1;
    }
    return agent_open_dir_as(dir, create, own);
}

/* A request's optional `user` (write, mkdir): *own NULL without one; -1
 * after answering err when it names nobody. */
static int request_owner(int conn, const hb_initreq_t *r, agent_user_t *u,
                         const agent_user_t **own)
{
    *own = NULL;
    if (r->user.len == 0)
        return 0;
    memset(u, 0, sizeof *u);
    if (agent_resolve_user(conn, &r->user, u) < 0)
        return -1;
    *own = u;
    return 0;
}

static unsigned ftype(mode_t m)
{
    return S_ISREG(m) ? 0 : S_ISDIR(m) ? 1 : S_ISLNK(m) ? 2 : 3;
}

/* ---- read ---- */

/* Files that report size 0 but have content (procfs, sysfs): read them
 * whole, bounded, so the announced size is the real one. */
#define SIZELESS_MAX (4u << 20)

static void send_file_hdr(int conn, uint64_t size, bool *ok)
{
    hb_initans_t a = {.t = HB_ANS_FILE, .size = size};
    *ok = hb_initans_send(conn, &a) == 0;
}

static void send_end(int conn)
{
    hb_initans_t a = {.t = HB_ANS_END};
    hb_initans_send(conn, &a);
}

static void read_sizeless(int conn, int fd, const hb_initreq_t *r)
{
    size_t cap = r->max && r->max < SIZELESS_MAX ? (size_t)r->max : SIZELESS_MAX, len = 0;
    char *buf = malloc(cap + 1);
    while (buf && len <= cap) {
        ssize_t n = read(fd, buf + len, cap + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            agent_answer_err(conn, errno, "%s: %s", r->path, strerror(errno));
            free(buf);
            return;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (!buf || len > cap) {
        agent_answer_err(conn, buf ? EFBIG : ENOMEM, "%s: over the %zu byte cap", r->path, cap);
        free(buf);
        return;
    }
    bool ok;
    send_file_hdr(conn, len, &ok);
    for (size_t off = 0; ok && off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        ok = hb_frame_send_chunk(conn, "data", 0, buf + off, n) == 0;
    }
    if (ok)
        send_end(conn);
    free(buf);
}

static void send_regular(int conn, int fd, const hb_initreq_t *r, uint64_t size)
{
    if (r->max && size > r->max) {
        agent_answer_err(conn, EFBIG, "%s: %llu bytes, over the %llu cap", r->path,
                   (unsigned long long)size, (unsigned long long)r->max);
        return;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    bool ok;
    send_file_hdr(conn, size, &ok);
    char *buf = ok ? malloc(CHUNK) : NULL;
    uint64_t done = 0;
    bool gone = false;
    while (buf && done < size && !gone) {
        size_t want = size - done < CHUNK ? (size_t)(size - done) : CHUNK;
        ssize_t n = read(fd, buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;              /* shrank or failed: the client sees a short file */
        gone = hb_frame_send_chunk(conn, "data", 0, buf, (size_t)n) < 0;
        done += (uint64_t)n;
    }
    if (buf && !gone)
        send_end(conn);
    free(buf);
}

static void op_read(int conn, const hb_initreq_t *r)
{
    struct stat st;
    int fd = open_path(r->path, O_RDONLY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0)
        agent_answer_err(conn, errno, "%s: %s", r->path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        agent_answer_err(conn, EINVAL, "%s: not a regular file", r->path);
    else if (st.st_size == 0)
        read_sizeless(conn, fd, r);
    else
        send_regular(conn, fd, r, (uint64_t)st.st_size);
    if (fd >= 0)
        close(fd);
}

/* ---- write ---- */

/* Next upload frame: 1 data (set *p,*n), 0 end, -1 anything else. */
int agent_next_chunk(int conn, hb_frame_t *f, const void **p, size_t *n)
{
    hb_initans_t a;
    if (hb_frame_read(conn, f, DATA_TIMEOUT) != 0 || hb_initans_parse(f, &a) < 0)
        return -1;
    if (a.t == HB_ANS_END)
        return 0;
    if (a.t != HB_ANS_DATA)
        return -1;
    *p = a.data.ptr;
    *n = a.data.len;
    return 1;
}

static int write_full(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* After refusing an upload, keep reading (and dropping) what the client is
 * still sending for a while: closing with unread data would make the kernel
 * reset the connection and the client would lose our `err` answer. */
void agent_refuse_drain(int conn)
{
    enum { SINK = 64 * 1024 };
    char *sink = malloc(SINK);
    shutdown(conn, SHUT_WR);
    int64_t end = agent_mono_us() + 5000000;
    for (uint64_t total = 0; sink && total < (256u << 20) && agent_mono_us() < end;) {
        struct pollfd p = {.fd = conn, .events = POLLIN};
        if (poll(&p, 1, 500) <= 0)
            break;
        ssize_t n = read(conn, sink, SINK);
        if (n <= 0)
            break;
        total += (uint64_t)n;
    }
    free(sink);
}

int64_t agent_receive_upload(int conn, hb_frame_t *f, uint64_t max, agent_upload_put_fn put, void *ud,
                       int *err)
{
    uint64_t total = 0;
    for (;;) {
        const void *p;
        size_t n;
        int k = agent_next_chunk(conn, f, &p, &n);
        *err = 0;
        if (k < 0)
            return -1;
        if (k == 0)
            return (int64_t)total;
        total += n;
        *err = EFBIG;
        if (max && total > max)
            return -1;
        if ((*err = put(ud, p, n)) != 0)
            return -1;
    }
}

static int put_fd(void *ud, const void *p, size_t n)
{
    return write_full(*(int *)ud, p, n) < 0 ? errno : 0;
}

/* Receive into fd (the temp file tmp in dfd, closed here) and rename it
 * to base, or remove it and answer why. */
static void receive_into(int conn, hb_frame_t *f, const hb_initreq_t *r, int dfd, int fd,
                         const char *tmp, const char *base, mode_t mode)
{
    int err = 0;
    int64_t total = agent_receive_upload(conn, f, r->max, put_fd, &fd, &err);
    /* Again after the data: a write clears set-id bits (a kept 04755 stays). */
    if (total >= 0 && (mode & 06000) && fchmod(fd, mode) < 0) {
        err = errno;
        total = -1;
    }
    if (close(fd) < 0 && total >= 0) {
        err = errno;
        total = -1;
    }
    if (total >= 0 && renameat(dfd, tmp, dfd, base) < 0) {
        err = errno;
        total = -1;
    }
    if (total >= 0) {
        agent_answer_ok(conn, true, (uint64_t)total);
        return;
    }
    unlinkat(dfd, tmp, 0);      /* before answering: the client may look at once */
    if (err == EFBIG)
        agent_answer_err(conn, EFBIG, "%s: over the %llu byte cap", r->path,
                   (unsigned long long)r->max);
    else if (err)
        agent_answer_err(conn, err, "%s: %s", r->path, strerror(err));
    if (err)
        agent_refuse_drain(conn);
}

static void op_write(int conn, hb_frame_t *f, const hb_initreq_t *r)
{
    const char *base;
    agent_user_t u;
    const agent_user_t *own;
    if (request_owner(conn, r, &u, &own) < 0) {
        agent_refuse_drain(conn);
        return;
    }
    char *dir = malloc(HB_PATH_MAX);
    int dfd = dir ? open_parent(r->path, true, own, &base, dir) : -1;
    free(dir);
    if (dfd < 0) {
        agent_answer_err(conn, errno, "%s: parent: %s", r->path, strerror(errno));
        return;
    }
    char tmp[HB_NAME_MAX + 1];
    /* The thread id: requests run side by side in one process. */
    snprintf(tmp, sizeof tmp, ".%.200s.%d.hbtmp", base, (int)gettid());
    mode_t mode = r->mode ? r->mode : 0644;
    struct stat old;   /* keep: the regular file replaced gives its mode and owner */
    bool keep = r->keep && fstatat(dfd, base, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISREG(old.st_mode);
    if (keep)
        mode = old.st_mode & 07777;
    else if (own)
        old = (struct stat){.st_uid = own->uid, .st_gid = own->gid};
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    /* chown before chmod: a chown clears the set-id bits */
    if (fd < 0 || ((keep || own) && fchown(fd, old.st_uid, old.st_gid) < 0) ||
        fchmod(fd, mode) < 0) {
        agent_answer_err(conn, errno, "%s: %s", r->path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlinkat(dfd, tmp, 0);
        }
        close(dfd);
        return;
    }
    receive_into(conn, f, r, dfd, fd, tmp, base, mode);
    close(dfd);
}

/* ---- list ---- */

typedef struct {
    int conn;
    msgpack_sbuffer body;       /* packed entries of the pending batch */
    msgpack_packer pk;
    msgpack_sbuffer mbody;      /* their metadata, one per entry (`meta`) */
    msgpack_packer mpk;
    uint32_t n;
    uint64_t count, max;
    bool truncated, gone;
} lister_t;

static void flush_ents(lister_t *l)
{
    if (l->n == 0 || l->gone)
        return;
    hb_initans_t a = {.t = HB_ANS_ENTS,
                      .ents = {.packed = l->body.data, .packed_len = l->body.size, .n = l->n},
                      .meta = {.packed = l->mbody.data, .packed_len = l->mbody.size, .n = l->n}};
    if (hb_initans_send(l->conn, &a) < 0)
        l->gone = true;
    l->body.size = 0;
    l->mbody.size = 0;
    l->n = 0;
}

/* false once the cap is reached (and more entries exist). */
static bool add_ent(lister_t *l, const char *path, size_t plen, const struct stat *st)
{
    if (l->count >= l->max) {
        l->truncated = true;
        return false;
    }
    hb_initents_pack(&l->pk, path, plen, ftype(st->st_mode), (uint64_t)st->st_size);
    hb_initmeta_t m = {.mode = st->st_mode, .uid = st->st_uid, .gid = st->st_gid,
                       .mtime = st->st_mtime};
    hb_initmeta_pack(&l->mpk, &m);
    l->count++;
    if (++l->n >= HB_ENTS_BATCH || l->body.size >= ENTS_BYTES)
        flush_ents(l);
    return !l->gone;
}

bool agent_skip_descent(const char *full)
{
    return hb_path_is_under(full, "/proc") || hb_path_is_under(full, "/sys") ||
           hb_path_is_under(full, "/dev");
}

typedef struct {
    char **v;
    size_t n, cap;
} strstack_t;

static int push(strstack_t *s, const char *p)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    return (s->v[s->n] = strdup(p)) ? (int)++s->n : -1;
}

/* List one directory (rel to topfd, "." for the top); push subdirectories
 * to walk. Never follows a symlink below the top. */
static bool list_dir(lister_t *l, int topfd, const char *top, const char *rel,
                     bool recursive, strstack_t *todo)
{
    int fd = open_res(topfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
                      strcmp(rel, ".") ? RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH : 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return true;            /* vanished or unreadable: skip it */
    }
    char full[HB_PATH_MAX], sub[HB_PATH_MAX];
    bool go = true;
    struct dirent *de;
    while (go && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        const char *prefix = strcmp(rel, ".") ? rel : "";
        int fl = snprintf(full, sizeof full, "%s%s%s/%s", strcmp(top, "/") ? top : "",
                          *prefix ? "/" : "", prefix, de->d_name);
        if (fl < 0 || (size_t)fl >= sizeof full)
            continue;           /* deeper than a sandbox path can name */
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        go = add_ent(l, full, (size_t)fl, &st);
        if (go && recursive && S_ISDIR(st.st_mode) && !agent_skip_descent(full)) {
            snprintf(sub, sizeof sub, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name);
            if (push(todo, sub) < 0)
                go = false;
        }
    }
    closedir(d);
    return go;
}

static void op_list(int conn, const hb_initreq_t *r)
{
    int topfd = open_path(r->path, O_RDONLY | O_DIRECTORY);
    if (topfd < 0) {
        agent_answer_err(conn, errno, "%s: %s", r->path, strerror(errno));
        return;
    }
    lister_t l = {.conn = conn, .max = r->max && r->max < LIST_HARD_MAX ? r->max : LIST_HARD_MAX};
    msgpack_sbuffer_init(&l.body);
    msgpack_packer_init(&l.pk, &l.body, msgpack_sbuffer_write);
    msgpack_sbuffer_init(&l.mbody);
    msgpack_packer_init(&l.mpk, &l.mbody, msgpack_sbuffer_write);
    strstack_t todo = {0};
    bool go = list_dir(&l, topfd, r->path, ".", r->recursive, &todo);
    while (go && todo.n > 0) {
        char *rel = todo.v[--todo.n];
        go = list_dir(&l, topfd, r->path, rel, true, &todo);
        free(rel);
    }
    flush_ents(&l);
    if (!l.gone) {
        hb_initans_t a = {.t = HB_ANS_END, .has = HB_IAF_BIT(truncated),
                          .truncated = l.truncated};
        hb_initans_send(conn, &a);
    }
    while (todo.n > 0)          /* left over when the listing stopped early */
        free(todo.v[--todo.n]);
    free(todo.v);
    close(topfd);
    msgpack_sbuffer_destroy(&l.body);
    msgpack_sbuffer_destroy(&l.mbody);
}

/* ---- stat, mkdir, rename, remove ---- */

static void op_stat(int conn, const hb_initreq_t *r)
{
    struct stat st;
    int fd = open_path(r->path, O_PATH | (r->follow ? 0 : O_NOFOLLOW));
    int rc = fd < 0 ? -1 : fstat(fd, &st);
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        agent_answer_err(conn, err, "%s: %s", r->path, strerror(err));
        return;
    }
    hb_initans_t a = {.t = HB_ANS_STAT, .type = ftype(st.st_mode), .size = (uint64_t)st.st_size,
                      .mode = st.st_mode, .uid = st.st_uid, .gid = st.st_gid,
                      .mtime = st.st_mtime, .atime = st.st_atime, .ctime = st.st_ctime};
    hb_initans_send(conn, &a);
}

/* Close fds (-1s skipped) keeping errno, so callers can report it after. */
static void close_keep_errno(int a, int b)
{
    int e = errno;
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    errno = e;
}

static void answer_rc(int conn, int rc, const char *path)
{
    if (rc < 0)
        agent_answer_err(conn, errno, "%s: %s", path, strerror(errno));
    else
        agent_answer_ok(conn, false, 0);
}

static void op_mkdir(int conn, const hb_initreq_t *r)
{
    int rc, dfd = -1;
    agent_user_t u;
    const agent_user_t *own;
    if (request_owner(conn, r, &u, &own) < 0)
        return;
    if (r->parents) {
        dfd = agent_open_dir_as(r->path, true, own);
        rc = dfd < 0 ? -1 : 0;
    } else {
        const char *base;
        char dir[HB_PATH_MAX];
        dfd = open_parent(r->path, false, NULL, &base, dir);
        rc = dfd < 0 ? -1 : mkdirat(dfd, base, 0755);
        if (rc == 0 && own)
            rc = fchownat(dfd, base, own->uid, own->gid, AT_SYMLINK_NOFOLLOW);
    }
    close_keep_errno(dfd, -1);
    answer_rc(conn, rc, r->path);
}

static void op_rename(int conn, const hb_initreq_t *r)
{
    const char *b1, *b2;
    char dir[HB_PATH_MAX];
    int d1 = open_parent(r->from, false, NULL, &b1, dir);
    int d2 = d1 < 0 ? -1 : open_parent(r->to, false, NULL, &b2, dir);
    int rc = d2 < 0 ? -1 : renameat(d1, b1, d2, b2);
    close_keep_errno(d1, d2);
    if (rc < 0)
        agent_answer_err(conn, errno, "%s -> %s: %s", r->from, r->to, strerror(errno));
    else
        agent_answer_ok(conn, false, 0);
}

static void op_remove(int conn, const hb_initreq_t *r)
{
    const char *base;
    char dir[HB_PATH_MAX];
    int dfd = open_parent(r->path, false, NULL, &base, dir);
    int rc = dfd < 0 ? -1 : unlinkat(dfd, base, 0);   /* a symlink goes as a link */
    if (rc < 0 && errno == EISDIR)
        rc = unlinkat(dfd, base, AT_REMOVEDIR);
    if (rc < 0 && (errno == ENOTEMPTY || errno == EEXIST) && r->recursive) {
        /* In init, not by the daemon iterating list and remove: one request
         * per tree. Few fds (init serves many requests at once) and a bound
         * on entries per request (EFBIG; what was removed stays removed). */
        hb_rmtree_opts_t o = {.depth_max = 32, .entries_max = 1u << 22};
        rc = hb_rmtree_at(dfd, base, &o);
    }
    close_keep_errno(dfd, -1);
    answer_rc(conn, rc, r->path);
}

void agent_op_files(int conn, hb_frame_t *f, const hb_initreq_t *r)
{
    switch (r->op) {
    case HB_OP_READ: op_read(conn, r); break;
    case HB_OP_WRITE: op_write(conn, f, r); break;
    case HB_OP_LIST: op_list(conn, r); break;
    case HB_OP_STAT: op_stat(conn, r); break;
    case HB_OP_MKDIR: op_mkdir(conn, r); break;
    case HB_OP_RENAME: op_rename(conn, r); break;
    case HB_OP_REMOVE: op_remove(conn, r); break;
    case HB_OP_TAR_CREATE: agent_op_tar_create(conn, r); break;
    case HB_OP_TAR_EXTRACT: agent_op_tar_extract(conn, f, r); break;
    case HB_OP_FS_WATCH: agent_op_fs_watch(conn, r); break;
    default: agent_answer_err(conn, EINVAL, "unknown op"); break;
    }
}
