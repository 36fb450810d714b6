/* Request ids (gateway/reqid.c), route templates (gateway/route.c) and the
 * parse of civetweb's access line (gateway/reqid.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "reqid.h"
#include "route.h"

Test(reqid, sane_ids_are_kept_others_replaced)
{
    char out[HB_LOG_REQID_MAX + 1], long_ok[HB_LOG_REQID_MAX + 1], too_long[HB_LOG_REQID_MAX + 2];
    memset(long_ok, 'a', HB_LOG_REQID_MAX);
    long_ok[HB_LOG_REQID_MAX] = '\0';
    memset(too_long, 'a', HB_LOG_REQID_MAX + 1);
    too_long[HB_LOG_REQID_MAX + 1] = '\0';
    cr_assert(hb_reqid_sane("abc-DEF_1.2:3"));
    cr_assert(hb_reqid_sane(long_ok));
    const char *bad[] = {NULL, "", "a b", "a\r\nX-Evil: 1", "a\"b", "ü", "a/b", too_long};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert(!hb_reqid_sane(bad[i]), "%zu", i);
        hb_reqid_take(bad[i], out);
        cr_assert_eq(strlen(out), 32);
        cr_assert(hb_reqid_sane(out));
    }
    hb_reqid_take("client-7", out);
    cr_assert_str_eq(out, "client-7");
}

Test(reqid, new_ids_differ)
{
    char a[HB_LOG_REQID_MAX + 1], b[HB_LOG_REQID_MAX + 1];
    hb_reqid_new(a);
    hb_reqid_new(b);
    cr_assert_str_neq(a, b);
    cr_assert_eq(strspn(a, "0123456789abcdef"), 32);
}

static const char *tpl(const char *path)
{
    hb_route_t r;
    hb_route_match(path, &r);
    return hb_route_template(&r);
}

Test(route_tpl, templates_never_hold_the_raw_path)
{
    cr_assert_str_eq(tpl("/healthz"), "/healthz");
    cr_assert_str_eq(tpl("/metrics"), "/metrics");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes"), "/api/v1/hiveboxes");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1"), "/api/v1/hiveboxes/:id");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1/exec"), "/api/v1/hiveboxes/:id/exec");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/NOT%20A%20NAME/exec"), "/api/v1/hiveboxes/:id/exec");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1/processes/web/output"),
                     "/api/v1/hiveboxes/:id/processes/:sel/output");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1/processes/42"),
                     "/api/v1/hiveboxes/:id/processes/:sel");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1/processes/42/nope"), "other");
    cr_assert_str_eq(tpl("/api/v1/hiveboxes/sb-1/opencode/session/x"),
                     "/api/v1/hiveboxes/:id/opencode/*");
    cr_assert_str_eq(tpl("/sandboxes"), "/sandboxes");
    cr_assert_str_eq(tpl("/sandboxes/sb-1"), "/sandboxes/:id");
    cr_assert_str_eq(tpl("/sandboxes/sb-1/timeout"), "/sandboxes/:id/timeout");
    cr_assert_str_eq(tpl("/v2/sandboxes"), "/v2/sandboxes");
    cr_assert_str_eq(tpl("/v2/sandboxes/sb-1/connect"), "/v2/sandboxes/:id/connect");
    cr_assert_str_eq(tpl("/sandboxes/sb-1/pause"), "/sandboxes/:id/*");
    cr_assert_str_eq(tpl("/secret/path?ticket=abc"), "other");
    cr_assert_str_eq(tpl("/api/v9/whatever"), "other");
    cr_assert_str_eq(hb_route_tpl_name(HB_TPL_ENVD), "envd");
    cr_assert_str_eq(hb_route_tpl_name(HB_TPL_COUNT), "other");
}

Test(route_tpl, every_template_is_a_bounded_label)
{
    for (int t = 0; t < HB_TPL_COUNT; t++) {
        const char *n = hb_route_tpl_name((hb_route_tpl_t)t);
        cr_assert(n && n[0] && strlen(n) < 64 && !strpbrk(n, "\"\\\n?"), "%d", t);
    }
}

Test(reqlog, civetweb_access_line_gives_status_and_bytes)
{
    int st;
    long long b;
    hb_reqid_parse_civetweb("127.0.0.1 - - [05/Dec/2026:04:16:11 +0000] \"GET /a?x=y HTTP/1.1\" "
                             "200 1234 - curl/8", &st, &b);
    cr_assert_eq(st, 200);
    cr_assert_eq(b, 1234);
    hb_reqid_parse_civetweb("::1 - - [05/Dec/2026:04:16:11 +0000] \"GET /\"]x HTTP/1.1\" -1 88 - -",
                             &st, &b);
    cr_assert_eq(st, -1);
    cr_assert_eq(b, 88);
    const char *bad[] = {NULL, "", "no bracket", "1 - - [d] \"GET / HTTP/1.1\" 200",
                         "1 - - [d] \"GET / HTTP/1.1\" x 12 - -", "1 - - [d] \"GET /"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_reqid_parse_civetweb(bad[i], &st, &b);
        cr_assert_eq(b, -1, "%zu", i);
    }
}
