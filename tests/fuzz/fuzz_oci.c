/* libFuzzer target: the OCI import's parsers (actors/runtime/image/oci_json.c,
 * oci_config.c) on any bytes: index.json, an image manifest, a docker
 * manifest.json, an image config, and the whiteout and entry-name rules.
 * The first byte picks which; the rest is the text. Case 5 is the outer
 * archive's scanner (oci_archive.c) on the bytes as a file (a memfd): its
 * table of offsets, links and truncation checks, then reading from it. Whatever the input,
 * what comes out must be clean: valid digests, blob paths under blobs/,
 * relative archive paths without "..", whiteout targets that are clean
 * names. */
#include "oci.h"
#include "tar.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

static void check_blob(const hb_oci_blob_t *b, bool need_digest)
{
    assert(memchr(b->path, '\0', sizeof b->path));
    assert(b->path[0] != '/' && !strstr(b->path, ".."));
    if (need_digest || b->digest[0])
        assert(hb_oci_digest_valid(b->digest));
}

static void plan(const char *t, size_t n, bool docker)
{
    hb_oci_plan_t *p = calloc(1, sizeof *p);
    hb_err_t e = {0};
    int rc = docker ? hb_oci_docker_manifest_parse(t, n, p, &e) : hb_oci_manifest_parse(t, n, p, &e);
    assert(rc == 0 || e.msg[0]);
    if (rc == 0) {
        assert(p->n_layers <= HB_OCI_LAYERS_MAX);
        check_blob(&p->config, !docker);
        for (size_t i = 0; i < p->n_layers; i++)
            check_blob(&p->layers[i], !docker);
    }
    free(p);
}

static void config(const char *t, size_t n)
{
    hb_oci_config_t c;
    hb_err_t e = {0};
    if (hb_oci_config_parse(t, n, &c, &e) < 0) {
        assert(e.msg[0]);
        return;
    }
    for (size_t i = 0; c.env && c.env[i]; i++)
        assert(strchr(c.env[i], '=') && c.env[i][0] != '=');
    assert(!c.workdir || c.workdir[0] == '/');
    assert(!c.user || (c.user[0] && !strchr(c.user, ':')));
    for (size_t i = 0; i < c.n_diff; i++)
        assert(hb_oci_digest_valid(c.diff_ids[i]));
    json_decref(hb_oci_config_json(&c));
    hb_oci_config_free(&c);
}

static void names(const char *t, size_t n)
{
    char name[HB_PATH_MAX], clean[HB_PATH_MAX], target[HB_PATH_MAX];
    const char *why;
    size_t k = n < sizeof name - 1 ? n : sizeof name - 1;
    memcpy(name, t, k);
    name[k] = '\0';
    if (hb_tar_clean_name(name, clean, sizeof clean, &why) < 0)
        return;
    int wh = hb_oci_whiteout(clean, target, sizeof target);
    assert(wh >= -1 && wh <= 2);
    if (wh > 0) {   /* a target is a clean name too: no "..", nothing absolute */
        char again[HB_PATH_MAX];
        assert(hb_tar_clean_name(target, again, sizeof again, &why) == 0);
        assert(strcmp(again, target) == 0);
        assert(wh == 2 || target[0]);
    }
}

static int count_sink(void *ud, const void *p, size_t n)
{
    (void)p;
    *(size_t *)ud += n;
    return 0;
}

static void archive(const char *t, size_t n)
{
    int fd = memfd_create("fuzz-oci", MFD_CLOEXEC);
    if (fd < 0 || write(fd, t, n) != (ssize_t)n) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    hb_oci_archive_t *a;
    hb_err_t e = {0};
    if (hb_oci_archive_open(path, &a, &e) == 0) {
        static const char *const names[] = {"index.json", "manifest.json", "oci-layout", "a/b"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            char *buf;
            size_t len, got = 0;
            if (hb_oci_archive_read(a, names[i], NULL, "fuzz", 4096, &buf, &len, &e) == 0) {
                assert(len <= 4096 && buf[len] == '\0');
                free(buf);
            }
            if (hb_oci_archive_stream(a, names[i], NULL, "fuzz", count_sink, &got, &e) == 0)
                assert(got <= n);
        }
        hb_oci_archive_close(a);
    } else {
        assert(e.msg[0]);
    }
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *t = (const char *)data + 1;
    size_t n = size - 1;
    hb_oci_blob_t b;
    bool nested;
    hb_err_t e = {0};
    switch (data[0] % 6) {
    case 0:
        if (hb_oci_index_pick(t, n, &b, &nested, &e) == 0)
            check_blob(&b, true);
        break;
    case 1: plan(t, n, false); break;
    case 2: plan(t, n, true); break;
    case 3: config(t, n); break;
    case 4: names(t, n); break;
    default: archive(t, n); break;
    }
    return 0;
}
