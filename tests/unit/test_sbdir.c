/* The sandbox state dir's names and rule (actors/runtime/sbdir.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sbdir.h"

Test(sbdir, paths)
{
    char buf[64];
    hb_err_t e = {0};
    cr_assert_eq(hb_sbdir_path(buf, sizeof buf, "/var/lib/hivebox", "hb-1", &e), 0);
    cr_assert_str_eq(buf, "/var/lib/hivebox/sandboxes/hb-1");
    cr_assert_eq(hb_sbdir_path(buf, sizeof buf, "/var/lib/hivebox", NULL, &e), 0);
    cr_assert_str_eq(buf, "/var/lib/hivebox/sandboxes");
    cr_assert_eq(hb_sbdir_file(buf, sizeof buf, "/d", HB_SBDIR_MCP_TOKEN, &e), 0);
    cr_assert_str_eq(buf, "/d/mcp_token");
}

Test(sbdir, truncation_is_an_error)
{
    char buf[32];
    hb_err_t e = {0};
    /* exactly full (31 chars + NUL) fits; one more does not */
    cr_assert_eq(hb_sbdir_file(buf, sizeof buf, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "b", &e), 0);
    cr_assert_eq(strlen(buf), 31);
    cr_assert_eq(hb_sbdir_file(buf, sizeof buf, "/aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bc", &e), -1);
    cr_assert_eq(e.code, HB_E_INTERNAL);
    cr_assert_eq(e.sys_errno, ENAMETOOLONG);
    cr_assert_eq(hb_sbdir_path(buf, sizeof buf, "/a-rather-long-data-dir", "hb-1", NULL), -1);
}

Test(sbdir, complete_follows_the_written_last_rule)
{
    char dir[] = "/tmp/hb-sbdir-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    hb_err_t e = {0};
    cr_assert_not(hb_sbdir_complete(dir));
    snprintf(path, sizeof path, "%s/%s", dir, HB_SBDIR_RECORD);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_not(hb_sbdir_complete(dir), "the record alone is not a finished create");
    cr_assert_eq(hb_sbdir_seal(dir, "0123", &e), 0, "%s", e.msg);
    cr_assert(hb_sbdir_complete(dir));
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, HB_SBDIR_MCP_TOKEN);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "the token is a secret");
    snprintf(path, sizeof path, "%s/%s", dir, HB_SBDIR_DESTROYING);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_not(hb_sbdir_complete(dir), "a destroy has begun");
    cr_assert(hb_sbdir_has(dir, HB_SBDIR_DESTROYING));
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", dir, HB_SBDIR_MCP_TOKEN);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", dir, HB_SBDIR_RECORD);
    unlink(path);
    rmdir(dir);
}
