/* Server-sent events as they arrive: bytes are kept until a blank line ends
 * an event, then its `event:` and `data:` lines go to the caller. Shared by
 * exec's and a process's output stream (cli_exec.c) and image builds
 * (cli_image_build.c). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_MAX (16u << 20)   /* one event; the daemon's are at most ~1.5 MiB */

/* One event's text (lines, without the blank one that ends it). */
static void split(char *ev, cli_sse_fn *fn, void *ud)
{
    const char *name = NULL;
    char *data = NULL;
    for (char *line = ev, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "event: ", 7) == 0)
            name = line + 7;
        else if (strncmp(line, "data: ", 6) == 0)
            data = line + 6;
    }
    if (name && data)
        fn(ud, name, data);
}

int cli_sse_feed(cli_sse_frames_t *f, const void *p, size_t n, cli_sse_fn *fn, void *ud)
{
    if (f->len + n + 1 > f->cap) {
        size_t nc = f->cap ? f->cap : 64 * 1024;
        while (nc < f->len + n + 1)
            nc *= 2;
        char *nb = nc <= EVENT_MAX ? realloc(f->buf, nc) : NULL;
        if (!nb) {
            fprintf(stderr, "hivebox: an event of the stream is too large\n");
            return -1;
        }
        f->buf = nb;
        f->cap = nc;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    f->buf[f->len] = '\0';
    char *start = f->buf, *end;
    while ((end = strstr(start, "\n\n")) != NULL) {
        *end = '\0';
        split(start, fn, ud);
        start = end + 2;
    }
    f->len -= (size_t)(start - f->buf);
    memmove(f->buf, start, f->len + 1);
    return 0;
}
