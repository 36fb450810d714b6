/* A sandbox's writable layer on the disk pool (see layer.c). */
#ifndef HB_LAYER_H
#define HB_LAYER_H

#include "runtime.h"

/* In the state dir sb->dir: the subvolume with its quota, upper/ and work/
 * owned by the sandbox's root. On failure the caller removes the state dir,
 * subvolume included (hb_rmtree). */
int  hb_layer_create(const hb_sandbox_t *sb, hb_err_t *e);
/* Before the state dir goes: lift the quota, so that a qgroup the kernel
 * keeps after the subvolume is gone counts for nothing when the pool is
 * sized. */
void hb_layer_release(const hb_sandbox_t *sb);
/* Restore (issue 17): the layer replaced by an empty one (init is dead). */
int  hb_layer_reset(const hb_sandbox_t *sb, hb_err_t *e);

#endif
