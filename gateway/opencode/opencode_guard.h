/* Which OpenCode server routes the proxy refuses.
 *
 * OpenCode's server API is made for a developer's own machine: besides the
 * agent (sessions, prompts, events) it runs shell commands and terminals,
 * reads and searches files, applies patches, creates git worktrees, adds MCP
 * servers and rewrites its own config, all on the machine it runs on, which
 * here is the daemon's host. Through the proxy those would turn the API key
 * into a root shell on the host, and PATCH /config could switch the agent's
 * bash tool back on. They answer 403; the sandbox's own API (exec, files,
 * MCP) does all of it inside the sandbox instead.
 *
 * Pure, unit tested and fuzzed. path is the decoded path after /opencode,
 * without the query: the one form that is both checked here and forwarded
 * (re-encoded), so the check and OpenCode's router see the same path.
 */
#ifndef HB_OPENCODE_GUARD_H
#define HB_OPENCODE_GUARD_H

#include <stdbool.h>
#include <stddef.h>

/* NULL if allowed; else a static reason. Decoded characters that would
 * change the path once re-encoded or decoded again ('?', '#', '%', '\\',
 * control bytes) and dot segments are refused outright. */
const char *hb_oc_route_blocked(const char *method, const char *path);

/* Request bodies may not carry a top-level "tools" or "permission" field:
 * OpenCode lets a prompt or a session switch tools back on with them
 * ({"tools": {"*": true}} would hand the model a host shell). NULL if the
 * body is acceptable (anything that is not a JSON object is). A body nested
 * deeper than HB_JSON_DEPTH_MAX gives hb_oc_too_deep (a bad request, not a
 * refusal). */
const char *hb_oc_body_blocked(const char *body, size_t len);
extern const char hb_oc_too_deep[];

/* Whether the request hands a prompt to the model: POST
 * /session/<id>/{message,prompt_async,command}. */
bool hb_oc_route_prompts(const char *method, const char *path);
/* Whether a JSON object body names its own model (a top-level "model"). */
bool hb_oc_body_names_model(const char *body, size_t len);

#endif
