/* Init protocol messages (schemas/init-protocol.md): the structs, encoder
 * and decoder generated from schemas/initproto.def. Init decodes requests
 * and encodes answers; the daemon the other way round. Both live here,
 * beside the frame codec, so the unit and fuzz tests exercise exactly the
 * code the two sides use. */
#ifndef HB_INITMSG_H
#define HB_INITMSG_H

#include "initproto.h"
#include "path.h"

#define HB_OUT_CAP_MAX   (1ull << 40)
#define HB_SIG_MAX       64
#define HB_ENTS_BATCH    512     /* entries per `ents` frame at most */
#define HB_INITMSG_MAX   256     /* an `err` message, terminated */
#define HB_INITREQ_PATHS 2       /* PATH fields one request kind carries at most */

#include "initproto.def"

/* Field values (see initproto.def for what each type allows). */
typedef struct {
    const char *ptr;
    size_t len;
} hb_initstr_t;

typedef struct {
    const void *ptr;
    size_t len;
} hb_initbin_t;

/* Strings: encoded from v[0..n) (C strings), or from obj (a decoded array
 * of validated strings, which is what a decoder sets). */
typedef struct {
    const char *const *v;
    const msgpack_object_array *obj;
    size_t n;
} hb_initstrv_t;

/* Directory entries: encoded from n records already packed (by
 * hb_initents_pack) into packed, or from obj (what a decoder sets). */
typedef struct {
    const void *packed;
    size_t packed_len;
    const msgpack_object_array *obj;
    uint32_t n;
} hb_initents_t;

#define HB_INITT_STR(m)  hb_initstr_t m;
#define HB_INITT_PATH(m) const char *m;
#define HB_INITT_BIN(m)  hb_initbin_t m;
#define HB_INITT_ENV(m)  hb_initstrv_t m;
#define HB_INITT_U64(m)  uint64_t m;
#define HB_INITT_I64(m)  int64_t m;
#define HB_INITT_BOOL(m) bool m;
#define HB_INITT_ENTS(m) hb_initents_t m;
#define HB_INITT_META(m) hb_initents_t m;
#define HB_INITT_MSG(m)  char m[HB_INITMSG_MAX];
#define HB_INIT_MEMBER(type, m, key, lo, hi) HB_INITT_##type(m)

/* Field numbers: bit HB_IRF_BIT(f) / HB_IAF_BIT(f) of `has`. */
#define HB_IRF_ENUM(type, m, key, lo, hi) HB_IRF_##m,
#define HB_IAF_ENUM(type, m, key, lo, hi) HB_IAF_##m,
enum { HB_INITREQ_FIELDS(HB_IRF_ENUM) HB_IRF_COUNT };
enum { HB_INITANS_FIELDS(HB_IAF_ENUM) HB_IAF_COUNT };
#define HB_IRF_BIT(m) (1ull << HB_IRF_##m)
#define HB_IAF_BIT(m) (1ull << HB_IAF_##m)

/* ---- requests ---- */

#define HB_INITREQ_ENUM(e, wire, uses) HB_OP_##e,
typedef enum { HB_OP_NONE, HB_INITREQS(HB_INITREQ_ENUM) HB_OP_COUNT } hb_initop_t;

/* A request. Decoded, its pointers point into the frame (and PATHs into the
 * hb_initreq_in_t) and live as long as they do. */
typedef struct {
    hb_initop_t op;
    uint64_t has;               /* HB_IRF_BIT of every field on the wire */
    HB_INITREQ_FIELDS(HB_INIT_MEMBER)
} hb_initreq_t;

/* A decoded request with room for its normalised paths. Handlers take &r. */
typedef struct {
    hb_initreq_t r;
    char paths[HB_INITREQ_PATHS][HB_PATH_MAX];
} hb_initreq_in_t;

/* 0, or -1 with *why naming the bad field ("op" for the kind). */
int hb_initreq_parse(const hb_frame_t *f, hb_initreq_in_t *in, const char **why);
/* Pack r as one map (the fields its kind lists; see initproto.def). */
void hb_initreq_pack(msgpack_packer *pk, const hb_initreq_t *r);

/* ---- answers ---- */

#define HB_INITANS_ENUM(e, wire, uses) HB_ANS_##e,
typedef enum { HB_ANS_NONE, HB_INITANSS(HB_INITANS_ENUM) HB_ANS_COUNT } hb_ansty_t;

/* An answer; decoded, data and ents point into the frame. */
typedef struct {
    hb_ansty_t t;
    uint64_t has;               /* HB_IAF_BIT of every field on the wire */
    HB_INITANS_FIELDS(HB_INIT_MEMBER)
} hb_initans_t;

/* 0, or -1 (errno EPROTO) if the frame is not a valid answer. */
int hb_initans_parse(const hb_frame_t *f, hb_initans_t *a);
void hb_initans_pack(msgpack_packer *pk, const hb_initans_t *a);
/* Pack a into a frame and send it on fd. 0, or -1 with errno. */
int hb_initans_send(int fd, const hb_initans_t *a);

/* Entry i of a decoded `ents` answer (i < a->ents.n). */
void hb_initans_ent(const hb_initans_t *a, uint32_t i, const char **path, size_t *plen,
                    unsigned *type, uint64_t *size);
/* Pack one entry for hb_initents_t.packed. */
void hb_initents_pack(msgpack_packer *pk, const char *path, size_t plen, unsigned type,
                      uint64_t size);

/* An entry's metadata (the `meta` of an `ents` answer, one per entry). */
typedef struct {
    uint32_t mode;      /* st_mode: type and permission bits */
    uint32_t uid, gid;  /* as seen inside the sandbox */
    int64_t  mtime;     /* unix seconds */
} hb_initmeta_t;

/* Metadata of entry i: 0, or -1 when the answer has none for it (an init
 * older than `meta`, or a count that does not match `ents`). */
int  hb_initans_meta(const hb_initans_t *a, uint32_t i, hb_initmeta_t *m);
/* Pack one entry's metadata for the `meta` field's hb_initents_t.packed. */
void hb_initmeta_pack(msgpack_packer *pk, const hb_initmeta_t *m);

/* String i of a strv (decoded or not). */
void hb_initstrv_get(const hb_initstrv_t *s, size_t i, const char **p, size_t *len);

/* Wire names, for messages and tests ("?" when out of range). */
const char *hb_initop_name(hb_initop_t op);
const char *hb_initans_name(hb_ansty_t t);

#endif
