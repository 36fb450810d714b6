/* Images from OCI archives: an OCI image layout in a tar (`oci-layout`,
 * `index.json` -> manifest -> config + layers under blobs/sha256/, as
 * `podman save --format oci-archive` and `skopeo copy oci-archive:` make)
 * or a docker-archive (`manifest.json` with Config and Layers, as
 * `docker save` makes). Pieces:
 *   oci_json.c    the manifests and the index, pure functions on buffers
 *                 (fuzzed: tests/fuzz/fuzz_oci.c)
 *   oci_config.c  the image config (Env, WorkingDir, User, diff_ids)
 *   oci_archive.c the outer tar read once into a table of its files, then
 *                 blobs read from the file at their offsets, hashed
 *   oci_layer.c   one layer applied beneath the new rootfs (whiteouts,
 *                 owners, modes, hard links; nothing outside the root)
 *   oci_import.c  the whole import into a temp image dir, renamed at the end
 * Everything is bounded: JSON texts, layers, entries, extracted bytes. */
#ifndef HB_OCI_H
#define HB_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hberr.h"

#define HB_OCI_JSON_MAX     (1u << 20)   /* index, manifest, config */
#define HB_OCI_LAYERS_MAX   128u
#define HB_OCI_ENTRIES_MAX  1000000u     /* entries of all layers together */
#define HB_OCI_NAMES_MAX    (64u << 20)  /* bytes of the names one layer makes (kept
                                          * to tell its own entries from lower ones) */
#define HB_OCI_ENTRY_COST   4096u        /* disk charged per entry (inode, dir block)
                                          * beside its data and link target */
#define HB_OCI_FILES_MAX    16384u       /* files of the outer archive */
#define HB_OCI_ENV_MAX      256u         /* Env entries kept from a config */
#define HB_OCI_ID_MAX       65535u       /* owners: a sandbox maps 65536 ids */
#define HB_OCI_DIGEST_LEN   71           /* "sha256:" + 64 hex */

typedef struct {
    char digest[HB_OCI_DIGEST_LEN + 1];   /* "" when the format has none (docker) */
    char path[256];                       /* the file inside the archive */
    char media[128];                      /* mediaType, "" if not given */
} hb_oci_blob_t;

typedef struct {
    hb_oci_blob_t config;
    hb_oci_blob_t layers[HB_OCI_LAYERS_MAX];
    size_t        n_layers;
} hb_oci_plan_t;

/* What a sandbox made from the image uses by default (oci_config.c). */
typedef struct {
    char  **env;        /* "K=V", NULL-terminated, or NULL */
    char   *workdir;    /* absolute, or NULL */
    char   *user;       /* a name or a uid, or NULL (root) */
    char    diff_ids[HB_OCI_LAYERS_MAX][HB_OCI_DIGEST_LEN + 1];
    size_t  n_diff;
} hb_oci_config_t;

/* ---- oci_json.c ---- */
/* "sha256:" and 64 lowercase hex digits? */
bool hb_oci_digest_valid(const char *d);
/* index.json (or a nested index): the manifest to use, linux/amd64 or the
 * only one. *is_index: the chosen descriptor is itself an index. */
int hb_oci_index_pick(const char *text, size_t len, hb_oci_blob_t *out, bool *is_index,
                      hb_err_t *e);
/* An OCI (or Docker v2) image manifest: config and layers. */
int hb_oci_manifest_parse(const char *text, size_t len, hb_oci_plan_t *p, hb_err_t *e);
/* docker-archive manifest.json: the first (only) image. */
int hb_oci_docker_manifest_parse(const char *text, size_t len, hb_oci_plan_t *p, hb_err_t *e);
/* Whiteouts: for the clean entry name, 0 (an ordinary entry), 1 (NAME's
 * ".wh.X": remove X; target = the path of X) or 2 (".wh..wh..opq": empty
 * the directory target of lower content). -1 for a malformed whiteout. */
int hb_oci_whiteout(const char *name, char *target, size_t cap);

/* ---- oci_config.c ---- */
int  hb_oci_config_parse(const char *text, size_t len, hb_oci_config_t *c, hb_err_t *e);
void hb_oci_config_free(hb_oci_config_t *c);
/* The "config" object kept in image.json ({"env","workdir","user"}). */
json_t *hb_oci_config_json(const hb_oci_config_t *c);

/* ---- oci_archive.c ---- */
typedef struct hb_oci_archive hb_oci_archive_t;
typedef int (*hb_oci_sink_fn)(void *ud, const void *p, size_t n);

/* Read the tar at path once: a table of its regular files (links to them
 * resolved once). A cut archive is a 400 "truncated". */
int  hb_oci_archive_open(const char *path, hb_oci_archive_t **out, hb_err_t *e);
void hb_oci_archive_close(hb_oci_archive_t *a);
bool hb_oci_archive_has(const hb_oci_archive_t *a, const char *name);
/* The whole file name (at most max bytes, NUL-terminated), its sha256
 * checked against digest unless digest is NULL or "". what names it in
 * errors. *buf is malloc'd. */
int  hb_oci_archive_read(hb_oci_archive_t *a, const char *name, const char *digest,
                         const char *what, size_t max, char **buf, size_t *len, hb_err_t *e);
/* Its bytes to sink in pieces, then its sha256 compared with digest (when
 * given): a mismatch fails after the last piece. */
int  hb_oci_archive_stream(hb_oci_archive_t *a, const char *name, const char *digest,
                           const char *what, hb_oci_sink_fn sink, void *ud, hb_err_t *e);

/* ---- oci_layer.c ----
 * One layer (a plain tar stream) applied beneath rootfd: whiteouts remove
 * lower content, owners (0-65535), modes (set-id bits kept) and hard links
 * are kept; absolute names, "..", a path through a symbolic link leading
 * out of the root, device nodes and fifos are refused (400 naming the
 * entry). Budgets are shared by all the layers of one image. */
typedef struct {
    uint64_t bytes_left;     /* file data, and HB_OCI_ENTRY_COST per entry */
    uint64_t entries_left;
    uint64_t raw_left;       /* uncompressed tar bytes of all layers (oci_import.c) */
} hb_oci_budget_t;

typedef struct hb_oci_layer hb_oci_layer_t;

hb_oci_layer_t *hb_oci_layer_new(int rootfd, unsigned number, hb_oci_budget_t *b);
/* 0: more wanted; 1: the archive ended; -1 with *e set. */
int  hb_oci_layer_feed(hb_oci_layer_t *l, const void *p, size_t n, hb_err_t *e);
/* The input ended: 0 if the layer was complete. */
int  hb_oci_layer_finish(hb_oci_layer_t *l, hb_err_t *e);
void hb_oci_layer_free(hb_oci_layer_t *l);

/* "sha256:<hex>" of a finished EVP digest. */
void hb_oci_hex(const unsigned char md[32], char out[HB_OCI_DIGEST_LEN + 1]);

#endif
