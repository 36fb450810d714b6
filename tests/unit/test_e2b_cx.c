/* The E2B plane's request side (gateway/e2b/e2b_cx_parse.c,
 * e2b_proc_parse.c) and the Connect code table (http_status.c). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_cx.h"
#include "e2b_proc.h"
#include "http_status.h"

Test(e2b_cx, content_types)
{
    cr_assert_eq(hb_cx_content_kind("application/json"), HB_CX_UNARY);
    cr_assert_eq(hb_cx_content_kind("application/json; charset=utf-8"), HB_CX_UNARY);
    cr_assert_eq(hb_cx_content_kind("Application/Connect+JSON"), HB_CX_STREAM);
    cr_assert_eq(hb_cx_content_kind("application/jsonx"), -1);
    cr_assert_eq(hb_cx_content_kind("application/proto"), -1);
    cr_assert_eq(hb_cx_content_kind(NULL), -1);
}

Test(e2b_cx, one_envelope_per_stream_request)
{
    hb_err_t e = {0};
    const char ok[] = "\0\0\0\0\x02{}";
    json_t *m = hb_cx_parse_request(ok, sizeof ok - 1, HB_CX_STREAM, &e);
    cr_assert(json_is_object(m));
    json_decref(m);
    const char two[] = "\0\0\0\0\x02{}\0\0\0\0\x02{}";
    cr_assert_null(hb_cx_parse_request(two, sizeof two - 1, HB_CX_STREAM, &e));
    cr_assert_eq(e.code, HB_E_INVALID);
    const char gz[] = "\x01\0\0\0\x02{}";
    cr_assert_null(hb_cx_parse_request(gz, sizeof gz - 1, HB_CX_STREAM, &e));
    cr_assert(strstr(e.msg, "compressed"));
    cr_assert_null(hb_cx_parse_request("[]", 2, HB_CX_UNARY, &e));
    m = hb_cx_parse_request("", 0, HB_CX_UNARY, &e);   /* empty: the empty message */
    cr_assert(json_is_object(m));
    json_decref(m);
}

Test(e2b_cx, headers)
{
    char user[HB_USER_MAX + 1];
    hb_err_t e = {0};
    int64_t ms = -1;
    cr_assert_eq(hb_cx_basic_user(NULL, user, sizeof user, &e), 0);
    cr_assert_str_eq(user, "user");
    cr_assert_eq(hb_cx_basic_user("Basic cm9vdDo=", user, sizeof user, &e), 0);   /* root: */
    cr_assert_str_eq(user, "root");
    cr_assert_eq(hb_cx_basic_user("Basic Li4vZXRjOg==", user, sizeof user, &e), -1); /* ../etc: */
    cr_assert_eq(hb_cx_basic_user("Bearer x", user, sizeof user, &e), -1);
    cr_assert_eq(hb_cx_keepalive_ms("50"), 50000);
    cr_assert_eq(hb_cx_keepalive_ms("0"), HB_CX_KEEPALIVE_DEF_MS);
    cr_assert_eq(hb_cx_keepalive_ms("x"), HB_CX_KEEPALIVE_DEF_MS);
    cr_assert_eq(hb_cx_timeout_ms("60000", &ms, &e), 0);
    cr_assert_eq(ms, 60000);
    cr_assert_eq(hb_cx_timeout_ms("-5", &ms, &e), -1);
    cr_assert_eq(hb_cx_timeout_ms("12345678901", &ms, &e), -1);
}

Test(e2b_cx, base64_both_alphabets_padding_optional)
{
    unsigned char *o = NULL;
    size_t n = 0;
    cr_assert_eq(hb_b64_decode("aGk=", 4, 16, &o, &n), 0);
    cr_assert(n == 2 && memcmp(o, "hi", 2) == 0);
    free(o);
    cr_assert_eq(hb_b64_decode("-_8", 3, 16, &o, &n), 0);
    cr_assert(n == 2 && o[0] == 0xfb && o[1] == 0xff);
    free(o);
    cr_assert_eq(hb_b64_decode("a", 1, 16, &o, &n), -1);
    cr_assert_eq(hb_b64_decode("aGVsbG8=", 8, 4, &o, &n), -1);   /* past max */
    char *s = hb_b64_encode("\xfb\xff", 2);
    cr_assert_str_eq(s, "+/8=");
    free(s);
}

Test(e2b_proc, argv_is_quoted_and_recovered)
{
    hb_err_t e = {0};
    json_t *cmd = json_string("/bin/bash");
    json_t *args = json_pack("[s,s,s]", "-l", "-c", "echo 'it''s' $HOME \"x\"");
    char *line = hb_e2b_cmd_quote(cmd, args, &e);
    cr_assert_str_eq(line, "exec '/bin/bash' '-l' '-c' 'echo '\\''it'\\'''\\''s'\\'' $HOME \"x\"'");
    json_t *c2 = NULL, *a2 = NULL;
    hb_e2b_cmd_split(line, &c2, &a2);
    cr_assert(json_equal(c2, cmd) && json_equal(a2, args));
    json_decref(c2);
    json_decref(a2);
    hb_e2b_cmd_split("sleep 5 &", &c2, &a2);   /* a REST command */
    cr_assert_str_eq(json_string_value(c2), "/bin/sh");
    cr_assert_str_eq(json_string_value(json_array_get(a2, 1)), "sleep 5 &");
    json_decref(c2);
    json_decref(a2);
    free(line);
    json_decref(cmd);
    json_decref(args);
}

Test(e2b_proc, start_request)
{
    hb_e2b_call_t k = {.user = "user"};
    hb_e2b_start_t s;
    hb_err_t e = {0};
    json_t *m = json_loads("{\"process\":{\"cmd\":\"ls\",\"envs\":{\"A\":\"1\"},\"cwd\":\"w\"},"
                           "\"pty\":{\"size\":{\"cols\":80,\"rows\":\"24\"}},\"tag\":\"t\"}", 0, NULL);
    cr_assert_eq(hb_e2b_start_parse(&k, m, 5000, &s, &e), 0, "%s", e.msg);
    cr_assert_str_eq(s.req.command, "exec 'ls'");
    cr_assert_str_eq(s.req.cwd, "/home/user/w");
    cr_assert_str_eq(s.req.env[0], "A=1");
    cr_assert_null(s.req.env[1]);
    cr_assert(s.req.cols == 80 && s.req.rows == 24 && s.req.keep_stdin);
    cr_assert_eq(s.req.timeout_ms, 5000);
    cr_assert_str_eq(s.req.tag, "t");
    hb_e2b_start_clear(&s);
    json_decref(m);
    m = json_loads("{\"process\":{\"cmd\":\"ls\",\"envs\":{\"A=B\":\"1\"}}}", 0, NULL);
    cr_assert_eq(hb_e2b_start_parse(&k, m, 0, &s, &e), -1);
    cr_assert(strstr(e.msg, "process.envs"));
    json_decref(m);
}

Test(e2b_proc, signals_and_selectors)
{
    json_t *v = json_string("SIGNAL_SIGKILL");
    cr_assert_eq(hb_e2b_signal(v), SIGKILL);
    json_decref(v);
    v = json_integer(15);
    cr_assert_eq(hb_e2b_signal(v), SIGTERM);
    json_decref(v);
    v = json_string("SIGNAL_SIGHUP");
    cr_assert_eq(hb_e2b_signal(v), 0);
    json_decref(v);
    hb_proc_sel_t sel;
    hb_err_t e = {0};
    json_t *m = json_loads("{\"process\":{\"pid\":\"42\"}}", 0, NULL);
    cr_assert_eq(hb_e2b_selector(m, &sel, &e), 0);
    cr_assert_eq(sel.pid, 42);
    json_decref(m);
    m = json_loads("{\"process\":{}}", 0, NULL);
    cr_assert_eq(hb_e2b_selector(m, &sel, &e), -1);
    json_decref(m);
}

Test(e2b_cx, connect_codes)
{
    cr_assert_str_eq(hb_connect_code(HB_E_NOTFOUND), "not_found");
    cr_assert_str_eq(hb_connect_code(HB_E_GONE), "unavailable");
    cr_assert_eq(hb_connect_http_status("unauthenticated"), 401);
    cr_assert_eq(hb_connect_http_status("deadline_exceeded"), 504);
    cr_assert_eq(hb_connect_http_status("bogus"), 500);
}
