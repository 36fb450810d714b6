/* Internal interface between the MCP dispatcher and the tools. */
#ifndef HB_MCP_TOOLS_H
#define HB_MCP_TOOLS_H

#include "mcp.h"
#include "mcp_text.h"

/* Caps on what one tool call shows a model. */
#define MCP_TEXT_CAP      (200u * 1024)        /* text of one result */
#define MCP_EXEC_SHOW_CAP (100u * 1024)        /* each exec stream */
#define MCP_READ_CAP      (16u * 1024 * 1024)  /* bytes read from one file */
#define MCP_MEDIA_CAP     (10u * 1024 * 1024)
#define MCP_LIST_CAP      2000                 /* entries of one listing */

/* A tools/call result being built. content: array of MCP content blocks. */
typedef struct {
    json_t *content;
    json_t *structured;   /* structuredContent or NULL */
    bool    is_error;
} mcp_result_t;

void mcp_res_text(mcp_result_t *r, const char *s, size_t n);       /* capped at MCP_TEXT_CAP */
void mcp_res_buf(mcp_result_t *r, const mcp_buf_t *b, const char *trunc_note);
void mcp_res_error(mcp_result_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A runtime failure made actionable: "<what> <path>: <reason>. <hint>" */
void mcp_res_hberr(mcp_result_t *r, const char *what, const char *path, const hb_err_t *e);

/* Argument accessors (the schema has already checked types). */
const char *mcp_arg_str(json_t *args, const char *key);    /* NULL if absent */
long long   mcp_arg_int(json_t *args, const char *key, long long dflt);
bool        mcp_arg_bool(json_t *args, const char *key, bool dflt);
/* The path argument resolved (see mcp_abs_path); -1 with an error result. */
int mcp_arg_path(mcp_result_t *r, json_t *args, const char *key, char *out, size_t len);

typedef void (*mcp_tool_fn)(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);

/* mcp_tools_exec.c */
void mcp_tool_exec(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* mcp_tools_file.c */
void mcp_tool_read_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_read_multiple_files(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_write_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_edit_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_get_file_info(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_create_directory(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_move_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* mcp_tools_media.c */
void mcp_tool_read_media_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* mcp_tools_dir.c */
void mcp_tool_list_directory(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_list_directory_with_sizes(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_directory_tree(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* mcp_tools_search.c */
void mcp_tool_glob(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_search_files(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* pure glob matcher used by mcp_tool_glob: rel is a path relative to the
 * search root ("a/b/c.ts"). */
bool mcp_glob_match(const char *pattern, const char *rel);
/* mcp_tools_skills.c */
void mcp_tool_list_skills(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
void mcp_tool_read_skill_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r);
/* For initialize's instructions: "- name: description" lines of the
 * sandbox's skills into b (nothing if none). */
void mcp_skills_describe(const hb_lease_t *l, mcp_buf_t *b);

/* mcp_instructions.c: the initialize "instructions" text (malloc'd). */
char *mcp_instructions(const hb_lease_t *l);

#endif
