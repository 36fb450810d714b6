/* Directory trees in and out of a sandbox as tar streams (GET/PUT
 * .../files/archive). Init makes and unpacks the archive inside the sandbox
 * (tools/init/agent/agent_archive.c, rules in tar_x.h); the daemon only streams bytes
 * between the caller and init, a chunk at a time. */
#ifndef HB_FILES_ARCHIVE_H
#define HB_FILES_ARCHIVE_H

#include "runtime.h"

/* A tar of path (entries named after its last component) to sink. on_start
 * is called once, when the first bytes are there: a failure before it is an
 * ordinary error (ENOENT: HB_E_NOTFOUND ...); after it the stream is broken
 * off (-1, e set) and the caller must not end it as if complete. */
int hb_archive_get(const hb_sandbox_t *sb, const char *path, int (*on_start)(void *ud),
                   hb_sink_cb sink, void *ud, hb_err_t *e);

/* Extract the tar read from src into the directory path (made, with its
 * parents, when missing). max bounds the archive's bytes (HB_E_TOOBIG);
 * *size gets them. A refused entry is HB_E_INVALID naming it. */
int hb_archive_put(const hb_sandbox_t *sb, const char *path, uint64_t max, hb_src_cb src,
                   void *ud, uint64_t *size, hb_err_t *e);

#endif
