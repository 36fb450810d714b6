/* JSON-RPC 2.0 envelope rules as MCP narrows them: ids are strings or
 * integers (never null), params is an object, "jsonrpc" is exactly "2.0".
 * Pure functions: the fuzz target drives them without a sandbox. */
#include "mcp.h"
#include "mcp_text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const g_versions[] = {"2025-06-18", "2025-03-26", "2024-11-05"};

bool mcp_version_supported(const char *v)
{
    for (size_t i = 0; v && i < sizeof g_versions / sizeof *g_versions; i++)
        if (strcmp(v, g_versions[i]) == 0)
            return true;
    return false;
}

const char *mcp_version_negotiate(const char *requested)
{
    for (size_t i = 0; requested && i < sizeof g_versions / sizeof *g_versions; i++)
        if (strcmp(requested, g_versions[i]) == 0)
            return g_versions[i];
    return g_versions[0];
}

bool mcp_version_allows_batch(const char *v)
{
    return v && (strcmp(v, "2025-03-26") == 0 || strcmp(v, "2024-11-05") == 0);
}

json_t *mcp_rpc_error(json_t *id, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *err = json_object();
    json_object_set_new(err, "code", json_integer(code));
    /* The message may quote client input cut anywhere: keep it valid UTF-8. */
    json_object_set_new(err, "message", mcp_json_text(msg, strlen(msg)));
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    json_object_set_new(r, "error", err);
    return r;
}

json_t *mcp_rpc_result(json_t *id, json_t *result)
{
    json_t *r = json_object();
    json_object_set_new(r, "jsonrpc", json_string("2.0"));
    json_object_set(r, "id", id ? id : json_null());
    json_object_set_new(r, "result", result ? result : json_object());
    return r;
}

static bool id_ok(const json_t *id)
{
    return json_is_string(id) || json_is_integer(id);
}

static mcp_kind_t invalid(json_t *id, json_t **err, const char *why)
{
    if (err)
        *err = mcp_rpc_error(id_ok(id) ? id : NULL, MCP_E_REQUEST, "invalid request: %s", why);
    return MCP_MSG_INVALID;
}

mcp_kind_t mcp_rpc_parse(json_t *msg, mcp_rpc_t *out, json_t **err)
{
    memset(out, 0, sizeof *out);
    out->kind = MCP_MSG_INVALID;
    if (err)
        *err = NULL;
    if (!json_is_object(msg))
        return invalid(NULL, err, "a message must be a JSON object");
    json_t *id = json_object_get(msg, "id");
    const char *ver = json_string_value(json_object_get(msg, "jsonrpc"));
    if (!ver || strcmp(ver, "2.0") != 0)
        return invalid(id, err, "\"jsonrpc\" must be \"2.0\"");
    json_t *method = json_object_get(msg, "method");
    if (!method) {
        /* A response to a server request: we send none, so drop it. */
        if (id_ok(id) && (json_object_get(msg, "result") || json_object_get(msg, "error")))
            return out->kind = MCP_MSG_RESPONSE;
        return invalid(id, err, "missing \"method\"");
    }
    if (!json_is_string(method) || json_string_length(method) == 0 ||
        strlen(json_string_value(method)) != json_string_length(method))
        return invalid(id, err, "\"method\" must be a non-empty string without NUL");
    if (id && !id_ok(id))
        return invalid(NULL, err, "\"id\" must be a string or an integer");
    json_t *params = json_object_get(msg, "params");
    if (params && !json_is_object(params))
        return invalid(id, err, "\"params\" must be an object");
    out->id = id;
    out->method = json_string_value(method);
    out->params = params;
    return out->kind = id ? MCP_MSG_REQUEST : MCP_MSG_NOTIFICATION;
}
