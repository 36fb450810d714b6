/* Loop devices for the disk pool's image file (ioctls from linux/loop.h,
 * no losetup). */
#ifndef HB_LOOPDEV_H
#define HB_LOOPDEV_H

#include <stddef.h>

#include "hberr.h"

/* Bind a free loop device to file (auto-clearing: the device goes away with
 * its last user, i.e. when the filesystem on it is unmounted). Returns an
 * open fd on the device, which the caller keeps until it has mounted it,
 * and its path in dev. */
int hb_loop_attach(const char *file, char *dev, size_t len, hb_err_t *e);
/* The file behind loop device dev ("/dev/loopN"), or -1. */
int hb_loop_backing(const char *dev, char *out, size_t len);
/* Tell the device its file has grown. */
int hb_loop_refresh(const char *dev, hb_err_t *e);

#endif
