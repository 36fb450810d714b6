/* image build|list|import: images are files under <data-dir>/images, so
 * these work on the data dir directly, no daemon needed (root required:
 * images are owned by host root). */
#include "cli.h"
#include "cli_layers.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "runtime.h"

#define IMAGE_USAGE "image build | image list | image rm NAME | image import NAME DIR|TARBALL|OCI-ARCHIVE  [--data-dir D]"
#define CLI_IMPORT_MAX (8ull << 30)   /* the daemon's --max-image-import default */

static void to_stderr(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "%s\n", line);
}

static int fail(const hb_err_t *e)
{
    fprintf(stderr, "hivebox: %s\n", e->msg[0] ? e->msg : hb_errcode_name(e->code));
    return CLI_EXIT_ERROR;
}

static int image_build(const hb_runtime_t *rt)
{
    hb_err_t e = {0};
    if (hb_image_exists(rt, "base")) {
        printf("image base already exists in %s/images/base\n", rt->data_dir);
        char dir[HB_HOSTPATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s/images/base", rt->data_dir);
        if (!hb_image_has_default_user(dir))   /* an upgrade keeps the old image */
            fprintf(stderr, "hivebox: note: it predates E2B's default user `user` (E2B SDK "
                            "calls as that user fail): to rebuild it, move %s aside and run "
                            "`hivebox image build` again (docs/e2b.md)\n", dir);
        return 0;
    }
    fprintf(stderr, "building image base in %s/images (a few minutes)\n", rt->data_dir);
    if (hb_image_build_base(rt, to_stderr, NULL, &e) < 0)
        return fail(&e);
    printf("image base ready\n");
    return 0;
}

/* An OCI archive or docker-archive (a tar with index.json or manifest.json
 * at its top) becomes an image through its layers; anything else is a
 * plain root filesystem (a directory or a tarball), as before. */
static int image_import(const hb_runtime_t *rt, const char *name, const char *src)
{
    hb_err_t e = {0};
    struct stat st;
    bool oci = stat(src, &st) == 0 && S_ISREG(st.st_mode) && hb_oci_archive_detect(src);
    if (oci) {
        const char *cap = getenv("HIVEBOX_MAX_IMAGE_IMPORT");   /* bytes, as the daemon's */
        unsigned long long max = cap ? strtoull(cap, NULL, 10) : 0;
        if (hb_oci_import(rt, name, src, max ? max : CLI_IMPORT_MAX, &e) < 0)
            return fail(&e);
    } else if (hb_image_import(rt, name, src, &e) < 0) {
        return fail(&e);
    }
    printf("image %s imported%s\n", name, oci ? " (layers of an OCI or docker archive)" : "");
    return 0;
}

int cli_cmd_image(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "rm") == 0)   /* issue 17: through the daemon */
        return cli_image_rm(argc - 1, argv + 1);
    cli_opts_t o;
    if (cli_image_build_wanted(argc, argv))   /* image build NAME --run CMD: the daemon */
        return cli_cmd_image_build(argc - 1, argv + 1);
    int prc = cli_parse_cmd(argc, argv, 0, IMAGE_USAGE, 1, 3, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    const char *sub = o.pos[0];
    size_t want = strcmp(sub, "import") == 0 ? 3 : 1;
    bool known = !strcmp(sub, "build") || !strcmp(sub, "list") || !strcmp(sub, "import");
    if (!known || o.n_pos != want) {
        fprintf(stderr, "hivebox image: %s\nusage: hivebox %s\n",
                known ? "wrong number of arguments" : "unknown subcommand", IMAGE_USAGE);
        return CLI_EXIT_USAGE;
    }
    if (geteuid() != 0 && strcmp(sub, "list") != 0) {
        fprintf(stderr, "hivebox: image %s must run as root (images are owned by root)\n", sub);
        return CLI_EXIT_ERROR;
    }
    hb_log_set_level(HB_LOGLVL_WARN);   /* the CLI reports outcomes itself */
    hb_runtime_t rt;
    memset(&rt, 0, sizeof rt);
    if ((size_t)snprintf(rt.data_dir, sizeof rt.data_dir, "%s", cli_data_dir(&o)) >=
        sizeof rt.data_dir) {
        fprintf(stderr, "hivebox: data dir path too long\n");
        return CLI_EXIT_USAGE;
    }
    /* The CLI reads its own environment, as for HIVEBOX_DATA_DIR
     * (cli_args.c); the daemon's settings come from actors/config.def. */
    rt.conf.packages = getenv("HIVEBOX_PACKAGES");
    if (strcmp(sub, "build") == 0)
        return image_build(&rt);
    if (strcmp(sub, "list") == 0)
        return cli_image_table(&rt, o.json);   /* cli_layers.c: parent, kind, size */
    return image_import(&rt, o.pos[1], o.pos[2]);
}
