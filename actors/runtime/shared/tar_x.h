/* Extracting and creating tar archives on a real filesystem (tar.h has the
 * format). Used by the init agent inside a sandbox and by the CLI on the
 * user's machine; the rules are the same on both sides. */
#ifndef HB_TAR_X_H
#define HB_TAR_X_H

#include "tar.h"

/* ---- extraction (tar_extract.c) ----
 * Into the directory dirfd (borrowed: closed by the caller after free).
 * Names are cleaned by hb_tar_clean_name: absolute names and ".." are
 * refused; so is an entry that would be written through a symbolic link
 * (one made by the archive or one already there) and every type but
 * regular files, directories and symbolic links. Symbolic links are made as
 * they are and never followed. Regular files are written to a temporary
 * name and renamed into place when complete; modes keep 0777 (no set-id or
 * sticky bit). The first refused entry stops everything (entries before it
 * stay). top, if not NULL or "", replaces the first component of every
 * name (a directory copied under a new name). */
typedef struct hb_tar_x hb_tar_x_t;

hb_tar_x_t *hb_tar_x_new(int dirfd, const char *top);
/* 0: more wanted; 1: the archive ended; -1: refused or failed. */
int  hb_tar_x_feed(hb_tar_x_t *x, const void *data, size_t len);
/* The input ended: 0 if the archive was complete. */
int  hb_tar_x_finish(hb_tar_x_t *x);
/* After -1: "entry 'NAME': why" or what is wrong with the archive, and an errno
 * for it (EINVAL for a refused entry, ELOOP through a link, ENOSPC, ...). */
const char *hb_tar_x_error(const hb_tar_x_t *x);
int  hb_tar_x_errno(const hb_tar_x_t *x);
uint64_t hb_tar_x_entries(const hb_tar_x_t *x);
/* Also removes the temporary file of an unfinished entry. */
void hb_tar_x_free(hb_tar_x_t *x);

/* ---- creation (tar_create.c) ----
 * An archive of path (followed if it is a link: the caller named it) as
 * entries named top, top/..., and the end blocks, into sink. Below path
 * nothing is followed: links are stored as links; sockets, fifos and
 * devices are left out; a hard link is stored as a regular file. skip, if
 * not NULL, names directories that are listed but not descended into (init
 * leaves /proc, /sys and /dev out). A file that shrinks while it is read is
 * padded with zeros to the size its header announced. 0, or -1 with errno
 * set and why (errlen bytes) filled: ENOENT for a missing path, or the
 * sink's failure. */
typedef bool (*hb_tar_skip_fn)(const char *path);

int hb_tar_create(const char *path, const char *top, hb_tar_skip_fn skip, hb_tar_sink_fn sink,
                  void *ud, char *why, size_t errlen);

#endif
