/* A build's log (gw_image_build.c): every step's command and output, held
 * in memory up to HB_BUILD_LOG_MAX (then one truncation note), and the tail
 * of the running step's output for the error of a step that fails. Kept
 * with the image as <data>/images/<name>/build.log once it exists. */
#ifndef HB_BUILD_LOG_H
#define HB_BUILD_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"

#define HB_BUILD_LOG_MAX  (4u << 20)
#define HB_BUILD_TAIL_MAX 2048

typedef struct {
    char  *buf;                       /* grows up to HB_BUILD_LOG_MAX + the note */
    size_t len, cap;
    bool   cut;                       /* the note is written; nothing more goes in */
    char   tail[HB_BUILD_TAIL_MAX];   /* the current step's last bytes */
    size_t tail_len;
} hb_build_log_t;

void hb_build_log_init(hb_build_log_t *l);
void hb_build_log_free(hb_build_log_t *l);
/* Append bytes (silently bounded: past the cap the note, then nothing).
 * step_output also feeds the tail. */
void hb_build_log_add(hb_build_log_t *l, const void *data, size_t len, bool step_output);
void hb_build_log_printf(hb_build_log_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A new step: the tail starts empty. */
void hb_build_log_step(hb_build_log_t *l);
/* The tail as valid text (NUL-free, malloc'd; NULL when out of memory). */
char *hb_build_log_tail(const hb_build_log_t *l);
/* Write it to <data_dir>/images/<name>/build.log (temp + rename). */
int  hb_build_log_save(const hb_build_log_t *l, const char *data_dir, const char *name,
                       hb_err_t *e);

#endif
