/* The E2B layer's derived secrets (gateway/e2b/e2b_token.c) and its shared
 * helpers (e2b_util.c): E2B's path rule and protobuf JSON values. */
#include <criterion/criterion.h>
#include <string.h>

#include "e2b_call.h"

Test(e2b_token, api_key_is_derived_unless_given)
{
    hb_gateway_conf_t c = {.api_key = "abc"};
    char k[64];
    hb_e2b_api_key(&c, k, sizeof k);
    /* python3: "e2b_" + sha256(b"hivebox e2b api key\nabc").hexdigest()[:40] */
    cr_assert_str_eq(k, "e2b_d64ad401847b9a3300f9c4f381a7c0f7fb84dab4");
    c.e2b_api_key = "e2b_0123456789abcdef0123";
    hb_e2b_api_key(&c, k, sizeof k);
    cr_assert_str_eq(k, "e2b_0123456789abcdef0123");
}

Test(e2b_token, envd_token_differs_per_sandbox_and_from_the_mcp_token)
{
    char a[HB_E2B_TOKEN_LEN + 1], b[HB_E2B_TOKEN_LEN + 1];
    hb_e2b_envd_token_of("11", a);
    hb_e2b_envd_token_of("12", b);
    cr_assert_eq(strlen(a), HB_E2B_TOKEN_LEN);
    cr_assert_neq(strcmp(a, b), 0);
    cr_assert_eq(strspn(a, "0123456789abcdef"), HB_E2B_TOKEN_LEN);
}

Test(e2b_token, sha256_base64_has_no_padding)
{
    char b[45];
    hb_sha256_b64("x", 1, b);
    cr_assert_str_eq(b, "LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE");
}

Test(e2b_util, relative_paths_are_the_users_home)
{
    hb_e2b_call_t k = {.user = "user"};
    hb_err_t e = {0};
    char *p = hb_e2b_path(&k, "a/../b//c", "path", &e);
    cr_assert_str_eq(p, "/home/user/b/c");
    free(p);
    p = hb_e2b_path(&k, "~/x", "path", &e);
    cr_assert_str_eq(p, "/home/user/x");
    free(p);
    strcpy(k.user, "root");
    p = hb_e2b_path(&k, "x", "path", &e);
    cr_assert_str_eq(p, "/root/x");
    free(p);
    p = hb_e2b_path(&k, "/../etc/./passwd", "path", &e);
    cr_assert_str_eq(p, "/etc/passwd");
    free(p);
    cr_assert_null(hb_e2b_path(&k, "", "source", &e));
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "source"), "%s", e.msg);
}

Test(e2b_util, protobuf_json_values)
{
    json_t *v = hb_pb_int64(-42);
    cr_assert_str_eq(json_string_value(v), "-42");
    json_decref(v);
    v = hb_pb_time(1764896523456LL);
    cr_assert_str_eq(json_string_value(v), "2025-12-05T01:02:03.456Z");
    json_decref(v);
    json_t *o = json_pack("{s:s, s:I, s:s, s:b}", "a", "123", "b", (json_int_t)7, "c", "x1", "d", 1);
    int64_t n;
    cr_assert_eq(hb_pb_get_int64(o, "a", 0, &n), 0);
    cr_assert_eq(n, 123);
    cr_assert_eq(hb_pb_get_int64(o, "b", 0, &n), 0);
    cr_assert_eq(n, 7);
    cr_assert_eq(hb_pb_get_int64(o, "missing", 9, &n), 0);
    cr_assert_eq(n, 9);
    cr_assert_eq(hb_pb_get_int64(o, "c", 0, &n), -1);
    cr_assert_eq(hb_pb_get_int64(o, "d", 0, &n), -1);
    json_decref(o);
}
