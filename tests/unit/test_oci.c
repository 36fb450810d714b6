/* OCI import pieces (actors/runtime/image/oci_*.c): the index, manifests and
 * config parsers, whiteout names, the tar reader's owners, and one layer
 * applied into a temp dir (whiteouts, opaque dirs, refusals). The whole
 * import through a daemon: tests/e2e/test_oci_import.py. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci.h"
#include "runtime.h"
#include "rmtree_at.h"
#include "tar.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int pick(const char *text, hb_oci_blob_t *b, bool *nested, hb_err_t *e)
{
    return hb_oci_index_pick(text, strlen(text), b, nested, e);
}

Test(oci, digest_rules)
{
    cr_assert(hb_oci_digest_valid(D1));
    cr_assert_not(hb_oci_digest_valid("sha512:11"));
    cr_assert_not(hb_oci_digest_valid("sha256:ABCD111111111111111111111111111111111111111111111111111111111111"));
    cr_assert_not(hb_oci_digest_valid("sha256:../../etc/passwd"));
    cr_assert_not(hb_oci_digest_valid(NULL));
}

Test(oci, index_picks_linux_amd64_or_the_only_one)
{
    hb_oci_blob_t b;
    bool nested;
    hb_err_t e = {0};
    cr_assert_eq(pick("{\"manifests\":[{\"digest\":\"" D1 "\"}]}", &b, &nested, &e), 0, "%s",
                 e.msg);
    cr_assert_str_eq(b.digest, D1);
    cr_assert_str_eq(b.path, "blobs/sha256/1111111111111111111111111111111111111111111111111111111111111111");
    cr_assert_not(nested);
    const char *multi = "{\"manifests\":["
        "{\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
        "{\"digest\":\"" D2 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"digest\":\"" D3 "\",\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}}]}";
    cr_assert_eq(pick(multi, &b, &nested, &e), 0, "%s", e.msg);
    cr_assert_str_eq(b.digest, D2);
    const char *none = "{\"manifests\":["
        "{\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
        "{\"digest\":\"" D2 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"s390x\"}}]}";
    cr_assert_eq(pick(none, &b, &nested, &e), -1);
    cr_assert(strstr(e.msg, "linux/amd64"), "%s", e.msg);
    cr_assert_eq(pick("{\"manifests\":[]}", &b, &nested, &e), -1);
    cr_assert_eq(pick("{\"manifests\":[{\"digest\":\"sha256:x\"}]}", &b, &nested, &e), -1);
    cr_assert(strstr(e.msg, "digest"), "%s", e.msg);
    cr_assert_eq(pick("{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                      "\"digest\":\"" D1 "\"}]}", &b, &nested, &e), 0);
    cr_assert(nested);
}

Test(oci, json_bounds)
{
    hb_oci_blob_t b;
    bool nested;
    hb_err_t e = {0};
    char *deep = malloc(20001);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    cr_assert_eq(pick(deep, &b, &nested, &e), -1);
    cr_assert(strstr(e.msg, "nested"), "%s", e.msg);
    free(deep);
    size_t big = HB_OCI_JSON_MAX + 10;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    cr_assert_eq(pick(huge, &b, &nested, &e), -1);
    cr_assert(strstr(e.msg, "larger"), "%s", e.msg);
    free(huge);
}

Test(oci, manifest_layers_and_zstd)
{
    hb_oci_plan_t *p = calloc(1, sizeof *p);
    hb_err_t e = {0};
    const char *m = "{\"config\":{\"digest\":\"" D1 "\"},\"layers\":["
                    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" D2 "\"},"
                    "{\"digest\":\"" D3 "\"}]}";
    cr_assert_eq(hb_oci_manifest_parse(m, strlen(m), p, &e), 0, "%s", e.msg);
    cr_assert_eq(p->n_layers, 2);
    cr_assert_str_eq(p->config.digest, D1);
    cr_assert_str_eq(p->layers[1].digest, D3);
    const char *z = "{\"config\":{\"digest\":\"" D1 "\"},\"layers\":["
                    "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"digest\":\"" D2 "\"}]}";
    cr_assert_eq(hb_oci_manifest_parse(z, strlen(z), p, &e), -1);
    cr_assert(strstr(e.msg, "zstd"), "%s", e.msg);
    /* 129 layers */
    char *many = malloc(200000);
    size_t o = (size_t)sprintf(many, "{\"config\":{\"digest\":\"" D1 "\"},\"layers\":[");
    for (int i = 0; i < 129; i++)
        o += (size_t)sprintf(many + o, "%s{\"digest\":\"" D2 "\"}", i ? "," : "");
    sprintf(many + o, "]}");
    cr_assert_eq(hb_oci_manifest_parse(many, strlen(many), p, &e), -1);
    cr_assert(strstr(e.msg, "layers"), "%s", e.msg);
    free(many);
    free(p);
}

Test(oci, docker_manifest)
{
    hb_oci_plan_t *p = calloc(1, sizeof *p);
    hb_err_t e = {0};
    const char *m = "[{\"Config\":\"1111111111111111111111111111111111111111111111111111111111111111.json\","
                    "\"Layers\":[\"abc/layer.tar\",\"blobs/sha256/2222222222222222222222222222222222222222222222222222222222222222\"]}]";
    cr_assert_eq(hb_oci_docker_manifest_parse(m, strlen(m), p, &e), 0, "%s", e.msg);
    cr_assert_str_eq(p->config.digest, D1);
    cr_assert_eq(p->n_layers, 2);
    cr_assert_str_eq(p->layers[0].path, "abc/layer.tar");
    cr_assert_str_eq(p->layers[0].digest, "");
    cr_assert_str_eq(p->layers[1].digest, D2);
    const char *bad = "[{\"Config\":\"../x.json\",\"Layers\":[]}]";
    cr_assert_eq(hb_oci_docker_manifest_parse(bad, strlen(bad), p, &e), -1);
    const char *two = "[{\"Config\":\"a\",\"Layers\":[]},{\"Config\":\"b\",\"Layers\":[]}]";
    cr_assert_eq(hb_oci_docker_manifest_parse(two, strlen(two), p, &e), -1);
    free(p);
}

Test(oci, config_defaults)
{
    hb_oci_config_t c;
    hb_err_t e = {0};
    const char *t = "{\"config\":{\"Env\":[\"PATH=/bin\",\"A=b=c\"],\"WorkingDir\":\"/srv\","
                    "\"User\":\"app:staff\"},\"rootfs\":{\"diff_ids\":[\"" D1 "\"]}}";
    cr_assert_eq(hb_oci_config_parse(t, strlen(t), &c, &e), 0, "%s", e.msg);
    cr_assert_str_eq(c.env[0], "PATH=/bin");
    cr_assert_str_eq(c.env[1], "A=b=c");
    cr_assert_null(c.env[2]);
    cr_assert_str_eq(c.workdir, "/srv");
    cr_assert_str_eq(c.user, "app");
    cr_assert_eq(c.n_diff, 1);
    json_t *j = hb_oci_config_json(&c);
    char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    cr_assert_str_eq(s, "{\"env\":[\"PATH=/bin\",\"A=b=c\"],\"user\":\"app\",\"workdir\":\"/srv\"}");
    free(s);
    json_decref(j);
    hb_oci_config_free(&c);
    static const char *const bad[] = {
        "{\"config\":{\"Env\":[\"=x\"]},\"rootfs\":{\"diff_ids\":[]}}",
        "{\"config\":{\"Env\":[\"NOEQUALS\"]},\"rootfs\":{\"diff_ids\":[]}}",
        "{\"config\":{\"WorkingDir\":\"relative\"},\"rootfs\":{\"diff_ids\":[]}}",
        "{\"config\":{\"WorkingDir\":\"/a/../b\"},\"rootfs\":{\"diff_ids\":[]}}",
        "{\"config\":{\"User\":\"a b\"},\"rootfs\":{\"diff_ids\":[]}}",
        "{\"config\":{},\"rootfs\":{\"diff_ids\":[\"md5:x\"]}}",
        "{\"config\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_assert_eq(hb_oci_config_parse(bad[i], strlen(bad[i]), &c, &e), -1, "%s", bad[i]);
    const char *empty = "{\"config\":{\"User\":\"\",\"WorkingDir\":\"\"},\"rootfs\":{\"diff_ids\":[]}}";
    cr_assert_eq(hb_oci_config_parse(empty, strlen(empty), &c, &e), 0, "%s", e.msg);
    cr_assert_null(c.user);
    cr_assert_null(c.workdir);
    hb_oci_config_free(&c);
}

Test(oci, whiteout_names)
{
    char t[256];
    cr_assert_eq(hb_oci_whiteout("a/b/file", t, sizeof t), 0);
    cr_assert_eq(hb_oci_whiteout("a/b/.wh.file", t, sizeof t), 1);
    cr_assert_str_eq(t, "a/b/file");
    cr_assert_eq(hb_oci_whiteout(".wh.top", t, sizeof t), 1);
    cr_assert_str_eq(t, "top");
    cr_assert_eq(hb_oci_whiteout("a/.wh..wh..opq", t, sizeof t), 2);
    cr_assert_str_eq(t, "a");
    cr_assert_eq(hb_oci_whiteout(".wh..wh..opq", t, sizeof t), 2);
    cr_assert_str_eq(t, "");
    cr_assert_eq(hb_oci_whiteout("a/.wh.", t, sizeof t), -1);
    cr_assert_eq(hb_oci_whiteout("a/.wh...", t, sizeof t), -1);
    cr_assert_eq(hb_oci_whiteout("a/.wh..wh.plnk", t, sizeof t), -1);
}

/* ---- a layer applied into a temp dir ---- */

typedef struct {
    char  *p;
    size_t n, cap;
} buf_t;

static int to_buf(void *ud, const void *p, size_t n)
{
    buf_t *b = ud;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 1024;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

static void put(buf_t *b, const char *name, hb_tar_type_t type, const char *data,
                const char *link)
{
    hb_tar_entry_t e = {.type = type, .mode = type == HB_TAR_DIR ? 0755 : 0644};
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.link, sizeof e.link, "%s", link ? link : "");
    e.size = data ? strlen(data) : 0;
    cr_assert_eq(hb_tar_put_header(&e, to_buf, b), 0);
    if (data) {
        to_buf(b, data, e.size);
        hb_tar_put_pad(e.size, to_buf, b);
    }
}

static int apply(int rootfd, buf_t *b, unsigned number, hb_err_t *e)
{
    hb_tar_put_end(to_buf, b);
    hb_oci_budget_t bud = {.bytes_left = 1 << 20, .entries_left = 1000};
    hb_oci_layer_t *l = hb_oci_layer_new(rootfd, number, &bud);
    int rc = hb_oci_layer_feed(l, b->p, b->n, e);
    if (rc == 0)
        rc = hb_oci_layer_finish(l, e);
    hb_oci_layer_free(l);
    free(b->p);
    memset(b, 0, sizeof *b);
    return rc < 0 ? -1 : 0;
}

static bool exists(int rootfd, const char *rel)
{
    struct stat st;
    return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

Test(oci, layers_whiteouts_and_refusals)
{
    char t[] = "/tmp/hb-oci-XXXXXX";
    cr_assert_not_null(mkdtemp(t));
    int rootfd = open(t, O_PATH | O_DIRECTORY);
    buf_t b = {0};
    hb_err_t e = {0};
    put(&b, "d/", HB_TAR_DIR, NULL, NULL);
    put(&b, "d/gone", HB_TAR_FILE, "x", NULL);
    put(&b, "d/keep", HB_TAR_FILE, "x", NULL);
    put(&b, "o/old", HB_TAR_FILE, "x", NULL);     /* o made as a parent */
    put(&b, "o/sub/deep", HB_TAR_FILE, "x", NULL);
    put(&b, "lib", HB_TAR_SYMLINK, NULL, "d");    /* relative, inside: may be gone through */
    cr_assert_eq(apply(rootfd, &b, 1, &e), 0, "%s", e.msg);
    put(&b, "d/.wh.gone", HB_TAR_FILE, NULL, NULL);
    put(&b, "o/new", HB_TAR_FILE, "y", NULL);
    put(&b, "o/.wh..wh..opq", HB_TAR_FILE, NULL, NULL);   /* after new: new stays */
    put(&b, "lib/viaz", HB_TAR_FILE, "z", NULL);
    cr_assert_eq(apply(rootfd, &b, 2, &e), 0, "%s", e.msg);
    cr_assert_not(exists(rootfd, "d/gone"));
    cr_assert(exists(rootfd, "d/keep"));
    cr_assert(exists(rootfd, "o/new"));
    cr_assert_not(exists(rootfd, "o/old"));
    cr_assert_not(exists(rootfd, "o/sub"));
    cr_assert(exists(rootfd, "d/viaz"));
    /* refusals, each naming the problem */
    static const struct { const char *name, *link, *why; hb_tar_type_t type; } bad[] = {
        {"../x", NULL, "'..'", HB_TAR_FILE},
        {"/abs", NULL, "absolute", HB_TAR_FILE},
        {"out", "/etc", NULL, HB_TAR_SYMLINK},
        {"up", "../..", NULL, HB_TAR_SYMLINK},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        put(&b, bad[i].name, bad[i].type, bad[i].type == HB_TAR_FILE ? "x" : NULL, bad[i].link);
        if (bad[i].type == HB_TAR_SYMLINK) {
            char through[64];
            snprintf(through, sizeof through, "%s/evil", bad[i].name);
            put(&b, through, HB_TAR_FILE, "x", NULL);
        }
        cr_assert_eq(apply(rootfd, &b, 3, &e), -1, "%s", bad[i].name);
        cr_assert(strstr(e.msg, bad[i].why ? bad[i].why : "symbolic link"), "%s", e.msg);
    }
    cr_assert_not(exists(AT_FDCWD, "/etc/evil"));
    close(rootfd);
    hb_rmtree_at(AT_FDCWD, t, &(hb_rmtree_opts_t){.depth_max = 8});
}

Test(oci, tar_reader_reports_owners)
{
    /* a ustar header with uid 1234 and gid 77 (octal), as tar writes it */
    unsigned char h[1024] = {0};
    memcpy(h, "f", 1);
    memcpy(h + 100, "0000644", 7);
    memcpy(h + 108, "0002322", 7);
    memcpy(h + 116, "0000115", 7);
    memcpy(h + 124, "00000000000", 11);
    memcpy(h + 136, "00000000000", 11);
    h[156] = '0';
    memcpy(h + 257, "ustar\0" "00", 8);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    /* read by the tar reader, applied by the layer code (the tests run as root) */
    char t[] = "/tmp/hb-oci-own-XXXXXX";
    cr_assert_not_null(mkdtemp(t));
    int rootfd = open(t, O_PATH | O_DIRECTORY);
    hb_oci_budget_t bud = {.bytes_left = 1 << 20, .entries_left = 10};
    hb_oci_layer_t *l = hb_oci_layer_new(rootfd, 1, &bud);
    hb_err_t e = {0};
    cr_assert_eq(hb_oci_layer_feed(l, h, sizeof h, &e), 1, "%s", e.msg);
    hb_oci_layer_free(l);
    struct stat st;
    cr_assert_eq(fstatat(rootfd, "f", &st, 0), 0);
    if (geteuid() == 0) {
        cr_assert_eq(st.st_uid, 1234);
        cr_assert_eq(st.st_gid, 77);
    }
    close(rootfd);
    hb_rmtree_at(AT_FDCWD, t, &(hb_rmtree_opts_t){.depth_max = 8});
}

/* The image's Env under the sandbox's, under the request's; cwd and user
 * defaults only where a request names none. */
Test(oci, image_defaults_merge)
{
    char *img[] = {"A=image", "B=image", "C=image", NULL};
    char *own[] = {"B=sandbox", NULL};
    const char *req[] = {"C=request", NULL};
    hb_sandbox_t sb = {.env = own, .img_env = img, .img_cwd = "/srv", .img_user = "app"};
    const char **v = NULL;
    hb_err_t e = {0};
    cr_assert_eq(hb_sandbox_env(&sb, req, &v, &e), 0);
    cr_assert_str_eq(v[0], "A=image");
    cr_assert_str_eq(v[1], "B=sandbox");
    cr_assert_str_eq(v[2], "C=request");
    cr_assert_null(v[3]);
    free(v);
    const char *cwd = NULL, *user = "root";
    hb_sandbox_cmd_defaults(&sb, &cwd, &user);
    cr_assert_str_eq(cwd, "/srv");
    cr_assert_str_eq(user, "root");
}

Test(oci, entries_are_charged_to_the_byte_cap)
{
    char t[] = "/tmp/hb-oci-XXXXXX";
    cr_assert_not_null(mkdtemp(t));
    int rootfd = open(t, O_PATH | O_DIRECTORY);
    buf_t b = {0};
    hb_err_t e = {0};
    /* 300 empty directories hold no data, but 300 x 4 KiB passes the 1 MiB
     * cap apply() gives: refused like data past the cap. */
    for (int i = 0; i < 300; i++) {
        char n[32];
        snprintf(n, sizeof n, "d%03d/", i);
        put(&b, n, HB_TAR_DIR, NULL, NULL);
    }
    cr_assert_eq(apply(rootfd, &b, 1, &e), -1);
    cr_assert(strstr(e.msg, "import cap"), "%s", e.msg);
    close(rootfd);
    hb_rmtree_at(AT_FDCWD, t, &(hb_rmtree_opts_t){.depth_max = 8});
}
