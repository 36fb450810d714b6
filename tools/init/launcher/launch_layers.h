/* The launcher's part of layered images (issue 17): a sandbox on an image
 * made by a snapshot mounts its overlay on lowerdir=top:...:root. Each
 * layer keeps the owners of the sandbox that wrote it (host uids
 * from + k), so each gets its own idmapped mount, through a user namespace
 * whose map is "from to 65536" (to: this sandbox's base), and appears with
 * the same ids inside as inside the sandbox that wrote it. The root image
 * (ids 0-based on disk) is the sandbox's own user namespace, as before.
 *
 * The parent (host root) makes the mounts; the child attaches them under a
 * small tmpfs at <dir>/lower (lower/0 is the top layer, lower/root the
 * image's root) and names them in the overlay's options. */
#ifndef HB_LAUNCH_LAYERS_H
#define HB_LAUNCH_LAYERS_H

#include <stddef.h>

#include "launch_conf.h"

/* Parent: fds[i] = the idmapped, read-only, nosuid, nodev detached mount of
 * layer i. 0, or -1 with why set (nothing left open). */
int launch_layers_open(const launch_conf_t *c, int *fds, char *why, size_t len);
/* Child, cwd the sandbox dir: attach the root image (image_fd) and the
 * layers (fds, closed here) and write the overlay's lowerdir=... option
 * into opt. 0, or -1 with why set. */
int launch_layers_attach(const launch_conf_t *c, int image_fd, const int *fds, char *opt,
                         size_t optlen, char *why, size_t len);

#endif
