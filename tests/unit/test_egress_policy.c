/* The egress policy parser and name matching (egress_policy.c): entries
 * of every kind, canonical form, the 512-entry bound, errors naming the
 * entry, wildcards matching subdomains only, deny before allow. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "egress_policy.h"

static int parse(const char *text, hb_egress_t *p, hb_err_t *e)
{
    return hb_egress_parse(text, strlen(text), p, e);
}

Test(egress_policy, canonical_form)
{
    hb_egress_t p;
    hb_err_t e = {0};
    cr_assert_eq(parse("{\"allow_out\": [\"PyPI.org.\", \"*.Example.COM\", \"10.1.2.3/8\", "
                       "\"192.0.2.7\", \"2001:DB8::1/32\"], \"deny_out\": [\"::1\"]}", &p, &e),
                 0, "%s", e.msg);
    char *t = hb_egress_text(&p);
    cr_assert_str_eq(t, "{\"allow_out\":[\"pypi.org\",\"*.example.com\",\"10.0.0.0/8\","
                        "\"192.0.2.7\",\"2001:db8::/32\"],\"deny_out\":[\"::1\"]}");
    free(t);
    hb_egress_free(&p);
}

Test(egress_policy, errors_name_the_entry)
{
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"{\"allow_out\": [\"ok.test\", \"bad name\"]}", "allow_out[1]"},
        {"{\"deny_out\": [\"10.0.0.0/33\"]}", "deny_out[0]"},
        {"{\"deny_out\": [\"1.2.3.4/\"]}", "deny_out[0]"},
        {"{\"deny_out\": [\"*\"]}", "deny_out[0]"},
        {"{\"deny_out\": [\"-a.test\"]}", "deny_out[0]"},
        {"{\"deny_out\": [\"a..test\"]}", "deny_out[0]"},
        {"{\"allow_out\": [1]}", "allow_out[0]"},
        {"{\"allow_out\": \"a.test\"}", "allow_out"},
        {"{\"other\": []}", "other"},
        {"[]", "object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        hb_egress_t p;
        hb_err_t e = {0};
        cr_assert_eq(parse(bad[i].body, &p, &e), -1, "%s", bad[i].body);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strstr(e.msg, bad[i].want), "%s -> %s", bad[i].body, e.msg);
    }
}

static char *many(size_t na, size_t nd)
{
    size_t cap = (na + nd) * 24 + 64, at = 0;
    char *s = malloc(cap);
    at += (size_t)snprintf(s + at, cap - at, "{\"allow_out\":[");
    for (size_t i = 0; i < na; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s\"a%zu.test\"", i ? "," : "", i);
    at += (size_t)snprintf(s + at, cap - at, "],\"deny_out\":[");
    for (size_t i = 0; i < nd; i++)
        at += (size_t)snprintf(s + at, cap - at, "%s\"d%zu.test\"", i ? "," : "", i);
    snprintf(s + at, cap - at, "]}");
    return s;
}

Test(egress_policy, at_most_512_entries_together)
{
    hb_egress_t p;
    hb_err_t e = {0};
    char *ok = many(300, 212), *over = many(300, 213);
    cr_assert_eq(parse(ok, &p, &e), 0, "%s", e.msg);
    cr_assert_eq(p.n_allow + p.n_deny, 512);
    hb_egress_free(&p);
    cr_assert_eq(parse(over, &p, &e), -1);
    cr_assert(strstr(e.msg, "deny_out: more than 512"), "%s", e.msg);
    free(ok);
    free(over);
}

Test(egress_policy, names_wildcards_and_deny_first)
{
    hb_egress_t p;
    hb_err_t e = {0};
    cr_assert_eq(parse("{\"allow_out\": [\"pypi.org\", \"*.github.com\"], "
                       "\"deny_out\": [\"evil.github.com\"]}", &p, &e), 0);
    cr_assert(hb_egress_name_allowed(&p, "pypi.org"));
    cr_assert(hb_egress_name_allowed(&p, "PYPI.ORG."));
    cr_assert_not(hb_egress_name_allowed(&p, "files.pypi.org"));
    cr_assert(hb_egress_name_allowed(&p, "api.github.com"));
    cr_assert(hb_egress_name_allowed(&p, "a.b.github.com"));
    cr_assert_not(hb_egress_name_allowed(&p, "github.com"));      /* apex: not a subdomain */
    cr_assert_not(hb_egress_name_allowed(&p, "xgithub.com"));
    cr_assert_not(hb_egress_name_allowed(&p, "evil.github.com")); /* deny wins */
    cr_assert_not(hb_egress_name_allowed(&p, ""));
    hb_egress_free(&p);
    cr_assert_eq(parse("{\"deny_out\": [\"bad.test\"]}", &p, &e), 0);
    cr_assert(hb_egress_name_allowed(&p, "anything.else"));       /* deny_out alone */
    cr_assert_not(hb_egress_name_allowed(&p, "bad.test"));
    hb_egress_free(&p);
    cr_assert_eq(parse("{\"allow_out\": [\"10.0.0.0/8\"]}", &p, &e), 0);
    cr_assert_not(hb_egress_name_allowed(&p, "pypi.org"));        /* no name allowed */
    hb_egress_free(&p);
}

Test(egress_policy, empty_is_no_policy)
{
    hb_egress_t p;
    hb_err_t e = {0};
    cr_assert_eq(parse("{}", &p, &e), 0);
    cr_assert(hb_egress_empty(&p));
    cr_assert_eq(parse("{\"allow_out\": [], \"deny_out\": null}", &p, &e), 0);
    cr_assert(hb_egress_empty(&p));
}
