/* Sandbox path rules, shared by the gateway (validation before a request
 * leaves the daemon) and init (the same checks again, plus normalisation
 * before it touches the filesystem).
 *
 * A sandbox path is absolute, has no NUL, is shorter than HB_PATH_MAX and
 * no component is longer than HB_NAME_MAX. Normalisation is lexical: it
 * collapses "//" and ".", and resolves ".." without going above "/". It is
 * for display and joining; init's real protection is that "/" is the sandbox
 * root when it resolves anything. */
#ifndef HB_PATH_H
#define HB_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime.h"   /* HB_PATH_MAX */

#define HB_NAME_MAX 255

/* 0 if p[0..len) is a valid sandbox path, else -1 with *why (if non-NULL)
 * set to a static reason. */
int hb_path_check_n(const char *p, size_t len, const char **why);
int hb_path_check(const char *p, const char **why);

/* Write the normalised form of a valid path into out (cap bytes, at least
 * strlen(in)+1 suffices: the result is never longer). "/" or "/a/b", never a
 * trailing slash, no "." or ".." components, no "//". -1 if in is invalid or
 * out is too small. */
int hb_path_normalize(const char *in, char *out, size_t cap);

/* Split a normalised path into its parent directory (copied into dir) and
 * its last component (*base points into path). "/" has base "". */
int hb_path_split(const char *path, char *dir, size_t dcap, const char **base);

/* dir + "/" + name into out; -1 if the result would not be a valid path. */
int hb_path_join(const char *dir, const char *name, char *out, size_t cap);

/* True if normalised path equals prefix or lies beneath it. */
bool hb_path_is_under(const char *path, const char *prefix);

#endif
