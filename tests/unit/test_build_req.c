/* The image build request (gateway/build_req.c) and its log's bounds
 * (gateway/build_log.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_log.h"
#include "build_req.h"

static int parse(const char *body, hb_build_req_t *b, hb_err_t *e)
{
    return hb_build_req_parse(body, strlen(body), b, e);
}

static void bad(const char *body, const char *field)
{
    hb_build_req_t b;
    hb_err_t e = {0};
    cr_assert_eq(parse(body, &b, &e), -1, "%s accepted", body);
    cr_assert_eq(e.code, HB_E_INVALID, "%s: %s", body, e.msg);
    cr_assert_eq(strncmp(e.msg, field, strlen(field)), 0, "%s: %s (want %s)", body, e.msg, field);
    hb_build_req_free(&b);
}

Test(build_req, full_body)
{
    hb_build_req_t b;
    hb_err_t e = {0};
    int rc = parse("{\"name\":\"py-tools\",\"from\":\"base\",\"run\":[\"echo a\",\"echo b\"],"
                   "\"files\":{\"/etc//app.conf\":\"k=v\\n\",\"/x\":\"a\\u0000b\"},"
                   "\"env\":{\"K\":\"V\"},\"network\":\"none\",\"timeout\":30,"
                   "\"memory\":\"256m\",\"cpus\":0.5}", &b, &e);
    cr_assert_eq(rc, 0, "%s", e.msg);
    cr_assert_str_eq(b.name, "py-tools");
    cr_assert_str_eq(b.from, "base");
    cr_assert_eq(b.run_n, 2);
    cr_assert_str_eq(b.run[1], "echo b");
    cr_assert_eq(b.files_n, 2);
    cr_assert_str_eq(b.files[0].path, "/etc/app.conf", "normalised");
    cr_assert_eq(b.files[1].len, 3, "NUL kept");
    cr_assert_eq(b.step_timeout_s, 30);
    cr_assert_eq(b.create.type, HB_MSG_SB_CREATE);
    cr_assert_str_eq(b.create.image, "base");
    cr_assert_str_eq(b.create.network, "none");
    cr_assert_eq(b.create.memory_bytes, 256ull << 20);
    cr_assert_eq(b.create.timeout_s, 2 * 30 + HB_BUILD_TTL_SLACK, "TTL covers the steps");
    cr_assert_str_eq(b.create.env[0], "K=V");
    hb_build_req_free(&b);
}

Test(build_req, defaults)
{
    hb_build_req_t b;
    hb_err_t e = {0};
    cr_assert_eq(parse("{\"name\":\"n\",\"run\":[\"true\"],\"files\":null}", &b, &e), 0, "%s",
                 e.msg);
    cr_assert_str_eq(b.from, "base");
    cr_assert_eq(b.step_timeout_s, HB_BUILD_STEP_TIMEOUT);
    cr_assert_eq(b.files_n, 0);
    hb_build_req_free(&b);
}

Test(build_req, errors_name_the_field)
{
    bad("[]", "body");
    bad("{", "body");
    bad("{\"run\":[\"true\"]}", "name");
    bad("{\"name\":\"a/b\",\"run\":[\"true\"]}", "name");
    bad("{\"name\":\"n\"}", "run");
    bad("{\"name\":\"n\",\"run\":[]}", "run");
    bad("{\"name\":\"n\",\"run\":[\"a\",\"\"]}", "run[1]");
    bad("{\"name\":\"n\",\"run\":[\"a\\u0000\"]}", "run[0]");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"from\":\"\"}", "from");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"files\":{\"rel\":\"x\"}}", "files");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"files\":{\"/\":\"x\"}}", "files");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"files\":{\"/a\":1}}", "files");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"timeout\":0}", "timeout");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"timeout\":86401}", "timeout");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"network\":\"x\"}", "network");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"disk\":5}", "disk");
    bad("{\"name\":\"n\",\"run\":[\"a\"],\"image\":\"base\"}", "image");
}

Test(build_req, step_count_and_size_bounds)
{
    size_t cap = HB_BUILD_STEP_MAX + 256;
    char *body = malloc(cap);
    char *cmd = malloc(HB_BUILD_STEP_MAX + 2);
    memset(cmd, 'x', HB_BUILD_STEP_MAX + 1);
    cmd[HB_BUILD_STEP_MAX + 1] = '\0';
    snprintf(body, cap, "{\"name\":\"n\",\"run\":[\"%s\"]}", cmd);
    bad(body, "run[0]");
    cmd[HB_BUILD_STEP_MAX] = '\0';
    snprintf(body, cap, "{\"name\":\"n\",\"run\":[\"%s\"]}", cmd);
    hb_build_req_t b;
    hb_err_t e = {0};
    cr_assert_eq(parse(body, &b, &e), 0, "16 KiB is allowed: %s", e.msg);
    hb_build_req_free(&b);
    free(cmd);
    char *many = malloc(64 * 8 + 64);
    strcpy(many, "{\"name\":\"n\",\"run\":[\"a\"");
    for (int i = 1; i < HB_BUILD_STEPS_MAX + 1; i++)
        strcat(many, ",\"a\"");
    strcat(many, "]}");
    bad(many, "run");
    free(many);
    free(body);
}

Test(build_req, sandbox_name_stays_valid)
{
    char out[HB_ID_MAX];
    char name[HB_ID_MAX];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    hb_build_sandbox_name(name, 0xabcd, out, sizeof out);
    cr_assert(hb_name_valid(out), "%s", out);
    cr_assert(strlen(out) <= 63 && strstr(out, "-abcd"), "%s", out);
    hb_build_sandbox_name("t", 0x1abcd, out, sizeof out);
    cr_assert_str_eq(out, "build-t-abcd");
}

Test(build_log, bounded_with_a_note_and_a_tail)
{
    hb_build_log_t l;
    hb_build_log_init(&l);
    hb_build_log_printf(&l, "$ %s\n", "cmd");
    hb_build_log_step(&l);
    char *chunk = malloc(1 << 20);
    memset(chunk, 'a', 1 << 20);
    for (int i = 0; i < 5; i++)
        hb_build_log_add(&l, chunk, 1 << 20, true);
    hb_build_log_add(&l, "END", 3, true);
    cr_assert(l.cut);
    cr_assert_leq(l.len, HB_BUILD_LOG_MAX + 64);
    cr_assert(strstr(l.buf + l.len - 60, "truncated") != NULL);
    char *t = hb_build_log_tail(&l);
    cr_assert_eq(strlen(t), HB_BUILD_TAIL_MAX);
    cr_assert_eq(strcmp(t + strlen(t) - 3, "END"), 0, "the tail goes on past the log's cap");
    free(t);
    hb_build_log_step(&l);
    hb_build_log_add(&l, "x\0y\xff", 4, true);
    t = hb_build_log_tail(&l);
    cr_assert_str_eq(t, "x?y\xef\xbf\xbd", "NUL and invalid bytes made text");
    free(t);
    free(chunk);
    hb_build_log_free(&l);
}
