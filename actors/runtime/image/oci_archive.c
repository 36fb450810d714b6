/* The outer tar of an OCI or docker archive, read once into a table of its
 * regular files (name, offset, size); blobs are then read straight from the
 * file at their offsets: nothing of the outer archive is extracted or held
 * in memory beyond the table and the small JSON texts. */
#include "oci.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"

#define CHUNK (256u * 1024)

typedef struct {
    char    *name;    /* clean */
    char    *alias;   /* a hard or symbolic link: the clean name it points to */
    uint64_t off, size;
    bool     placed;  /* off known (the first data byte seen) */
} afile_t;

struct hb_oci_archive {
    int      fd;
    afile_t *f;
    size_t   n;
    /* while scanning */
    const char *chunk;
    uint64_t    chunk_off;
    afile_t    *cur;   /* the entry whose data comes, NULL if not one we keep */
    hb_err_t   *e;
};

void hb_oci_hex(const unsigned char md[32], char out[HB_OCI_DIGEST_LEN + 1])
{
    memcpy(out, "sha256:", 7);
    for (int i = 0; i < 32; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

void hb_oci_archive_close(hb_oci_archive_t *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        free(a->f[i].name);
        free(a->f[i].alias);
    }
    free(a->f);
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}

/* A link's target as a clean archive name: hard links name it from the
 * top, symbolic links relative to their own directory. */
static char *link_target(const hb_tar_entry_t *te, const char *clean)
{
    char joined[HB_PATH_MAX * 2], out[HB_PATH_MAX];
    const char *why;
    if (te->typeflag == '2') {
        const char *slash = strrchr(clean, '/');
        snprintf(joined, sizeof joined, "%.*s%s%s", slash ? (int)(slash - clean) : 0, clean,
                 slash ? "/" : "", te->link);
    } else {
        snprintf(joined, sizeof joined, "%s", te->link);
    }
    if (hb_tar_clean_name(joined, out, sizeof out, &why) < 0)
        return NULL;   /* "..": in a docker archive only "../<id>/layer.tar" */
    return strdup(out);
}

/* docker save (before 25) links a repeated layer as ../<id>/layer.tar: the
 * one place ".." is resolved, lexically, within the archive. */
static char *docker_rel(const hb_tar_entry_t *te, const char *clean)
{
    if (te->typeflag != '2' || strncmp(te->link, "../", 3) != 0 || !strchr(clean, '/'))
        return NULL;
    char out[HB_PATH_MAX];
    const char *why;
    if (hb_tar_clean_name(te->link + 3, out, sizeof out, &why) < 0)
        return NULL;
    return strdup(out);
}

static int on_entry(void *ud, const hb_tar_entry_t *te)
{
    hb_oci_archive_t *a = ud;
    char clean[HB_PATH_MAX];
    const char *why;
    bool link = te->typeflag == '1' || te->typeflag == '2';
    a->cur = NULL;
    if (te->type != HB_TAR_FILE && !link)
        return 0;   /* directories and the rest: nothing to read */
    if (hb_tar_clean_name(te->name, clean, sizeof clean, &why) < 0)
        return hb_fail(a->e, HB_E_INVALID, 0, "archive entry '%.100s': %s", te->name, why);
    if (a->n == HB_OCI_FILES_MAX)
        return hb_fail(a->e, HB_E_INVALID, 0, "archive: more than %u files", HB_OCI_FILES_MAX);
    if (a->n % 64 == 0) {
        afile_t *nf = realloc(a->f, (a->n + 64) * sizeof *nf);
        if (!nf)
            return hb_fail(a->e, HB_E_INTERNAL, ENOMEM, "out of memory");
        a->f = nf;
    }
    afile_t *f = &a->f[a->n];
    memset(f, 0, sizeof *f);
    f->name = strdup(clean);
    f->size = te->size;
    if (link) {
        f->alias = docker_rel(te, clean);
        if (!f->alias)
            f->alias = link_target(te, clean);
    }
    a->n++;
    a->cur = link ? NULL : f;
    if (!f->name || (link && !f->alias))
        return hb_fail(a->e, HB_E_INVALID, 0, "archive entry '%.100s': bad name or link",
                       te->name);
    return 0;
}

static int on_data(void *ud, const void *p, size_t n)
{
    hb_oci_archive_t *a = ud;
    afile_t *f = a->cur;
    (void)n;
    if (f && !f->placed) {   /* the reader hands out pointers into our chunk */
        f->off = a->chunk_off + (uint64_t)((const char *)p - a->chunk);
        f->placed = true;
    }
    return 0;
}

static const hb_tar_cb_t scan_cb = {on_entry, on_data, NULL};

static int scan(hb_oci_archive_t *a, const char *path, hb_err_t *e)
{
    hb_tar_reader_t *r = hb_tar_reader_new();
    char *buf = malloc(CHUNK);
    int rc = r && buf ? 0 : hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    a->e = e;
    a->chunk = buf;
    int fr = 0;
    while (rc == 0 && fr == 0) {
        ssize_t got = pread(a->fd, buf, CHUNK, (off_t)a->chunk_off);
        if (got < 0) {
            rc = hb_fail_sys(e, HB_E_INTERNAL, errno, "read %s", path);
            break;
        }
        if (got == 0)
            break;
        e->msg[0] = '\0';
        fr = hb_tar_feed(r, buf, (size_t)got, &scan_cb, a);
        if (fr < 0 && !e->msg[0])
            rc = hb_fail(e, HB_E_INVALID, 0, "archive: %s", hb_tar_error(r));
        else if (fr < 0)
            rc = -1;
        a->chunk_off += (uint64_t)got;
    }
    if (rc == 0 && fr == 0 && hb_tar_finish(r) < 0)
        rc = hb_fail(e, HB_E_INVALID, 0, "archive truncated: %s", hb_tar_error(r));
    free(buf);
    hb_tar_reader_free(r);
    return rc;
}

int hb_oci_archive_open(const char *path, hb_oci_archive_t **out, hb_err_t *e)
{
    *out = NULL;
    hb_oci_archive_t *a = calloc(1, sizeof *a);
    if (!a)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    a->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (a->fd < 0 || fstat(a->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int err = a->fd < 0 ? errno : EINVAL;
        hb_oci_archive_close(a);
        return hb_fail_sys(e, HB_E_INVALID, err, "%s: not a readable regular file", path);
    }
    if (scan(a, path, e) < 0) {
        hb_oci_archive_close(a);
        return -1;
    }
    *out = a;
    return 0;
}

static const afile_t *find(const hb_oci_archive_t *a, const char *name, int hops)
{
    for (size_t i = a->n; i-- > 0;) {   /* the last of a repeated name wins, as in tar */
        if (strcmp(a->f[i].name, name) != 0)
            continue;
        if (a->f[i].alias)
            return hops > 0 ? find(a, a->f[i].alias, hops - 1) : NULL;
        return &a->f[i];
    }
    return NULL;
}

bool hb_oci_archive_has(const hb_oci_archive_t *a, const char *name)
{
    return find(a, name, 2) != NULL;
}

static const afile_t *lookup(const hb_oci_archive_t *a, const char *name, const char *what,
                             hb_err_t *e)
{
    char clean[HB_PATH_MAX];
    const char *why;
    const afile_t *f = hb_tar_clean_name(name, clean, sizeof clean, &why) == 0
                           ? find(a, clean, 2) : NULL;
    if (!f)
        hb_fail(e, HB_E_INVALID, 0, "%s: blob %.120s is missing from the archive", what, name);
    return f;
}

int hb_oci_archive_stream(hb_oci_archive_t *a, const char *name, const char *digest,
                          const char *what, hb_oci_sink_fn sink, void *ud, hb_err_t *e)
{
    const afile_t *f = lookup(a, name, what, e);
    if (!f)
        return -1;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    char *buf = malloc(CHUNK);
    int rc = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1
                 ? 0 : hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    for (uint64_t done = 0; rc == 0 && done < f->size;) {
        size_t want = f->size - done < CHUNK ? (size_t)(f->size - done) : CHUNK;
        ssize_t got = pread(a->fd, buf, want, (off_t)(f->off + done));
        if (got <= 0) {
            rc = hb_fail_sys(e, HB_E_INVALID, got < 0 ? errno : 0, "%s: truncated", what);
            break;
        }
        EVP_DigestUpdate(md, buf, (size_t)got);
        done += (uint64_t)got;
        rc = sink(ud, buf, (size_t)got);
    }
    unsigned char sum[32];
    char hex[HB_OCI_DIGEST_LEN + 1];
    if (rc == 0 && digest && digest[0]) {
        EVP_DigestFinal_ex(md, sum, NULL);
        hb_oci_hex(sum, hex);
        if (strcmp(hex, digest) != 0)
            rc = hb_fail(e, HB_E_INVALID, 0, "%s: digest mismatch (the manifest says %s, the "
                         "blob is %s)", what, digest, hex);
    }
    EVP_MD_CTX_free(md);
    free(buf);
    return rc;
}

typedef struct {
    char  *buf;
    size_t len, max;
} membuf_t;

static int to_mem(void *ud, const void *p, size_t n)
{
    membuf_t *m = ud;
    memcpy(m->buf + m->len, p, n);
    m->len += n;
    return 0;
}

int hb_oci_archive_read(hb_oci_archive_t *a, const char *name, const char *digest,
                        const char *what, size_t max, char **buf, size_t *len, hb_err_t *e)
{
    *buf = NULL;
    *len = 0;
    const afile_t *f = lookup(a, name, what, e);
    if (!f)
        return -1;
    if (f->size > max)
        return hb_fail(e, HB_E_INVALID, 0, "%s: larger than %zu bytes", what, max);
    membuf_t m = {.buf = malloc((size_t)f->size + 1), .max = (size_t)f->size};
    if (!m.buf)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (hb_oci_archive_stream(a, name, digest, what, to_mem, &m, e) < 0) {
        free(m.buf);
        return -1;
    }
    m.buf[m.len] = '\0';
    *buf = m.buf;
    *len = m.len;
    return 0;
}
