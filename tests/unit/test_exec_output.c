/* Issue 10's daemon-side limits, their pure parts: the streamed exec answer
 * (the same bytes jansson would have made), the global output budget and the
 * sinks that share output between threads, admission of new sandboxes, and
 * the image facts the MCP instructions are made of. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capacity.h"
#include "exec_json.h"
#include "exec_sink.h"
#include "image_internal.h"
#include "json_stream.h"
#include "runtime.h"
#include "textutil.h"

/* ---- the streamed JSON ---- */

typedef struct {
    char  *s;
    size_t len;
} collected_t;

static int collect(void *ud, const char *data, size_t len)
{
    collected_t *c = ud;
    c->s = realloc(c->s, c->len + len + 1);
    memcpy(c->s + c->len, data, len);
    c->len += len;
    c->s[c->len] = '\0';
    return 0;
}

/* Escape through a 16-byte buffer (every run and escape crosses a piece
 * boundary somewhere) and through the counter; both must agree with
 * jansson's dump of the sanitized text. */
static void check_escape(const void *data, size_t len)
{
    size_t n = 0;
    char *clean = hb_utf8_sanitize(data, len, &n);
    json_t *j = json_stringn(clean, n);
    char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    char buf[16];
    collected_t got = {0};
    hb_jw_t w, count;
    hb_jw_init(&w, collect, &got, buf, sizeof buf);
    hb_jw_init(&count, NULL, NULL, NULL, 0);
    hb_jw_raw(&w, "\"", 1);
    hb_jw_escaped(&w, data, len);
    hb_jw_raw(&w, "\"", 1);
    cr_assert_eq(hb_jw_flush(&w), 0);
    hb_jw_raw(&count, "\"", 1);
    hb_jw_escaped(&count, data, len);
    hb_jw_raw(&count, "\"", 1);
    cr_assert_str_eq(got.s, want);
    cr_assert_eq(count.total, strlen(want));
    cr_assert_eq(w.total, strlen(want));
    free(got.s);
    free(want);
    json_decref(j);
    free(clean);
}

Test(json_stream, escapes_like_jansson)
{
    check_escape("", 0);
    check_escape("plain text\n", 11);
    check_escape("\0\0\0", 3);
    check_escape("q\"b\\s/\b\f\r\t\x1f\x7f", 12);
    check_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
    check_escape("\xff\xc3(\xe2\x82\xed\xa0\x80\xf4\x90\x80\x80", 13);   /* invalid, surrogate, > U+10FFFF */
    check_escape("cut \xe2\x82", 6);                              /* a sequence cut at the end */
    unsigned char r[4096];
    srand(7);
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(rand() % (int)sizeof r);
        for (size_t i = 0; i < n; i++)
            r[i] = (unsigned char)(round % 2 ? rand() : "a\0\xc3\xa9\"\\\n\xe2\x82\xac\xff"[rand() % 12]);
        check_escape(r, n);
    }
}

static int refuse(void *ud, const char *data, size_t len)
{
    (void)data;
    (void)len;
    return ++*(int *)ud > 1 ? -1 : 0;
}

Test(json_stream, a_refusing_sink_stops_the_writer)
{
    char buf[16];
    int calls = 0;
    hb_jw_t w;
    hb_jw_init(&w, refuse, &calls, buf, sizeof buf);
    for (int i = 0; i < 100; i++)
        hb_jw_rawz(&w, "0123456789");
    cr_assert_eq(hb_jw_flush(&w), -1);
    cr_assert_eq(calls, 2);   /* nothing more was sent after the refusal */
}

static char *exec_answer(const hb_msg_t *rep, const hb_outbuf_t *ob)
{
    char buf[64];
    collected_t got = {0};
    hb_jw_t w;
    hb_jw_init(&w, collect, &got, buf, sizeof buf);
    hb_exec_json(&w, rep, ob);
    cr_assert_eq(hb_jw_flush(&w), 0);
    return got.s;
}

Test(exec_json, the_seed_fields_then_flags_only_when_true)
{
    hb_outbudget_set(HB_DEFAULT_OUT_BUDGET);
    hb_outbuf_t ob;
    hb_outbuf_init(&ob, 0);
    cr_assert_eq(hb_outbuf_add(&ob, 1, "2\n", 2, 0), 0);
    hb_msg_t r = {.type = HB_MSG_R_EXEC, .exit_code = 0, .duration_ms = 45};
    char *t = exec_answer(&r, &ob);
    cr_assert_str_eq(t, "{\"exit_code\":0,\"stdout\":\"2\\n\",\"stderr\":\"\",\"duration_ms\":45}");
    free(t);
    r.exit_code = -1;
    r.oom_killed = r.stdout_truncated = true;
    t = exec_answer(&r, &ob);
    json_t *j = json_loads(t, 0, NULL);
    cr_assert_not_null(j, "%s", t);
    cr_assert_eq(json_integer_value(json_object_get(j, "exit_code")), -1);
    cr_assert(json_is_true(json_object_get(j, "oom_killed")));
    cr_assert(json_is_true(json_object_get(j, "stdout_truncated")));
    cr_assert_null(json_object_get(j, "timed_out"));
    cr_assert_null(json_object_get(j, "stderr_truncated"));
    json_decref(j);
    free(t);
    hb_outbuf_free(&ob);
}

/* ---- the output budget ---- */

Test(outbudget, growth_is_charged_and_given_back)
{
    hb_outbudget_set(8u << 20);
    hb_outbuf_t ob;
    hb_outbuf_init(&ob, 4u << 20);
    static char chunk[256 * 1024];
    for (int i = 0; i < 16; i++)
        cr_assert_eq(hb_outbuf_add(&ob, 1, chunk, sizeof chunk, 0), 0);
    cr_assert_eq(ob.len[1], 4u << 20);
    cr_assert_geq(hb_outbudget_used(), ob.len[1]);
    cr_assert_eq(hb_outbudget_used(), ob.cap[1] + ob.cap[2]);
    hb_outbuf_free(&ob);
    cr_assert_eq(hb_outbudget_used(), 0);
    hb_outbuf_free(&ob);   /* idempotent */
    cr_assert_eq(hb_outbudget_used(), 0);
}

Test(outbudget, exhausted_cuts_the_stream_and_refuses_new_execs)
{
    hb_outbudget_set(2u << 20);
    hb_outbuf_t a, b, c;
    hb_outbuf_init(&a, 4u << 20);
    hb_outbuf_init(&b, 4u << 20);
    hb_outbuf_init(&c, 4u << 20);
    static char chunk[256 * 1024];
    hb_err_t e = {0};
    cr_assert_eq(hb_outbuf_reserve(&a, &e), 0);
    cr_assert_eq(hb_outbuf_reserve(&b, &e), 0);
    cr_assert_eq(hb_outbuf_add(&b, 2, "x", 1, 0), 0);
    cr_assert_not(b.cut[2], "b's first bytes fit in its reserve");
    for (int i = 0; i < 12; i++)
        cr_assert_eq(hb_outbuf_add(&a, 1, chunk, sizeof chunk, 10), 0);
    cr_assert(a.cut[1], "2 MiB of budget cannot hold 3 MiB");
    cr_assert_gt(a.len[1], 0);
    cr_assert_leq(hb_outbudget_used(), 2u << 20);
    cr_assert_eq(hb_outbuf_reserve(&c, &e), -1);
    cr_assert_eq(e.code, HB_E_UNAVAIL);
    cr_assert(strstr(e.msg, "--exec-output-budget"), "%s", e.msg);
    hb_outbuf_free(&a);
    cr_assert_eq(hb_outbuf_reserve(&c, &e), 0);
    hb_outbuf_free(&b);
    hb_outbuf_free(&c);
    cr_assert_eq(hb_outbudget_used(), 0);
}

Test(outbudget, the_reserve_is_always_there)
{
    hb_outbudget_set(HB_OUT_RESERVE);
    hb_outbuf_t a;
    hb_outbuf_init(&a, 4u << 20);
    cr_assert_eq(hb_outbuf_reserve(&a, NULL), 0);
    static char chunk[300 * 1024];
    cr_assert_eq(hb_outbuf_add(&a, 1, chunk, sizeof chunk, 0), 0);
    cr_assert_eq(a.len[1], HB_OUT_RESERVE - 1, "what the reserve holds, with its NUL");
    cr_assert(a.cut[1]);
    cr_assert_eq(hb_outbudget_used(), HB_OUT_RESERVE);
    hb_outbuf_free(&a);
    cr_assert_eq(hb_outbudget_used(), 0);
    hb_outbudget_set(HB_DEFAULT_OUT_BUDGET);
}

static void *free_later(void *arg)
{
    usleep(100 * 1000);
    hb_outbuf_free(arg);
    return NULL;
}

Test(outbudget, a_waiting_stream_resumes_when_budget_comes_back)
{
    hb_outbudget_set(1u << 20);
    hb_outbuf_t a, b;
    hb_outbuf_init(&a, 4u << 20);
    hb_outbuf_init(&b, 4u << 20);
    static char chunk[512 * 1024];
    cr_assert_eq(hb_outbuf_add(&a, 1, chunk, sizeof chunk, 0), 0);
    cr_assert_eq(hb_outbuf_add(&a, 1, chunk, sizeof chunk - 1, 0), 0);
    pthread_t t;
    pthread_create(&t, NULL, free_later, &a);
    cr_assert_eq(hb_outbuf_add(&b, 1, chunk, sizeof chunk, 5000), 0);
    cr_assert_not(b.cut[1], "the wait must end when the other buffer is freed");
    pthread_join(t, NULL);
    hb_outbuf_free(&b);
    hb_outbudget_set(HB_DEFAULT_OUT_BUDGET);
}

/* ---- sinks ---- */

Test(exec_sink, adopt_close_and_put_in_either_order)
{
    hb_outbudget_set(HB_DEFAULT_OUT_BUDGET);
    size_t before = hb_sink_count();
    uint64_t id1, id2;
    hb_sink_t *s1 = hb_sink_open(&id1), *s2 = hb_sink_open(&id2);
    cr_assert(s1 && s2 && id1 != id2);
    /* normal: the op thread writes and lets go, then the gateway reads */
    hb_sink_t *op = hb_sink_adopt(id1);
    cr_assert_eq(op, s1);
    hb_outbuf_add(hb_sink_buf(op), 1, "hello", 5, 0);
    hb_sink_put(op);
    size_t n;
    cr_assert_str_eq(hb_outbuf_text(hb_sink_buf(s1), 1, &n), "hello");
    hb_sink_close(s1);
    cr_assert_null(hb_sink_adopt(id1), "a closed sink is never found again");
    /* the gateway gave up first: the op thread's reference keeps it alive */
    op = hb_sink_adopt(id2);
    hb_sink_close(s2);
    cr_assert_null(hb_sink_adopt(id2));
    hb_outbuf_add(hb_sink_buf(op), 2, "late", 4, 0);
    hb_sink_put(op);
    cr_assert_eq(hb_sink_count(), before);
    cr_assert_eq(hb_outbudget_used(), 0);
}

/* ---- admission ---- */

Test(capacity, admission_names_the_limit)
{
    hb_limits_t l;
    hb_limits_defaults(&l);
    cr_assert_eq(l.max_sandboxes, 1000);
    cr_assert_float_eq(l.mem_overcommit, 1.5, 1e-12);
    uint64_t g = 1ull << 30;
    hb_err_t e = {0};
    cr_assert_eq(hb_limits_admit(&l, 23 * g, 0, 0, 20 * g, &e), 0);
    cr_assert_eq(hb_limits_admit(&l, 23 * g, 1, 20 * g, 20 * g, &e), -1,
                 "two 20 GiB sandboxes on a 23 GiB host");
    cr_assert_eq(e.code, HB_E_UNAVAIL);
    cr_assert(strstr(e.msg, "--memory-overcommit"), "%s", e.msg);
    cr_assert_eq(hb_limits_admit(&l, 23 * g, 999, 0, 1, &e), 0);
    cr_assert_eq(hb_limits_admit(&l, 23 * g, 1000, 0, 1, &e), -1);
    cr_assert(strstr(e.msg, "--max-sandboxes"), "%s", e.msg);
}

/* ---- image facts ---- */

static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

Test(image_facts, from_the_image_files_plain_text_only)
{
    char data[] = "/tmp/hb-facts-XXXXXX", root[600], path[700];
    cr_assert_not_null(mkdtemp(data));
    snprintf(root, sizeof root, "%s/images/img/rootfs", data);
    const char *dirs[] = {"images", "images/img", "images/img/rootfs", "images/img/rootfs/etc",
                          "images/img/rootfs/usr", "images/img/rootfs/usr/bin"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        snprintf(path, sizeof path, "%s/%s", data, dirs[i]);
        cr_assert_eq(mkdir(path, 0755), 0);
    }
    put(root, "etc/os-release", "NAME=x\nPRETTY_NAME=\"Debian <b>12</b>\\n\nIGNORE\"\n", 0644);
    put(root, "usr/bin/git", "", 0755);
    put(root, "usr/bin/jq", "", 0644);   /* not executable: not a tool */
    snprintf(path, sizeof path, "%s/usr/bin/python3", root);
    cr_assert_eq(symlink("/usr/bin/git", path), 0);   /* absolute: resolved in the image */
    snprintf(path, sizeof path, "%s/usr/bin/curl", root);
    cr_assert_eq(symlink("/etc/hostname-of-the-host", path), 0);
    hb_runtime_t rt = {0};
    snprintf(rt.data_dir, sizeof rt.data_dir, "%s", data);
    hb_image_facts_t f;
    cr_assert_eq(hb_image_facts(&rt, "img", &f), 0);
    cr_assert_str_eq(f.os, "Debian b12/bn");   /* quotes, markup, backslash dropped */
    cr_assert_str_eq(f.tools, "python3 git");
    cr_assert_eq(hb_image_facts(&rt, "../img", &f), -1);
    /* recorded at build/import, then read back (and cleaned again) */
    snprintf(path, sizeof path, "%s/images/img", data);
    cr_assert_eq(hb_image_facts_record(path, NULL), 0);
    put(root, "etc/os-release", "PRETTY_NAME=changed\n", 0644);
    cr_assert_eq(hb_image_facts(&rt, "img", &f), 0);
    cr_assert_str_eq(f.os, "Debian b12/bn", "the record wins over the files");
    put(path, "image.json", "{\"os\": \"x\\n<y>\", \"tools\": \"git\"}", 0644);
    cr_assert_eq(hb_image_facts(&rt, "img", &f), 0);
    cr_assert_str_eq(f.os, "xy");   /* the JSON newline and the markup dropped */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data);
    cr_assert_eq(system(cmd), 0);
}
