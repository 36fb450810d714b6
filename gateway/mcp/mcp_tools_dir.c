/* Directory tools on hb_file_list (one listing per directory through init). */
#include "mcp_tools.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TREE_MAX_ENTRIES 500

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hb_dirent_t *)a)->name, ((const hb_dirent_t *)b)->name);
}

static int by_size(const void *a, const void *b)
{
    const hb_dirent_t *x = a, *y = b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    return strcmp(x->name, y->name);
}

static const char *tag(hb_ftype_t t)
{
    switch (t) {
    case HB_FT_DIR: return "[DIR] ";
    case HB_FT_FILE: return "[FILE]";
    case HB_FT_SYMLINK: return "[LINK]";
    default: return "[OTHER]";
    }
}

/* One directory's entries, sorted by name; -1 with an error result. */
static int list_one(const mcp_ctx_t *ctx, mcp_result_t *r, const char *path, hb_dirent_t **ents,
                    size_t *n, bool *trunc)
{
    hb_err_t e = {0};
    if (hb_lease_file_list(ctx->lease, path, false, MCP_LIST_CAP, ents, n, trunc, &e) < 0) {
        if (e.sys_errno == ENOTDIR)
            mcp_res_error(r, "%s is not a directory (%s). Use get_file_info or read_file for "
                          "files.", path, e.msg);
        else
            mcp_res_hberr(r, "list", path, &e);
        return -1;
    }
    if (*n > 1) /* qsort must not see the NULL of an empty listing */
        qsort(*ents, *n, sizeof **ents, by_name);
    return 0;
}

void mcp_tool_list_directory(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    hb_dirent_t *ents;
    size_t n;
    bool trunc;
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0 ||
        list_one(ctx, r, path, &ents, &n, &trunc) < 0)
        return;
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    for (size_t i = 0; i < n; i++)
        mcp_buf_printf(&b, "%s %s\n", tag(ents[i].type), ents[i].name);
    if (n == 0)
        mcp_buf_printf(&b, "(%s is empty)\n", path);
    if (trunc)
        mcp_buf_printf(&b, "[listing truncated at %d entries]\n", MCP_LIST_CAP);
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
    hb_dirents_free(ents, n);
}

void mcp_tool_list_directory_with_sizes(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    hb_dirent_t *ents;
    size_t n;
    bool trunc;
    const char *sort = mcp_arg_str(args, "sort_by");
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0 ||
        list_one(ctx, r, path, &ents, &n, &trunc) < 0)
        return;
    if (sort && strcmp(sort, "size") == 0)
        if (n > 1)
            qsort(ents, n, sizeof *ents, by_size);
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    uint64_t total = 0;
    size_t files = 0, dirs = 0;
    for (size_t i = 0; i < n; i++) {
        char hs[32] = "";
        if (ents[i].type == HB_FT_DIR) {
            dirs++;
        } else {
            files++;
            total += ents[i].size;
            mcp_human_size(ents[i].size, hs, sizeof hs);
        }
        mcp_buf_printf(&b, "%s %-40s %10s\n", tag(ents[i].type), ents[i].name, hs);
    }
    char ts[32];
    mcp_human_size(total, ts, sizeof ts);
    mcp_buf_printf(&b, "\nTotal: %zu file%s, %zu director%s\nCombined size: %s (%llu bytes)\n",
                   files, files == 1 ? "" : "s", dirs, dirs == 1 ? "y" : "ies", ts,
                   (unsigned long long)total);
    if (trunc)
        mcp_buf_printf(&b, "[listing truncated at %d entries: totals cover those shown]\n",
                       MCP_LIST_CAP);
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
    hb_dirents_free(ents, n);
}

typedef struct {
    const mcp_ctx_t *ctx;
    mcp_buf_t       *b;
    int              max_depth;
    size_t           shown;
    bool             cut;
} tree_t;

static void tree_walk(tree_t *t, const char *dir, int depth)
{
    hb_dirent_t *ents;
    size_t n;
    bool trunc;
    if (hb_lease_file_list(t->ctx->lease, dir, false, MCP_LIST_CAP, &ents, &n, &trunc, NULL) < 0) {
        mcp_buf_printf(t->b, "%*s(cannot list)\n", depth * 2, "");
        return;
    }
    if (n > 1)
        qsort(ents, n, sizeof *ents, by_name);
    for (size_t i = 0; i < n; i++) {
        if (t->shown >= TREE_MAX_ENTRIES) {
            t->cut = true;
            break;
        }
        t->shown++;
        bool d = ents[i].type == HB_FT_DIR;
        mcp_buf_printf(t->b, "%*s%s%s%s\n", depth * 2, "", ents[i].name, d ? "/" : "",
                       ents[i].type == HB_FT_SYMLINK ? " -> (link)" : "");
        if (d && depth < t->max_depth)
            tree_walk(t, ents[i].path, depth + 1);
    }
    if (trunc)
        t->cut = true;
    hb_dirents_free(ents, n);
}

void mcp_tool_directory_tree(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    hb_dirent_t *ents;
    size_t n;
    bool trunc;
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    /* the root must be a directory: report that as an error, not as a tree */
    if (list_one(ctx, r, path, &ents, &n, &trunc) < 0)
        return;
    hb_dirents_free(ents, n);
    mcp_buf_t b;
    mcp_buf_init(&b, MCP_TEXT_CAP);
    mcp_buf_printf(&b, "%s/\n", strcmp(path, "/") == 0 ? "" : path);
    tree_t t = {ctx, &b, (int)mcp_arg_int(args, "max_depth", 3), 0, false};
    tree_walk(&t, path, 1);
    if (t.cut)
        mcp_buf_printf(&b, "[tree truncated at %d entries: use a deeper path or a smaller "
                           "max_depth]\n", TREE_MAX_ENTRIES);
    mcp_res_buf(r, &b, NULL);
    mcp_buf_free(&b);
}
