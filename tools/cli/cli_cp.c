/* cp, as `docker cp`: a file is uploaded as it is read (PUT .../files,
 * streamed); a directory goes up as a tar stream (cli_cp_tree.c); anything
 * downloaded comes as a tar stream unpacked here, each file written to a
 * temp name and renamed into place when complete, so a failed download
 * never leaves a truncated file under the real name. '-' is stdin/stdout
 * (one file's bytes). */
#include "cli.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

#define CP_USAGE "cp [-r] LOCAL ID:/PATH | cp [-r] ID:/PATH LOCAL   ('-' = stdin/stdout)"

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

char *cli_files_url(const char *id, const char *route, const char *rpath)
{
    char *enc = cli_urlencode(rpath), *url = NULL;
    if (enc && asprintf(&url, "/api/v1/hiveboxes/%s/%s?path=%s", id, route, enc) < 0)
        url = NULL;
    free(enc);
    return url;
}

int cli_cp_finish(const cli_opts_t *o, cli_resp_t *r, int rc)
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
    if (f != stdin && S_ISDIR(st.st_mode)) {
        fclose(f);
        return cli_cp_tree_upload(o, local, id, rpath);
    }
    if (f != stdin && !S_ISREG(st.st_mode)) {
        fprintf(stderr, "hivebox: %s: not a regular file or directory\n", local);
        fclose(f);
        return CLI_EXIT_ERROR;
    }
    char *target = remote_target(rpath, local);
    char *url = target ? cli_files_url(id, "files", target) : NULL;
    cli_resp_t r = {0};
    int rc = url ? cli_http_upload(o, url, f, S_ISREG(st.st_mode) ? st.st_size : -1, &r) : -1;
    free(url);
    free(target);
    if (f != stdin)
        fclose(f);
    return cli_cp_finish(o, &r, rc);
}

static int download(const cli_opts_t *o, const char *id, const char *rpath, const char *local)
{
    if (strcmp(local, "-") != 0)
        return cli_cp_tree_download(o, id, rpath, local);
    char *url = cli_files_url(id, "files", rpath);
    if (!url)
        return CLI_EXIT_ERROR;
    cli_resp_t r;
    int rc = cli_http_download(o, url, stdout, &r);
    fflush(stdout);
    free(url);
    return cli_cp_finish(o, &r, rc);
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
    int prc = cli_parse_cmd(argc, argv, CLI_OPT_CP, CP_USAGE, 2, 2, false, &o);
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
