/* The sandbox manager actor (see manager.h). */
#include "manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fdbudget.h" /* --max-sandboxes within the open-file limit */
#include "proxy.h"   /* hb_proxy_sandbox_kill */
#include "skills.h"  /* hb_skills_list, hb_catitems_free */
#include "supervisor.h"
#include "sup_host.h"      /* issue 19: supervisors pooled on host threads */
#include "image_layer.h"   /* issue 17: layered images */
#include "pool.h"          /* issue 19: the warm pool */
#include "list_query.h"    /* issue 19: SB_LIST picks and pages */
#include "list_row.h"      /* issue 19: list rows kept rendered */

#define ATTACH_WAIT_MS 30000
#define IMAGES_MAX     256    /* entries of GET /api/v1/images */

typedef enum { E_CREATING, E_RUNNING, E_DESTROYING } ent_state_t;

typedef struct {
    char        id[HB_ID_MAX];
    ent_state_t state;
    hb_sup_ref_t sup;        /* its supervisor: a unit on one of m->hosts */
    hb_sbinfo_t info;        /* valid once running */
    char        inbox[128];
    uint64_t    mem;         /* its memory limit, counted by admission */
    int64_t     t0_ms;       /* its create began (sandbox.create_failed's duration_ms) */
    /* A restore to this image was sent (issue 17): until the sandbox's next
     * description says what it runs on, the image may not be deleted. */
    char        restoring[HB_ID_MAX];
    int         pool_slot;   /* issue 19: >= 0 while it is a warm-pool sandbox (nobody's) */
    char        pool_id[HB_ID_MAX];   /* issue 19: its pooled id, renamed by a named create */
    hb_list_row_t row;       /* issue 19: its list row as text; emptied when info changes */
} entry_t;

typedef struct {
    const hb_runtime_t *rt;
    hb_endpoints_t ep;
    hb_sup_hosts_t *hosts;   /* owned: the supervisor host threads */
    zsock_t  *inbox, *reaper, *met;
    zhashx_t *entries;       /* id -> entry_t*, owned */
    /* recovery: the ids re-attached, and how many of them have reported */
    char    **attach_ids;
    size_t    attach_n, attach_at;
    uint64_t  gen;
    char      image_state[16];   /* ready | building | failed */
    char      image_progress[256];
    hb_limits_t limits;
    uint64_t  host_mem;      /* MemTotal */
    hb_wpool_t pool;         /* issue 19 */
} mgr_t;

static void entry_free(void **item)
{
    entry_t *en = *item;
    if (!en)
        return;
    hb_sbinfo_clear(&en->info);
    hb_list_row_clear(&en->row);
    free(en);
    *item = NULL;
}

static entry_t *find(mgr_t *m, const char *id) { return id ? zhashx_lookup(m->entries, id) : NULL; }

static void publish(mgr_t *m, hb_msg_t *ev)
{
    ev->timestamp = time(NULL);
    hb_bus_send(m->met, ev);
}

/* The metrics actor counts sandboxes by state from these (NULL: gone). */
static void tell_state(mgr_t *m, const char *id, const char *state)
{
    hb_msg_t s = {.type = HB_MSG_MET_STATE, .id = (char *)id, .state = (char *)state};
    hb_bus_send(m->met, &s);   /* s borrows */
}

static uint64_t since_ms(int64_t t0)
{
    int64_t d = hb_now_ms() - t0;
    return t0 > 0 && d > 0 ? (uint64_t)d : 0;
}

/* The cause label of hivebox_sandbox_create_failures_total (the event's reason). */
static const char *cause_of(hb_errcode_t code)
{
    switch (code) {
    case HB_E_INVALID: return "invalid";
    case HB_E_NOTFOUND: return "not_found";
    case HB_E_EXISTS: return "name_taken";
    case HB_E_UNAVAIL: return "capacity";
    case HB_E_LIMIT: return "limit";
    case HB_E_NOSPACE: return "no_space";
    case HB_E_NOTSUP: return "unsupported";
    case HB_E_INTERNAL: return "internal";
    default: return "other";
    }
}

static void create_failed(mgr_t *m, const char *id, const char *cause, hb_errcode_t code,
                          const char *error, int64_t t0)
{
    hb_msg_t ev = {.type = HB_MSG_EV_CREATE_FAILED, .id = (char *)id, .reason = (char *)cause,
                   .code = (int64_t)code, .error = (char *)error, .duration_ms = since_ms(t0)};
    publish(m, &ev);   /* ev borrows */
}

/* ---- create ---- */

static int random_id(mgr_t *m, char *out, size_t len)
{
    for (int tries = 0; tries < 16; tries++) {
        uint32_t r;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            return -1;
        snprintf(out, len, "hb-%08x", r);
        if (!find(m, out))
            return 0;
    }
    return -1;
}

static bool image_blocked(mgr_t *m, const hb_msg_t *q)
{
    if (q->image && strcmp(q->image, "base") != 0)
        return false;
    if (strcmp(m->image_state, "ready") == 0)
        return false;
    if (strcmp(m->image_state, "failed") == 0)
        hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL, "the default image 'base' failed to build: %s",
                           m->image_progress);
    else
        hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL,
                           "the default image 'base' is being built; try again shortly (%s)",
                           m->image_progress[0] ? m->image_progress : "starting");
    return true;
}

/* NULL with *e if the supervisor could not start; it owns sb and create in
 * every case. */
static entry_t *spawn(mgr_t *m, const char *id, hb_sandbox_t *sb, hb_msg_t *create, int pool_slot,
                      hb_err_t *e)
{
    entry_t *en = calloc(1, sizeof *en);
    hb_sup_args_t *a = calloc(1, sizeof *a);
    if (!en || !a) {
        free(en);
        free(a);
        hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
        return NULL;
    }
    snprintf(en->id, sizeof en->id, "%s", id);
    en->state = E_CREATING;
    en->pool_slot = pool_slot;
    a->pooled = pool_slot >= 0;
    en->mem = create ? create->memory_bytes : sb ? sb->spec.memory_bytes : 0;
    a->ep = m->ep;
    a->rt = m->rt;
    a->gen = ++m->gen;
    a->sb = sb;
    snprintf(a->id, sizeof a->id, "%s", id);
    if (create) {
        a->create = *create;   /* moved */
        memset(create, 0, sizeof *create);
    }
    if (hb_sup_spawn(m->hosts, a, &en->sup, e) < 0) {   /* owns a from here, even on failure */
        free(en);
        return NULL;
    }
    zhashx_insert(m->entries, en->id, en);
    return en;
}

/* Every sandbox counts, whatever its state: one being destroyed still
 * holds its memory until it is gone. */
static bool over_limits(mgr_t *m, const hb_msg_t *q)
{
    uint64_t sum = 0, count = 0;
    for (entry_t *en = zhashx_first(m->entries); en; en = zhashx_next(m->entries))
        if (en->pool_slot < 0) {   /* issue 19: the pool yields (pool_yield) */
            sum += en->mem;
            count++;
        }
    hb_err_t e = {0};
    if (hb_limits_admit(&m->limits, m->host_mem, count, sum, q->memory_bytes, &e) == 0)
        return false;
    HB_LOG_WARN("manager: create refused: %s", e.msg);
    hb_bus_reply_err(q->reply_to, &e);
    /* limit: --max-sandboxes is reached; capacity: the memory overcommit */
    bool full = count >= m->limits.max_sandboxes;
    create_failed(m, q->name, full ? "limit" : "capacity", e.code, e.msg, 0);
    return true;
}

/* ---- issue 19: the warm pool (pool.h) ----
 * Pooled sandboxes are entries with pool_slot >= 0: created off this
 * thread by their supervisors like any other, never listed, found, counted
 * by admission, told to the metrics actor or published, until a create
 * takes one (pool_take) and it becomes an ordinary entry. */

static void pool_ready(mgr_t *m, entry_t *en, hb_msg_t *r)
{
    hb_wpool_slot_t *s = &m->pool.slot[en->pool_slot];
    en->state = E_RUNNING;
    hb_sbinfo_clear(&en->info);
    hb_list_row_clear(&en->row);
    en->info = r->sandboxes[0];   /* moved: its image counts for on_image_delete */
    memset(&r->sandboxes[0], 0, sizeof r->sandboxes[0]);
    snprintf(en->inbox, sizeof en->inbox, "%s", r->inbox ? r->inbox : "");
    s->starting--;
    s->ready++;
    s->failures = 0;
}

/* Its create failed (error), it died or it was destroyed. */
static void pool_lost(mgr_t *m, entry_t *en, const char *error)
{
    hb_wpool_slot_t *s = &m->pool.slot[en->pool_slot];
    if (en->state == E_CREATING)
        s->starting--;
    else if (en->state == E_RUNNING)
        s->ready--;
    if (error) {
        int64_t wait = hb_wpool_failed(s, hb_now_ms());
        HB_LOG_WARN("pool: a %s:%s sandbox failed to start: %s; retrying in %lld s", s->image,
                    s->network, error, (long long)(wait / 1000));
    }
    zhashx_delete(m->entries, en->id);
}

/* Found at start: nobody's, and it may have run unwatched; a fresh pool is
 * built instead of trusting it. */
static void pool_drop_found(hb_sandbox_t *sb)
{
    hb_err_t e = {0};
    HB_LOG_INFO("pool: sandbox %s of the last daemon's pool destroyed", sb->id);
    if (hb_sandbox_destroy(sb, &e) < 0)
        HB_LOG_ERROR("pool: destroying %s: %s", sb->id, e.msg);
    hb_sandbox_free(sb);
}

/* Every entry (pooled ones being destroyed aside) plus one of extra bytes
 * fits the limits. */
static bool pool_fits(mgr_t *m, uint64_t extra)
{
    uint64_t sum = 0, count = 0;
    for (entry_t *en = zhashx_first(m->entries); en; en = zhashx_next(m->entries))
        if (en->pool_slot < 0 || en->state != E_DESTROYING) {
            sum += en->mem;
            count++;
        }
    hb_err_t e = {0};
    return hb_limits_admit(&m->limits, m->host_mem, count, sum, extra, &e) == 0;
}

/* What a pooled sandbox is made with: the defaults' memory. */
static uint64_t pool_mem(void)
{
    hb_spec_t def;
    hb_spec_defaults(&def);
    return def.memory_bytes;
}

static bool pool_destroy_one(mgr_t *m, int slot)
{
    for (entry_t *en = zhashx_first(m->entries); en; en = zhashx_next(m->entries)) {
        if (en->pool_slot != slot || en->state != E_RUNNING)
            continue;
        hb_msg_t d = {.type = HB_MSG_SB_DESTROY, .id = en->id, .reason = "pool"};
        if (hb_sup_send(m->hosts, &en->sup, &d) < 0)
            return false;
        en->state = E_DESTROYING;
        m->pool.slot[slot].ready--;
        return true;
    }
    return false;
}

/* A user's create the limits admit, which the pool's sandboxes would push
 * past them: they make room. */
static void pool_yield(mgr_t *m, uint64_t mem)
{
    for (size_t i = 0; i < m->pool.n; i++)
        while (!pool_fits(m, mem) && pool_destroy_one(m, (int)i))
            ;
}

static bool pool_take(mgr_t *m, hb_msg_t *q, int64_t t0)
{
    int i = hb_wpool_match(&m->pool, q);
    if (i < 0)
        return false;
    entry_t *en = zhashx_first(m->entries);
    while (en && (en->pool_slot != i || en->state != E_RUNNING))
        en = zhashx_next(m->entries);
    const char *name = q->name && q->name[0] ? q->name : NULL;
    if (name && find(m, name))
        return false;   /* the full path answers "taken" */
    if (!en || hb_sup_send(m->hosts, &en->sup, q) < 0) {   /* the supervisor adopts it */
        m->pool.slot[i].misses++;
        return false;
    }
    if (name) {   /* known by the name from now (the supervisor renames it) */
        snprintf(en->pool_id, sizeof en->pool_id, "%s", en->id);
        zhashx_rename(m->entries, en->pool_id, name);
        snprintf(en->id, sizeof en->id, "%s", name);
    }
    en->pool_slot = -1;
    en->state = E_CREATING;
    en->t0_ms = t0;
    en->mem = q->memory_bytes;
    m->pool.slot[i].ready--;
    m->pool.slot[i].hits++;
    tell_state(m, en->id, "creating");
    return true;
}

static void pool_spawn(mgr_t *m, size_t i)
{
    hb_wpool_slot_t *s = &m->pool.slot[i];
    char id[HB_ID_MAX];
    hb_msg_t c = {.type = HB_MSG_SB_CREATE};
    hb_err_t e = {0};
    hb_spec_t def;
    hb_spec_defaults(&def);
    c.memory_bytes = def.memory_bytes;   /* the defaults, as the gateway fills them */
    c.cpus = def.cpus;
    c.pids = def.pids;
    c.timeout_s = def.timeout_s;
    c.disk_bytes = def.disk_bytes;
    if (random_id(m, id, sizeof id) < 0 || hb_str_set(&c.image, s->image) < 0 ||
        hb_str_set(&c.network, s->network) < 0 || hb_str_set(&c.memory, def.memory_str) < 0 ||
        hb_str_set(&c.disk, def.disk_str) < 0) {
        hb_msg_clear(&c);
        return;
    }
    entry_t *en = spawn(m, id, NULL, &c, (int)i, &e);   /* owns c */
    if (!en) {
        HB_LOG_WARN("pool: cannot start a supervisor: %s", e.msg);
        hb_wpool_failed(s, hb_now_ms());
        return;
    }
    en->mem = pool_mem();
    hb_str_set(&en->info.image, s->image);
    s->starting++;
}

/* Before every wait of the manager's loop: shrink under memory pressure,
 * else start what is missing, one sandbox per entry at a time. */
static int64_t pool_due(void *self)
{
    mgr_t *m = self;
    if (!m->pool.n)
        return -1;
    int64_t now = hb_now_ms();
    bool pressed = hb_wpool_pressed(&m->pool, now);
    bool base = strcmp(m->image_state, "ready") == 0;
    int fits = -1;   /* the admission check walks every entry: once per call, at most
                        every HB_WPOOL_FILL_MS (10,000 sandboxes, many messages) */
    bool wanted = false;   /* a slot waits for that check */
    for (size_t i = 0; i < m->pool.n; i++) {
        hb_wpool_slot_t *s = &m->pool.slot[i];
        if (pressed || s->ready > s->target) {
            if (s->ready && pool_destroy_one(m, (int)i) && pressed)
                m->pool.shrunk++;
            continue;
        }
        if (s->starting || s->ready >= s->target || now < s->retry_ms ||
            (!base && strcmp(s->image, "base") == 0))
            continue;
        wanted = true;
        if (now < m->pool.next_fill_ms)
            continue;
        if (fits < 0)
            fits = pool_fits(m, pool_mem());
        if (fits)
            pool_spawn(m, i);
    }
    if (fits >= 0)
        m->pool.next_fill_ms = now + HB_WPOOL_FILL_MS;
    return wanted ? m->pool.next_fill_ms - now : HB_WPOOL_CHECK_MS;
}

/* METRICS_TEXT: its /metrics section; POOL_STATE: analytics' "pool". */
static void pool_report(mgr_t *m, const hb_msg_t *q)
{
    size_t len = 0;
    char *text = q->type == HB_MSG_METRICS_TEXT ? hb_wpool_prom(&m->pool, &len)
                                                 : hb_wpool_json(&m->pool, &len);
    hb_bus_reply_text(q->reply_to, text, len);
}

static void on_create(mgr_t *m, hb_msg_t *q)
{
    int64_t t0 = hb_now_ms();
    q->t0_ms = t0;   /* the supervisor publishes sandbox.created (its duration_ms) */
    if (image_blocked(m, q)) {
        create_failed(m, q->name, "image_not_ready", HB_E_UNAVAIL,
                      "the default image is not ready", t0);
        return;
    }
    if (over_limits(m, q))
        return;
    if (pool_take(m, q, t0))
        return;
    pool_yield(m, q->memory_bytes);
    char id[HB_ID_MAX];
    if (q->name && q->name[0]) {
        snprintf(id, sizeof id, "%s", q->name);
        if (find(m, id)) {
            hb_bus_reply_error(q->reply_to, HB_E_EXISTS, "name '%s' is already taken", id);
            create_failed(m, id, "name_taken", HB_E_EXISTS, "name taken", t0);
            return;
        }
    } else if (random_id(m, id, sizeof id) < 0) {
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "cannot generate a sandbox id");
        create_failed(m, NULL, "internal", HB_E_INTERNAL, "cannot generate a sandbox id", t0);
        return;
    }
    char *reply_to = q->reply_to ? strdup(q->reply_to) : NULL;
    hb_err_t e = {0};
    tell_state(m, id, "creating");
    entry_t *en = spawn(m, id, NULL, q, -1, &e);
    if (en) {
        en->t0_ms = t0;
        /* known from now: an image in use is not removed (on_image_delete) */
        hb_str_set(&en->info.image, q->image && q->image[0] ? q->image : "base");
    } else {
        HB_LOG_ERROR("manager: cannot start a supervisor for %s: %s", id, e.msg);
        hb_bus_reply_error(reply_to, HB_E_INTERNAL, "cannot start a supervisor: %s", e.msg);
        tell_state(m, id, NULL);
        create_failed(m, id, "internal", HB_E_INTERNAL, e.msg, t0);
    }
    free(reply_to);
}

/* ---- supervisor reports ---- */

static void drop_fork_image(mgr_t *m, const char *image);

static void on_ready(mgr_t *m, hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en || r->sandboxes_n != 1) {
        HB_LOG_ERROR("manager: stray %s for %s", hb_msg_name(r->type), r->id ? r->id : "?");
        return;
    }
    if (en->pool_slot >= 0) {
        pool_ready(m, en, r);
        return;
    }
    en->state = E_RUNNING;
    char old_image[HB_ID_MAX];   /* a restore moves it to another image */
    snprintf(old_image, sizeof old_image, "%s", en->info.image ? en->info.image : "");
    hb_sbinfo_clear(&en->info);
    hb_list_row_clear(&en->row);   /* rendered again at the next list */
    en->info = r->sandboxes[0];   /* moved */
    memset(&r->sandboxes[0], 0, sizeof r->sandboxes[0]);
    en->restoring[0] = '\0';
    if (old_image[0] && en->info.image && strcmp(old_image, en->info.image) != 0)
        drop_fork_image(m, old_image);   /* a fork's image goes with its last user */
    snprintf(en->inbox, sizeof en->inbox, "%s", r->inbox ? r->inbox : "");
    tell_state(m, en->id, en->info.status ? en->info.status : "running");
    hb_msg_t t = {.type = HB_MSG_REAP_SET, .id = en->id, .expires_at = en->info.expires_at};
    hb_bus_send(m->reaper, &t);
    if (!r->reply_to)
        return;   /* re-attached after a restart: not a new sandbox */
    /* sandbox.created went out from the supervisor, before this */
    hb_msg_t rep = {.type = HB_MSG_R_SANDBOX, .sandboxes = &en->info, .sandboxes_n = 1};
    hb_bus_post(r->reply_to, &rep);   /* borrows */
}

static void on_failed(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en)
        return;
    if (en->pool_slot >= 0) {
        pool_lost(m, en, r->error);
        return;
    }
    hb_errcode_t code = r->code >= 0 && r->code <= HB_E_LAST ? (hb_errcode_t)r->code
                                                              : HB_E_INTERNAL;
    create_failed(m, en->id, cause_of(code), code, r->error, en->t0_ms);
    tell_state(m, en->id, NULL);
    zhashx_delete(m->entries, r->id);
}

/* issue 17: a fork's image (kind fork) goes with the last sandbox made
 * from it, unless an image was layered on it meanwhile. */
/* The sandbox that runs on image, or is being restored to it; NULL: none. */
static const entry_t *image_user(mgr_t *m, const char *image)
{
    for (entry_t *en = zhashx_first(m->entries); en; en = zhashx_next(m->entries))
        if ((en->info.image && strcmp(en->info.image, image) == 0) ||
            strcmp(en->restoring, image) == 0)
            return en;
    return NULL;
}

static void drop_fork_image(mgr_t *m, const char *image)
{
    hb_imginfo_t info;
    if (!image[0] || hb_image_info(m->rt, image, &info) < 0 || strcmp(info.kind, "fork") != 0)
        return;
    if (image_user(m, image))
        return;
    hb_err_t e = {0};
    if (hb_image_remove(m->rt, image, &e) < 0) {
        HB_LOG_INFO("fork image %s kept: %s", image, e.msg);
        return;
    }
    hb_msg_t ev = {.type = HB_MSG_EV_IMAGE_DELETED, .name = (char *)image};
    publish(m, &ev);
}

/* issue 19: a pooled sandbox that died under its pooled id as a named
 * create took it (the report crossed pool_take's rename). */
static entry_t *find_pooled(mgr_t *m, const char *id)
{
    for (entry_t *en = zhashx_first(m->entries); en; en = zhashx_next(m->entries))
        if (en->pool_id[0] && strcmp(en->pool_id, id) == 0)
            return en;
    return NULL;
}

static void on_gone(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en && !(en = find_pooled(m, r->id)))
        return;
    const char *reason = r->reason ? r->reason : "deleted";
    if (en->pool_slot >= 0) {
        pool_lost(m, en, NULL);
        return;
    }
    if (strcmp(reason, "pool") == 0) {   /* pooled, it died as a create took it */
        char id[HB_ID_MAX];               /* its name, if pool_take renamed it */
        snprintf(id, sizeof id, "%s", en->id);
        tell_state(m, id, NULL);          /* pool_take told it "creating" */
        zhashx_delete(m->entries, id);
        return;
    }
    /* sandbox.expired and sandbox.destroyed: its supervisor published them
     * (after its process events) */
    tell_state(m, en->id, NULL);
    hb_msg_t c = {.type = HB_MSG_REAP_CANCEL, .id = en->id};
    hb_bus_send(m->reaper, &c);
    hb_msg_t d = {.type = HB_MSG_USAGE_DROP, .id = en->id};
    hb_bus_send(m->met, &d);
    char image[HB_ID_MAX];
    snprintf(image, sizeof image, "%s", en->info.image ? en->info.image : "");
    /* Remove the name before answering, so the client may reuse it at once. */
    zhashx_delete(m->entries, r->id);
    hb_msg_t rep = {.type = HB_MSG_R_DESTROYED, .id = r->id};
    hb_bus_post(r->reply_to, &rep);
    drop_fork_image(m, image);
}

static void on_usage(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    /* An idle sandbox reports the same figure again: its row stays as is. */
    if (en && r->usage_n == 1 && en->info.usage_disk_bytes != r->usage[0].disk_bytes) {
        en->info.usage_disk_bytes = r->usage[0].disk_bytes;
        hb_list_row_clear(&en->row);
    }
}

/* Its description changed: it failed (its init died: list shows it so from
 * now on, and it has no usage to sample any more), or it was paused or
 * resumed (issue 17). */
static void on_info(mgr_t *m, hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en || r->sandboxes_n != 1)
        return;
    hb_sbinfo_clear(&en->info);
    hb_list_row_clear(&en->row);
    en->info = r->sandboxes[0];   /* moved */
    memset(&r->sandboxes[0], 0, sizeof r->sandboxes[0]);
    en->restoring[0] = '\0';   /* the description names the image it now runs on */
    bool failed = !en->info.status || strcmp(en->info.status, "failed") == 0;
    if (en->state == E_RUNNING)
        tell_state(m, en->id, failed ? "failed" : en->info.status);
    if (!failed)
        return;
    hb_msg_t d = {.type = HB_MSG_USAGE_DROP, .id = en->id};
    hb_bus_send(m->met, &d);
}

/* Its expiry was set (SB_TIMEOUT): list shows it, the reaper re-arms. */
static void on_expires(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en || en->state != E_RUNNING)
        return;
    en->info.expires_at = r->expires_at;
    hb_list_row_clear(&en->row);
    hb_msg_t t = {.type = HB_MSG_REAP_SET, .id = en->id, .expires_at = r->expires_at};
    hb_bus_send(m->reaper, &t);
}

static void on_count(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (en && en->info.commands_executed != r->commands_executed) {
        en->info.commands_executed = r->commands_executed;
        hb_list_row_clear(&en->row);
    }
}

/* ---- requests for one sandbox ---- */

/* Never blocks the manager (send timeout 0): a supervisor host with a
 * full queue gets the request refused rather than everyone waiting. */
static int forward(mgr_t *m, entry_t *en, const hb_msg_t *q)
{
    if (hb_sup_send(m->hosts, &en->sup, q) == 0)
        return 0;
    hb_bus_reply_error(q->reply_to, HB_E_UNAVAIL, "sandbox '%s' is busy; try again", en->id);
    return -1;
}

static void on_sandbox_request(mgr_t *m, hb_msg_t *q)
{
    entry_t *en = find(m, q->id);
    if (!en || en->state != E_RUNNING || en->pool_slot >= 0) {
        hb_bus_reply_error(q->reply_to, HB_E_NOTFOUND, "sandbox '%s' not found",
                           q->id ? q->id : "");
        return;
    }
    if (q->type == HB_MSG_SB_DESTROY && !q->reason && hb_str_set(&q->reason, "deleted") < 0)
        return;
    if (forward(m, en, q) < 0)
        return;
    if (q->type == HB_MSG_SB_RESTORE)
        snprintf(en->restoring, sizeof en->restoring, "%s", q->snapshot ? q->snapshot : "");
    if (q->type == HB_MSG_SB_DESTROY) {
        en->state = E_DESTROYING;
        tell_state(m, en->id, "destroying");
    }
    /* A new expiry: the reaper follows at once, so the old one cannot fire
     * while the supervisor records it (its SUP_EXPIRES then says what it
     * recorded). */
    if (q->type == HB_MSG_SB_TIMEOUT && q->timeout_s >= 1 && q->timeout_s <= HB_TIMEOUT_MAX) {
        hb_msg_t t = {.type = HB_MSG_REAP_SET, .id = en->id,
                      .expires_at = time(NULL) + (int64_t)q->timeout_s};
        hb_bus_send(m->reaper, &t);
    }
}

static void on_expire(mgr_t *m, const hb_msg_t *r)
{
    entry_t *en = find(m, r->id);
    if (!en || en->state != E_RUNNING)
        return;
    HB_LOG_INFO("sandbox %s expired", en->id);
    /* on_timeout "pause" (issue 17): paused, and no expiry any more until a
     * resume gives it a fresh one (its SUP_EXPIRES re-arms the reaper). */
    bool pause = en->info.on_timeout && strcmp(en->info.on_timeout, "pause") == 0;
    hb_msg_t p = {.type = HB_MSG_SB_PAUSE, .id = en->id, .reason = "expired"};
    if (pause && forward(m, en, &p) == 0)
        return;
    hb_msg_t q = {.type = HB_MSG_SB_DESTROY, .id = en->id, .reason = "expired"};
    if (!pause && forward(m, en, &q) == 0) {
        en->state = E_DESTROYING;
        tell_state(m, en->id, "destroying");
        return;
    }
    hb_msg_t t = {.type = HB_MSG_REAP_SET, .id = en->id, .expires_at = time(NULL) + 1};
    hb_bus_send(m->reaper, &t);   /* its supervisor is swamped: try again in a second */
}

/* SB_LIST: the query picks and orders (list_query.h); only the rows given
 * are copied, so a page costs its rows, not the host's sandboxes. */
static void on_list(mgr_t *m, const hb_msg_t *q)
{
    hb_list_query_t lq;
    hb_err_t e = {0};
    if (hb_list_query_of(q, &lq, &e) < 0) {
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    size_t n = 0, cap = zhashx_size(m->entries);
    const hb_sbinfo_t **rows = calloc(cap ? cap : 1, sizeof(const hb_sbinfo_t *));
    for (entry_t *en = zhashx_first(m->entries); en && rows; en = zhashx_next(m->entries))
        if (en->state == E_RUNNING && en->pool_slot < 0 && hb_list_query_keep(&lq, &en->info))
            rows[n++] = &en->info;
    hb_msg_t rep = {.type = HB_MSG_R_SANDBOXES};
    size_t give = lq.limit && lq.limit < n ? lq.limit : n;
    if (rows) {
        qsort_r(rows, n, sizeof(const hb_sbinfo_t *), hb_list_query_cmp, &lq);
        rep.sandboxes = calloc(give ? give : 1, sizeof *rep.sandboxes);
    }
    for (size_t i = 0; i < give && rep.sandboxes; i++) {
        if (hb_sbinfo_copy(&rep.sandboxes[i], rows[i]) < 0)
            break;
        rep.sandboxes_n++;
    }
    hb_list_query_clear(&lq);
    free(rows);
    if (!rep.sandboxes || rep.sandboxes_n < give) {
        hb_msg_clear(&rep);
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
        return;
    }
    rep.truncated = give < n;
    hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
}

/* issue 19: GET /hiveboxes as the response body, each row rendered once per
 * change of its description (list_row.h) instead of copied, encoded,
 * decoded and rendered on every request. */
static void on_list_text(mgr_t *m, const hb_msg_t *q)
{
    json_t *filter = q->metadata ? json_loads(q->metadata, 0, NULL) : NULL;
    if (q->metadata && !json_is_object(filter)) {
        json_decref(filter);
        hb_bus_reply_error(q->reply_to, HB_E_INVALID, "metadata: not a JSON object");
        return;
    }
    size_t n = 0, cap = zhashx_size(m->entries);
    hb_list_row_t **rows = calloc(cap ? cap : 1, sizeof(hb_list_row_t *));
    bool oom = !rows;
    for (entry_t *en = zhashx_first(m->entries); en && !oom; en = zhashx_next(m->entries)) {
        if (en->state != E_RUNNING || en->pool_slot >= 0)
            continue;
        oom = !en->row.text && hb_list_row_render(&en->row, &en->info) < 0;
        rows[n++] = &en->row;
    }
    size_t len = 0;
    char *text = NULL;
    if (!oom) {
        qsort(rows, n, sizeof(hb_list_row_t *), hb_list_row_cmp);
        text = hb_list_text(rows, n, filter, time(NULL), q->opencode, &len);
    }
    free(rows);
    json_decref(filter);
    hb_bus_reply_text(q->reply_to, text, len);   /* NULL: an out-of-memory error */
}

static void on_image(mgr_t *m, const hb_msg_t *r)
{
    if (r->state)
        snprintf(m->image_state, sizeof m->image_state, "%s", r->state);
    if (r->progress)
        snprintf(m->image_progress, sizeof m->image_progress, "%s", r->progress);
}

/* ---- catalogues: GET /api/v1/images and /api/v1/skills ---- */

static int image_item(mgr_t *m, const char *name, const char *state, hb_catitem_t *it)
{
    /* A ready image: its record (issue 17: parent, kind, size_bytes too). */
    if (strcmp(state, "ready") == 0 && hb_image_catitem(m->rt, name, it) == 0)
        return 0;
    it->name = strdup(name);
    it->state = strdup(state);
    it->description = strdup("");
    return it->name && it->state && it->description ? 0 : -1;
}

/* Every complete image (ready, sorted), and "base" first while it is being
 * built or failed (state, progress: how far the build got). */
static void on_image_list(mgr_t *m, const hb_msg_t *q)
{
    char **names = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    if (hb_image_list(m->rt, &names, &n, &e) < 0) {
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    bool base_ready = strcmp(m->image_state, "ready") == 0;
    hb_msg_t rep = {.type = HB_MSG_R_CATALOG};
    rep.items = calloc(IMAGES_MAX, sizeof *rep.items);
    int rc = rep.items ? 0 : -1;
    if (rc == 0 && !base_ready)   /* a base image left from before is not used meanwhile */
        rc = image_item(m, "base", m->image_state, &rep.items[rep.items_n++]);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!base_ready && strcmp(names[i], "base") == 0)
            continue;
        if (rep.items_n == IMAGES_MAX) {
            rep.truncated = true;
            break;
        }
        rc = image_item(m, names[i], "ready", &rep.items[rep.items_n++]);
    }
    hb_strv_free(names, n);
    if (rc == 0 && (hb_str_set(&rep.state, m->image_state) < 0 ||
                    hb_str_set(&rep.progress, m->image_progress) < 0))
        rc = -1;
    if (rc < 0)
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
    else
        hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
}

/* ---- issue 17: one image, and its removal ---- */

static void reply_item(const char *reply_to, hb_msg_t *rep)
{
    hb_bus_post(reply_to, rep);
    hb_msg_clear(rep);
}

static void on_image_get(mgr_t *m, const hb_msg_t *q)
{
    hb_msg_t rep = {.type = HB_MSG_R_CATALOG};
    rep.items = calloc(1, sizeof *rep.items);
    if (!rep.items || hb_image_catitem(m->rt, q->name ? q->name : "", rep.items) < 0) {
        hb_msg_clear(&rep);
        hb_bus_reply_error(q->reply_to, HB_E_NOTFOUND, "image '%s' not found",
                           q->name ? q->name : "");
        return;
    }
    rep.items_n = 1;
    reply_item(q->reply_to, &rep);
}

/* Refused while a sandbox (any state: one being made or destroyed too)
 * was made from it; base, the default image, is never removed here. */
static void on_image_delete(mgr_t *m, const hb_msg_t *q)
{
    const char *name = q->name ? q->name : "";
    if (strcmp(name, "base") == 0) {
        hb_bus_reply_error(q->reply_to, HB_E_CONFLICT, "image 'base' is the default image and "
                           "is never deleted through the API");
        return;
    }
    const entry_t *user = image_user(m, name);
    if (user && user->pool_slot >= 0) {   /* issue 19: a pooled sandbox's id is nobody's business */
        hb_bus_reply_error(q->reply_to, HB_E_CONFLICT, "image '%s' is kept ready by the warm "
                           "pool (--pool): restart the daemon without it first", name);
        return;
    }
    if (user) {
        hb_bus_reply_error(q->reply_to, HB_E_CONFLICT, "image '%s' is used by sandbox "
                           "'%s': delete the sandbox first", name, user->id);
        return;
    }
    hb_msg_t rep = {.type = HB_MSG_R_CATALOG};
    rep.items = calloc(1, sizeof *rep.items);
    hb_err_t e = {0};
    if (rep.items && hb_image_catitem(m->rt, name, rep.items) == 0)
        rep.items_n = 1;
    if (hb_image_remove(m->rt, name, &e) < 0) {
        hb_msg_clear(&rep);
        hb_bus_reply_err(q->reply_to, &e);
        return;
    }
    hb_msg_t ev = {.type = HB_MSG_EV_IMAGE_DELETED, .name = (char *)name,
                   .timestamp = time(NULL)};
    hb_bus_send(m->met, &ev);   /* ev borrows */
    reply_item(q->reply_to, &rep);
}

static void on_skill_list(mgr_t *m, const hb_msg_t *q)
{
    hb_msg_t rep = {.type = HB_MSG_R_CATALOG};
    const char *state = "missing";
    if (hb_skills_list(m->rt->skills_dir, &rep.items, &rep.items_n, &rep.truncated, &state) < 0 ||
        hb_str_set(&rep.path, m->rt->skills_dir) < 0 || hb_str_set(&rep.state, state) < 0)
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "out of memory");
    else
        hb_bus_post(q->reply_to, &rep);
    hb_msg_clear(&rep);
}

static void dispatch(mgr_t *m, hb_msg_t *q)
{
    switch (q->type) {
    case HB_MSG_SB_CREATE: on_create(m, q); break;
    case HB_MSG_SB_LIST: on_list(m, q); break;
    case HB_MSG_SB_LIST_TEXT: on_list_text(m, q); break;
    case HB_MSG_SB_GET:
    case HB_MSG_SB_DESTROY:
    case HB_MSG_SB_EXEC:
    case HB_MSG_SB_LSFILES:
    case HB_MSG_SB_KILLALL:
    case HB_MSG_SB_TIMEOUT:
    case HB_MSG_SB_PAUSE:
    case HB_MSG_SB_RESUME:
    case HB_MSG_SB_LEASE:
    case HB_MSG_SB_SNAPSHOT:
    case HB_MSG_SB_PORT_PUBLIC:   /* issue 16: preview ports */
    case HB_MSG_SB_RESTORE:
    case HB_MSG_SB_NETWORK: on_sandbox_request(m, q); break;   /* issue 16: egress policy */
    case HB_MSG_IMAGE_GET: on_image_get(m, q); break;
    case HB_MSG_IMAGE_DELETE: on_image_delete(m, q); break;
    case HB_MSG_SUP_INFO: on_info(m, q); break;
    case HB_MSG_SUP_READY: on_ready(m, q); break;
    case HB_MSG_SUP_FAILED: on_failed(m, q); break;
    case HB_MSG_SUP_GONE: on_gone(m, q); break;
    case HB_MSG_SUP_COUNT: on_count(m, q); break;
    case HB_MSG_SUP_EXPIRES: on_expires(m, q); break;
    case HB_MSG_USAGE: on_usage(m, q); break;
    case HB_MSG_REAP_EXPIRE: on_expire(m, q); break;
    case HB_MSG_IMAGE_STATE: on_image(m, q); break;
    case HB_MSG_IMAGE_LIST: on_image_list(m, q); break;
    case HB_MSG_SKILL_LIST: on_skill_list(m, q); break;
    case HB_MSG_METRICS_TEXT:
    case HB_MSG_POOL_STATE: pool_report(m, q); break;
    default:
        HB_LOG_WARN("manager: unexpected %s", hb_msg_name(q->type));
        hb_bus_reply_error(q->reply_to, HB_E_INTERNAL, "unexpected request");
    }
}

static void on_inbox(void *self, hb_msg_t *q, zframe_t *raw)
{
    dispatch(self, q);
}

/* ---- recovery after a restart ---- */

/* A sandbox whose init died while no daemon watched keeps its files, as
 * one that dies under a running daemon does (supervisor.c). */
static void mark_failed(hb_sandbox_t *sb)
{
    char why[160];
    hb_err_t e = {0};
    hb_sandbox_death(sb, why, sizeof why);
    char full[sizeof sb->failure];
    snprintf(full, sizeof full, "%s (found at daemon start)", why);
    if (hb_sandbox_fail(sb, full, &e) < 0)
        HB_LOG_ERROR("sandbox %s: recording its failure: %s", sb->id, e.msg);
}

static void recover_one(mgr_t *m, const char *id)
{
    hb_sandbox_t *sb = NULL;
    hb_err_t e = {0};
    int rc = hb_sandbox_open(m->rt, id, &sb, &e);
    if (rc == 0 && sb->spec.pooled) {   /* issue 19: nobody's; the pool is built anew */
        pool_drop_found(sb);
        return;
    }
    if (rc == 0) {
        if (!sb->failure[0] && !hb_sandbox_alive(sb))
            mark_failed(sb);
        if (sb->failure[0]) {
            hb_proxy_sandbox_kill(m->ep.proxy, id);   /* an OpenCode server that outlived it */
            hb_sandbox_keep_uids(sb);
        }
        HB_LOG_INFO("sandbox %s is %s; re-attaching", id, sb->failure[0] ? "failed" : "alive");
        tell_state(m, id, "creating");   /* until its supervisor reports */
        char image[sizeof sb->spec.image];
        snprintf(image, sizeof image, "%s", sb->spec.image);   /* sb goes to the supervisor */
        entry_t *en = spawn(m, id, sb, NULL, -1, &e);
        if (!en) {
            HB_LOG_ERROR("manager: cannot start a supervisor for %s: %s", id, e.msg);
            tell_state(m, id, NULL);
        } else {
            hb_str_set(&en->info.image, image);   /* in use from now (on_image_delete) */
        }
        return;
    }
    if (!sb) {
        HB_LOG_WARN("sandbox %s: cannot open its record (%s); leaving it alone", id, e.msg);
        return;
    }
    HB_LOG_INFO("sandbox %s is unusable (%s); cleaning up", id, e.msg);
    hb_proxy_sandbox_kill(m->ep.proxy, id);   /* an OpenCode server that outlived it */
    hb_err_t de = {0};
    if (hb_sandbox_destroy(sb, &de) < 0)
        HB_LOG_ERROR("sandbox %s: cleanup failed: %s", id, de.msg);
    hb_sandbox_free(sb);
    hb_msg_t ev = {.type = HB_MSG_EV_DESTROYED, .id = (char *)id, .reason = "dead"};
    publish(m, &ev);   /* hivebox_sandbox_destructions_total{reason="dead"} */
}

/* Asked after every message while re-attaching: a cursor over the ids, so
 * 10,000 sandboxes cost 10,000 look-ups in all, not 10,000 scans of all. */
static bool all_reported(void *self)
{
    mgr_t *m = self;
    for (; m->attach_at < m->attach_n; m->attach_at++) {
        const entry_t *en = zhashx_lookup(m->entries, m->attach_ids[m->attach_at]);
        if (en && en->state == E_CREATING)
            return false;
    }
    return true;
}

/* --max-sandboxes within what the open-file limit allows: past it the
 * daemon would abort making a socket (fdbudget.h). */
static void fit_fd_budget(mgr_t *m)
{
    uint64_t cap = hb_fd_sandbox_cap();
    if (cap >= m->limits.max_sandboxes)
        return;
    HB_LOG_WARN("manager: the open-file limit allows %llu sandboxes (%d descriptors per %d): "
                "--max-sandboxes lowered from %llu; raise it (ulimit -n, LimitNOFILE=)",
                (unsigned long long)cap, HB_FDS_PER_SANDBOX_NUM, HB_FDS_PER_SANDBOX_DEN,
                (unsigned long long)m->limits.max_sandboxes);
    m->limits.max_sandboxes = cap;
}

static void recover(mgr_t *m, zsock_t *pipe)
{
    char **ids = NULL;
    size_t n = 0;
    hb_err_t e = {0};
    if (hb_sandbox_list_ids(m->rt, &ids, &n, &e) < 0) {
        HB_LOG_ERROR("manager: cannot list sandboxes: %s", e.msg);
        return;
    }
    /* Only the open-file limit bounds re-attaching: past it the daemon would
     * abort; a lower --max-sandboxes refuses new creates, never survivors. */
    uint64_t fit = hb_fd_sandbox_cap();
    for (size_t i = 0; i < n; i++) {
        if (zhashx_size(m->entries) >= fit) {
            /* left running, untouched, until a daemon with room starts */
            HB_LOG_ERROR("manager: %zu sandboxes found, only %llu fit the open-file limit: "
                         "the rest are not re-attached (raise ulimit -n, LimitNOFILE=)", n,
                         (unsigned long long)fit);
            break;
        }
        recover_one(m, ids[i]);
    }
    /* Wait for the re-attached supervisors to report, so the API shows them
     * from its first request. */
    m->attach_ids = ids;
    m->attach_n = n;
    m->attach_at = 0;
    hb_loop_t loop = {.name = "manager", .pipe = pipe, .inbox = m->inbox, .on_inbox = on_inbox,
                      .done = all_reported};
    hb_loop_run(&loop, m, hb_now_ms() + ATTACH_WAIT_MS);
    m->attach_ids = NULL;
    m->attach_n = 0;
    hb_strv_free(ids, n);
    HB_LOG_INFO("manager: %zu sandbox(es) re-attached", zhashx_size(m->entries));
}

/* ---- the actor ---- */

static void stop_all(mgr_t *m)
{
    hb_sup_hosts_destroy(&m->hosts);   /* every host at once: graces side by side */
    zhashx_purge(m->entries);
}

static int setup(mgr_t *m, int hosts, const hb_sup_ops_t *ops, hb_err_t *e)
{
    if (!(m->hosts = hb_sup_hosts_new(hosts, &m->ep, ops, e)))
        return -1;
    if (!(m->entries = zhashx_new()))
        return hb_fail(e, HB_E_INTERNAL, ENOMEM, "out of memory");
    zhashx_set_destructor(m->entries, entry_free);
    if (!(m->inbox = hb_actor_inbox(m->ep.manager, e)) ||
        !(m->reaper = hb_actor_pusher(m->ep.reaper, e)) ||
        !(m->met = hb_actor_pusher(m->ep.metrics, e)))
        return -1;
    return 0;
}

static void mgr_actor(zsock_t *pipe, void *arg)
{
    hb_manager_args_t *a = arg;
    mgr_t m = {.rt = a->rt, .ep = a->ep, .limits = a->limits};
    int hosts = a->sup_hosts;
    const hb_sup_ops_t *ops = a->sup_ops;
    m.host_mem = hb_host_mem_total();
    snprintf(m.image_state, sizeof m.image_state, "%s", a->image_ready ? "ready" : "building");
    hb_err_t e = {0};
    int rc = hb_wpool_parse(&m.pool, a->pool, &e);
    m.pool.min_available = a->pool_min_available;
    m.pool.max_pressure = a->pool_max_pressure;
    m.pool.meminfo = a->pool_meminfo ? a->pool_meminfo : "/proc/meminfo";
    m.pool.psi = a->pool_psi ? a->pool_psi : "/proc/pressure/memory";
    free(a);
    if (rc == 0)
        rc = setup(&m, hosts, ops, &e);
    fit_fd_budget(&m);
    if (rc == 0)
        recover(&m, pipe);   /* before ready: the first request sees the survivors */
    hb_actor_ready(pipe, rc < 0 ? &e : NULL);
    hb_loop_t loop = {.name = "manager", .pipe = pipe, .inbox = m.inbox, .on_inbox = on_inbox,
                      .due = pool_due};
    if (rc == 0) {
        hb_loop_run(&loop, &m, -1);
        stop_all(&m);
    }
    hb_sup_hosts_destroy(&m.hosts);   /* a failed setup */
    zhashx_destroy(&m.entries);
    zsock_destroy(&m.inbox);
    zsock_destroy(&m.reaper);
    zsock_destroy(&m.met);
}

zactor_t *hb_manager_new(const hb_manager_args_t *args, hb_err_t *e)
{
    return hb_actor_start_copy("manager", mgr_actor, args, sizeof *args, e);
}
