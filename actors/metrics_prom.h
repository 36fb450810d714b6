/* Writing the Prometheus text exposition format (version 0.0.4): a growing
 * buffer, # HELP / # TYPE heads, samples with escaped label values, and
 * histograms with fixed buckets. Pure functions of their input, so the
 * rendering is unit-tested (tests/unit/test_metrics_prom.c).
 *
 * Out of memory is sticky: every later call does nothing and
 * hb_prom_take returns NULL, so a renderer checks once at the end. */
#ifndef HB_METRICS_PROM_H
#define HB_METRICS_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HB_PROM_CTYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    char  *buf;   /* owned, NUL-terminated while not oom */
    size_t len, cap;
    bool   oom;
} hb_prom_t;

void hb_prom_init(hb_prom_t *p);
/* The text (caller frees) and its length; NULL if out of memory. p is
 * empty again either way. */
char *hb_prom_take(hb_prom_t *p, size_t *len);
void  hb_prom_free(hb_prom_t *p);

void hb_prom_append(hb_prom_t *p, const char *s, size_t n);
void hb_prom_printf(hb_prom_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help\n# TYPE name type\n"; help is escaped (\\ and \n). */
void hb_prom_head(hb_prom_t *p, const char *name, const char *type, const char *help);
/* A number as the format spells it: integers exactly up to 2^53, +Inf,
 * -Inf, NaN. */
void hb_prom_value(hb_prom_t *p, double v);
/* A label value escaped: backslash, double quote and newline. */
void hb_prom_escape(hb_prom_t *p, const char *v);
/* name{k1="v1",k2="v2"} v: labels are n_labels (key, value) pairs; 0 for none. */
void hb_prom_sample(hb_prom_t *p, const char *name, const char *const *labels, size_t n_labels,
                    double v);
/* The common case: no label, or one. */
void hb_prom_plain(hb_prom_t *p, const char *name, double v);
void hb_prom_one(hb_prom_t *p, const char *name, const char *key, const char *val, double v);

#define HB_PROM_BUCKETS_MAX 24

/* A histogram: counts per bucket (not cumulative here: rendering adds
 * them up), the sum and count of every observation. bounds are the upper
 * bounds, ascending, borrowed (a static table). */
typedef struct {
    const double *bounds;
    size_t        n;                              /* at most HB_PROM_BUCKETS_MAX */
    uint64_t      counts[HB_PROM_BUCKETS_MAX + 1]; /* [n]: above the last bound */
    double        sum;
    uint64_t      count;
} hb_prom_hist_t;

void hb_prom_hist_init(hb_prom_hist_t *h, const double *bounds, size_t n);
void hb_prom_hist_observe(hb_prom_hist_t *h, double v);
/* Its head, then name_bucket{le=...} (cumulative, +Inf last), name_sum, name_count. */
void hb_prom_hist(hb_prom_t *p, const char *name, const char *help, const hb_prom_hist_t *h);

#endif
