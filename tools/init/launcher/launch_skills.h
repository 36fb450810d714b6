/* The launcher's part of skills: each skill the create request selected is
 * a directory <skills_dir>/<name> on the host, shown read-only (nosuid,
 * nodev) inside the sandbox at /opt/skills/<name>, on a read-only tmpfs at
 * /opt/skills so nothing else can appear there.
 *
 * The parent (host root) opens each skill as a detached mount with
 * open_tree(), so the path resolves with host privileges and need not be
 * traversable by the sandbox's uids; the child attaches them before
 * pivot_root. No idmapping: files stay owned by unmapped host ids (nobody
 * inside), so even a writable mount would not let the sandbox change them;
 * skills must be world-readable (a+rX). */
#ifndef HB_LAUNCH_SKILLS_H
#define HB_LAUNCH_SKILLS_H

#include <stdbool.h>
#include <stddef.h>

#include "launchconf.h"
#include "runtime.h"

typedef struct {
    char dir[1024];
    char names[HB_SKILLS_MAX_N][HB_ID_MAX];
    int  n;
} launch_skills_t;

/* Take one launch.conf key if it is a skills key (true), else false. */
bool launch_skills_conf(launch_skills_t *s, hb_lckey_t key, const char *val);
/* Parent: fds[i] = a read-only detached mount of skill i. 0, or -1 with
 * why set (fds opened so far are closed). */
int  launch_skills_open(const launch_skills_t *s, int *fds, char *why, size_t len);
/* Child, before pivot_root: attach fds under <root>/opt/skills. Closes fds. */
int  launch_skills_mount(const launch_skills_t *s, const char *root, int *fds, char *why,
                         size_t len);

#endif
