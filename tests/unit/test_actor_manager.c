/* The manager actor on its own thread, with fake supervisors (units on its
 * supervisor hosts that announce its sandbox and forwards what it is sent to a PULL the
 * test reads) and fake reaper and metrics peers: a request for an id
 * reaches that sandbox's supervisor and no other, an unknown id is not
 * found, a taken name is refused, an expiry becomes a destroy. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fake_peer.h"
#include "manager.h"
#include "json_out.h"   /* issue 19: the list as rendered before */
#include <time.h>

static const hb_endpoints_t EP = {.manager = "inproc://t-mgr", .reaper = "inproc://t-reaper",
                                  .metrics = "inproc://t-met", .proxy = "inproc://t-proxy"};

/* Where fake supervisor id forwards its requests. */
static void sup_seen(char *buf, size_t len, const char *id)
{
    snprintf(buf, len, "inproc://t-seen-%s", id);
}

typedef struct {
    char seen[128];
} fake_sup_t;

static void fake_forward(void *self, hb_msg_t *m)
{
    fake_sup_t *f = self;
    hb_bus_post(f->seen, m);
}

static void announce(const hb_sup_args_t *a, const hb_sup_env_t *env)
{
    hb_sbinfo_t info = {.id = (char *)a->id, .status = "running", .image = "base",
                        .created_at = 1, .expires_at = 4102444800};
    hb_msg_t r = {.type = HB_MSG_SUP_READY, .id = (char *)a->id, .sandboxes = &info,
                  .sandboxes_n = 1, .inbox = (char *)env->inbox, .reply_to = a->create.reply_to};
    hb_bus_send(env->mgr, &r);   /* borrows */
}

/* A fake supervisor: a unit on the manager's real supervisor hosts. */
static void *fake_open(hb_sup_args_t *a, const hb_sup_env_t *env)
{
    fake_sup_t *f = calloc(1, sizeof *f);
    cr_assert_not_null(f);
    sup_seen(f->seen, sizeof f->seen, a->id);
    announce(a, env);
    hb_sup_args_free(a);
    return f;
}

static bool fake_no(void *self) { return false; }
static void fake_term(void *self) {}

static const hb_sup_ops_t FAKE_OPS = {.open = fake_open, .on_msg = fake_forward,
                                      .gone = fake_no, .term = fake_term, .busy = fake_no,
                                      .close = free};

typedef struct {
    char      data[256];
    hb_runtime_t rt;
    zsock_t  *reaper, *met;
    zactor_t *mgr;
} world_t;

static void world_up_image(world_t *w, bool image_ready)
{
    memset(w, 0, sizeof *w);
    fake_runtime(&w->rt, w->data, sizeof w->data);
    snprintf(w->rt.skills_dir, sizeof w->rt.skills_dir, "%s/skills", w->data);
    w->reaper = fake_peer(EP.reaper);
    w->met = fake_peer(EP.metrics);
    hb_manager_args_t a = {.ep = EP, .rt = &w->rt, .image_ready = image_ready,
                           .sup_ops = &FAKE_OPS, .sup_hosts = 2};
    hb_limits_defaults(&a.limits);
    hb_err_t e = {0};
    w->mgr = hb_manager_new(&a, &e);
    cr_assert_not_null(w->mgr, "%s", e.msg);
}

static void world_up(world_t *w) { world_up_image(w, true); }

static void world_down(world_t *w)
{
    zactor_destroy(&w->mgr);   /* $TERM to every fake supervisor too */
    zsock_destroy(&w->reaper);
    zsock_destroy(&w->met);
    fake_data_dir_remove(w->data);
}

static void create(const char *name)
{
    hb_msg_t q = {.type = HB_MSG_SB_CREATE}, rep;
    hb_err_t e = {0};
    cr_assert_eq(hb_str_set(&q.name, name), 0);
    cr_assert_eq(hb_bus_call(EP.manager, &q, &rep, 3000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep.type, HB_MSG_R_SANDBOX);
    cr_assert_str_eq(rep.sandboxes[0].id, name);
    hb_msg_clear(&rep);
    hb_msg_clear(&q);
}

Test(manager, a_request_reaches_its_sandboxs_supervisor_only, .timeout = 15)
{
    world_t w;
    world_up(&w);
    char ep_a[128], ep_b[128];
    sup_seen(ep_a, sizeof ep_a, "box-a");
    sup_seen(ep_b, sizeof ep_b, "box-b");
    zsock_t *seen_a = fake_peer(ep_a), *seen_b = fake_peer(ep_b);
    create("box-a");
    create("box-b");

    hb_msg_t m;   /* each sandbox's expiry was armed */
    cr_assert_eq(fake_expect(w.reaper, 2000, &m), 0);
    cr_assert_eq(m.type, HB_MSG_REAP_SET);
    hb_msg_clear(&m);

    hb_msg_t q = {.type = HB_MSG_SB_GET, .id = "box-b", .reply_to = "inproc://t-nobody"};
    cr_assert_eq(hb_bus_post(EP.manager, &q), 0);
    cr_assert_eq(fake_expect(seen_b, 2000, &m), 0, "box-b's supervisor got nothing");
    cr_assert_eq(m.type, HB_MSG_SB_GET);
    cr_assert_str_eq(m.id, "box-b");
    cr_assert_str_eq(m.reply_to, "inproc://t-nobody");
    hb_msg_clear(&m);
    cr_assert_eq(fake_expect(seen_a, 300, &m), -1, "box-a's supervisor got box-b's request");

    hb_msg_t x = {.type = HB_MSG_REAP_EXPIRE, .id = "box-a"};
    cr_assert_eq(hb_bus_post(EP.manager, &x), 0);
    cr_assert_eq(fake_expect(seen_a, 2000, &m), 0, "the expiry reached no supervisor");
    cr_assert_eq(m.type, HB_MSG_SB_DESTROY);
    cr_assert_str_eq(m.reason, "expired");
    hb_msg_clear(&m);

    zsock_destroy(&seen_a);
    zsock_destroy(&seen_b);
    world_down(&w);
}

Test(manager, unknown_ids_are_not_found_and_names_are_unique, .timeout = 15)
{
    world_t w;
    world_up(&w);
    create("box-a");
    hb_msg_t q = {.type = HB_MSG_SB_GET}, rep;
    hb_err_t e = {0};
    cr_assert_eq(hb_str_set(&q.id, "nope"), 0);
    cr_assert_eq(hb_bus_call(EP.manager, &q, &rep, 2000, &e), -1);
    cr_assert_eq(e.code, HB_E_NOTFOUND, "%s", e.msg);
    cr_assert_str_eq(e.msg, "sandbox 'nope' not found");
    hb_msg_clear(&q);

    hb_msg_t c = {.type = HB_MSG_SB_CREATE};
    cr_assert_eq(hb_str_set(&c.name, "box-a"), 0);
    cr_assert_eq(hb_bus_call(EP.manager, &c, &rep, 2000, &e), -1);
    cr_assert_eq(e.code, HB_E_EXISTS, "%s", e.msg);
    hb_msg_clear(&c);

    hb_msg_t l = {.type = HB_MSG_SB_LIST};
    cr_assert_eq(hb_bus_call(EP.manager, &l, &rep, 2000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep.sandboxes_n, 1);
    cr_assert_str_eq(rep.sandboxes[0].id, "box-a");
    /* issue 19: the rendered list says the same as the rows (list_row.h) */
    int64_t now = time(NULL);
    json_t *ref = hb_json_list(rep.sandboxes, rep.sandboxes_n, now, false);
    char *want = hb_json_text(ref, NULL);
    json_decref(ref);
    hb_msg_clear(&rep);
    hb_msg_clear(&l);
    hb_msg_t lt = {.type = HB_MSG_SB_LIST_TEXT};
    cr_assert_eq(hb_bus_call(EP.manager, &lt, &rep, 2000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep.type, HB_MSG_R_TEXT);
    char *got = strndup(rep.text.data, rep.text.len);
    cr_assert_eq(strlen(got), rep.text.len, "a NUL inside the list");
    if (time(NULL) == now)   /* uptime_seconds moves with the clock */
        cr_assert_str_eq(got, want);
    free(got);
    cr_assert(memmem(rep.text.data, rep.text.len, "\"id\":\"box-a\"", 12));
    free(want);
    hb_msg_clear(&rep);
    hb_msg_clear(&lt);
    hb_msg_t bad = {.type = HB_MSG_SB_LIST_TEXT};
    cr_assert_eq(hb_str_set(&bad.metadata, "[1]"), 0);
    cr_assert_eq(hb_bus_call(EP.manager, &bad, &rep, 2000, &e), -1);
    hb_msg_clear(&bad);
    cr_assert_eq(e.code, HB_E_INVALID, "%s", e.msg);
    cr_assert(strstr(e.msg, "metadata"), "%s", e.msg);
    world_down(&w);
}

/* IMAGE_LIST / SKILL_LIST (GET /api/v1/images, /api/v1/skills). */
static void catalog(hb_msg_type_t type, hb_msg_t *rep)
{
    hb_msg_t q = {.type = type};
    hb_err_t e = {0};
    cr_assert_eq(hb_bus_call(EP.manager, &q, rep, 3000, &e), 0, "%s", e.msg);
    cr_assert_eq(rep->type, HB_MSG_R_CATALOG, "%s", hb_msg_name(rep->type));
    hb_msg_clear(&q);
}

Test(manager, images_show_base_while_it_is_built, .timeout = 15)
{
    world_t w;
    world_up_image(&w, false);
    hb_msg_t rep;
    catalog(HB_MSG_IMAGE_LIST, &rep);
    cr_assert_eq(rep.items_n, 1);
    cr_assert_str_eq(rep.items[0].name, "base");
    cr_assert_str_eq(rep.items[0].state, "building");
    cr_assert_str_eq(rep.state, "building");
    hb_msg_clear(&rep);
    hb_msg_t st = {.type = HB_MSG_IMAGE_STATE, .state = "failed", .progress = "no mirror"};
    hb_bus_post(EP.manager, &st);   /* borrows; another socket than the calls' */
    for (int i = 0; i < 100; i++) {
        catalog(HB_MSG_IMAGE_LIST, &rep);
        if (rep.state && strcmp(rep.state, "failed") == 0)
            break;
        hb_msg_clear(&rep);
        zclock_sleep(20);
    }
    cr_assert_eq(rep.items_n, 1);
    cr_assert_str_eq(rep.items[0].state, "failed");
    cr_assert_str_eq(rep.progress, "no mirror");
    hb_msg_clear(&rep);
    world_down(&w);
}

Test(manager, skills_are_the_names_create_accepts, .timeout = 15)
{
    world_t w;
    world_up(&w);
    hb_msg_t rep;
    catalog(HB_MSG_SKILL_LIST, &rep);   /* no such dir yet */
    cr_assert_eq(rep.items_n, 0);
    cr_assert_str_eq(rep.state, "missing");
    cr_assert_str_eq(rep.path, w.rt.skills_dir);
    hb_msg_clear(&rep);
    char p[sizeof w.rt.skills_dir + 32];
    cr_assert_eq(mkdir(w.rt.skills_dir, 0755), 0);
    const char *dirs[] = {"pdf", "-dash", "a b", ".hidden", "docx"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", w.rt.skills_dir, dirs[i]);
        cr_assert_eq(mkdir(p, 0755), 0, "%s", p);
    }
    snprintf(p, sizeof p, "%s/pdf/SKILL.md", w.rt.skills_dir);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f);
    fputs("---\nname: pdf\ndescription: 'PDF \033[1m files'  \n---\n# body\n", f);
    fclose(f);
    catalog(HB_MSG_SKILL_LIST, &rep);
    cr_assert_str_eq(rep.state, "ok");
    cr_assert_eq(rep.items_n, 2);
    cr_assert_str_eq(rep.items[0].name, "docx");
    cr_assert_str_eq(rep.items[0].description, "");
    cr_assert_str_eq(rep.items[1].name, "pdf");
    cr_assert_str_eq(rep.items[1].description, "PDF [1m files");
    cr_assert_not(rep.truncated);
    hb_msg_clear(&rep);
    world_down(&w);
}
