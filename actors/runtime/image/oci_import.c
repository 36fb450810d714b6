/* An image from an OCI or docker archive (see oci.h): built in
 * <data>/images/.<name>.tmp-<pid>-<n> and renamed to <name> only when
 * complete; any failure removes the temp dir (a crash's leftovers go at
 * the next import of that name or at daemon start: hb_image_clean_stale). */
#include "image_internal.h"
#include "log.h"
#include "image_layer.h"
#include "oci.h"
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define ZOUT        (256u * 1024)

/* ---- one layer: blob bytes -> (gunzip) -> hash -> tar -> rootfs ---- */

typedef struct {
    hb_oci_layer_t *l;
    hb_err_t       *e;
    unsigned        number;
    bool            sniffed, gz, gz_end, tar_end;
    z_stream        z;
    unsigned char  *out;
    EVP_MD_CTX     *diff;   /* sha256 of the uncompressed tar */
    hb_oci_budget_t *b;
} unpack_t;

static int to_tar(unpack_t *u, const void *p, size_t n)
{
    /* Every uncompressed byte counts, the padding after the end blocks and
     * the data of skipped entries too: a gzip bomb stops at the cap, not
     * after hours of inflating. */
    if (n > u->b->raw_left)
        return hb_fail(u->e, HB_E_INVALID, EFBIG, "layer %u: more uncompressed bytes than the "
                       "import cap allows (--max-image-import)", u->number);
    u->b->raw_left -= n;
    EVP_DigestUpdate(u->diff, p, n);
    if (u->tar_end || n == 0)
        return 0;   /* after the end blocks: padding, hashed but not read */
    int rc = hb_oci_layer_feed(u->l, p, n, u->e);
    u->tar_end = rc == 1;
    return rc < 0 ? -1 : 0;
}

static int gunzip(unpack_t *u, const void *p, size_t n)
{
    u->z.next_in = (unsigned char *)(uintptr_t)p;
    u->z.avail_in = (unsigned)n;
    while (u->z.avail_in > 0) {
        if (u->gz_end) {   /* another gzip member follows (as gzip allows) */
            if (inflateReset(&u->z) != Z_OK)
                return hb_fail(u->e, HB_E_INTERNAL, 0, "zlib reset");
            u->gz_end = false;
        }
        u->z.next_out = u->out;
        u->z.avail_out = ZOUT;
        int zr = inflate(&u->z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
            return hb_fail(u->e, HB_E_INVALID, 0, "layer %u: corrupt gzip data (%s)", u->number,
                           u->z.msg ? u->z.msg : "inflate");
        u->gz_end = zr == Z_STREAM_END;
        if (to_tar(u, u->out, ZOUT - u->z.avail_out) < 0)
            return -1;
    }
    return 0;
}

static int unpack_sink(void *ud, const void *p, size_t n)
{
    unpack_t *u = ud;
    const unsigned char *b = p;
    if (!u->sniffed && n >= 4) {
        u->sniffed = true;
        if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
            return hb_fail(u->e, HB_E_INVALID, 0, "layer %u: zstd-compressed layers are not "
                           "supported (use gzip or plain tar)", u->number);
        u->gz = b[0] == 0x1f && b[1] == 0x8b;
        if (u->gz && inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK)
            return hb_fail(u->e, HB_E_INTERNAL, 0, "zlib init");
    }
    u->sniffed = true;
    return u->gz ? gunzip(u, p, n) : to_tar(u, p, n);
}

static int apply_layer(hb_oci_archive_t *a, const hb_oci_blob_t *blob, const char *diff_id,
                       unsigned number, int rootfd, hb_oci_budget_t *b, hb_err_t *e)
{
    char what[32], got[HB_OCI_DIGEST_LEN + 1];
    snprintf(what, sizeof what, "layer %u", number);
    unpack_t u = {.e = e, .number = number, .l = hb_oci_layer_new(rootfd, number, b),
                  .out = malloc(ZOUT), .diff = EVP_MD_CTX_new(), .b = b};
    int rc = u.l && u.out && u.diff && EVP_DigestInit_ex(u.diff, EVP_sha256(), NULL) == 1
                 ? 0 : hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (rc == 0)
        rc = hb_oci_archive_stream(a, blob->path, blob->digest, what, unpack_sink, &u, e);
    if (rc == 0 && u.gz && !u.gz_end)
        rc = hb_fail(e, HB_E_INVALID, 0, "layer %u: truncated gzip stream", number);
    if (rc == 0 && !u.tar_end)
        rc = hb_oci_layer_finish(u.l, e);
    unsigned char md[32];
    if (rc == 0 && diff_id && diff_id[0] && EVP_DigestFinal_ex(u.diff, md, NULL) == 1) {
        hb_oci_hex(md, got);
        if (strcmp(got, diff_id) != 0)
            rc = hb_fail(e, HB_E_INVALID, 0, "layer %u: digest mismatch (the config's diff_id "
                         "is %s, the layer is %s)", number, diff_id, got);
    }
    if (u.gz)
        inflateEnd(&u.z);
    EVP_MD_CTX_free(u.diff);
    free(u.out);
    hb_oci_layer_free(u.l);
    return rc;
}

/* ---- the manifest, whichever the format ---- */

static int read_json(hb_oci_archive_t *a, const char *path, const char *digest, const char *what,
                     char **buf, size_t *len, hb_err_t *e)
{
    return hb_oci_archive_read(a, path, digest, what, HB_OCI_JSON_MAX, buf, len, e);
}

/* One JSON blob parsed by fn into out; the text is freed either way. */
static int pick_from(hb_oci_archive_t *a, const char *path, const char *digest,
                     const char *what, hb_oci_blob_t *m, bool *nested, hb_err_t *e)
{
    char *text = NULL;
    size_t len = 0;
    if (read_json(a, path, digest, what, &text, &len, e) < 0)
        return -1;
    int rc = hb_oci_index_pick(text, len, m, nested, e);
    free(text);
    return rc < 0 ? -1 : 0;
}

static int oci_plan(hb_oci_archive_t *a, hb_oci_plan_t *p, hb_err_t *e)
{
    hb_oci_blob_t m;
    bool nested = false;
    if (pick_from(a, "index.json", NULL, "index.json", &m, &nested, e) < 0)
        return -1;
    if (nested) {   /* index -> index -> manifest (docker 25, buildx) */
        hb_oci_blob_t inner = m;
        if (pick_from(a, inner.path, inner.digest, "nested index", &m, &nested, e) < 0)
            return -1;
        if (nested)
            return hb_fail(e, HB_E_INVALID, 0, "index.json: indexes nested too deep");
    }
    char *text = NULL;
    size_t len = 0;
    if (read_json(a, m.path, m.digest, "manifest", &text, &len, e) < 0)
        return -1;
    int rc = hb_oci_manifest_parse(text, len, p, e);
    free(text);
    return rc < 0 ? -1 : 0;
}

static int plan(hb_oci_archive_t *a, hb_oci_plan_t *p, hb_oci_config_t *c, hb_err_t *e)
{
    char *text;
    size_t len;
    int rc;
    if (hb_oci_archive_has(a, "index.json")) {
        rc = oci_plan(a, p, e);
    } else if (hb_oci_archive_has(a, "manifest.json")) {
        rc = read_json(a, "manifest.json", NULL, "manifest.json", &text, &len, e);
        if (rc == 0) {
            rc = hb_oci_docker_manifest_parse(text, len, p, e);
            free(text);
        }
    } else {
        return hb_fail(e, HB_E_INVALID, 0, "not an OCI or docker archive (no index.json or "
                       "manifest.json at its top)");
    }
    if (rc < 0 || read_json(a, p->config.path, p->config.digest, "config", &text, &len, e) < 0)
        return -1;
    rc = hb_oci_config_parse(text, len, c, e);
    free(text);
    if (rc == 0 && c->n_diff != p->n_layers)
        rc = hb_fail(e, HB_E_INVALID, 0, "config: %zu diff_ids for %zu layers", c->n_diff,
                     p->n_layers);
    return rc;
}

/* ---- checks on the result ---- */

/* A named User must be in the image's /etc/passwd: we refuse at import what
 * would fail every command later. A uid needs no entry (gid = uid then). */
static int user_known(int rootfd, const char *user, hb_err_t *e)
{
    bool digits = user[strspn(user, "0123456789")] == '\0';
    if (digits || strcmp(user, "root") == 0)
        return 0;
    bool found = hb_rootfs_has_user(rootfd, user);
    return found ? 0 : hb_fail(e, HB_E_INVALID, 0, "config: User '%s' is not in the image's "
                               "/etc/passwd", user);
}

/* WorkingDir made if no layer made it (as docker does at run time):
 * root's, 0755, each step resolved beneath the root. */
static int make_workdir(int rootfd, const char *workdir, hb_err_t *e)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    char comp[HB_PATH_MAX];
    int fd = dup(rootfd);
    for (const char *s = workdir + strspn(workdir, "/"); fd >= 0 && *s;) {
        size_t n = strcspn(s, "/");
        snprintf(comp, sizeof comp, "%.*s", (int)n, s);
        s += n + strspn(s + n, "/");
        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
            close(fd);
            fd = -1;
            break;
        }
        int nfd = (int)syscall(SYS_openat2, fd, comp, &how, sizeof how);
        close(fd);
        fd = nfd;
    }
    if (fd < 0)
        return hb_fail(e, HB_E_INVALID, 0, "config: WorkingDir '%s' cannot be made in the "
                       "image (a file or a link leading out is in the way)", workdir);
    close(fd);
    return 0;
}

/* image.json: the facts image_facts.c records, plus what this import knows. */
static int record(const char *tmp, const hb_oci_config_t *c, hb_err_t *e)
{
    if (hb_image_facts_record(tmp, e) < 0)
        return -1;
    char path[HB_HOSTPATH_MAX + 128];
    snprintf(path, sizeof path, "%s/image.json", tmp);
    json_t *j = json_load_file(path, 0, NULL);
    if (!j || json_object_set_new(j, "kind", json_string("oci")) < 0 ||
        json_object_set_new(j, "created_at", json_integer((json_int_t)time(NULL))) < 0 ||
        json_object_set_new(j, "parent", json_null()) < 0 ||
        json_object_set_new(j, "config", hb_oci_config_json(c)) < 0) {
        json_decref(j);
        return hb_fail(e, HB_E_INTERNAL, 0, "image.json: cannot record");
    }
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    int rc = text ? hb_write_atomic(tmp, "image.json", text, strlen(text), 0644, e)
                  : hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    free(text);
    return rc;
}

/* ---- the whole import ---- */

static int build(hb_oci_archive_t *a, const char *tmp, uint64_t max_bytes, hb_err_t *e)
{
    hb_oci_plan_t *p = calloc(1, sizeof *p);
    hb_oci_config_t c = {0};
    char rootfs[HB_HOSTPATH_MAX + 128];
    snprintf(rootfs, sizeof rootfs, "%s/rootfs", tmp);
    int rootfd = -1, rc = p ? plan(a, p, &c, e) : hb_fail(e, HB_E_INTERNAL, ENOMEM, "oom");
    if (rc == 0 && (mkdir(tmp, 0755) < 0 || mkdir(rootfs, 0755) < 0 ||
                    (rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0))
        rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "mkdir %s", rootfs);
    hb_oci_budget_t b = {.bytes_left = max_bytes, .entries_left = HB_OCI_ENTRIES_MAX,
                         .raw_left = max_bytes + (uint64_t)HB_OCI_ENTRIES_MAX * 1024};
    for (size_t i = 0; rc == 0 && i < p->n_layers; i++)
        rc = apply_layer(a, &p->layers[i], c.diff_ids[i], (unsigned)i + 1, rootfd, &b, e);
    if (rc == 0 && !hb_rootfs_valid(tmp))
        rc = hb_fail(e, HB_E_INVALID, 0, "the image has no /bin/sh (a sandbox runs its "
                     "commands with it)");
    if (rc == 0 && c.user)
        rc = user_known(rootfd, c.user, e);
    if (rc == 0 && c.workdir)
        rc = make_workdir(rootfd, c.workdir, e);
    if (rc == 0)
        rc = record(tmp, &c, e);
    if (rootfd >= 0)
        close(rootfd);
    hb_oci_config_free(&c);
    free(p);
    return rc;
}

int hb_oci_import(const hb_runtime_t *rt, const char *name, const char *archive,
                  uint64_t max_bytes, hb_err_t *e)
{
    char images[HB_HOSTPATH_MAX], dst[HB_HOSTPATH_MAX + 80], tmp[HB_HOSTPATH_MAX + 100];
    if (!name || !hb_name_valid(name))
        return hb_fail(e, HB_E_INVALID, 0, "name: invalid image name '%.64s'",
                       name ? name : "");
    if (hb_images_dir(rt, images, sizeof images, e) < 0)
        return -1;
    snprintf(dst, sizeof dst, "%s/%s", images, name);
    if (access(dst, F_OK) == 0)
        return hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name);
    if (hb_image_quota_check(rt, e) < 0)   /* --max-images, --max-image-bytes */
        return -1;
    hb_image_clean_stale(images, name, false);
    hb_oci_archive_t *a;
    if (hb_oci_archive_open(archive, &a, e) < 0)
        return -1;
    static atomic_uint seq;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%d-%u", images, name, (int)getpid(),
             atomic_fetch_add(&seq, 1));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = build(a, tmp, max_bytes, e);
    hb_oci_archive_close(a);
    if (rc == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0)
        rc = errno == EEXIST ? hb_fail(e, HB_E_EXISTS, EEXIST, "image '%s' already exists", name)
                             : hb_fail_sys(e, HB_E_INTERNAL, errno, "rename to %s", dst);
    if (rc < 0) {
        hb_image_rmtree(tmp, NULL);
        return -1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    HB_LOG_INFO("image %s imported from an OCI archive in %ld ms", name,
                (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    return 0;
}

bool hb_oci_archive_detect(const char *path)
{
    hb_oci_archive_t *a;
    hb_err_t e = {0};
    if (hb_oci_archive_open(path, &a, &e) < 0)
        return false;
    bool yes = hb_oci_archive_has(a, "index.json") || hb_oci_archive_has(a, "manifest.json");
    hb_oci_archive_close(a);
    return yes;
}

void hb_oci_clean_stale(const char *images)
{
    DIR *d = opendir(images);
    struct dirent *de;
    char path[HB_HOSTPATH_MAX + 300];
    while (d && (de = readdir(d))) {
        const char *t = de->d_name[0] == '.' ? strstr(de->d_name, ".tmp-") : NULL;
        long pid = t ? strtol(t + 5, NULL, 10) : 0;
        if (pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;   /* not ours, or its process may still be at work */
        snprintf(path, sizeof path, "%s/%s", images, de->d_name);
        HB_LOG_INFO("image: removing %s (left by a crash)", path);
        if (unlink(path) < 0 && errno == EISDIR)
            hb_image_rmtree(path, NULL);
    }
    if (d)
        closedir(d);
}
