/* Init protocol messages (schemas/init-protocol.md): the request parser init
 * runs on a client's first frame and the answer parser the daemon runs on
 * every frame from init. Both live here, beside the frame codec, so the fuzz
 * targets exercise exactly the code the two sides use. */
#ifndef HB_INITMSG_H
#define HB_INITMSG_H

#include "initproto.h"
#include "path.h"

typedef enum {
    HB_OP_EXEC = 1, HB_OP_SIGNAL, HB_OP_READ, HB_OP_WRITE, HB_OP_LIST,
    HB_OP_STAT, HB_OP_MKDIR, HB_OP_RENAME, HB_OP_REMOVE,
    HB_OP_TAR_CREATE, HB_OP_TAR_EXTRACT,
} hb_initop_t;

#define HB_OUT_CAP_MAX   (1ull << 40)
#define HB_SIG_MAX       64

/* A parsed request. Pointers (cmd, env, stdin_data) point into the frame
 * and live as long as it; paths are copied and normalised. */
typedef struct {
    hb_initop_t op;
    const char *cmd;            /* exec: no NUL inside, not terminated */
    size_t cmd_len;
    bool has_cwd;
    const msgpack_object_array *env;   /* NULL or validated "K=V" strings */
    const void *stdin_data;     /* NULL if absent */
    size_t stdin_len;
    uint64_t timeout_ms;        /* 0: none */
    uint64_t out_cap;           /* 0: default */
    int64_t pgid;               /* signal: > 1 */
    int sig;                    /* signal: 1..HB_SIG_MAX */
    char path[HB_PATH_MAX];     /* normalised; exec: cwd */
    char path2[HB_PATH_MAX];    /* rename: to */
    uint32_t mode;              /* write: 0 = default 0644 */
    uint64_t max;               /* read/write/list: 0 = none */
    bool recursive, follow, parents;
} hb_initreq_t;

/* 0, or -1 with *why naming the bad field. */
int hb_initreq_parse(const hb_frame_t *f, hb_initreq_t *r, const char **why);

/* Write data frames of a `write` request are {t:"data", data:bin} / {t:"end"}. */

typedef enum {
    HB_ANS_STARTED = 1, HB_ANS_OUT, HB_ANS_EXIT, HB_ANS_FILE, HB_ANS_DATA,
    HB_ANS_END, HB_ANS_ENTS, HB_ANS_STAT, HB_ANS_OK, HB_ANS_ERR,
} hb_ansty_t;

typedef struct {
    unsigned type;              /* hb_ftype_t values 0..3 */
    uint64_t size;
    uint32_t mode, uid, gid;
    int64_t mtime, atime, ctime;
} hb_initstat_t;

/* A parsed answer; data and ents point into the frame. */
typedef struct {
    hb_ansty_t t;
    int64_t pid;                        /* started */
    int fd;                             /* out: 1 or 2 */
    const void *data;                   /* out, data */
    size_t data_len;
    int code, signal;                   /* exit */
    bool timed_out, out_trunc, err_trunc;
    uint64_t duration_us;
    uint64_t size;                      /* file, ok */
    bool has_size;
    bool truncated;                     /* end (list) */
    const msgpack_object_array *ents;   /* ents: validated */
    hb_initstat_t st;                   /* stat */
    int err;                            /* err: errno 1..4095 */
    char msg[256];                      /* err: printable, terminated */
} hb_initans_t;

/* 0, or -1 (errno EPROTO) if the frame is not a valid answer. */
int hb_initans_parse(const hb_frame_t *f, hb_initans_t *a);

/* Entry i of a parsed `ents` answer (i < a->ents->size). */
void hb_initans_ent(const hb_initans_t *a, uint32_t i, const char **path, size_t *plen,
                    unsigned *type, uint64_t *size);

#define HB_ENTS_BATCH 512   /* entries per `ents` frame at most */

#endif
