/* hb_err_t helpers (actors/runtime/shared/hberr.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hberr.h"

Test(hberr, wrap_prefixes_and_keeps_the_code)
{
    hb_err_t e = {0};
    hb_fail(&e, HB_E_NOTFOUND, ENOENT, "no such file");
    cr_assert_eq(hb_err_wrap(&e, "reading %s", "/etc/x"), -1);
    cr_assert_str_eq(e.msg, "reading /etc/x: no such file");
    cr_assert_eq(e.code, HB_E_NOTFOUND);
    cr_assert_eq(e.sys_errno, ENOENT);
    hb_err_wrap(&e, "sandbox '%s'", "a");
    cr_assert_str_eq(e.msg, "sandbox 'a': reading /etc/x: no such file");
}

Test(hberr, wrap_null_and_long)
{
    cr_assert_eq(hb_err_wrap(NULL, "x"), -1);
    hb_err_t e = {0};
    memset(e.msg, 'm', sizeof e.msg - 1);
    e.msg[sizeof e.msg - 1] = '\0';
    hb_err_wrap(&e, "context");
    cr_assert_eq(strncmp(e.msg, "context: mmm", 12), 0, "the context survives a cut");
    cr_assert_eq(strlen(e.msg), sizeof e.msg - 1);
}

Test(hberr, fail_sys_spells_the_errno)
{
    hb_err_t e = {0};
    cr_assert_eq(hb_fail_sys(&e, HB_E_INTERNAL, ENOENT, "open %s", "/x"), -1);
    cr_assert_str_eq(e.msg, "open /x: No such file or directory");
    cr_assert_eq(e.sys_errno, ENOENT);
    cr_assert_eq(hb_fail_sys(NULL, HB_E_INTERNAL, EIO, "x"), -1);
}
