/* Shared by filesystem.Filesystem's handlers (e2b_fs.c, e2b_watch*.c):
 * protobuf EntryInfo values made from init's stat and listing answers. */
#ifndef HB_E2B_FS_H
#define HB_E2B_FS_H

#include "e2b_call.h"

/* The sandbox's /etc/passwd and /etc/group, read once per call (bounded),
 * to name owners as envd does; ids without a name are given as numbers. */
typedef struct {
    char *passwd, *group;   /* NUL-terminated; NULL when unreadable */
} hb_e2b_names_t;

void hb_e2b_names_load(const hb_lease_t *l, hb_e2b_names_t *n);
void hb_e2b_names_free(hb_e2b_names_t *n);

/* EntryInfo of path (a new reference): name, type, path, size, mode,
 * permissions, owner, group, modifiedTime. mtime in unix seconds. */
json_t *hb_e2b_entry(const hb_e2b_names_t *n, const char *path, hb_ftype_t type, uint64_t size,
                     uint32_t mode, uint32_t uid, uint32_t gid, int64_t mtime);
json_t *hb_e2b_entry_of_stat(const hb_e2b_names_t *n, const char *path, const hb_stat_t *st);
/* Stat path (a last symlink not followed) into its EntryInfo: NULL with *e. */
json_t *hb_e2b_stat_entry(const hb_lease_t *l, const hb_e2b_names_t *n, const char *path,
                          hb_err_t *e);
/* The enum name of a file type ("FILE_TYPE_FILE", ...). */
const char *hb_e2b_ftype(hb_ftype_t t);
/* A failed call's answer: a dead sandbox said so (hb_lease_explain_gone). */
int hb_e2b_fs_fail(hb_e2b_call_t *k, hb_err_t *e, const char *what);
/* A required string field of the request: NULL after answering
 * invalid_argument naming it (*status: the status sent). */
const char *hb_e2b_str_field(hb_e2b_call_t *k, const char *field, int *status);

#endif
