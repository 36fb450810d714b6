/* The Streamable HTTP transport of MCP on the daemon: POST/DELETE (GET is
 * 405: no server-to-client stream) on /api/v1/hiveboxes/:id/mcp, entered
 * through hb_h_mcp (gw_internal.h). Sessions and the per-sandbox token live
 * here too. */
#ifndef HB_MCP_HTTP_H
#define HB_MCP_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "mcp.h"

#define MCP_TOKEN_LEN      64                  /* hex of 32 random bytes */
#define MCP_SESSION_ID_LEN 32                  /* hex of 16 random bytes */
#define MCP_SESSIONS_MAX   1024                /* least recently used go first */
#define MCP_SESSIONS_PER_SANDBOX 64            /* beyond: the sandbox's own oldest go */
#define MCP_BODY_MAX       (16u * 1024 * 1024) /* one POST */
#define MCP_BATCH_MAX      64

/* mcp_token.c */
int  mcp_token_new(char out[MCP_TOKEN_LEN + 1]);
/* The sandbox's token as stored: 0, or -1 when it has none (yet). */
int  mcp_token_read(const hb_lease_t *l, char out[MCP_TOKEN_LEN + 1]);
/* Authorization header carries this sandbox's token (constant time). */
bool mcp_token_ok(const hb_lease_t *l, const char *authz);

/* mcp_session.c: a bounded table shared by the civetweb workers under one
 * mutex; entries are copied in and out, never referenced. A session is
 * bound to its sandbox (id and creation time, so a re-created sandbox of
 * the same name does not inherit it). */
int  mcp_session_new(const char *sandbox, int64_t sb_created, const char *version,
                     char id[MCP_SESSION_ID_LEN + 1]);
/* 0 and *out filled, or -1 if unknown (ended, evicted, other sandbox). */
int  mcp_session_get(const char *id, const char *sandbox, int64_t sb_created, mcp_session_t *out);
/* true if it existed. */
bool mcp_session_end(const char *id, const char *sandbox, int64_t sb_created);

#endif
