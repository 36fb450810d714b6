/* A whole small file in one buffer, bounded: for the records, manifests and
 * config files the daemon reads at once (a single read() may come back short,
 * and stdio reads a JSON file a character at a time). */
#ifndef HB_READ_ALL_H
#define HB_READ_ALL_H

#include <stddef.h>

/* The regular file open on fd, read to its end: a malloc'd buffer the caller
 * frees, NUL-terminated after *len bytes (len may be NULL). NULL with errno:
 * EINVAL not a regular file, EFBIG more than max bytes (also if it grows past
 * max while being read), ENOMEM, or read()'s. fd stays open: the caller's. */
char *hb_read_all(int fd, size_t max, size_t *len);

#endif
