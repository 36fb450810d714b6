/* MCP (Model Context Protocol) server for one sandbox: one implementation of
 * the protocol and its tools, two transports (Streamable HTTP on the daemon,
 * gateway/mcp/mcp_http.c; stdio in `hivebox mcp`, which relays to the former).
 *
 * Layers, each in its own file:
 *   mcp_rpc.c     JSON-RPC 2.0 envelope checks and error objects (pure)
 *   mcp_schema.c  tool input schemas and the argument validator (pure)
 *   mcp_core.c    initialize / ping / tools/list / tools/call dispatch
 *   mcp_tools_*.c the tools, on the runtime's exec and file calls only
 *   mcp_http.c    the civetweb handler, sessions, auth
 *
 * Nothing here ever touches a host path of the sandbox: tools reach files
 * only through the lease of the sandbox handle (lease.h: its file and exec
 * calls).
 */
#ifndef HB_MCP_H
#define HB_MCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lease.h"
#include "runtime.h"

#define MCP_SERVER_NAME    "hivebox"
#define MCP_SERVER_VERSION "0.1.0"
#define MCP_VERSION_LATEST "2025-06-18"

/* JSON-RPC error codes */
#define MCP_E_PARSE    (-32700)
#define MCP_E_REQUEST  (-32600)
#define MCP_E_METHOD   (-32601)
#define MCP_E_PARAMS   (-32602)
#define MCP_E_INTERNAL (-32603)

/* Per-session protocol state. "" = not negotiated (stateless requests are
 * treated as the transport's default version). */
typedef struct {
    char version[16];
} mcp_session_t;

/* What one message is handled against. lease may be NULL (no sandbox: every
 * tools/call fails with isError, initialize describes nothing). */
typedef struct {
    const hb_lease_t *lease;
    mcp_session_t    *session;   /* updated by initialize */
} mcp_ctx_t;

/* ---- mcp_rpc.c (pure) ---- */
typedef enum { MCP_MSG_REQUEST, MCP_MSG_NOTIFICATION, MCP_MSG_RESPONSE, MCP_MSG_INVALID } mcp_kind_t;

typedef struct {
    mcp_kind_t  kind;
    json_t     *id;       /* borrowed from the message; NULL for notifications */
    const char *method;   /* borrowed */
    json_t     *params;   /* borrowed object, or NULL */
} mcp_rpc_t;

/* Classify one decoded message. MCP_MSG_INVALID comes with *err set to a
 * complete JSON-RPC error response (new reference, -32600). */
mcp_kind_t mcp_rpc_parse(json_t *msg, mcp_rpc_t *out, json_t **err);
/* {"jsonrpc":"2.0","id":id,"error":{code,message}}; id NULL -> null. New ref. */
json_t *mcp_rpc_error(json_t *id, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* {"jsonrpc":"2.0","id":id,"result":result}; steals result. */
json_t *mcp_rpc_result(json_t *id, json_t *result);
/* The supported version to use for a client's requested one (MCP rules:
 * the same if supported, else our latest). */
const char *mcp_version_negotiate(const char *requested);
bool mcp_version_supported(const char *v);
/* Batches exist in 2024-11-05 and 2025-03-26 only. */
bool mcp_version_allows_batch(const char *v);

/* ---- mcp_schema.c (pure) ---- */
typedef struct mcp_tool mcp_tool_t;
/* The tool definitions for tools/list (new ref). With_output: include
 * outputSchema/title (2025-06-18 and later). */
json_t *mcp_tools_list(bool with_output);
const mcp_tool_t *mcp_tool_find(const char *name);
const char *mcp_tool_name(const mcp_tool_t *t);
/* Check args (an object or NULL = {}) against the tool's input schema:
 * types, required, bounds, no unknown arguments. 0, or -1 with msg set. */
int mcp_tool_validate(const mcp_tool_t *t, json_t *args, char *msg, size_t len);

/* ---- mcp_core.c ---- */
/* Handle one message. Returns the JSON-RPC response (new reference), or
 * NULL when none is due (a notification or a response). Never fails. */
json_t *mcp_handle(mcp_ctx_t *ctx, json_t *msg);

#endif
