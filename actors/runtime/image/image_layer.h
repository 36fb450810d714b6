/* Layered images (issue 17): an image is either a root image
 * (<data>/images/<name>/rootfs, base, imports) or a layer on a parent image,
 * made from a sandbox's writable layer by a snapshot. A layer lives in the
 * disk pool as a read-only btrfs subvolume, <data>/sandboxes/.layers/<name>,
 * whose upper/ keeps the owners of the sandbox that wrote it (host uids
 * uid_base + k); its record is <data>/images/<name>/image.json (the
 * parent's keys -- facts, config -- plus name, parent, kind, created_at,
 * size_bytes, uid_base, layer).
 *
 * A sandbox on a layered image mounts lowerdir=top:...:root, each layer
 * idmapped on its own (tools/init/launcher). */
#ifndef HB_IMAGE_LAYER_H
#define HB_IMAGE_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "launchconf.h"
#include "runtime.h"

#define HB_LAYERS_DIR ".layers"          /* in the pool: one subvolume per layer */
#define HB_CHAIN_MAX  HB_LC_LAYERS_MAX   /* layers above the root image */

typedef struct {
    char     name[HB_ID_MAX];
    char     parent[HB_ID_MAX];   /* "" for a root image */
    char     kind[16];            /* base | import | oci | snapshot | build | fork */
    int64_t  created_at;
    uint64_t size_bytes;          /* bytes of its own layer; 0 = unknown */
    uint32_t uid_base;            /* owner base of its files on disk; 0 for a root */
    char     source[HB_ID_MAX];   /* the sandbox it was made from; "" for a root */
} hb_imginfo_t;

/* The record of image name (root images: kind from image.json or "base" /
 * "import", created_at from the dir). -1 when there is no such image. */
int  hb_image_info(const hb_runtime_t *rt, const char *name, hb_imginfo_t *out);
/* Whether name is a complete layered image (its layer subvolume there). */
bool hb_image_is_layer(const hb_runtime_t *rt, const char *name);
/* Layers above the root image: 0 for a root image, -1 when broken. */
int  hb_image_depth(const hb_runtime_t *rt, const char *name);

/* Append the launch.conf lines of image's chain after the n bytes of buf:
 * `image=<root rootfs>` and, top first, `layer=<uid_base> <upper path>`.
 * The new length, or -1 with *e (the chain is broken or too deep). */
int  hb_image_launch_conf(const hb_runtime_t *rt, const char *image, char *buf, size_t len,
                          int n, hb_err_t *e);

typedef struct {
    uint64_t frozen_ms;   /* from freeze to thaw */
    uint64_t total_ms;
} hb_snap_times_t;

/* Make image `name` (kind snapshot | build | fork) from sb's writable layer,
 * on top of sb's image: freeze, a read-only subvolume snapshot, thaw, then
 * the record. paused: the sandbox is frozen already (pause): neither frozen
 * nor thawed here. Under temp names until the final rename: a crash leaves
 * nothing listed, and hb_layers_recover removes the rest. */
int  hb_image_snapshot(const hb_sandbox_t *sb, const char *name, const char *kind, bool paused,
                       hb_imginfo_t *out, hb_snap_times_t *t, hb_err_t *e);

/* Restore (issue 17): sb restarts on image `name` with an empty writable
 * layer (all its processes killed; a paused sandbox is thawed first, or
 * its frozen processes could not die). The image is checked first: then
 * nothing happened. hb_sandbox_relaunch (sandbox.c) does the rest. */
int  hb_image_restore(hb_sandbox_t *sb, const char *name, hb_err_t *e);

/* Remove image name and its layer (the caller checked that no sandbox uses
 * it); HB_E_CONFLICT when another image is layered on it (names it). */
int  hb_image_remove(const hb_runtime_t *rt, const char *name, hb_err_t *e);

/* The first image whose parent is name into child (false: none). */
bool hb_image_child(const hb_runtime_t *rt, const char *name, char *child, size_t len);

/* <data>/sandboxes/.layers (made 0700 if missing), opened; -1 with *e. */
int  hb_layers_dir_open(const hb_runtime_t *rt, hb_err_t *e);
/* HB_E_NOSPACE when one more image would pass --max-images, or the images'
 * bytes have reached --max-image-bytes. */
int  hb_image_quota_check(const hb_runtime_t *rt, hb_err_t *e);

/* The catalogue item of a complete image (state "ready"), it zeroed
 * first; -1 (it left empty): no such image, or out of memory. */
struct hb_catitem;
int  hb_image_catitem(const hb_runtime_t *rt, const char *name, struct hb_catitem *it);

/* Daemon start: drop half-made snapshots (temp layers, temp image dirs of
 * dead processes, layers no image names). */
void hb_layers_recover(const hb_runtime_t *rt);

#endif
