/* Parsing for the file management routes (gateway/req_parse_files.c) and
 * the boolean query parameter they share with files/list. */
#include <criterion/criterion.h>
#include <string.h>

#include "query.h"
#include "req_parse.h"
#include "route.h"

Test(req_files, query_bool)
{
    hb_err_t e = {0};
    bool v = false;
    cr_assert_eq(hb_query_bool(NULL, "recursive", true, &v, &e), 0);
    cr_assert(v, "absent: the default");
    cr_assert_eq(hb_query_bool("path=/x&recursive=", "recursive", true, &v, &e), 0);
    cr_assert(v, "empty: the default");
    cr_assert_eq(hb_query_bool("recursive=false", "recursive", true, &v, &e), 0);
    cr_assert(!v);
    cr_assert_eq(hb_query_bool("recursive=0", "recursive", true, &v, &e), 0);
    cr_assert(!v);
    cr_assert_eq(hb_query_bool("parents=true", "parents", false, &v, &e), 0);
    cr_assert(v);
    cr_assert_eq(hb_query_bool("parents=1", "parents", false, &v, &e), 0);
    cr_assert(v);
    const char *bad[] = {"parents=yes", "parents=TRUE", "parents=true1", "parents=%zz",
                         "parents=truetruetrue"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_eq(hb_query_bool(bad[i], "parents", false, &v, &e), -1, "%s", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "parents:", 8) == 0, "%s", e.msg);
    }
}

Test(req_files, target_path_is_normalised_and_never_root)
{
    char p[HB_PATH_MAX];
    hb_err_t e = {0};
    cr_assert_eq(hb_req_parse_target("path=%2Froot%2F.%2Fa%2F", p, sizeof p, &e), 0);
    cr_assert_str_eq(p, "/root/a");
    const char *bad[] = {NULL, "path=", "path=/", "path=%2F%2F", "path=/root/..", "path=/./",
                         "path=rel", "path=/a%00b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        cr_assert_eq(hb_req_parse_target(bad[i], p, sizeof p, &e), -1, "%s", bad[i]);
        cr_assert_eq(e.code, HB_E_INVALID);
        cr_assert(strncmp(e.msg, "path:", 5) == 0, "%s: %s", bad[i], e.msg);
    }
}

static int move(const char *body, hb_move_req_t *m, hb_err_t *e)
{
    memset(e, 0, sizeof *e);
    return hb_req_parse_move(body, strlen(body), m, e);
}

Test(req_files, move_ok)
{
    static hb_move_req_t m;
    hb_err_t e;
    cr_assert_eq(move("{\"from\":\"/a/b\",\"to\":\"/a/c/\"}", &m, &e), 0, "%s", e.msg);
    cr_assert_str_eq(m.from, "/a/b");
    cr_assert_str_eq(m.to, "/a/c");
    cr_assert(!m.overwrite);
    cr_assert_eq(move("{\"from\":\"/a/b\",\"to\":\"/a/bc\",\"overwrite\":true}", &m, &e), 0);
    cr_assert(m.overwrite);
    cr_assert_eq(move("{\"from\":\"/a/b/c\",\"to\":\"/a/b\",\"overwrite\":false}", &m, &e), 0,
                 "out of a directory, onto its parent: the rename decides");
}

Test(req_files, move_errors_name_their_field)
{
    static hb_move_req_t m;
    const struct {
        const char *body, *field;
    } bad[] = {
        {"{}", "from:"},
        {"{\"to\":\"/x\"}", "from:"},
        {"{\"from\":\"/x\"}", "to:"},
        {"{\"from\":1,\"to\":\"/x\"}", "from:"},
        {"{\"from\":\"x\",\"to\":\"/x\"}", "from:"},
        {"{\"from\":\"\",\"to\":\"/x\"}", "from:"},
        {"{\"from\":\"/\",\"to\":\"/x\"}", "from:"},
        {"{\"from\":\"/x\",\"to\":\"/..\"}", "to:"},
        {"{\"from\":\"/x\",\"to\":\"/x/y\"}", "to:"},
        {"{\"from\":\"/x\",\"to\":\"/x\"}", "to:"},
        {"{\"from\":\"/x\",\"to\":\"/y\",\"overwrite\":1}", "overwrite:"},
        {"{\"from\":\"/x\",\"to\":\"/y\",\"force\":true}", "force:"},
        {"{\"from\":\"/a\\u0000b\",\"to\":\"/y\"}", "from:"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hb_err_t e;
        cr_assert_eq(move(bad[i].body, &m, &e), -1, "%s", bad[i].body);
        cr_assert_eq(e.code, HB_E_INVALID, "%s", bad[i].body);
        cr_assert(strncmp(e.msg, bad[i].field, strlen(bad[i].field)) == 0, "%s: %s",
                  bad[i].body, e.msg);
    }
    hb_err_t e;
    cr_assert_eq(move("[1]", &m, &e), -1);
    cr_assert_eq(move("{nope", &m, &e), -1);
}

Test(req_files, routes)
{
    hb_route_t r;
    hb_route_match("/api/v1/hiveboxes/box/files/mkdir", &r);
    cr_assert_eq(r.kind, HB_RT_FILES_MKDIR);
    hb_route_match("/api/v1/hiveboxes/box/files/move/", &r);
    cr_assert_eq(r.kind, HB_RT_FILES_MOVE);
    hb_route_match("/api/v1/hiveboxes/box/files/moved", &r);
    cr_assert_eq(r.kind, HB_RT_API_OTHER);
}
