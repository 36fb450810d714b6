/* POST /api/v1/images with a JSON body: an image from build steps (E2B's
 * templates without Docker), and GET /api/v1/images/:name/log.
 *
 * The request's worker thread orchestrates with existing messages; the
 * manager holds no build state:
 *   1. validate the body (build_req.c), check the images (409: name taken,
 *      404: `from` unknown), take one of MAX_BUILDS slots (429 past it);
 *   2. SB_CREATE a temporary sandbox `build-<name>-<hex4>` from `from`
 *      (it shows in the sandbox list while the build runs);
 *   3. write the files and run the steps (gw_build_steps.c), output live;
 *   4. SB_SNAPSHOT {id, name, kind "build"} makes the image; the log is kept
 *      as <data>/images/<name>/build.log;
 *   5. SB_DESTROY the sandbox on every path: success, failed step, failed
 *      snapshot, a client gone mid-build (its step is abandoned first).
 * A failing step answers 422: the request was well formed, but what it asks
 * to run does not succeed (400 is kept for a malformed body). */
#include "gw_build.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"

#define MAX_BUILDS  2
#define CALL_MS     30000
#define CREATE_MS   300000
#define DESTROY_MS  120000
#define SNAPSHOT_MS 600000

/* ---- slots: at most MAX_BUILDS at once (taken before the body is read,
 * so at most MAX_BUILDS bodies are held), never two of one name ---- */

static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
static char slots[MAX_BUILDS][HB_ID_MAX];   /* "" while the body is parsed */
static bool slot_used[MAX_BUILDS];

static int slot_take(int *slot, hb_err_t *e)
{
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < MAX_BUILDS && *slot < 0; i++) {
        if (!slot_used[i]) {
            slot_used[i] = true;
            slots[i][0] = '\0';
            *slot = i;
        }
    }
    pthread_mutex_unlock(&slots_mu);
    if (*slot < 0)
        return hb_fail(e, HB_E_LIMIT, 0, "builds: %d are running already; try again later",
                       MAX_BUILDS);
    return 0;
}

/* The slot's build is of image name: 409 when another build has it. */
static int slot_name(int slot, const char *name, hb_err_t *e)
{
    int rc = 0;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < MAX_BUILDS; i++)
        if (i != slot && slot_used[i] && strcmp(slots[i], name) == 0)
            rc = hb_fail(e, HB_E_EXISTS, 0, "name: image %s is being built", name);
    if (rc == 0)
        snprintf(slots[slot], sizeof slots[slot], "%s", name);
    pthread_mutex_unlock(&slots_mu);
    return rc;
}

static void slot_give(int slot)
{
    pthread_mutex_lock(&slots_mu);
    slot_used[slot] = false;
    slots[slot][0] = '\0';
    pthread_mutex_unlock(&slots_mu);
}

/* ---- the images as the manager lists them ---- */

static const hb_catitem_t *find_item(const hb_msg_t *rep, const char *name)
{
    for (size_t i = 0; i < rep->items_n; i++)
        if (rep->items[i].name && strcmp(rep->items[i].name, name) == 0)
            return &rep->items[i];
    return NULL;
}

/* 409 when name exists, 404 when from does not (a truncated list decides
 * nothing it does not show: SB_CREATE and SB_SNAPSHOT check again). */
static int check_images(hb_req_t *r, const hb_build_req_t *b, hb_err_t *e)
{
    hb_msg_t q = {.type = HB_MSG_IMAGE_LIST}, rep = {0};
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, CALL_MS, e);
    hb_msg_clear(&q);
    if (rc < 0)
        return -1;
    const hb_catitem_t *from = find_item(&rep, b->from);
    if (find_item(&rep, b->name))
        rc = hb_fail(e, HB_E_EXISTS, 0, "name: image %s exists already", b->name);
    else if (!from && !rep.truncated)
        rc = hb_fail(e, HB_E_NOTFOUND, 0, "from: no image %s", b->from);
    else if (from && from->state && strcmp(from->state, "ready") != 0)
        rc = hb_fail(e, HB_E_UNAVAIL, 0, "from: image %s is not ready (%s)", b->from,
                     from->state);
    hb_msg_clear(&rep);
    return rc;
}

/* ---- the build sandbox ---- */

static int sandbox_create(hb_build_t *s, hb_build_req_t *b)
{
    unsigned hex = 0;
    if (getrandom(&hex, sizeof hex, 0) != (ssize_t)sizeof hex)
        hex = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)s;
    char name[HB_ID_MAX];
    hb_build_sandbox_name(b->name, hex, name, sizeof name);
    hb_msg_t rep = {0};
    if (hb_str_set(&b->create.name, name) < 0)
        return hb_fail(&s->e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_bus_call(s->r->conf->ep.manager, &b->create, &rep, CREATE_MS, &s->e);
    if (rc == 0 && rep.sandboxes_n == 1 && rep.sandboxes[0].id)
        snprintf(s->sb_id, sizeof s->sb_id, "%s", rep.sandboxes[0].id);
    else if (rc == 0)
        rc = hb_fail(&s->e, HB_E_INTERNAL, 0, "build sandbox: malformed create reply");
    hb_msg_clear(&rep);
    if (rc < 0)
        return hb_err_wrap(&s->e, "build sandbox");
    HB_LOG_INFO("image build %s: sandbox %s from %s", b->name, s->sb_id, b->from);
    hb_build_log_printf(&s->log, "# build %s from %s in sandbox %s\n", b->name, b->from,
                        s->sb_id);
    return 0;
}

static void sandbox_destroy(hb_build_t *s)
{
    if (!s->sb_id[0])
        return;
    hb_msg_t q = {.type = HB_MSG_SB_DESTROY}, rep = {0};
    hb_err_t e = {0};
    if (hb_str_set(&q.id, s->sb_id) < 0 ||
        hb_bus_call(s->r->conf->ep.manager, &q, &rep, DESTROY_MS, &e) < 0)
        HB_LOG_ERROR("image build: cannot destroy build sandbox %s: %s (its TTL removes it)",
                     s->sb_id, e.msg);
    hb_msg_clear(&q);
    hb_msg_clear(&rep);
    s->sb_id[0] = '\0';
}

/* ---- the image ---- */

static json_t *image_json(const hb_catitem_t *it, const char *name)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "name", it->name ? it->name : name, "kind",
                          it->kind && it->kind[0] ? it->kind : "build", "state", "ready");
    if (o && it->parent && it->parent[0])
        json_object_set_new(o, "parent", json_string(it->parent));
    if (o)
        json_object_set_new(o, "size_bytes", json_integer((json_int_t)it->size_bytes));
    if (o && it->created_at > 0)
        json_object_set_new(o, "created_at", json_integer(it->created_at));
    return o;
}

/* SB_SNAPSHOT of the build sandbox as image b->name; its JSON, or NULL with s->e. */
static json_t *snapshot(hb_build_t *s)
{
    hb_msg_t q = {.type = HB_MSG_SB_SNAPSHOT}, rep = {0};
    json_t *img = NULL;
    int rc = hb_str_set(&q.id, s->sb_id) < 0 || hb_str_set(&q.name, s->b->name) < 0 ||
                     hb_str_set(&q.kind, "build") < 0
                 ? hb_fail(&s->e, HB_E_INTERNAL, 0, "out of memory")
                 : hb_bus_call(s->r->conf->ep.manager, &q, &rep, SNAPSHOT_MS, &s->e);
    if (rc < 0)
        hb_err_wrap(&s->e, "snapshot");
    else if (rep.items_n < 1 || !(img = image_json(&rep.items[0], s->b->name)))
        hb_fail(&s->e, HB_E_INTERNAL, 0, "snapshot: malformed reply");
    hb_msg_clear(&q);
    hb_msg_clear(&rep);
    return img;
}

static void keep_log(hb_build_t *s)
{
    hb_err_t e = {0};
    const char *dir = s->r->conf->data_dir;
    if (dir && hb_build_log_save(&s->log, dir, s->b->name, &e) < 0)
        HB_LOG_WARN("image build %s: the image is made, its log is not kept: %s", s->b->name,
                    e.msg);
}

/* ---- answers ---- */

static json_t *nullable(int v) { return v < 0 ? json_null() : json_integer(v); }

static int answer_done(hb_build_t *s, json_t *img)
{
    json_t *j = json_pack("{s:o, s:I}", "image", img, "log_bytes", (json_int_t)s->log.len);
    if (!s->sse)
        return hb_reply_json(s->r->c, 201, j);
    if (hb_build_event(s, "done", j) == 0)
        mg_send_chunk(s->r->c, "", 0);
    return 200;
}

static int answer_failed(hb_build_t *s)
{
    if (s->gone) {
        HB_LOG_INFO("image build %s: the client left; the build was abandoned", s->b->name);
        return 200;
    }
    HB_LOG_INFO("image build %s failed: %s", s->b->name, s->e.msg);
    if (s->sse && s->started) {
        json_t *j = json_pack("{s:o, s:o, s:s}", "step", nullable(s->fail_step), "exit_code",
                              nullable(s->exit_code), "error", s->e.msg);
        if (hb_build_event(s, "error", j) == 0)
            mg_send_chunk(s->r->c, "", 0);
        return 200;
    }
    if (s->exit_code < 0 && !(s->fail_step >= 0 && s->e.code == HB_E_INVALID))
        return hb_reply_err(s->r, &s->e);
    char *tail = hb_build_log_tail(&s->log);
    json_t *j = json_pack("{s:s, s:I, s:o, s:s}", "error", s->e.msg, "step",
                          (json_int_t)s->fail_step, "exit_code", nullable(s->exit_code),
                          "output", tail ? tail : "");
    free(tail);
    return hb_reply_json(s->r->c, 422, j);
}

static int build(hb_req_t *r, hb_build_req_t *b)
{
    hb_build_t s = {.r = r, .b = b, .fail_step = -1, .exit_code = -1};
    const char *accept = mg_get_header(r->c, "Accept");
    s.sse = accept && strstr(accept, "text/event-stream");
    hb_build_log_init(&s.log);
    json_t *img = NULL;
    int status;
    if (sandbox_create(&s, b) < 0) {
        status = hb_reply_err(r, &s.e);   /* nothing was made, nothing is sent yet */
        goto out;
    }
    if (hb_build_run_steps(&s) == 0 && (img = snapshot(&s)) != NULL)
        keep_log(&s);
    sandbox_destroy(&s);   /* every path: the image, if any, is its own now */
    status = img ? answer_done(&s, img) : answer_failed(&s);
out:
    hb_build_log_free(&s.log);
    return status;
}

int hb_h_image_build(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_build_req_t b = {0};
    int slot = -1, status;
    int rc = slot_take(&slot, &e);
    if (rc == 0)
        rc = hb_read_body(r->c, HB_BUILD_BODY_MAX, &body, &len, &e);
    if (rc == 0) {
        rc = hb_build_req_parse(body, len, &b, &e);
        free(body);
    }
    if (rc == 0)
        rc = slot_name(slot, b.name, &e);
    if (rc == 0)
        rc = check_images(r, &b, &e);
    status = rc < 0 ? hb_reply_err(r, &e) : build(r, &b);
    if (slot >= 0)
        slot_give(slot);
    hb_build_req_free(&b);
    return status;
}

/* ---- GET /api/v1/images/:name/log ---- */

/* Sent in pieces: a few log readers never hold 4 MiB each. */
int hb_h_image_log(hb_req_t *r)
{
    enum { PIECE = 64 * 1024 };
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    const char *name = r->route.id;
    if (!name[0] || !r->conf->data_dir)
        return hb_reply_error(r->c, 404, "no such image");
    char path[4096];
    snprintf(path, sizeof path, "%s/images/%s/build.log", r->conf->data_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return hb_reply_error(r->c, 404, "image %s has no build log", name);
    }
    char *piece = malloc(PIECE);
    if (!piece) {
        close(fd);
        return hb_reply_error(r->c, 500, "out of memory");
    }
    /* The log is written once, by rename: its size does not change under us. */
    hb_send_head(r->c, 200, "text/plain; charset=utf-8", (uint64_t)st.st_size, NULL, NULL);
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = read(fd, piece, left < PIECE ? (size_t)left : PIECE);
        if (n <= 0 || mg_write(r->c, piece, (size_t)n) != (int)n)
            break;   /* a short body: the client sees the connection end early */
        left -= n;
    }
    free(piece);
    close(fd);
    return 200;
}
