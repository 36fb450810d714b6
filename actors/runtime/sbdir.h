/* The sandbox state directory, <data dir>/sandboxes/<id>/, named once.
 *
 * Several modules in several folders read and write it -- the runtime (the
 * record, launch.conf, init's log and socket), the supervisor (the agent
 * settings, the MCP token, its counters, the destroy marker), the proxy
 * actor (reads the agent settings, decides whether a sandbox exists) and the
 * gateway's MCP route (checks the token) -- so the names live here, not as
 * string literals in each. Host paths only: nothing here is a sandbox path.
 *
 * The "written last" rule: create writes the record, then the agent
 * settings, then the MCP token (hb_sbdir_seal). A sandbox is complete --
 * the proxy actor may start an OpenCode server for it -- once the token is
 * there and no destroy has begun (hb_sbdir_complete). Writer and reader use
 * these two functions, so the rule cannot drift between them. */
#ifndef HB_SBDIR_H
#define HB_SBDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"
#include "sbdir_names.h"   /* the file names; the launcher uses them too */


/* <data_dir>/sandboxes (id NULL) or <data_dir>/sandboxes/<id> into buf;
 * -1 (HB_E_INTERNAL, ENAMETOOLONG) when it does not fit. */
int hb_sbdir_path(char *buf, size_t len, const char *data_dir, const char *id, hb_err_t *e);
/* <dir>/<name>, bounded the same way. */
int hb_sbdir_file(char *buf, size_t len, const char *dir, const char *name, hb_err_t *e);
/* Whether <dir>/<name> exists (false too when the path does not fit). */
bool hb_sbdir_has(const char *dir, const char *name);

/* The writer's half of the rule: store the MCP token, the last file create
 * writes. */
int  hb_sbdir_seal(const char *dir, const char *mcp_token, hb_err_t *e);
/* The reader's half: the record and the token are there, no destroy begun. */
bool hb_sbdir_complete(const char *dir);

#endif
