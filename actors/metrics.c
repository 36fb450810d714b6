/* The metrics actor (see metrics.h). */
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hoststat.h"
#include "json_out.h"   /* issue 19: hb_json_sample, hb_json_text */
#include "metrics_page.h"

#define FIRST_SAMPLE_MS 2000
/* A report older than this is of a supervisor that stopped reporting: past
 * two of an idle sandbox's report intervals. */
#define STALE_S (2 * HB_USAGE_IDLE_S + HB_METRICS_INTERVAL_S)
#define PRUNE_S (30 * HB_METRICS_INTERVAL_S)
/* Per-sandbox rows the history keeps in all (~150 bytes each): 24 h of
 * samples of 10,000 sandboxes would be 86 million rows (13 GB) and an
 * analytics answer no client could take. Past the budget the oldest samples
 * lose their rows and keep their counts and host figures (issue 19). */
#define ROWS_MAX 100000

typedef hb_met_usage_t usage_t;

typedef struct {
    zsock_t       *inbox, *pub;
    hb_met_figs_t  figs;    /* counters and last usage for GET /metrics (metrics_page.h) */
    zhashx_t      *usage;   /* = figs.usage: id -> usage_t*, owned there */
    hb_sample_t   *ring;    /* HB_METRICS_RING slots */
    /* issue 19: each slot's JSON for GET /analytics, rendered at the first
     * request that wants it (a sample never changes, only loses its rows),
     * freed with the slot or its rows; owned. */
    char         **text;
    size_t        *text_len;
    size_t         head, count;
    size_t         rows;    /* per-sandbox rows in the ring, at most ROWS_MAX */
    hb_cpu_times_t cpu_prev;
    int64_t        next_ms;
} met_t;

/* ---- sampling ---- */

static void host_figures(met_t *m, hb_sample_t *s)
{
    char buf[8192];
    if (hb_read_small_file("/proc/meminfo", buf, sizeof buf) > 0)
        hb_parse_meminfo(buf, &s->host_memory_total, &s->host_memory_used);
    hb_cpu_times_t cur;
    if (hb_read_small_file("/proc/stat", buf, sizeof buf) > 0 && hb_parse_proc_stat(buf, &cur) == 0) {
        s->host_cpu_percent = m->cpu_prev.total ? hb_cpu_percent(&m->cpu_prev, &cur) : 0.0;
        m->cpu_prev = cur;
    }
}

static int build_sample(met_t *m, hb_sample_t *s)
{
    memset(s, 0, sizeof *s);
    s->timestamp = time(NULL);
    host_figures(m, s);
    size_t n = zhashx_size(m->usage);
    if (n && !(s->sandboxes = calloc(n, sizeof *s->sandboxes)))
        return -1;
    for (usage_t *u = zhashx_first(m->usage); u; u = zhashx_next(m->usage)) {
        if (s->timestamp - u->at > STALE_S)
            continue;   /* a supervisor that stopped reporting is not counted */
        hb_sample_sb_t *d = &s->sandboxes[s->sandboxes_n];
        *d = u->u;
        d->id = strdup(u->u.id);
        if (!d->id)
            return -1;
        s->sandboxes_n++;
    }
    s->sandbox_count = s->sandboxes_n;
    return 0;
}

static void publish_frame(met_t *m, const char *topic, const void *data, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, topic);
    zmsg_addmem(msg, data, len);
    zmsg_send(&msg, m->pub);   /* PUB drops rather than blocks */
}

/* A report that came after its sandbox's USAGE_DROP (the supervisor and
 * the manager are different senders) would stay forever: reports not
 * renewed for PRUNE_S go. */
static void prune_usage(met_t *m, int64_t now)
{
    zlist_t *old = zlist_new();
    for (usage_t *u = zhashx_first(m->usage); old && u; u = zhashx_next(m->usage))
        if (now - u->at > PRUNE_S)
            zlist_append(old, (void *)zhashx_cursor(m->usage));
    for (const char *id = old ? zlist_first(old) : NULL; id; id = zlist_next(old))
        zhashx_delete(m->usage, id);
    zlist_destroy(&old);
}

static void drop_text(met_t *m, const hb_sample_t *s)
{
    size_t i = (size_t)(s - m->ring);
    free(m->text[i]);
    m->text[i] = NULL;
    m->text_len[i] = 0;
}

static void drop_rows(met_t *m, hb_sample_t *s)
{
    drop_text(m, s);
    hb_sample_t rows = {.sandboxes = s->sandboxes, .sandboxes_n = s->sandboxes_n};
    m->rows -= s->sandboxes_n;
    hb_sample_clear(&rows);   /* the rows and what they own, nothing else */
    s->sandboxes = NULL;
    s->sandboxes_n = 0;
}

/* Oldest first, until the ring is within ROWS_MAX; the newest sample keeps
 * its rows whatever its size (/metrics and the dashboard read it). */
static void trim_rows(met_t *m)
{
    size_t first = (m->head + HB_METRICS_RING - m->count) % HB_METRICS_RING;
    for (size_t i = 0; m->rows > ROWS_MAX && i + 1 < m->count; i++)
        drop_rows(m, &m->ring[(first + i) % HB_METRICS_RING]);
}

static void take_sample(met_t *m)
{
    prune_usage(m, time(NULL));
    hb_sample_t *slot = &m->ring[m->head];
    m->rows -= slot->sandboxes_n;
    hb_sample_clear(slot);
    drop_text(m, slot);
    if (build_sample(m, slot) < 0) {
        hb_sample_clear(slot);
        HB_LOG_ERROR("metrics: out of memory taking a sample");
        return;
    }
    m->rows += slot->sandboxes_n;
    m->head = (m->head + 1) % HB_METRICS_RING;
    if (m->count < HB_METRICS_RING)
        m->count++;
    m->figs.last = slot;
    trim_rows(m);
    void *buf;
    size_t len;
    if (hb_sample_encode(slot, &buf, &len) == 0) {
        publish_frame(m, "metrics.sample", buf, len);
        m->figs.samples_published++;
        free(buf);
    }
}

/* ---- requests ---- */

static void on_usage(met_t *m, const hb_msg_t *q)
{
    if (!q->id || q->usage_n != 1)
        return;
    usage_t *u = calloc(1, sizeof *u);
    if (!u)
        return;
    u->u = q->usage[0];
    u->u.id = strdup(q->id);
    u->at = time(NULL);
    if (!u->u.id) {
        free(u);
        return;
    }
    zhashx_update(m->usage, q->id, u);
}

static void on_analytics(met_t *m, const hb_msg_t *q)
{
    int64_t since = q->range_s ? (int64_t)time(NULL) - (int64_t)q->range_s : INT64_MIN;
    hb_msg_t rep = {.type = HB_MSG_R_SAMPLES};
    if (m->count && !(rep.samples = calloc(m->count, sizeof *rep.samples))) {
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
        return;
    }
    size_t first = (m->head + HB_METRICS_RING - m->count) % HB_METRICS_RING;
    for (size_t i = 0; i < m->count; i++) {
        const hb_sample_t *s = &m->ring[(first + i) % HB_METRICS_RING];
        if (s->timestamp < since)
            continue;
        if (hb_sample_copy(&rep.samples[rep.samples_n], s) < 0)
            break;
        rep.samples_n++;
    }
    hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
}

/* A slot's JSON, rendered now if it was not yet; NULL on OOM. */
static const char *sample_text(met_t *m, size_t i, size_t *len)
{
    if (!m->text[i]) {
        json_t *j = hb_json_sample(&m->ring[i]);
        m->text[i] = j ? hb_json_text(j, &m->text_len[i]) : NULL;
        json_decref(j);
    }
    *len = m->text_len[i];
    return m->text[i];
}

/* The slots of the history taken at or after since, oldest first, into
 * idx; how many. */
static size_t slots_since(const met_t *m, int64_t since, size_t *idx)
{
    size_t first = (m->head + HB_METRICS_RING - m->count) % HB_METRICS_RING, n = 0;
    for (size_t k = 0; k < m->count; k++) {
        size_t i = (first + k) % HB_METRICS_RING;
        if (m->ring[i].timestamp >= since)
            idx[n++] = i;
    }
    return n;
}

/* issue 19: what hb_json_samples makes of ANALYTICS's answer, byte for byte,
 * from the slots' rendered text: no copy, encoding, decoding or JSON tree
 * per row and request. One buffer of the exact size: the answer is
 * megabytes at thousands of sandboxes, and every copy of it costs. */
static void on_analytics_text(met_t *m, const hb_msg_t *q)
{
    int64_t since = q->range_s ? (int64_t)time(NULL) - (int64_t)q->range_s : INT64_MIN;
    static const char head[] = "{\"samples\":[";
    char tail[48];
    int tlen = snprintf(tail, sizeof tail, "],\"interval_secs\":%d}", HB_METRICS_INTERVAL_S);
    size_t *idx = malloc((m->count ? m->count : 1) * sizeof(size_t));
    size_t n = idx ? slots_since(m, since, idx) : 0;
    size_t size = sizeof head - 1 + (size_t)tlen + (n ? n - 1 : 0);   /* + the commas */
    bool oom = !idx;
    for (size_t k = 0; !oom && k < n; k++) {
        size_t len = 0;
        oom = !sample_text(m, idx[k], &len);
        size += len;
    }
    /* past what the bus carries: never at ROWS_MAX (~30 MB) */
    char *buf = oom || size > HB_MSG_BIN_MAX ? NULL : malloc(size);
    if (buf) {
        char *at = mempcpy(buf, head, sizeof head - 1);
        for (size_t k = 0; k < n; k++) {
            if (k)
                *at++ = ',';
            at = mempcpy(at, m->text[idx[k]], m->text_len[idx[k]]);
        }
        memcpy(at, tail, (size_t)tlen);
    }
    free(idx);
    hb_bus_reply_text(q->reply_to, buf, size);   /* NULL: an out-of-memory error */
}

/* GET /metrics: this actor's section, rendered from what it holds. */
static void on_metrics_text(met_t *m, const hb_msg_t *q)
{
    size_t len = 0;
    char *text = hb_met_page(&m->figs, time(NULL), true, &len);
    if (text && len > HB_MSG_BIN_MAX) {
        /* Never at --max-sandboxes' bound (16,384 sandboxes make ~15 MB):
         * the bus carries at most HB_MSG_BIN_MAX; the page says what it
         * left out. */
        HB_LOG_WARN("metrics: page of %zu bytes; per-sandbox series left out", len);
        free(text);
        text = hb_met_page(&m->figs, time(NULL), false, &len);
    }
    hb_bus_reply_text(q->reply_to, text, len);
}

static void on_inbox(void *self, hb_msg_t *q, zframe_t *raw)
{
    met_t *m = self;
    if (q->type >= HB_MSG_EV_CREATED) {
        /* an event: its msgpack map is published exactly as received */
        publish_frame(m, hb_msg_name(q->type), zframe_data(raw), zframe_size(raw));
        hb_met_figs_event(&m->figs, q);
    } else if (q->type == HB_MSG_MET_STATE) {
        hb_met_figs_state(&m->figs, q->id, q->state);
    } else if (q->type == HB_MSG_METRICS_TEXT) {
        on_metrics_text(m, q);
    } else if (q->type == HB_MSG_USAGE) {
        on_usage(m, q);
    } else if (q->type == HB_MSG_USAGE_DROP && q->id) {
        zhashx_delete(m->usage, q->id);
    } else if (q->type == HB_MSG_ANALYTICS) {
        on_analytics(m, q);
    } else if (q->type == HB_MSG_ANALYTICS_TEXT) {
        on_analytics_text(m, q);
    } else {
        HB_LOG_WARN("metrics: unexpected %s", hb_msg_name(q->type));
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "unexpected request");
    }
}

/* A sample every interval, the first one soon after start. */
static int64_t sample_due(void *self)
{
    met_t *m = self;
    if (hb_now_ms() >= m->next_ms) {
        take_sample(m);
        m->next_ms += HB_METRICS_INTERVAL_S * 1000;
    }
    int64_t wait = m->next_ms - hb_now_ms();
    return wait > 0 ? wait : 0;
}

/* ---- the actor ---- */

static int setup(met_t *m, const hb_metrics_args_t *a, hb_err_t *e)
{
    int figs = hb_met_figs_init(&m->figs);
    m->usage = m->figs.usage;
    m->figs.stale_s = STALE_S;
    m->ring = calloc(HB_METRICS_RING, sizeof *m->ring);
    m->text = calloc(HB_METRICS_RING, sizeof *m->text);
    m->text_len = calloc(HB_METRICS_RING, sizeof *m->text_len);
    m->pub = zsock_new(ZMQ_PUB);
    if (figs < 0 || !m->ring || !m->text || !m->text_len || !m->pub)
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    if (!(m->inbox = hb_actor_inbox(a->ep.metrics, e)))
        return -1;
    if (zsock_bind(m->pub, "%s", a->events) < 0)
        return hb_fail(e, HB_E_INTERNAL, zmq_errno(), "events: cannot bind %s: %s", a->events,
                       zmq_strerror(zmq_errno()));
    return 0;
}

static void met_actor(zsock_t *pipe, void *arg)
{
    hb_metrics_args_t *a = arg;
    met_t m = {0};
    hb_err_t e = {0};
    int rc = setup(&m, a, &e);
    free(a);
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    m.next_ms = hb_now_ms() + FIRST_SAMPLE_MS;
    hb_loop_t loop = {.name = "metrics", .pipe = pipe, .inbox = m.inbox, .on_inbox = on_inbox,
                      .due = sample_due};
    if (rc == 0)
        hb_loop_run(&loop, &m, -1);
    for (size_t i = 0; m.ring && i < HB_METRICS_RING; i++)
        hb_sample_clear(&m.ring[i]);
    for (size_t i = 0; m.text && i < HB_METRICS_RING; i++)
        free(m.text[i]);
    free(m.text);
    free(m.text_len);
    free(m.ring);
    hb_met_figs_free(&m.figs);
    zsock_destroy(&m.inbox);
    zsock_destroy(&m.pub);
}

zactor_t *hb_metrics_new(const hb_metrics_args_t *args, hb_err_t *e)
{
    return hb_actor_start_copy("metrics", met_actor, args, sizeof *args, e);
}
