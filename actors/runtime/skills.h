/* Skills: directories under the host's skills dir (hb_runtime_t.skills_dir),
 * bound read-only at /opt/skills/<name> into a sandbox by the launcher. The
 * runtime owns the selection so the supervisor needs no gateway code; the
 * MCP tools only read what ended up inside the sandbox. */
#ifndef HB_SKILLS_H
#define HB_SKILLS_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"
#include "messages.h"

/* Resolve a create request's "skills" field (JSON text; NULL = absent = all)
 * against skills_dir into a newline-separated list of names for
 * hb_spec_t.skills. An unknown or invalid name is HB_E_INVALID naming it. */
int hb_skills_select(const char *skills_dir, const char *skills_json, char *out, size_t outlen,
                     hb_err_t *e);

/* The catalogue of skills_dir (GET /api/v1/skills): every entry a create
 * request could name (a directory with a valid name; anything else is
 * skipped), sorted, at most HB_SKILLS_MAX_N (*truncated past it), each with
 * the description of its SKILL.md front matter (first 8 KiB read, capped at
 * 300 bytes, printable ASCII only) and its directory's mtime. *state: "ok",
 * "missing" (no such directory) or "unreadable". Never fails but for OOM
 * (-1; *items freed). The caller frees items with hb_catitems_free. */
int hb_skills_list(const char *skills_dir, hb_catitem_t **items, size_t *n, bool *truncated,
                   const char **state);
void hb_catitems_free(hb_catitem_t *items, size_t n);

#endif
