/* The warm pool's bookkeeping (see pool.h). */
#include "pool.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"    /* hb_cg_shm_bytes */
#include "hoststat.h"
#include "log.h"
#include "metrics_prom.h"

static int bad(hb_err_t *e, const char *item, const char *why)
{
    return hb_fail(e, HB_E_INVALID, 0, "--pool: '%.64s': %s (expected image:network=N, "
                   "comma-separated)", item, why);
}

/* One "image:network=N". */
static int parse_item(hb_wpool_slot_t *s, char *item, hb_err_t *e)
{
    char *colon = strchr(item, ':'), *eq = strrchr(item, '=');
    if (!colon || !eq || eq < colon)
        return bad(e, item, "missing ':' or '='");
    *colon = *eq = '\0';
    char *end = NULL;
    errno = 0;
    unsigned long n = strtoul(eq + 1, &end, 10);
    if (!hb_name_valid(item))
        return bad(e, item, "not an image name");
    hb_spec_t sp;
    hb_spec_defaults(&sp);
    if (hb_spec_set_network(&sp, colon + 1, NULL) < 0)
        return bad(e, colon + 1, "network must be none, isolated, shared or shared:<group>");
    if (errno || !end || *end || end == eq + 1 || n > HB_WPOOL_MAX_N)
        return bad(e, eq + 1, "count must be 0-64");
    snprintf(s->image, sizeof s->image, "%s", item);
    snprintf(s->network, sizeof s->network, "%s", colon + 1);
    snprintf(s->net_group, sizeof s->net_group, "%s", sp.net_group);
    s->net_mode = sp.net_mode;
    s->target = (uint32_t)n;
    return 0;
}

int hb_wpool_parse(hb_wpool_t *p, const char *text, hb_err_t *e)
{
    p->n = 0;
    if (!text || !text[0] || strcmp(text, "0") == 0)
        return 0;
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return hb_fail(e, HB_E_INVALID, 0, "--pool: too long (at most %zu bytes)",
                       sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *it = strtok_r(buf, ",", &save); it; it = strtok_r(NULL, ",", &save)) {
        if (p->n == HB_WPOOL_SLOTS)
            return hb_fail(e, HB_E_INVALID, 0, "--pool: at most %d entries", HB_WPOOL_SLOTS);
        hb_wpool_slot_t *s = &p->slot[p->n];
        memset(s, 0, sizeof *s);
        if (parse_item(s, it, e) < 0)
            return -1;
        for (size_t i = 0; i < p->n; i++)
            if (strcmp(p->slot[i].image, s->image) == 0 && p->slot[i].net_mode == s->net_mode &&
                strcmp(p->slot[i].net_group, s->net_group) == 0)
                return bad(e, it, "listed twice");
        p->n++;
    }
    return 0;
}

int64_t hb_wpool_failed(hb_wpool_slot_t *s, int64_t now_ms)
{
    int64_t wait = HB_WPOOL_RETRY_MS;
    for (uint32_t i = 0; i < s->failures && wait < HB_WPOOL_RETRY_MAX_MS; i++)
        wait *= 2;
    if (wait > HB_WPOOL_RETRY_MAX_MS)
        wait = HB_WPOOL_RETRY_MAX_MS;
    if (s->failures < UINT32_MAX)
        s->failures++;
    s->retry_ms = now_ms + wait;
    return wait;
}

/* What the launch fixed and adoption cannot change (sandbox_adopt.c). */
static bool launch_fits(const hb_msg_t *q)
{
    if (q->skills)
        return false;   /* a list of its own; none given means every skill, as the pool's */
    hb_spec_t def, req;
    hb_spec_defaults(&def);
    hb_spec_defaults(&req);
    if (q->memory)
        req.memory_bytes = q->memory_bytes;
    return hb_cg_shm_bytes(&def) == hb_cg_shm_bytes(&req);
}

int hb_wpool_match(hb_wpool_t *p, const hb_msg_t *q)
{
    if (!p->n)
        return -1;
    hb_spec_t sp;
    hb_spec_defaults(&sp);
    const char *image = q->image && q->image[0] ? q->image : "base";
    bool net_ok = !q->network || hb_spec_set_network(&sp, q->network, NULL) == 0;
    for (size_t i = 0; net_ok && launch_fits(q) && i < p->n; i++) {
        hb_wpool_slot_t *s = &p->slot[i];
        if (s->target && strcmp(s->image, image) == 0 && s->net_mode == sp.net_mode &&
            strcmp(s->net_group, sp.net_group) == 0)
            return (int)i;
    }
    p->misses++;
    return -1;
}

double hb_wpool_psi_some10(const char *text)
{
    const char *l = text ? strstr(text, "some ") : NULL;
    const char *a = l ? strstr(l, "avg10=") : NULL;
    if (!a)
        return -1.0;
    char *end = NULL;
    double v = strtod(a + 6, &end);
    return end == a + 6 ? -1.0 : v;
}

bool hb_wpool_pressed(hb_wpool_t *p, int64_t now_ms)
{
    if (now_ms < p->next_check_ms)
        return p->pressed;
    p->next_check_ms = now_ms + HB_WPOOL_CHECK_MS;
    char buf[8192];
    uint64_t total = 0, used = 0;
    bool low = hb_read_small_file(p->meminfo, buf, sizeof buf) > 0 &&
               hb_parse_meminfo(buf, &total, &used) == 0 && total - used < p->min_available;
    double psi = hb_read_small_file(p->psi, buf, sizeof buf) > 0
                     ? hb_wpool_psi_some10(buf) : -1.0;
    bool pressed = low || psi > p->max_pressure;
    if (pressed != p->pressed)
        HB_LOG_WARN("pool: memory %s (MemAvailable %llu MiB, PSI some avg10 %.2f)",
                    pressed ? "short: shrinking the pool" : "available again: refilling",
                    (unsigned long long)((total - used) >> 20), psi);
    p->pressed = pressed;
    return pressed;
}

char *hb_wpool_prom(const hb_wpool_t *p, size_t *len)
{
    hb_prom_t t;
    hb_prom_init(&t);
    static const struct {
        const char *name, *type, *help;
    } heads[] = {
        {"hivebox_pool_ready", "gauge", "Warm-pool sandboxes ready to be taken."},
        {"hivebox_pool_target", "gauge", "Warm-pool size asked for by --pool."},
        {"hivebox_pool_hits_total", "counter", "Creates served from the warm pool."},
        {"hivebox_pool_empty_total", "counter",
         "Creates that matched a pool entry while it had no ready sandbox."},
    };
    for (size_t h = 0; h < 4; h++) {
        hb_prom_head(&t, heads[h].name, heads[h].type, heads[h].help);
        for (size_t i = 0; i < p->n; i++) {
            const hb_wpool_slot_t *s = &p->slot[i];
            const char *l[4] = {"image", s->image, "network", s->network};
            double v = h == 0 ? s->ready : h == 1 ? s->target : h == 2 ? (double)s->hits
                                                                       : (double)s->misses;
            hb_prom_sample(&t, heads[h].name, l, 2, v);
        }
    }
    hb_prom_head(&t, "hivebox_pool_misses_total", "counter",
                 "Creates the warm pool could not serve (no pool entry matched, or it was "
                 "empty): they took the full create path.");
    uint64_t empty = 0;
    for (size_t i = 0; i < p->n; i++)
        empty += p->slot[i].misses;
    hb_prom_plain(&t, "hivebox_pool_misses_total", (double)(p->misses + empty));
    hb_prom_head(&t, "hivebox_pool_shrunk_total", "counter",
                 "Warm-pool sandboxes destroyed because host memory was short.");
    hb_prom_plain(&t, "hivebox_pool_shrunk_total", (double)p->shrunk);
    hb_prom_head(&t, "hivebox_pool_memory_pressure", "gauge",
                 "1 while the pool holds back because host memory is short.");
    hb_prom_plain(&t, "hivebox_pool_memory_pressure", p->pressed);
    return hb_prom_take(&t, len);
}

char *hb_wpool_json(const hb_wpool_t *p, size_t *len)
{
    json_t *slots = json_array();
    uint64_t hits = 0, empty = 0;
    for (size_t i = 0; slots && i < p->n; i++) {
        const hb_wpool_slot_t *s = &p->slot[i];
        hits += s->hits;
        empty += s->misses;
        json_array_append_new(slots, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "image",
                                               s->image, "network", s->network, "target",
                                               (json_int_t)s->target, "ready", (json_int_t)s->ready,
                                               "starting", (json_int_t)s->starting, "hits",
                                               (json_int_t)s->hits, "empty", (json_int_t)s->misses));
    }
    uint64_t missed = p->misses + empty;
    json_t *o = json_pack("{s:o, s:I, s:I, s:I, s:b}", "entries", slots, "hits", (json_int_t)hits,
                          "misses", (json_int_t)missed, "shrunk",
                          (json_int_t)p->shrunk, "memory_pressure", p->pressed);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text)
        *len = strlen(text);
    return text;
}
