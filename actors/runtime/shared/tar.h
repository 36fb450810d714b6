/* tar archives, small and bounded: a streaming reader and a header writer
 * (tar.c), extraction beneath a directory (tar_extract.c) and creation from
 * a tree (tar_create.c). Shared by the init agent, which makes and unpacks
 * the archives of GET/PUT .../files/archive inside a sandbox, and the CLI,
 * which does the same on the user's side of `hivebox cp`.
 *
 * Read: ustar and GNU headers, octal or base-256 numbers, the ustar prefix
 * field, GNU long names and link names ('L', 'K') and pax extended headers
 * ('x': path, linkpath, size, mtime; 'g' is skipped). Written: GNU format,
 * a name or link target of 100 bytes or more goes in an 'L' / 'K' entry
 * first, sizes of 8 GiB and more in base-256. Only regular files,
 * directories and symbolic links are ever made; every other type is
 * reported as HB_TAR_OTHER for the caller to refuse.
 *
 * Memory is bounded whatever the input: one 512-byte block, and a long name
 * or pax header of at most HB_TAR_META_MAX bytes (larger ones are refused). */
#ifndef HB_TAR_H
#define HB_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime.h"   /* HB_PATH_MAX */

#define HB_TAR_BLOCK    512
#define HB_TAR_META_MAX (64u * 1024)

typedef enum { HB_TAR_FILE, HB_TAR_DIR, HB_TAR_SYMLINK, HB_TAR_OTHER } hb_tar_type_t;

typedef struct {
    hb_tar_type_t type;
    char          typeflag;          /* as in the header, for messages */
    char          name[HB_PATH_MAX]; /* as in the archive, NUL-terminated */
    char          link[HB_PATH_MAX]; /* symlink target */
    uint64_t      size;              /* data bytes that follow (regular files) */
    uint32_t      mode;              /* permission bits (07777) */
    int64_t       mtime;
    /* Read, never written (the writer puts 0): the owner as numbers (the
     * header or pax "uid"/"gid"; names are ignored). A hard link ('1') is
     * HB_TAR_OTHER with its target in link; image import uses both. */
    uint32_t      uid, gid;
} hb_tar_entry_t;

/* ---- reading ---- */

/* Callbacks of the reader; a non-zero return stops it (hb_tar_feed -1). */
typedef struct {
    int (*entry)(void *ud, const hb_tar_entry_t *e);          /* a header */
    int (*data)(void *ud, const void *p, size_t n);           /* its data, in pieces */
    int (*entry_end)(void *ud);                               /* all of its data seen */
} hb_tar_cb_t;

typedef struct hb_tar_reader hb_tar_reader_t;

hb_tar_reader_t *hb_tar_reader_new(void);
void hb_tar_reader_free(hb_tar_reader_t *r);
/* Feed the next len bytes. 0: more wanted; 1: the end-of-archive blocks
 * were seen (anything after them is ignored); -1: malformed input (see
 * hb_tar_error) or a callback said stop. */
int hb_tar_feed(hb_tar_reader_t *r, const void *data, size_t len, const hb_tar_cb_t *cb,
                void *ud);
/* The input ended: 0 if the archive is complete (end blocks seen, or it
 * stopped at an entry boundary), -1 if it was cut. */
int hb_tar_finish(hb_tar_reader_t *r);
/* Why the last -1 (static or in r); "" after a callback's stop. */
const char *hb_tar_error(const hb_tar_reader_t *r);

/* ---- writing ---- */

/* Receives archive bytes; non-zero stops the writer. */
typedef int (*hb_tar_sink_fn)(void *ud, const void *p, size_t n);

/* The header block(s) of e. -1 when e cannot be written (a name or target
 * of HB_PATH_MAX bytes or more) or the sink stopped. */
int hb_tar_put_header(const hb_tar_entry_t *e, hb_tar_sink_fn sink, void *ud);
/* Zeros after size data bytes, up to the next block. */
int hb_tar_put_pad(uint64_t size, hb_tar_sink_fn sink, void *ud);
/* The two zero blocks that end an archive. */
int hb_tar_put_end(hb_tar_sink_fn sink, void *ud);

/* ---- names ---- */

/* Check an entry name and write its clean relative form into out: no
 * leading "/" (absolute names are refused, not stripped), no ".." component,
 * "." and empty components dropped, at most HB_PATH_MAX - 1 bytes and
 * 255 per component. "" means the top itself ("." or "./"). 0, or -1 with
 * *why set to a static reason. */
int hb_tar_clean_name(const char *name, char *out, size_t cap, const char **why);

#endif
