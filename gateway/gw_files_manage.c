/* File management: mkdir, move, delete (gw_files.c streams the contents).
 * Each runs on the worker thread under a lease, one init request or two
 * (a stat before, for the 404 and 409 the API promises), never through
 * exec: they are not commands and do not count as commands run. */
#include "gw_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "query.h"
#include "req_parse.h"

/* A path that is there (not following a last symlink): 1, 0 if missing,
 * -1 with *e on any other failure. */
static int exists(const hb_lease_t *l, const char *path, hb_err_t *e)
{
    hb_stat_t st;
    if (hb_lease_file_stat(l, path, false, &st, e) == 0)
        return 1;
    return e->code == HB_E_NOTFOUND ? 0 : -1;
}

/* The one error -> status map of these routes: init's errno (hb_init_errcode)
 * with the two cases a client can act on made explicit. */
static int reply_fail(hb_req_t *r, const hb_lease_t *l, const char *what, hb_err_t *e)
{
    if (e->sys_errno == ENOTEMPTY || e->sys_errno == EEXIST)
        e->code = HB_E_CONFLICT;
    if (e->code == HB_E_INTERNAL)
        hb_lease_explain_gone(l, what, e);
    return hb_reply_err(r, e);
}

static int do_mkdir(hb_req_t *r, const hb_lease_t *l, const char *path, bool parents)
{
    hb_err_t e = {0};
    int there = exists(l, path, &e);
    if (there < 0)
        return reply_fail(r, l, "mkdir", &e);
    if (there)
        return hb_reply_error(r->c, 409, "path: %s already exists", path);
    if (hb_lease_file_mkdir(l, path, parents, &e) < 0) {
        if (e.code == HB_E_NOTFOUND)
            hb_fail(&e, e.code, e.sys_errno, "path: the parent of %s does not exist (pass "
                    "parents=true to make it)", path);
        return reply_fail(r, l, "mkdir", &e);
    }
    return hb_reply_json(r->c, 201, json_pack("{s:s}", "path", path));
}

int hb_h_files_mkdir(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char path[HB_PATH_MAX];
    bool parents = false;
    hb_err_t e = {0};
    if (hb_req_parse_target(r->ri->query_string, path, sizeof path, &e) < 0 ||
        hb_query_bool(r->ri->query_string, "parents", false, &parents, &e) < 0)
        return hb_reply_err(r, &e);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    status = do_mkdir(r, l, path, parents);
    hb_lease_release(&l);
    return status;
}

static int do_move(hb_req_t *r, const hb_lease_t *l, const hb_move_req_t *m)
{
    hb_err_t e = {0};
    int there = exists(l, m->from, &e);
    if (there == 0)
        return hb_reply_error(r->c, 404, "from: %s does not exist", m->from);
    if (there > 0)
        there = exists(l, m->to, &e);
    if (there < 0)
        return reply_fail(r, l, "move", &e);
    if (there && !m->overwrite)
        return hb_reply_error(r->c, 409, "to: %s already exists (pass \"overwrite\": true to "
                              "replace it)", m->to);
    if (hb_lease_file_rename(l, m->from, m->to, &e) < 0)
        return reply_fail(r, l, "move", &e);
    return hb_reply_json(r->c, 200, json_pack("{s:s}", "path", m->to));
}

int hb_h_files_move(hb_req_t *r)
{
    if (!hb_method_is(r, "POST"))
        return hb_reply_405(r);
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    hb_move_req_t *m = malloc(sizeof *m);
    int rc = m ? hb_req_parse_move(body, len, m, &e) : hb_fail(&e, HB_E_INTERNAL, ENOMEM,
                                                                "out of memory");
    free(body);
    hb_lease_t *l = NULL;
    int status = rc < 0 ? hb_reply_err(r, &e) : hb_gw_lease_take(r, &l);
    if (rc == 0 && status == 0) {
        status = do_move(r, l, m);
        hb_lease_release(&l);
    }
    free(m);
    return status;
}

int hb_gw_files_delete(hb_req_t *r)
{
    char path[HB_PATH_MAX];
    bool recursive = false;
    hb_err_t e = {0};
    if (hb_req_parse_target(r->ri->query_string, path, sizeof path, &e) < 0 ||
        hb_query_bool(r->ri->query_string, "recursive", false, &recursive, &e) < 0)
        return hb_reply_err(r, &e);
    hb_lease_t *l = NULL;
    int status = hb_gw_lease_take(r, &l);
    if (status)
        return status;
    if (hb_lease_file_remove(l, path, recursive, &e) == 0) {
        status = hb_send(r->c, 204, "application/json", NULL, 0, NULL, NULL);
    } else {
        if (e.sys_errno == ENOTEMPTY)
            hb_fail(&e, e.code, e.sys_errno, "path: %s is a directory that is not empty "
                    "(pass recursive=true to delete all it holds)", path);
        else if (e.code == HB_E_NOTFOUND)
            hb_fail(&e, e.code, e.sys_errno, "path: %s does not exist", path);
        status = reply_fail(r, l, "delete", &e);
    }
    hb_lease_release(&l);
    return status;
}
