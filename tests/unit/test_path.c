/* Sandbox path rules (actors/runtime/shared/path.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "path.h"

static void norm_is(const char *in, const char *want)
{
    char out[HB_PATH_MAX];
    cr_assert_eq(hb_path_normalize(in, out, sizeof out), 0, "normalize(%s) failed", in);
    cr_assert_str_eq(out, want, "normalize(%s)", in);
}

Test(path, accepts_absolute)
{
    cr_assert_eq(hb_path_check("/", NULL), 0);
    cr_assert_eq(hb_path_check("/etc/passwd", NULL), 0);
    cr_assert_eq(hb_path_check("/a b/ü", NULL), 0);
}

Test(path, rejects_relative_empty_and_null)
{
    const char *why = NULL;
    cr_assert_eq(hb_path_check("etc", &why), -1);
    cr_assert_str_eq(why, "path must be absolute");
    cr_assert_eq(hb_path_check("", NULL), -1);
    cr_assert_eq(hb_path_check(NULL, NULL), -1);
}

Test(path, rejects_nul_inside)
{
    cr_assert_eq(hb_path_check_n("/a\0b", 4, NULL), -1);
}

Test(path, length_limits)
{
    static char p[HB_PATH_MAX + 2];
    memset(p, 'a', sizeof p - 1);
    for (size_t i = 0; i < sizeof p - 1; i += 100)
        p[i] = '/';
    p[HB_PATH_MAX - 1] = '\0';      /* length HB_PATH_MAX-1: fits */
    cr_assert_eq(hb_path_check(p, NULL), 0);
    p[HB_PATH_MAX - 1] = 'a';
    p[HB_PATH_MAX] = '\0';          /* length HB_PATH_MAX: too long */
    cr_assert_eq(hb_path_check(p, NULL), -1);
}

Test(path, component_limit)
{
    char p[300];
    p[0] = '/';
    memset(p + 1, 'x', 255);
    p[256] = '\0';
    cr_assert_eq(hb_path_check(p, NULL), 0);
    p[256] = 'x';
    p[257] = '\0';
    const char *why;
    cr_assert_eq(hb_path_check(p, &why), -1);
    cr_assert_str_eq(why, "path component too long");
}

Test(path, normalize_collapses)
{
    norm_is("/", "/");
    norm_is("//", "/");
    norm_is("/a//b/", "/a/b");
    norm_is("/./a/./b/.", "/a/b");
    norm_is("/a/b/../c", "/a/c");
    norm_is("/a/b/../../..", "/");
    norm_is("/../../etc/passwd", "/etc/passwd");
    norm_is("/a/..b/c..", "/a/..b/c..");
    norm_is("/...", "/...");
}

Test(path, normalize_rejects_invalid_and_small_buffer)
{
    char out[4];
    cr_assert_eq(hb_path_normalize("rel", out, sizeof out), -1);
    cr_assert_eq(hb_path_normalize("/abcdef", out, sizeof out), -1);
}

Test(path, split_and_join)
{
    char dir[HB_PATH_MAX], out[HB_PATH_MAX];
    const char *base;
    cr_assert_eq(hb_path_split("/a/b/c", dir, sizeof dir, &base), 0);
    cr_assert_str_eq(dir, "/a/b");
    cr_assert_str_eq(base, "c");
    cr_assert_eq(hb_path_split("/x", dir, sizeof dir, &base), 0);
    cr_assert_str_eq(dir, "/");
    cr_assert_str_eq(base, "x");
    cr_assert_eq(hb_path_split("/", dir, sizeof dir, &base), 0);
    cr_assert_str_eq(base, "");
    cr_assert_eq(hb_path_join("/", "x", out, sizeof out), 0);
    cr_assert_str_eq(out, "/x");
    cr_assert_eq(hb_path_join("/a", "x", out, sizeof out), 0);
    cr_assert_str_eq(out, "/a/x");
    cr_assert_eq(hb_path_join("/a", "x", out, 4), -1);
}

Test(path, is_under)
{
    cr_assert(hb_path_is_under("/proc", "/proc"));
    cr_assert(hb_path_is_under("/proc/1", "/proc"));
    cr_assert_not(hb_path_is_under("/procx", "/proc"));
    cr_assert_not(hb_path_is_under("/pro", "/proc"));
    cr_assert(hb_path_is_under("/anything", "/"));
}
