/* A sandbox's metadata and env at create, the list's metadata filter and
 * the timeout body (gateway/req_parse_meta.c), and the one merge of a
 * sandbox's env with a request's (actors/runtime/sbenv.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "req_parse.h"
#include "runtime.h"

static json_t *filter_of(const char *qs)
{
    json_t *f = NULL;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_meta_filter(qs, &f, &e), 0, "%s: %s", qs, e.msg);
    return f;
}

Test(req_meta, filter_decodes_both_levels)
{
    /* urlencode({"metadata": urlencode({"a b": "x&y=z", "k": "é"})}) */
    json_t *f = filter_of("metadata=a%2Bb%3Dx%2526y%253Dz%26k%3D%25C3%25A9");
    cr_assert_eq(json_object_size(f), 2);
    cr_assert_str_eq(json_string_value(json_object_get(f, "a b")), "x&y=z");
    cr_assert_str_eq(json_string_value(json_object_get(f, "k")), "\xc3\xa9");
    cr_assert(hb_meta_match("{\"k\":\"\xc3\xa9\",\"a b\":\"x&y=z\",\"other\":\"1\"}", f));
    cr_assert(!hb_meta_match("{\"k\":\"\xc3\xa9\"}", f), "a pair missing");
    cr_assert(!hb_meta_match("{\"k\":\"e\",\"a b\":\"x&y=z\"}", f), "a value differs");
    cr_assert(!hb_meta_match(NULL, f));
    json_decref(f);
    cr_assert_null(filter_of(NULL), "absent: no filter");
    cr_assert_null(filter_of("other=1"));
    f = filter_of("metadata=");
    cr_assert_eq(json_object_size(f), 0);
    cr_assert(hb_meta_match(NULL, f), "an empty filter keeps everything");
    json_decref(f);
}

Test(req_meta, bad_filters_name_metadata)
{
    const char *bad[] = {"metadata=novalue", "metadata=%3Dv", "metadata=k%3D%25zz",
                         "metadata=%zz", "metadata=k%3D%25C3", "metadata=a%253Db%3Dv"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *f = NULL;
        hb_err_t e = {0};
        cr_assert_eq(hb_req_parse_meta_filter(bad[i], &f, &e), -1, "%s", bad[i]);
        cr_assert_null(f);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "metadata", 8) == 0, "%s: %s", bad[i], e.msg);
    }
}

static int parse_create(const char *body, hb_msg_t *q, hb_err_t *e)
{
    return hb_req_parse_create(body, strlen(body), NULL, q, e);
}

Test(req_meta, create_takes_metadata_and_env)
{
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(parse_create("{\"metadata\":{\"a\":\"1\"},\"env\":{\"A_1\":\"x=y\",\"_b\":\"\"}}",
                              &q, &e), 0, "%s", e.msg);
    cr_assert_str_eq(q.metadata, "{\"a\":\"1\"}");
    cr_assert_str_eq(q.env[0], "A_1=x=y");
    cr_assert_str_eq(q.env[1], "_b=");
    cr_assert_null(q.env[2]);
    hb_msg_clear(&q);
    cr_assert_eq(parse_create("{\"metadata\":null,\"env\":null}", &q, &e), 0);
    cr_assert_null(q.metadata);
    cr_assert_null(q.env);
    hb_msg_clear(&q);
}

Test(req_meta, create_refuses_bad_metadata_and_env_by_name)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"metadata\":[]}", "metadata:"},
        {"{\"metadata\":{\"k\":1}}", "metadata.k:"},
        {"{\"metadata\":{\"a=b\":\"v\"}}", "metadata.a=b:"},
        {"{\"metadata\":{\"\":\"v\"}}", "metadata.:"},
        {"{\"metadata\":{\"k\":\"a\\u0000b\"}}", "metadata.k:"},
        {"{\"env\":[\"A=1\"]}", "env:"},
        {"{\"env\":{\"9A\":\"x\"}}", "env.9A:"},
        {"{\"env\":{\"A\":1}}", "env.A:"},
        {"{\"env\":{\"A\":\"a\\u0000b\"}}", "env.A:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_msg_t q;
        hb_err_t e = {0};
        cr_assert_eq(parse_create(bad[i].body, &q, &e), -1, "%s", bad[i].body);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, bad[i].field, strlen(bad[i].field)) == 0, "%s: %s",
                  bad[i].body, e.msg);
    }
}

Test(req_meta, timeout_body)
{
    uint64_t t = 0;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_timeout("{\"timeout\":86400}", 17, &t, &e), 0);
    cr_assert_eq(t, 86400);
    const char *bad[] = {"{}", "{\"timeout\":0}", "{\"timeout\":86401}", "{\"timeout\":1.5}",
                         "{\"timeout\":\"5\"}", "[5]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_eq(hb_req_parse_timeout(bad[i], strlen(bad[i]), &t, &e), -1, "%s", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
    }
    cr_assert_eq(hb_req_parse_timeout("{\"timeout\":5,\"x\":1}", 19, &t, &e), -1);
    cr_assert(strncmp(e.msg, "x:", 2) == 0, "%s", e.msg);
}

Test(sbenv, request_wins_and_order_is_sandbox_then_request)
{
    char *own[] = {"A=sb", "B=sb", "C=sb", NULL};
    const char *req[] = {"B=req", "D=req", NULL};
    hb_sandbox_t sb = {.env = own};
    const char **v = NULL;
    hb_err_t e = {0};
    cr_assert_eq(hb_sandbox_env(&sb, req, &v, &e), 0);
    const char *want[] = {"A=sb", "C=sb", "B=req", "D=req"};
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(v[i], want[i]);
    cr_assert_null(v[4]);
    free(v);
    cr_assert_eq(hb_sandbox_env(&sb, NULL, &v, &e), 0);
    cr_assert_str_eq(v[2], "C=sb");
    cr_assert_null(v[3]);
    free(v);
    hb_sandbox_t none = {0};
    cr_assert_eq(hb_sandbox_env(&none, NULL, &v, &e), 0);
    cr_assert_null(v, "nothing at all: NULL, as before");
}

Test(sbenv, validate_names_and_count)
{
    hb_err_t e = {0};
    const char *ok[] = {"_=1", "a1_B=", NULL};
    cr_assert_eq(hb_env_validate(ok, &e), 0);
    const char *bad[] = {"1A=x", NULL};
    cr_assert_eq(hb_env_validate(bad, &e), -1);
    cr_assert(strncmp(e.msg, "env", 3) == 0);
    const char *many[HB_SB_ENV_MAX + 2];
    for (size_t i = 0; i <= HB_SB_ENV_MAX; i++)
        many[i] = "A=1";
    many[HB_SB_ENV_MAX + 1] = NULL;
    cr_assert_eq(hb_env_validate(many, &e), -1);
}

/* issue 17 (pause): auto_resume and on_timeout at create, each refused by name. */
Test(req_meta, create_takes_auto_resume_and_on_timeout)
{
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(parse_create("{\"auto_resume\":true,\"on_timeout\":\"pause\"}", &q, &e), 0,
                 "%s", e.msg);
    cr_assert(q.auto_resume);
    cr_assert_str_eq(q.on_timeout, "pause");
    hb_msg_clear(&q);
    cr_assert_eq(parse_create("{}", &q, &e), 0, "%s", e.msg);
    cr_assert(!q.auto_resume);
    cr_assert_null(q.on_timeout);   /* destroy */
    hb_msg_clear(&q);
    static const char *const BAD[][2] = {
        {"{\"auto_resume\":\"true\"}", "auto_resume"},
        {"{\"auto_resume\":1}", "auto_resume"},
        {"{\"on_timeout\":\"kill\"}", "on_timeout"},
        {"{\"on_timeout\":false}", "on_timeout"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        hb_err_t be = {0};
        cr_assert_eq(parse_create(BAD[i][0], &q, &be), -1, "%s accepted", BAD[i][0]);
        cr_assert_eq(be.code, HB_E_INVALID);
        cr_assert_eq(strncmp(be.msg, BAD[i][1], strlen(BAD[i][1])), 0, "%s", be.msg);
    }
}
