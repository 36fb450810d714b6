/* Shared by the /files routes of the in-sandbox plane (e2b_files.c,
 * e2b_files_upload.c): the query, and envd's JSON error shape. */
#ifndef HB_E2B_FILES_H
#define HB_E2B_FILES_H

#include "e2b_call.h"

typedef struct {
    char path[HB_PATH_MAX];        /* ?path= as given ("" when absent) */
    bool has_path;
    char username[HB_USER_MAX + 1];   /* ?username= as given ("" when absent) */
    const char *user;              /* who the call acts as: username, else k->user */
} hb_e2b_files_q_t;

/* envd's error answer: the status, and {"code": status, "message"}. */
int hb_e2b_files_fail(hb_e2b_call_t *k, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int hb_e2b_files_fail_err(hb_e2b_call_t *k, hb_err_t *e);
/* POST /files (e2b_files_upload.c). */
int hb_e2b_files_upload(hb_e2b_call_t *k, const hb_e2b_files_q_t *q);

#endif
