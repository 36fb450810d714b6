/* Skills: directories under the host's skills dir (hb_runtime_t.skills_dir),
 * bound read-only at /opt/skills/<name> into a sandbox by the launcher. The
 * runtime owns the selection so the supervisor needs no gateway code; the
 * MCP tools only read what ended up inside the sandbox. */
#ifndef HB_SKILLS_H
#define HB_SKILLS_H

#include <stddef.h>

#include "hberr.h"

/* Resolve a create request's "skills" field (JSON text; NULL = absent = all)
 * against skills_dir into a newline-separated list of names for
 * hb_spec_t.skills. An unknown or invalid name is HB_E_INVALID naming it. */
int hb_skills_select(const char *skills_dir, const char *skills_json, char *out, size_t outlen,
                     hb_err_t *e);

#endif
