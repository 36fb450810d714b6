/* Helpers shared by the image modules (image.c, image_build.c,
 * image_spawn.c, image_mirror.c). Not part of the runtime API. */
#ifndef HB_IMAGE_INTERNAL_H
#define HB_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime.h"

/* Called once per line of a child's combined stdout+stderr (without the
 * newline; overlong lines are cut). */
typedef void (*hb_line_cb)(void *ud, const char *line);

/* posix_spawn argv[0] (an absolute path) with a clean environment, fds
 * beyond 2 closed, stdin from /dev/null, stdout+stderr fed line by line to
 * cb (may be NULL). Returns the exit status (0-255, 128+sig if killed) or
 * -1 with *e set if it could not be started. Never forks the caller. */
int hb_spawn_lines(const char *const argv[], hb_line_cb cb, void *ud, hb_err_t *e);

/* Remove a directory tree that we created (rmtree.c: no symlink followed,
 * no filesystem crossed), detaching any mounts a crashed build left under
 * it first. */
int hb_image_rmtree(const char *path, hb_err_t *e);

/* The apt mirror for Debian bookworm used by the host: the first http(s)
 * URI of an enabled "deb" source whose suites include "bookworm" and whose
 * components include "main". Parsers for the one-line and deb822 formats
 * are exposed for unit tests; each returns true and fills out when found. */
bool hb_mirror_from_list(const char *text, char *out, size_t len);
bool hb_mirror_from_deb822(const char *text, char *out, size_t len);
/* Scans /etc/apt (or root_dir + /etc/apt); falls back to deb.debian.org. */
void hb_mirror_detect(const char *root_dir, char *out, size_t len);

/* Split $HIVEBOX_PACKAGES-style text (comma or space separated) into
 * validated Debian package names appended to a comma-joined list in out.
 * Returns -1 with *e naming the bad package. */
int hb_packages_parse(const char *text, char *out, size_t len, hb_err_t *e);

/* Remove <images>/.<name>.tmp-<pid> dirs whose process is gone (all of
 * them when `all`: the caller holds the build lock). */
int hb_image_clean_stale(const char *images, const char *name, bool all);

/* snprintf into a path buffer; -1 with *e set if it does not fit. */
int hb_pathf(char *out, size_t len, hb_err_t *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* <data>/images, created if missing. */
int hb_images_dir(const hb_runtime_t *rt, char *out, size_t len, hb_err_t *e);

/* Does dir/rootfs look like a root filesystem (a /bin/sh or /usr/bin/sh
 * resolved inside it, never through a host path)? */
bool hb_rootfs_valid(const char *image_dir);

/* image_build.c: root/rel holds text (mode, whatever the umask); never
 * written through a link. */
int hb_image_write_text(const char *root, const char *rel, const char *text, mode_t mode,
                        hb_err_t *e);

/* image_user.c: add the E2B-style default user `user` (uid 1000, home
 * /home/user, bash, a NOPASSWD sudoers entry) to a freshly built rootfs. */
int hb_image_add_default_user(const char *rootfs, hb_err_t *e);
/* Whether the rootfs open on rootfd has name in its etc/passwd. */
bool hb_rootfs_has_user(int rootfd, const char *name);

/* image_facts.c: record image_dir/image.json from image_dir/rootfs. */
int hb_image_facts_record(const char *image_dir, hb_err_t *e);

#endif
