/* tar_create and tar_extract requests: a directory tree as a tar stream,
 * made or unpacked here, inside the sandbox root (the rules are those of
 * actors/runtime/shared/tar_x.h). Gzip is the daemon's business; this side sees
 * plain tar. Nothing here is global, so a request may run on any thread. */
#include "agent.h"
#include "tar_x.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- tar_create: `data` frames of up to HB_CHUNK_MAX, then `end` ---- */

typedef struct {
    int    conn;
    char  *buf;        /* HB_CHUNK_MAX */
    size_t n;
    bool   sent;       /* a frame went out: an error can no longer be the first answer */
    bool   gone;
} out_t;

static int flush_out(out_t *o)
{
    if (o->n == 0)
        return 0;
    o->sent = true;
    if (hb_frame_send_chunk(o->conn, "data", 0, o->buf, o->n) < 0) {
        o->gone = true;
        return -1;
    }
    o->n = 0;
    return 0;
}

static int to_client(void *ud, const void *p, size_t n)
{
    out_t *o = ud;
    const char *c = p;
    while (n > 0) {
        size_t k = HB_CHUNK_MAX - o->n < n ? HB_CHUNK_MAX - o->n : n;
        memcpy(o->buf + o->n, c, k);
        o->n += k;
        c += k;
        n -= k;
        if (o->n == HB_CHUNK_MAX && flush_out(o) < 0)
            return -1;
    }
    return 0;
}

void agent_op_tar_create(int conn, const hb_initreq_t *r)
{
    const char *slash = strrchr(r->path, '/');
    const char *top = slash && slash[1] ? slash + 1 : ".";   /* "/" has no name */
    out_t o = {.conn = conn, .buf = malloc(HB_CHUNK_MAX)};
    char why[256];
    if (!o.buf) {
        agent_answer_err(conn, ENOMEM, "out of memory");
        return;
    }
    int rc = hb_tar_create(r->path, top, agent_skip_descent, to_client, &o, why, sizeof why);
    if (rc < 0 && !o.gone)
        agent_answer_err(conn, errno, "%s", why);   /* after data too: the daemon breaks off */
    if (rc == 0 && flush_out(&o) == 0) {
        hb_initans_t end = {.t = HB_ANS_END};
        hb_initans_send(conn, &end);
    }
    free(o.buf);
}

/* ---- tar_extract: the client sends `data`* and `end`; answer `ok` ---- */

typedef struct {
    hb_tar_x_t *x;
    bool        ended;   /* after the end blocks tar writers pad to a record: dropped */
} sink_t;

static int to_extract(void *ud, const void *p, size_t n)
{
    sink_t *k = ud;
    int rc = k->ended ? 1 : hb_tar_x_feed(k->x, p, n);
    k->ended = rc == 1;
    return rc < 0 ? hb_tar_x_errno(k->x) : 0;
}

void agent_op_tar_extract(int conn, hb_frame_t *f, const hb_initreq_t *r)
{
    int dfd = agent_open_dir(r->path, true);
    hb_tar_x_t *x = dfd >= 0 ? hb_tar_x_new(dfd, NULL) : NULL;
    if (!x) {
        agent_answer_err(conn, dfd < 0 ? errno : ENOMEM, "%s: %s", r->path,
                   dfd < 0 ? strerror(errno) : "out of memory");
        if (dfd >= 0)
            close(dfd);
        agent_refuse_drain(conn);
        return;
    }
    int err = 0;
    sink_t k = {.x = x};
    int64_t total = agent_receive_upload(conn, f, r->max, to_extract, &k, &err);
    if (total >= 0 && !k.ended && hb_tar_x_finish(x) < 0) {
        err = hb_tar_x_errno(x);
        total = -1;
    }
    if (total >= 0)
        agent_answer_ok(conn, true, (uint64_t)total);
    else if (err == EFBIG)
        agent_answer_err(conn, EFBIG, "over the %llu byte cap",
                   (unsigned long long)r->max);
    else if (err)
        agent_answer_err(conn, err, "%s", hb_tar_x_error(x));
    if (total < 0 && err)
        agent_refuse_drain(conn);
    hb_tar_x_free(x);
    close(dfd);
}
