/* One JSON-RPC message in, its response out: the transport-independent
 * heart of the MCP server. Protocol faults (bad envelope, unknown method or
 * tool, arguments that violate the schema) are JSON-RPC errors; a tool that
 * ran and failed is a result with isError. */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    mcp_tool_fn fn;
} g_impl[] = {
    {"exec", mcp_tool_exec},
    {"read_file", mcp_tool_read_file},
    {"read_multiple_files", mcp_tool_read_multiple_files},
    {"write_file", mcp_tool_write_file},
    {"edit_file", mcp_tool_edit_file},
    {"list_directory", mcp_tool_list_directory},
    {"directory_tree", mcp_tool_directory_tree},
    {"search_files", mcp_tool_search_files},
    {"glob", mcp_tool_glob},
    {"get_file_info", mcp_tool_get_file_info},
    {"create_directory", mcp_tool_create_directory},
    {"move_file", mcp_tool_move_file},
    {"read_media_file", mcp_tool_read_media_file},
    {"list_directory_with_sizes", mcp_tool_list_directory_with_sizes},
    {"list_skills", mcp_tool_list_skills},
    {"read_skill_file", mcp_tool_read_skill_file},
};

static mcp_tool_fn impl_of(const char *name)
{
    for (size_t i = 0; i < sizeof g_impl / sizeof *g_impl; i++)
        if (strcmp(g_impl[i].name, name) == 0)
            return g_impl[i].fn;
    return NULL;
}

static const char *session_version(const mcp_ctx_t *ctx)
{
    if (ctx->session && ctx->session->version[0])
        return ctx->session->version;
    return MCP_VERSION_LATEST;
}

static json_t *do_initialize(mcp_ctx_t *ctx, const mcp_rpc_t *m)
{
    const char *req = json_string_value(json_object_get(m->params, "protocolVersion"));
    if (!req)
        return mcp_rpc_error(m->id, MCP_E_PARAMS,
                             "initialize needs params.protocolVersion (a string)");
    const char *v = mcp_version_negotiate(req);
    if (ctx->session)
        snprintf(ctx->session->version, sizeof ctx->session->version, "%s", v);
    char *instr = mcp_instructions(ctx->lease);
    json_t *res = json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s}, s:s}", "protocolVersion", v,
                            "capabilities", "tools", "listChanged", false, "serverInfo", "name",
                            MCP_SERVER_NAME, "version", MCP_SERVER_VERSION, "instructions",
                            instr ? instr : "");
    free(instr);
    if (strcmp(v, "2025-06-18") == 0)
        json_object_set_new(json_object_get(res, "serverInfo"), "title",
                            json_string("HiveBox sandbox"));
    return mcp_rpc_result(m->id, res);
}

static json_t *do_call(mcp_ctx_t *ctx, const mcp_rpc_t *m)
{
    json_t *jname = json_object_get(m->params, "name");
    if (!json_is_string(jname) || strlen(json_string_value(jname)) != json_string_length(jname))
        return mcp_rpc_error(m->id, MCP_E_PARAMS, "tools/call needs params.name (a string)");
    const char *name = json_string_value(jname);
    const mcp_tool_t *t = mcp_tool_find(name);
    mcp_tool_fn fn = t ? impl_of(name) : NULL;
    if (!fn)
        return mcp_rpc_error(m->id, MCP_E_PARAMS, "Unknown tool: %.64s (see tools/list)", name);
    json_t *args = json_object_get(m->params, "arguments");
    if (args && !json_is_object(args) && !json_is_null(args))
        return mcp_rpc_error(m->id, MCP_E_PARAMS, "params.arguments must be an object");
    if (json_is_null(args))
        args = NULL;
    char msg[400];
    if (mcp_tool_validate(t, args, msg, sizeof msg) < 0)
        return mcp_rpc_error(m->id, MCP_E_PARAMS, "Invalid arguments for tool %s: %s", name, msg);

    mcp_result_t r = {0};
    json_t *empty = args ? NULL : json_object();
    if (!ctx->lease)
        mcp_res_error(&r, "The sandbox is not available.");
    else
        fn(ctx, args ? args : empty, &r);
    json_decref(empty);
    if (!r.content || json_array_size(r.content) == 0)
        mcp_res_text(&r, "(no output)", 11);
    json_t *res = json_pack("{s:o}", "content", r.content);
    if (r.is_error)
        json_object_set_new(res, "isError", json_true());
    /* structuredContent exists from 2025-06-18 on. */
    if (r.structured && strcmp(session_version(ctx), "2025-06-18") == 0 && !r.is_error)
        json_object_set_new(res, "structuredContent", r.structured);
    else
        json_decref(r.structured);
    return mcp_rpc_result(m->id, res);
}

json_t *mcp_handle(mcp_ctx_t *ctx, json_t *msg)
{
    mcp_rpc_t m;
    json_t *err = NULL;
    switch (mcp_rpc_parse(msg, &m, &err)) {
    case MCP_MSG_INVALID: return err;
    case MCP_MSG_RESPONSE:
    case MCP_MSG_NOTIFICATION: return NULL; /* initialized, cancelled, ...: nothing to answer */
    case MCP_MSG_REQUEST: break;
    }
    if (strcmp(m.method, "initialize") == 0)
        return do_initialize(ctx, &m);
    if (strcmp(m.method, "ping") == 0)
        return mcp_rpc_result(m.id, json_object());
    if (strcmp(m.method, "tools/list") == 0) {
        bool rich = strcmp(session_version(ctx), "2025-06-18") == 0;
        return mcp_rpc_result(m.id, json_pack("{s:o}", "tools", mcp_tools_list(rich)));
    }
    if (strcmp(m.method, "tools/call") == 0)
        return do_call(ctx, &m);
    return mcp_rpc_error(m.id, MCP_E_METHOD, "Method not found: %.64s", m.method);
}
