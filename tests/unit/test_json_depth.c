/* Bounded JSON nesting (actors/runtime/json_depth.c) and its users: the
 * REST body parser, the OpenCode body guard. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "opencode_guard.h"
#include "req_parse.h"

/* "[[...]]" or "{"a":{"a":...}}" n levels deep, malloc'd. */
static char *nested(size_t n, bool object)
{
    size_t unit = object ? 5 : 1;
    char *s = malloc(n * (unit + 1) + 2);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(s + k, object ? "{\"a\":" : "[", unit);
        k += unit;
    }
    if (object)
        s[k++] = '1';
    for (size_t i = 0; i < n; i++)
        s[k++] = object ? '}' : ']';
    s[k] = '\0';
    return s;
}

Test(json_depth, limit_is_exact)
{
    for (int object = 0; object < 2; object++) {
        char *ok = nested(HB_JSON_DEPTH_MAX, object), *deep = nested(HB_JSON_DEPTH_MAX + 1, object);
        cr_assert_eq(hb_json_too_deep(ok, strlen(ok), HB_JSON_DEPTH_MAX), -1);
        json_t *j = hb_json_loadb(ok, strlen(ok), 0, NULL);
        cr_assert_not_null(j, "64 levels parse");
        json_decref(j);
        long at = hb_json_too_deep(deep, strlen(deep), HB_JSON_DEPTH_MAX);
        cr_assert_eq(at, (long)(HB_JSON_DEPTH_MAX * (object ? 5 : 1)), "offset of level 65");
        free(ok);
        free(deep);
    }
}

Test(json_depth, strings_and_escapes_do_not_count)
{
    const char *s = "[\"[[[[\", \"\\\"[[[\", \"\\\\\", [\"}}}]]]\"]]";
    cr_assert_eq(hb_json_too_deep(s, strlen(s), 2), -1);
    cr_assert_eq(hb_json_too_deep(s, strlen(s), 1), 24);
    /* an escaped backslash ends the escape: the quote after it closes the string */
    const char *t = "[\"\\\\\",[[]]]";
    cr_assert_eq(hb_json_too_deep(t, strlen(t), 2), 7);
    /* stray closers do not buy depth */
    const char *u = "]]]]{{{";
    cr_assert_eq(hb_json_too_deep(u, strlen(u), 2), 6);
}

Test(json_depth, loadb_reports_like_a_parse_error)
{
    char *deep = nested(100000, false);
    json_error_t je;
    cr_assert_null(hb_json_loadb(deep, strlen(deep), JSON_DECODE_ANY, &je));
    cr_assert_eq(json_error_code(&je), json_error_stack_overflow);
    cr_assert_str_eq(je.text, "JSON nested deeper than 64 levels");
    cr_assert_eq(je.position, HB_JSON_DEPTH_MAX);
    cr_assert_eq(je.line, 1);
    free(deep);
    /* ordinary errors still come from jansson */
    cr_assert_null(hb_json_loadb("[1,", 3, 0, &je));
    cr_assert_neq(json_error_code(&je), json_error_stack_overflow);
}

Test(json_depth, rest_body_names_the_problem)
{
    char *inner = nested(100000, false);
    size_t n = strlen(inner) + 32;
    char *body = malloc(n);
    snprintf(body, n, "{\"skills\":%s}", inner);
    hb_msg_t q;
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_create(body, strlen(body), NULL, &q, &e), -1);
    cr_assert_eq(e.code, HB_E_INVALID);
    cr_assert(strstr(e.msg, "body: JSON nested deeper than 64 levels"), "%s", e.msg);
    free(body);
    free(inner);
}

Test(json_depth, opencode_guard_refuses_deep_bodies)
{
    char *deep = nested(5000, true);
    cr_assert_eq(hb_oc_body_blocked(deep, strlen(deep)), hb_oc_too_deep);
    free(deep);
}
