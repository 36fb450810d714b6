#ifndef HB_RECORD_H
#define HB_RECORD_H
#include "runtime.h"
#include <sys/types.h>
/* Write <dir>/<name> atomically (temp file, then rename) with the given mode. */
int hb_write_atomic(const char *dir, const char *name, const void *buf, size_t len, mode_t mode,
                    hb_err_t *e);
int hb_record_save(const hb_sandbox_t *sb, hb_err_t *e);
/* Fill sb from its record (HB_SBDIR_RECORD in sb->dir); sb->dir must be set. */
int hb_record_load(hb_sandbox_t *sb, hb_err_t *e);
#endif
