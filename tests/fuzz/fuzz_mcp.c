/* libFuzzer target: the MCP server's validation layer, everything it
 * decides about client input before a tool runs, with no sandbox:
 *
 *   byte 0 = 0: the rest is a JSON-RPC message (or batch): envelope check,
 *               and for tools/call the tool lookup and the argument schema
 *   byte 0 = 1: pattern NUL path for the glob matcher
 *   byte 0 = 2: raw bytes made into JSON text (UTF-8 repair, capping)
 *
 * Besides memory errors it checks the layer's promises: an invalid message
 * always comes with a -32600 error response, the text helpers always give
 * valid JSON strings within their caps. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "mcp.h"
#include "mcp_text.h"
#include "mcp_tools.h"

static void one_message(json_t *msg)
{
    mcp_rpc_t m;
    json_t *err = NULL;
    mcp_kind_t k = mcp_rpc_parse(msg, &m, &err);
    if (k == MCP_MSG_INVALID) {
        assert(err);
        assert(json_integer_value(json_object_get(json_object_get(err, "error"), "code")) ==
               MCP_E_REQUEST);
        char *s = json_dumps(err, JSON_COMPACT);
        assert(s);
        free(s);
        json_decref(err);
        return;
    }
    assert(!err);
    if (k != MCP_MSG_REQUEST || strcmp(m.method, "tools/call") != 0)
        return;
    const mcp_tool_t *t = mcp_tool_find(json_string_value(json_object_get(m.params, "name")));
    json_t *args = json_object_get(m.params, "arguments");
    if (!t || (args && !json_is_object(args)))
        return;
    char msgbuf[400];
    msgbuf[0] = '\0';
    int r1 = mcp_tool_validate(t, args, msgbuf, sizeof msgbuf);
    assert(r1 == 0 || msgbuf[0]);
    assert(mcp_tool_validate(t, args, msgbuf, sizeof msgbuf) == r1); /* deterministic */
    if (r1 == 0) { /* what the tools rely on */
        json_t *p = json_object_get(args, "path");
        assert(!p || json_is_string(p));
    }
}

static void rpc(const uint8_t *data, size_t size)
{
    /* what mcp_http.c parses with: deep nesting is refused before jansson */
    json_t *msg = hb_json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!msg)
        return;
    assert(hb_json_too_deep((const char *)data, size, HB_JSON_DEPTH_MAX) < 0);
    if (json_is_array(msg)) {
        size_t i;
        json_t *v;
        json_array_foreach(msg, i, v) {
            if (i >= 64)
                break;
            one_message(v);
        }
    } else {
        one_message(msg);
    }
    json_decref(msg);
}

static void glob(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 2);
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = '\0';
    const char *pattern = buf, *path = buf + strlen(buf) + 1;
    if (path <= buf + size)
        (void)mcp_glob_match(pattern, path);
    free(buf);
}

static void text(const uint8_t *data, size_t size)
{
    json_t *j = mcp_json_text((const char *)data, size);
    assert(json_is_string(j));
    json_decref(j);
    size_t cap = size / 2 + 8;
    j = mcp_json_text_capped((const char *)data, size, cap);
    assert(json_is_string(j));
    assert(json_string_length(j) <= 3 * cap + 200);
    json_decref(j);
    size_t cut = mcp_utf8_cut((const char *)data, size, size / 3);
    assert(cut <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: rpc(data + 1, size - 1); break;
    case 1: glob(data + 1, size - 1); break;
    default: text(data + 1, size - 1); break;
    }
    return 0;
}
