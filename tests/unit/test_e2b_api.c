/* E2B's control plane, its pure half (gateway/e2b/e2b_api_parse.c): the
 * list's query (E2B's metadata filter is encoded once more than HiveBox's
 * own), the page token, and the create body's translation into HiveBox's. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_api_parse.h"

static hb_e2b_filter_t list_ok(const char *qs, bool v2)
{
    hb_e2b_filter_t f = {0};
    hb_err_t e = {0};
    cr_assert_eq(hb_e2b_parse_list(qs, v2, &f, &e), 0, "%s: %s", qs ? qs : "(null)", e.msg);
    return f;
}

static void list_bad(const char *qs, const char *field)
{
    hb_e2b_filter_t f = {0};
    hb_err_t e = {0};
    cr_assert_eq(hb_e2b_parse_list(qs, true, &f, &e), -1, "%s accepted", qs);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert_eq(strncmp(e.msg, field, strlen(field)), 0, "%s: %s", qs, e.msg);
    json_decref(f.meta);
}

Test(e2b_api, list_defaults)
{
    hb_e2b_filter_t f = list_ok(NULL, true);
    cr_assert_null(f.meta);
    cr_assert(f.running && !f.asc && !f.has_token && f.tmpl[0] == '\0');
    cr_assert_eq(f.limit, HB_E2B_LIMIT_MAX);
    cr_assert_eq(f.after, INT64_MIN);
    f = list_ok("limit=5", false);
    cr_assert_eq(f.limit, SIZE_MAX, "v1 has no paging");
}

Test(e2b_api, metadata_filter_is_decoded_three_times)
{
    /* the SDKs: encodeURIComponent each key and value, URLSearchParams the
     * pairs, then the query serializer encodes the parameter */
    hb_e2b_filter_t f = list_ok("metadata=a%252520key%3Dx%252526y%25253Dz%26n%3D1", true);
    cr_assert_eq(json_object_size(f.meta), 2);
    cr_assert_str_eq(json_string_value(json_object_get(f.meta, "a key")), "x&y=z");
    cr_assert_str_eq(json_string_value(json_object_get(f.meta, "n")), "1");
    json_decref(f.meta);
}

Test(e2b_api, state_order_time_token)
{
    hb_e2b_filter_t f = list_ok("state=paused", true);
    cr_assert(!f.running && f.paused, "paused only");
    f = list_ok("state=paused&state=running&order=asc&template=base", true);
    cr_assert(f.running && f.asc);
    cr_assert_str_eq(f.tmpl, "base");
    f = list_ok("startedAfter=2026-01-02T03:04:05.678%2B01:00", true);
    cr_assert_eq(f.after, 1767323045 - 3600);
    f = list_ok("startedAfter=2026-01-02T03:04:05Z&nextToken=1767323045%3Ahb-1.a_b", true);
    cr_assert_eq(f.after, 1767323045);
    cr_assert(f.has_token);
    cr_assert_eq(f.tok_t, 1767323045);
    cr_assert_str_eq(f.tok_id, "hb-1.a_b");
}

Test(e2b_api, bad_queries_name_their_field)
{
    list_bad("limit=0", "limit");
    list_bad("limit=101", "limit");
    list_bad("state=sleeping", "state");
    list_bad("state=running,", "state");
    list_bad("order=sideways", "order");
    list_bad("startedAfter=2026-01-02", "startedAfter");
    list_bad("startedAfter=2026-01-02T03:04:05", "startedAfter");
    list_bad("nextToken=abc", "nextToken");
    list_bad("nextToken=-1%3Aid", "nextToken");
    list_bad("nextToken=12%3A..", "nextToken");
    list_bad("metadata=noequals", "metadata");
    list_bad("metadata=%3Dv", "metadata");
    list_bad("metadata=k%3D%25zz", "metadata");
}

static json_t *translate(const char *body, hb_err_t *e)
{
    json_t *in = json_loads(body, 0, NULL);
    cr_assert_not_null(in, "%s", body);
    json_t *out = hb_e2b_translate_create(in, e);
    json_decref(in);
    return out;
}

Test(e2b_api, create_is_translated)
{
    hb_err_t e = {0};
    json_t *o = translate("{\"templateID\":\"base\",\"metadata\":{\"a\":\"b\"},\"envVars\":"
                          "{\"X\":\"1\"},\"allow_internet_access\":false,\"secure\":false,"
                          "\"mcp\":null,\"network\":{},\"volumeMounts\":[],\"autoPause\":false,"
                          "\"autoResume\":{\"enabled\":false},\"unknown\":1}", &e);
    cr_assert_not_null(o, "%s", e.msg);
    cr_assert_str_eq(json_string_value(json_object_get(o, "image")), "base");
    cr_assert_eq(json_integer_value(json_object_get(o, "timeout")), HB_E2B_TIMEOUT_DEF);
    cr_assert_str_eq(json_string_value(json_object_get(o, "network")), "none");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "env"), "X")), "1");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "metadata"), "a")), "b");
    cr_assert_eq(json_object_size(o), 5, "nothing else reaches HiveBox's parser");
    json_decref(o);
    o = translate("{\"templateID\":\"img\",\"timeout\":0,\"allow_internet_access\":true}", &e);
    cr_assert_eq(json_integer_value(json_object_get(o, "timeout")), 1);
    cr_assert_null(json_object_get(o, "network"), "HiveBox's default network");
    json_decref(o);
}

Test(e2b_api, create_refusals_name_the_field)
{
    static const char *const CASES[][2] = {
        {"{}", "templateID"},
        {"{\"templateID\":null}", "templateID"},
        {"{\"templateID\":\"base\",\"timeout\":86401}", "timeout"},
        {"{\"templateID\":\"base\",\"timeout\":1.5}", "timeout"},
        {"{\"templateID\":\"base\",\"metadata\":{\"k\":[]}}", "metadata.k"},
        {"{\"templateID\":\"base\",\"envVars\":[]}", "envVars"},
        {"{\"templateID\":\"base\",\"secure\":\"yes\"}", "secure"},
        {"{\"templateID\":\"base\",\"autoPause\":1}", "autoPause"},
        {"{\"templateID\":\"base\",\"autoPause\":true,\"autoPauseMemory\":false}",
         "autoPauseMemory"},
        {"{\"templateID\":\"base\",\"autoResume\":{\"enabled\":1}}", "autoResume"},
        {"{\"templateID\":\"base\",\"autoResume\":true}", "autoResume"},
        {"{\"templateID\":\"base\",\"mcp\":{\"x\":{}}}", "mcp"},
        {"{\"templateID\":\"base\",\"iam\":{\"tokens\":{}}}", "iam"},
        {"{\"templateID\":\"base\",\"volumeMounts\":[{}]}", "volumeMounts"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        hb_err_t e = {0};
        cr_assert_null(translate(CASES[i][0], &e), "%s accepted", CASES[i][0]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert_eq(strncmp(e.msg, CASES[i][1], strlen(CASES[i][1])), 0, "%s: %s",
                     CASES[i][0], e.msg);
    }
}

Test(e2b_api, hivebox_field_names_become_e2b_ones)
{
    hb_err_t e = {.code = HB_E_INVALID};
    snprintf(e.msg, sizeof e.msg, "image: no image named 'x'");
    hb_e2b_rename_field(&e);
    cr_assert_str_eq(e.msg, "templateID: no image named 'x'");
    snprintf(e.msg, sizeof e.msg, "env.1A: bad name");
    hb_e2b_rename_field(&e);
    cr_assert_str_eq(e.msg, "envVars.1A: bad name");
    snprintf(e.msg, sizeof e.msg, "environment: untouched");
    hb_e2b_rename_field(&e);
    cr_assert_str_eq(e.msg, "environment: untouched");
}

Test(e2b_api, empty_state_is_no_filter)
{
    hb_e2b_filter_t f = list_ok("state=&limit=3", true);
    cr_assert(f.running);
    cr_assert_eq(f.limit, 3);
    f = list_ok("xstate=paused&state=running%2Cpaused", true);
    cr_assert(f.running);
}
