/* fs_watch: a directory's changes as `fsev` frames, from inotify, until the
 * daemon hangs up (init-protocol.md, "Watching a directory"). `ok` once the
 * watches are set, so the caller knows that what it does next is seen.
 * Names are relative to the watched directory. Recursive watches add the
 * directories made later. Bounded: at most WATCH_DIRS_MAX directories.
 *
 * Our own writes go through a temp file renamed over the target
 * (".<name>.<tid>.hbtmp", agent_files.c): its events are not reported;
 * its rename onto the target reads as the target's create and write, what
 * a writer that opened the file itself would have caused. */
#include "agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_DIRS_MAX 8192
#define WATCH_DEPTH_MAX 64
#define EV_BUF (64 * 1024)
#define MASK (IN_CREATE | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | \
              IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

typedef struct {
    int   wd;
    char *rel;     /* "" for the watched directory */
} wdir_t;

typedef struct {
    int         conn, ifd;
    const char *root;
    bool        recursive;
    wdir_t     *v;
    size_t      n;
    uint32_t    tmp_cookie;   /* of the last temp file moved away */
} watch_t;

static bool is_temp(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 6 && strcmp(name + n - 6, ".hbtmp") == 0;
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    int k = snprintf(out, cap, "%s%s%s", a, a[0] && b[0] ? "/" : "", b);
    return k < 0 || (size_t)k >= cap ? -1 : 0;
}

static int add_tree(watch_t *w, const char *rel, int depth);

/* The sandbox path of rel. */
static int full_path(const watch_t *w, const char *rel, char *out, size_t cap)
{
    bool top = strcmp(w->root, "/") == 0;
    int k = !rel[0] ? snprintf(out, cap, "%s", w->root)
                    : snprintf(out, cap, "%s/%s", top ? "" : w->root, rel);
    return k < 0 || (size_t)k >= cap ? -1 : 0;
}

/* Watch root/rel (and, recursive, what is below). -1 with errno. */
static int add_dir(watch_t *w, const char *rel, int depth)
{
    if (w->n >= WATCH_DIRS_MAX || depth > WATCH_DEPTH_MAX) {
        errno = ENOSPC;
        return -1;
    }
    /* on the heap: this recurses (add_tree), on a request thread's small stack */
    char *path = malloc(HB_PATH_MAX);
    if (!path || full_path(w, rel, path, HB_PATH_MAX) < 0) {
        errno = path ? ENAMETOOLONG : ENOMEM;
        free(path);
        return -1;
    }
    int wd = inotify_add_watch(w->ifd, path, MASK);
    free(path);
    if (wd < 0)
        return -1;
    wdir_t *grown = realloc(w->v, (w->n + 1) * sizeof *grown);
    char *copy = strdup(rel);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            w->v = grown;
        errno = ENOMEM;
        return -1;
    }
    w->v = grown;
    w->v[w->n++] = (wdir_t){.wd = wd, .rel = copy};
    return w->recursive ? add_tree(w, rel, depth) : 0;
}

/* The subdirectories of root/rel, each watched (symlinks are not followed). */
static int add_tree(watch_t *w, const char *rel, int depth)
{
    char *path = malloc(2 * HB_PATH_MAX), *sub = path ? path + HB_PATH_MAX : NULL;
    DIR *d = path && full_path(w, rel, path, HB_PATH_MAX) == 0 ? opendir(path) : NULL;
    if (!d) {
        free(path);
        return 0;   /* gone or unreadable meanwhile: nothing to watch */
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
            strcmp(de->d_name, "..") == 0)
            continue;
        if (strcmp(w->root, "/") == 0 && !rel[0] &&
            (!strcmp(de->d_name, "proc") || !strcmp(de->d_name, "sys") ||
             !strcmp(de->d_name, "dev")))
            continue;   /* as a recursive listing does */
        if (join(sub, HB_PATH_MAX, rel, de->d_name) == 0)
            rc = add_dir(w, sub, depth + 1);
    }
    closedir(d);
    free(path);
    return rc;
}

static const wdir_t *dir_of(const watch_t *w, int wd)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].wd == wd)
            return &w->v[i];
    return NULL;
}

static void forget(watch_t *w, int wd)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].wd == wd) {
            free(w->v[i].rel);
            w->v[i] = w->v[--w->n];
            return;
        }
}

static int send_ev(const watch_t *w, const char *name, unsigned ev)
{
    hb_initans_t a = {.t = HB_ANS_FSEV, .name = {.ptr = name, .len = strlen(name)}, .ev = ev};
    return hb_initans_send(w->conn, &a);
}

/* One inotify event: 0, 1 when the watched directory itself went, -1 when
 * the daemon is gone. */
static int on_event(watch_t *w, const struct inotify_event *ie)
{
    if (ie->mask & IN_IGNORED) {
        bool root = dir_of(w, ie->wd) == &w->v[0];
        forget(w, ie->wd);
        return root ? 1 : 0;
    }
    const wdir_t *d = dir_of(w, ie->wd);
    if (!d)
        return 0;
    if (ie->len == 0)   /* the directory itself: its parent reports it */
        return d == &w->v[0] && (ie->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) ? 1 : 0;
    char name[HB_PATH_MAX];
    if (join(name, sizeof name, d->rel, ie->name) < 0)
        return 0;
    if (is_temp(ie->name)) {
        if (ie->mask & IN_MOVED_FROM)
            w->tmp_cookie = ie->cookie;
        return 0;
    }
    if ((ie->mask & (IN_CREATE | IN_MOVED_TO)) && (ie->mask & IN_ISDIR) && w->recursive)
        add_dir(w, name, 1);   /* best effort: past the bound, not watched */
    int rc = 0;
    if (ie->mask & IN_MOVED_TO && ie->cookie && ie->cookie == w->tmp_cookie) {
        w->tmp_cookie = 0;
        rc = send_ev(w, name, HB_FSEV_CREATE);
        return rc < 0 ? -1 : send_ev(w, name, HB_FSEV_WRITE) < 0 ? -1 : 0;
    }
    if (ie->mask & (IN_CREATE | IN_MOVED_TO))
        rc = send_ev(w, name, HB_FSEV_CREATE);
    else if (ie->mask & IN_MODIFY)
        rc = send_ev(w, name, HB_FSEV_WRITE);
    else if (ie->mask & IN_DELETE)
        rc = send_ev(w, name, HB_FSEV_REMOVE);
    else if (ie->mask & IN_MOVED_FROM)
        rc = send_ev(w, name, HB_FSEV_RENAME);
    else if (ie->mask & IN_ATTRIB)
        rc = send_ev(w, name, HB_FSEV_CHMOD);
    return rc < 0 ? -1 : 0;
}

/* Relay until the daemon hangs up or the directory goes. */
static void relay(watch_t *w)
{
    char *buf = malloc(EV_BUF);
    for (bool done = !buf; !done;) {
        struct pollfd p[2] = {{.fd = w->ifd, .events = POLLIN}, {.fd = w->conn, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            done = errno != EINTR;
            continue;
        }
        if (p[1].revents)   /* the daemon sends nothing more: it hung up */
            break;
        ssize_t n = read(w->ifd, buf, EV_BUF);
        if (n <= 0) {
            done = n == 0 || (errno != EINTR && errno != EAGAIN);
            continue;
        }
        for (ssize_t off = 0; !done && off < n;) {
            const struct inotify_event *ie = (const struct inotify_event *)(buf + off);
            int rc = on_event(w, ie);
            if (rc > 0)
                hb_initans_send(w->conn, &(hb_initans_t){.t = HB_ANS_END});
            done = rc != 0;
            off += (ssize_t)(sizeof *ie + ie->len);
        }
    }
    free(buf);
}

void agent_op_fs_watch(int conn, const hb_initreq_t *r)
{
    watch_t w = {.conn = conn, .root = r->path, .recursive = r->recursive};
    struct stat st;
    if (stat(r->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        agent_answer_err(conn, errno ? errno : ENOTDIR, "%s: %s", r->path,
                         strerror(errno ? errno : ENOTDIR));
        return;
    }
    w.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w.ifd < 0 || add_dir(&w, "", 0) < 0) {
        agent_answer_err(conn, errno, "%s: watch: %s", r->path, strerror(errno));
    } else if (agent_answer_ok(conn, false, 0) == 0) {
        relay(&w);
    }
    for (size_t i = 0; i < w.n; i++)
        free(w.v[i].rel);
    free(w.v);
    if (w.ifd >= 0)
        close(w.ifd);
}
