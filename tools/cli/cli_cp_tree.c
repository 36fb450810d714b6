/* cp of directories, as `docker cp` does it: tar streams through
 * GET/PUT /api/v1/hiveboxes/:id/files/archive, made and unpacked here with
 * the same code and rules init uses in the sandbox (actors/runtime/shared/tar_x.h),
 * so a hostile sandbox cannot make a download write outside its target.
 *
 *   cp DIR  ID:/P   P a directory (or ending in '/'): DIR goes in as P/DIR;
 *                   P missing: DIR becomes P
 *   cp ID:/P LOCAL  LOCAL a directory: P goes in as LOCAL/<name of P>;
 *                   otherwise P becomes LOCAL (a file or a directory) */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime.h"
#include "tar_x.h"

static char *archive_url(const char *id, const char *rpath)
{
    return cli_files_url(id, "files/archive", rpath);
}

/* POSIX basename and dirname of a copy (both may modify their argument). */
static void split_path(const char *p, char *dir, char *base, size_t cap)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s", p);
    snprintf(b, sizeof b, "%s", p);
    snprintf(dir, cap, "%s", dirname(a));
    snprintf(base, cap, "%s", basename(b));
}

/* ---- upload ---- */

static int to_pipe(void *ud, const void *p, size_t n)
{
    int fd = *(int *)ud;
    for (const char *c = p; n > 0;) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* hb_tar_create pushes the archive and curl pulls the body: a child
 * process writes it into a pipe that the upload reads. */
static pid_t start_tar(const char *local, const char *top, FILE **rd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_IGN);   /* the daemon refused: EPIPE, and it says why */
        char why[512];
        int rc = hb_tar_create(local, top, NULL, to_pipe, &p[1], why, sizeof why);
        if (rc < 0 && errno != EPIPE)
            fprintf(stderr, "hivebox: %s\n", why);
        _exit(rc < 0 ? 1 : 0);
    }
    close(p[1]);
    if (pid < 0 || !(*rd = fdopen(p[0], "rb"))) {
        close(p[0]);
        return -1;
    }
    return pid;
}

/* Where the directory goes in the sandbox: the directory to extract into
 * (*dir, malloc'd) and the name the tree gets there (top). */
static int remote_dest(const cli_opts_t *o, const char *id, const char *rpath,
                       const char *local, char **dir, char *top, size_t cap)
{
    char ldir[4096], lbase[4096], rdir[4096], rbase[4096];
    split_path(local, ldir, lbase, sizeof ldir);
    split_path(rpath, rdir, rbase, sizeof rdir);
    snprintf(top, cap, "%s", strcmp(lbase, "/") ? lbase : ".");
    size_t n = strlen(rpath);
    if (n > 0 && rpath[n - 1] == '/')
        return (*dir = strdup(rpath)) ? 0 : -1;
    char *url = archive_url(id, rpath), type[32];
    cli_resp_t r;
    int rc = url ? cli_http_head(o, url, "X-Hivebox-Path-Type", type, sizeof type, &r) : -1;
    free(url);
    if (rc == 0 && r.status == 404) {   /* a new name: the tree becomes rpath */
        snprintf(top, cap, "%s", rbase);
        rc = (*dir = strdup(rdir)) ? 0 : -1;
    } else if (rc == 0 && r.status == 200 && strcmp(type, "directory") == 0) {
        rc = (*dir = strdup(rpath)) ? 0 : -1;
    } else if (rc == 0 && r.status == 200) {
        fprintf(stderr, "hivebox: %s:%s exists and is not a directory\n", id, rpath);
        rc = -1;
    } else if (rc == 0) {
        cli_report_error(&r);
        rc = -1;
    }
    cli_resp_free(&r);
    return rc;
}

int cli_cp_tree_upload(const cli_opts_t *o, const char *local, const char *id,
                       const char *rpath)
{
    char *dir = NULL, top[4096];
    if (remote_dest(o, id, rpath, local, &dir, top, sizeof top) < 0)
        return CLI_EXIT_ERROR;
    char *url = archive_url(id, dir);
    free(dir);
    FILE *rd = NULL;
    pid_t pid = url ? start_tar(local, top, &rd) : -1;
    if (pid < 0) {
        fprintf(stderr, "hivebox: cannot start the archive of %s: %s\n", local, strerror(errno));
        free(url);
        return CLI_EXIT_ERROR;
    }
    cli_resp_t r = {0};
    int rc = cli_http_upload(o, url, rd, -1, &r);
    fclose(rd);   /* a child still writing gets EPIPE */
    int st = 0;
    waitpid(pid, &st, 0);
    free(url);
    if (rc == 0 && r.status >= 200 && r.status <= 299 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        rc = -1;   /* the daemon took what came, but the archive is incomplete: said above */
    return cli_cp_finish(o, &r, rc);
}

/* ---- download ---- */

static int to_extract(void *ud, const void *p, size_t n)
{
    hb_tar_x_t *x = ud;
    if (hb_tar_x_feed(x, p, n) >= 0)
        return 0;
    fprintf(stderr, "hivebox: archive: %s\n", hb_tar_x_error(x));
    return -1;
}

/* The local directory to extract into (malloc'd) and the name the
 * archive's top entry gets there ("" keeps it). */
static char *local_dest(const char *rpath, const char *local, char *top, size_t cap)
{
    char ldir[4096], lbase[4096], rdir[4096], rbase[4096];
    split_path(local, ldir, lbase, sizeof ldir);
    split_path(rpath, rdir, rbase, sizeof rdir);
    struct stat st;
    top[0] = '\0';
    if (stat(local, &st) == 0 && S_ISDIR(st.st_mode))
        return strdup(local);
    if (strcmp(rbase, "/") == 0) {   /* the whole root: its entries are "./..." */
        if (mkdir(local, 0755) < 0 && errno != EEXIST)
            return NULL;
        return strdup(local);
    }
    snprintf(top, cap, "%s", lbase);
    return strdup(ldir);
}

int cli_cp_tree_download(const cli_opts_t *o, const char *id, const char *rpath,
                         const char *local)
{
    char top[4096];
    char *dir = local_dest(rpath, local, top, sizeof top);
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd < 0) {
        fprintf(stderr, "hivebox: %s: %s\n", dir ? dir : local, strerror(errno));
        free(dir);
        return CLI_EXIT_ERROR;
    }
    free(dir);
    hb_tar_x_t *x = hb_tar_x_new(dfd, top);
    char *url = archive_url(id, rpath);
    cli_resp_t r = {0};
    int rc = x && url ? cli_http_stream(o, url, true, to_extract, x, &r) : -1;
    if (rc == 0 && r.status >= 200 && r.status <= 299 && hb_tar_x_finish(x) < 0) {
        fprintf(stderr, "hivebox: archive: %s\n", hb_tar_x_error(x));
        rc = -1;
    }
    free(url);
    hb_tar_x_free(x);
    close(dfd);
    return cli_cp_finish(o, &r, rc);
}
