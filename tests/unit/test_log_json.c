/* JSON log lines and their escaping (actors/runtime/shared/log.c). */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static size_t esc(const char *s, size_t n, char *out, size_t cap, int *cut)
{
    return hb_log_json_escape(out, cap, s, n, cut);
}

Test(log_json, escapes_quotes_backslashes_and_controls)
{
    char out[128];
    int cut = 1;
    const char *in = "a\"b\\c\nd\te\x01\x7f";
    esc(in, strlen(in), out, sizeof out, &cut);
    cr_assert_str_eq(out, "a\\\"b\\\\c\\nd\\te\\u0001\\u007f");
    cr_assert_eq(cut, 0);
}

Test(log_json, invalid_utf8_becomes_replacement_and_valid_stays)
{
    char out[128];
    /* é (valid), a stray continuation, an overlong '/', a surrogate, a cut 3-byte */
    const char s[] = "\xc3\xa9|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82";
    esc(s, sizeof s - 1, out, sizeof out, NULL);
    cr_assert_str_eq(out, "\xc3\xa9|\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd");
}

Test(log_json, a_cut_never_splits_an_escape_or_a_character)
{
    char out[8];
    int cut = 0;
    size_t n = esc("ab\n\n", 4, out, 6, &cut);   /* room for 5 bytes */
    cr_assert_str_eq(out, "ab\\n");
    cr_assert_eq(n, 4);
    cr_assert_eq(cut, 1);
    n = esc("a\xe2\x82\xac", 4, out, 4, &cut);   /* "a" + a 3-byte char: 4 bytes, room 3 */
    cr_assert_str_eq(out, "a");
    cr_assert_eq(cut, 1);
}

/* Runs fn with stderr captured; the text written, NUL-terminated. */
static void capture(void (*fn)(void), char *buf, size_t cap)
{
    FILE *tmp = tmpfile();
    cr_assert(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, cap - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

static json_t *one_line(const char *text)
{
    cr_assert_eq(strchr(text, '\n'), text + strlen(text) - 1, "one line: %s", text);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    cr_assert(j, "not JSON (%s): %s", err.text, text);
    return j;
}

static void hostile_msg(void)
{
    hb_log_set_format(HB_LOGFMT_JSON);
    hb_log_ctx_begin("req-1");
    hb_log_ctx_sandbox("sb-1");
    HB_LOG_WARN("two\nlines \"quoted\" \xff bad %s", "utf8");
    hb_log_ctx_end();
    hb_log_set_format(HB_LOGFMT_TEXT);
}

Test(log_json, a_line_is_one_object_with_the_context)
{
    char buf[8192];
    capture(hostile_msg, buf, sizeof buf);
    json_t *j = one_line(buf);
    cr_assert_str_eq(json_string_value(json_object_get(j, "level")), "warn");
    cr_assert_str_eq(json_string_value(json_object_get(j, "msg")),
                     "two\nlines \"quoted\" \xef\xbf\xbd bad utf8");
    cr_assert_str_eq(json_string_value(json_object_get(j, "request_id")), "req-1");
    cr_assert_str_eq(json_string_value(json_object_get(j, "sandbox")), "sb-1");
    const char *t = json_string_value(json_object_get(j, "time"));
    cr_assert(t && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z', "RFC 3339 ms UTC: %s", t);
    json_decref(j);
}

static void long_fields(void)
{
    static char big[6000];
    memset(big, '\n', sizeof big - 1);   /* 6 bytes each once escaped... twice the line */
    hb_log_set_format(HB_LOGFMT_JSON);
    hb_log_field_t f[] = {HB_LF_STR("route", "/healthz"), HB_LF_NUM("status", 200),
                          HB_LF_STR("remote", big)};
    hb_log_fields(HB_LOGLVL_ERROR, big, f, 3);
    hb_log_set_format(HB_LOGFMT_TEXT);
}

Test(log_json, a_huge_line_is_bounded_and_still_parses)
{
    char buf[16384];
    capture(long_fields, buf, sizeof buf);
    cr_assert_leq(strlen(buf), HB_LOG_LINE_MAX);
    json_t *j = one_line(buf);
    cr_assert_str_eq(json_string_value(json_object_get(j, "route")), "/healthz");
    cr_assert_eq(json_integer_value(json_object_get(j, "status")), 200);
    cr_assert(json_is_true(json_object_get(j, "truncated")) ||
              json_integer_value(json_object_get(j, "truncated")) == 1);
    json_decref(j);
}

static void text_fields(void)
{
    hb_log_ctx_begin("abc");
    hb_log_field_t f[] = {HB_LF_STR("route", "/a b\n"), HB_LF_NUM("status", 404)};
    hb_log_fields(HB_LOGLVL_INFO, "http: x", f, 2);
    hb_log_ctx_end();
    HB_LOG_INFO("after");
}

Test(log_json, text_keeps_its_shape_with_fields_and_request_id)
{
    char buf[4096];
    capture(text_fields, buf, sizeof buf);
    char *second = strchr(buf, '\n');
    cr_assert(second);
    *second++ = '\0';
    cr_assert(strstr(buf, " info: http: x route=/a?b? status=404 request_id=abc"), "%s", buf);
    cr_assert(strstr(second, " info: after\n") && !strstr(second, "request_id"), "%s", second);
}
