/* cp: uploads (PUT streamed from the local file) and downloads (GET
 * streamed into a temp file renamed into place only when complete, so a
 * failed download never leaves a truncated file under the real name). */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

#define CP_USAGE "cp LOCAL ID:/PATH | cp ID:/PATH LOCAL   ('-' = stdin/stdout)"

/* path ends in '/': the local file's name is appended (cp semantics). */
static char *remote_target(const char *rpath, const char *local)
{
    char tmp[4096];
    size_t n = strlen(rpath);
    if (n == 0 || rpath[n - 1] != '/' || strcmp(local, "-") == 0)
        return strdup(rpath);
    snprintf(tmp, sizeof tmp, "%s", local);
    char *path = NULL;
    if (asprintf(&path, "%s%s", rpath, basename(tmp)) < 0)
        return NULL;
    return path;
}

static char *files_url(const char *id, const char *rpath)
{
    char *enc = cli_urlencode(rpath), *url = NULL;
    if (enc && asprintf(&url, "/api/v1/hiveboxes/%s/files?path=%s", id, enc) < 0)
        url = NULL;
    free(enc);
    return url;
}

static int finish(const cli_opts_t *o, cli_resp_t *r, int rc)
{
    if (rc < 0) {
        rc = CLI_EXIT_ERROR;
    } else if (r->status < 200 || r->status > 299) {
        rc = cli_report_error(r);
    } else {
        if (o->json && r->body)
            printf("%s\n", r->body);
        rc = 0;
    }
    cli_resp_free(r);
    return rc;
}

static int upload(const cli_opts_t *o, const char *local, const char *id, const char *rpath)
{
    FILE *f = strcmp(local, "-") == 0 ? stdin : fopen(local, "rbe");
    struct stat st;
    if (!f || fstat(fileno(f), &st) < 0) {
        fprintf(stderr, "hivebox: %s: %s\n", local, strerror(errno));
        return CLI_EXIT_ERROR;
    }
    if (f != stdin && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "hivebox: %s: not a regular file\n", local);
        fclose(f);
        return CLI_EXIT_ERROR;
    }
    char *target = remote_target(rpath, local);
    char *url = target ? files_url(id, target) : NULL;
    cli_resp_t r = {0};
    int rc = url ? cli_http_upload(o, url, f, S_ISREG(st.st_mode) ? st.st_size : -1, &r) : -1;
    free(url);
    free(target);
    if (f != stdin)
        fclose(f);
    return finish(o, &r, rc);
}

/* Local destination: a directory gets the remote file's name. malloc'd. */
static char *local_target(const char *local, const char *rpath)
{
    struct stat st;
    char tmp[4096], *path = NULL;
    if (stat(local, &st) < 0 || !S_ISDIR(st.st_mode))
        return strdup(local);
    snprintf(tmp, sizeof tmp, "%s", rpath);
    if (asprintf(&path, "%s/%s", local, basename(tmp)) < 0)
        return NULL;
    return path;
}

static int download_to(const cli_opts_t *o, const char *url, const char *dest)
{
    char *tmp = NULL;
    if (asprintf(&tmp, "%s.hivebox-%d", dest, (int)getpid()) < 0)
        return CLI_EXIT_ERROR;
    FILE *f = fopen(tmp, "wbex");
    if (!f) {
        fprintf(stderr, "hivebox: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        return CLI_EXIT_ERROR;
    }
    cli_resp_t r;
    int rc = cli_http_download(o, url, f, &r);
    bool ok = rc == 0 && r.status >= 200 && r.status <= 299;
    if (fclose(f) != 0 && ok) {
        fprintf(stderr, "hivebox: %s: %s\n", tmp, strerror(errno));
        ok = false;
        rc = -1;
    }
    if (ok && rename(tmp, dest) < 0) {
        fprintf(stderr, "hivebox: %s: %s\n", dest, strerror(errno));
        rc = -1;
    }
    if (!ok || rc < 0)
        unlink(tmp);
    free(tmp);
    return finish(o, &r, rc);
}

static int download(const cli_opts_t *o, const char *id, const char *rpath, const char *local)
{
    char *url = files_url(id, rpath);
    if (!url)
        return CLI_EXIT_ERROR;
    int rc;
    if (strcmp(local, "-") == 0) {
        cli_resp_t r;
        rc = cli_http_download(o, url, stdout, &r);
        fflush(stdout);
        rc = finish(o, &r, rc);
    } else {
        char *dest = local_target(local, rpath);
        rc = dest ? download_to(o, url, dest) : CLI_EXIT_ERROR;
        free(dest);
    }
    free(url);
    return rc;
}

static bool is_remote(const char *arg)
{
    char id[HB_ID_MAX];
    const char *path;
    return cli_split_remote(arg, id, sizeof id, &path);
}

int cli_cmd_cp(int argc, char **argv)
{
    cli_opts_t o;
    int prc = cli_parse_cmd(argc, argv, 0, CP_USAGE, 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    char id[HB_ID_MAX];
    const char *rpath;
    if (cli_split_remote(o.pos[0], id, sizeof id, &rpath) && !is_remote(o.pos[1]))
        return download(&o, id, rpath, o.pos[1]);
    if (cli_split_remote(o.pos[1], id, sizeof id, &rpath) && !is_remote(o.pos[0]))
        return upload(&o, o.pos[0], id, rpath);
    fprintf(stderr, "hivebox cp: exactly one side must be ID:/PATH\nusage: hivebox %s\n",
            CP_USAGE);
    return CLI_EXIT_USAGE;
}
