/* The Prometheus text format writer (see metrics_prom.h). */
#include "metrics_prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hb_prom_init(hb_prom_t *p)
{
    memset(p, 0, sizeof *p);
}

void hb_prom_free(hb_prom_t *p)
{
    free(p->buf);
    hb_prom_init(p);
}

char *hb_prom_take(hb_prom_t *p, size_t *len)
{
    if (!p->oom && !p->buf)
        hb_prom_append(p, "", 0);   /* an empty page is "", not NULL */
    char *s = p->oom ? NULL : p->buf;
    if (s)
        *len = p->len;
    else
        free(p->buf);
    hb_prom_init(p);
    return s;
}

static bool reserve(hb_prom_t *p, size_t more)
{
    if (p->oom)
        return false;
    if (p->len + more + 1 <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < p->len + more + 1)
        cap *= 2;
    char *b = realloc(p->buf, cap);
    if (!b) {
        p->oom = true;
        return false;
    }
    p->buf = b;
    p->cap = cap;
    return true;
}

void hb_prom_append(hb_prom_t *p, const char *s, size_t n)
{
    if (!reserve(p, n))
        return;
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void put(hb_prom_t *p, const char *s)
{
    hb_prom_append(p, s, strlen(s));
}

void hb_prom_printf(hb_prom_t *p, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        hb_prom_append(p, small, (size_t)n);
        return;
    }
    if (!reserve(p, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(p->buf + p->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    p->len += (size_t)n;
}

/* Escape \ and newline, and " too in label values. */
static void escaped(hb_prom_t *p, const char *v, bool quote)
{
    for (const char *s = v ? v : ""; *s; s++) {
        if (*s == '\\')
            put(p, "\\\\");
        else if (*s == '\n')
            put(p, "\\n");
        else if (*s == '"' && quote)
            put(p, "\\\"");
        else
            hb_prom_append(p, s, 1);
    }
}

void hb_prom_escape(hb_prom_t *p, const char *v)
{
    escaped(p, v, true);
}

void hb_prom_head(hb_prom_t *p, const char *name, const char *type, const char *help)
{
    hb_prom_printf(p, "# HELP %s ", name);
    escaped(p, help, false);
    hb_prom_printf(p, "\n# TYPE %s %s\n", name, type);
}

void hb_prom_value(hb_prom_t *p, double v)
{
    if (isnan(v))
        put(p, "NaN");
    else if (isinf(v))
        put(p, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        hb_prom_printf(p, "%.0f", v);
    else
        hb_prom_printf(p, "%.17g", v);
}

void hb_prom_sample(hb_prom_t *p, const char *name, const char *const *labels, size_t n_labels,
                    double v)
{
    put(p, name);
    for (size_t i = 0; i < n_labels; i++) {
        put(p, i ? ",": "{");
        put(p, labels[2 * i]);
        put(p, "=\"");
        hb_prom_escape(p, labels[2 * i + 1]);
        put(p, "\"");
    }
    put(p, n_labels ? "} " : " ");
    hb_prom_value(p, v);
    put(p, "\n");
}

void hb_prom_plain(hb_prom_t *p, const char *name, double v)
{
    hb_prom_sample(p, name, NULL, 0, v);
}

void hb_prom_one(hb_prom_t *p, const char *name, const char *key, const char *val, double v)
{
    const char *l[2] = {key, val};
    hb_prom_sample(p, name, l, 1, v);
}

void hb_prom_hist_init(hb_prom_hist_t *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n = n < HB_PROM_BUCKETS_MAX ? n : HB_PROM_BUCKETS_MAX;
}

void hb_prom_hist_observe(hb_prom_hist_t *h, double v)
{
    size_t i = 0;
    while (i < h->n && v > h->bounds[i])
        i++;
    h->counts[i]++;
    h->sum += v;
    h->count++;
}

void hb_prom_hist(hb_prom_t *p, const char *name, const char *help, const hb_prom_hist_t *h)
{
    char bucket[128], le[32];
    hb_prom_head(p, name, "histogram", help);
    snprintf(bucket, sizeof bucket, "%s_bucket", name);
    uint64_t cum = 0;
    for (size_t i = 0; i <= h->n; i++) {
        cum += h->counts[i];
        if (i < h->n)
            snprintf(le, sizeof le, "%.15g", h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        hb_prom_one(p, bucket, "le", le, (double)cum);
    }
    hb_prom_printf(p, "%s_sum ", name);
    hb_prom_value(p, h->sum);
    hb_prom_printf(p, "\n%s_count %llu\n", name, (unsigned long long)h->count);
}
