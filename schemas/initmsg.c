#include "initmsg.h"

#include <errno.h>
#include <string.h>

static const struct {
    const char *name;
    hb_initop_t op;
} ops[] = {
    {"exec", HB_OP_EXEC}, {"signal", HB_OP_SIGNAL}, {"read", HB_OP_READ},
    {"write", HB_OP_WRITE}, {"list", HB_OP_LIST}, {"stat", HB_OP_STAT},
    {"mkdir", HB_OP_MKDIR}, {"rename", HB_OP_RENAME}, {"remove", HB_OP_REMOVE},
    {"tar_create", HB_OP_TAR_CREATE}, {"tar_extract", HB_OP_TAR_EXTRACT},
};

/* A required path field, validated and normalised into out. */
static int get_path(const msgpack_object_map *m, const char *key, char *out, bool required)
{
    const char *p;
    size_t n;
    int r = hb_map_str(m, key, HB_PATH_MAX - 1, &p, &n);
    if (r == 1)
        return required ? -1 : 1;
    if (r < 0 || hb_path_check_n(p, n, NULL) < 0)
        return -1;
    char tmp[HB_PATH_MAX];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return hb_path_normalize(tmp, out, HB_PATH_MAX);
}

static int env_ok(const msgpack_object_array *a)
{
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object_str *s = &a->ptr[i].via.str;
        const char *eq = memchr(s->ptr, '=', s->size);
        if (!eq || eq == s->ptr)
            return -1;
    }
    return 0;
}

static int parse_exec(const msgpack_object_map *m, hb_initreq_t *r, const char **why)
{
    *why = "cmd";
    if (hb_map_str(m, "cmd", HB_CMD_MAX, &r->cmd, &r->cmd_len) != 0 ||
        memchr(r->cmd, '\0', r->cmd_len))
        return -1;
    *why = "cwd";
    int c = get_path(m, "cwd", r->path, false);
    if (c < 0)
        return -1;
    r->has_cwd = c == 0;
    *why = "env";
    if (hb_map_strv(m, "env", HB_ENV_MAX, HB_ENVSTR_MAX, &r->env) < 0 ||
        (r->env && env_ok(r->env) < 0))
        return -1;
    *why = "stdin";
    if (hb_map_bin(m, "stdin", HB_STDIN_MAX, &r->stdin_data, &r->stdin_len) < 0)
        return -1;
    *why = "timeout_ms";
    if (hb_map_uint(m, "timeout_ms", UINT32_MAX, &r->timeout_ms) < 0)
        return -1;
    *why = "out_cap";
    if (hb_map_uint(m, "out_cap", HB_OUT_CAP_MAX, &r->out_cap) < 0)
        return -1;
    return 0;
}

static int parse_signal(const msgpack_object_map *m, hb_initreq_t *r, const char **why)
{
    int64_t v;
    *why = "pgid";
    if (hb_map_int(m, "pgid", 2, INT32_MAX, &r->pgid) != 0)
        return -1;
    *why = "sig";
    if (hb_map_int(m, "sig", 1, HB_SIG_MAX, &v) != 0)
        return -1;
    r->sig = (int)v;
    return 0;
}

/* Optional typed fields shared by the file ops. */
static int parse_file_opts(const msgpack_object_map *m, hb_initreq_t *r, const char **why)
{
    uint64_t mode = 0;
    *why = "mode";
    if (hb_map_uint(m, "mode", 07777, &mode) < 0)
        return -1;
    r->mode = (uint32_t)mode;
    *why = "max";
    if (hb_map_uint(m, "max", UINT64_MAX, &r->max) < 0)
        return -1;
    *why = "recursive";
    if (hb_map_bool(m, "recursive", &r->recursive) < 0)
        return -1;
    *why = "follow";
    if (hb_map_bool(m, "follow", &r->follow) < 0)
        return -1;
    *why = "parents";
    if (hb_map_bool(m, "parents", &r->parents) < 0)
        return -1;
    return 0;
}

int hb_initreq_parse(const hb_frame_t *f, hb_initreq_t *r, const char **why)
{
    const char *dummy, *op;
    size_t opn;
    if (!why)
        why = &dummy;
    memset(r, 0, sizeof *r);
    *why = "op";
    if (!f->decoded || hb_map_str(&f->map, "op", 16, &op, &opn) != 0)
        return -1;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strlen(ops[i].name) == opn && memcmp(ops[i].name, op, opn) == 0)
            r->op = ops[i].op;
    const msgpack_object_map *m = &f->map;
    switch (r->op) {
    case HB_OP_EXEC:
        return parse_exec(m, r, why);
    case HB_OP_SIGNAL:
        return parse_signal(m, r, why);
    case HB_OP_RENAME:
        *why = "from";
        if (get_path(m, "from", r->path, true) < 0)
            return -1;
        *why = "to";
        return get_path(m, "to", r->path2, true) < 0 ? -1 : 0;
    case HB_OP_READ: case HB_OP_WRITE: case HB_OP_LIST:
    case HB_OP_STAT: case HB_OP_MKDIR: case HB_OP_REMOVE:
    case HB_OP_TAR_CREATE: case HB_OP_TAR_EXTRACT:
        *why = "path";
        if (get_path(m, "path", r->path, true) < 0)
            return -1;
        return parse_file_opts(m, r, why);
    }
    return -1;   /* unknown op */
}

/* ---- answers ---- */

static const struct {
    const char *name;
    hb_ansty_t t;
} anss[] = {
    {"started", HB_ANS_STARTED}, {"out", HB_ANS_OUT}, {"exit", HB_ANS_EXIT},
    {"file", HB_ANS_FILE}, {"data", HB_ANS_DATA}, {"end", HB_ANS_END},
    {"ents", HB_ANS_ENTS}, {"stat", HB_ANS_STAT}, {"ok", HB_ANS_OK}, {"err", HB_ANS_ERR},
};

static int ents_ok(const msgpack_object_array *a)
{
    if (a->size > HB_ENTS_BATCH)
        return -1;
    for (uint32_t i = 0; i < a->size; i++) {
        const msgpack_object *e = &a->ptr[i];
        const char *p;
        size_t n;
        uint64_t v;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3 ||
            hb_obj_str(&e->via.array.ptr[0], HB_PATH_MAX - 1, &p, &n) < 0 ||
            hb_path_check_n(p, n, NULL) < 0 ||
            hb_obj_uint(&e->via.array.ptr[1], 3, &v) < 0 ||
            hb_obj_uint(&e->via.array.ptr[2], UINT64_MAX, &v) < 0)
            return -1;
    }
    return 0;
}

void hb_initans_ent(const hb_initans_t *a, uint32_t i, const char **path, size_t *plen,
                    unsigned *type, uint64_t *size)
{
    const msgpack_object *e = a->ents->ptr[i].via.array.ptr;
    *path = e[0].via.str.ptr;
    *plen = e[0].via.str.size;
    *type = (unsigned)e[1].via.u64;
    *size = e[2].via.u64;
}

static int parse_exit(const msgpack_object_map *m, hb_initans_t *a)
{
    int64_t code, sig = 0;
    if (hb_map_int(m, "code", 0, 511, &code) != 0 ||
        hb_map_int(m, "signal", 0, HB_SIG_MAX, &sig) < 0 ||
        hb_map_bool(m, "timed_out", &a->timed_out) < 0 ||
        hb_map_bool(m, "out_trunc", &a->out_trunc) < 0 ||
        hb_map_bool(m, "err_trunc", &a->err_trunc) < 0 ||
        hb_map_uint(m, "duration_us", UINT64_MAX, &a->duration_us) < 0)
        return -1;
    a->code = (int)code;
    a->signal = (int)sig;
    return 0;
}

static int parse_stat(const msgpack_object_map *m, hb_initans_t *a)
{
    uint64_t type, mode, uid, gid;
    if (hb_map_uint(m, "type", 3, &type) != 0 ||
        hb_map_uint(m, "size", UINT64_MAX, &a->st.size) != 0 ||
        hb_map_uint(m, "mode", UINT32_MAX, &mode) != 0 ||
        hb_map_uint(m, "uid", UINT32_MAX, &uid) != 0 ||
        hb_map_uint(m, "gid", UINT32_MAX, &gid) != 0 ||
        hb_map_int(m, "mtime", INT64_MIN, INT64_MAX, &a->st.mtime) != 0 ||
        hb_map_int(m, "atime", INT64_MIN, INT64_MAX, &a->st.atime) != 0 ||
        hb_map_int(m, "ctime", INT64_MIN, INT64_MAX, &a->st.ctime) != 0)
        return -1;
    a->st.type = (unsigned)type;
    a->st.mode = (uint32_t)mode;
    a->st.uid = (uint32_t)uid;
    a->st.gid = (uint32_t)gid;
    return 0;
}

static int parse_err(const msgpack_object_map *m, hb_initans_t *a)
{
    int64_t err;
    const char *p = "";
    size_t n = 0;
    if (hb_map_int(m, "errno", 1, 4095, &err) != 0 || hb_map_str(m, "msg", 4096, &p, &n) < 0)
        return -1;
    a->err = (int)err;
    if (n >= sizeof a->msg)
        n = sizeof a->msg - 1;
    for (size_t i = 0; i < n; i++)
        a->msg[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    a->msg[n] = '\0';
    return 0;
}

static int parse_ans(const msgpack_object_map *m, hb_initans_t *a)
{
    int64_t v;
    switch (a->t) {
    case HB_ANS_STARTED:
        return hb_map_int(m, "pid", 1, INT32_MAX, &a->pid) != 0 ? -1 : 0;
    case HB_ANS_OUT:
        if (hb_map_int(m, "fd", 1, 2, &v) != 0)
            return -1;
        a->fd = (int)v;
        /* fall through */
    case HB_ANS_DATA:
        return hb_map_bin(m, "data", HB_CHUNK_MAX, &a->data, &a->data_len) != 0 ? -1 : 0;
    case HB_ANS_EXIT:
        return parse_exit(m, a);
    case HB_ANS_FILE:
        a->has_size = true;
        return hb_map_uint(m, "size", UINT64_MAX, &a->size) != 0 ? -1 : 0;
    case HB_ANS_OK: {
        int r = hb_map_uint(m, "size", UINT64_MAX, &a->size);
        a->has_size = r == 0;
        return r < 0 ? -1 : 0;
    }
    case HB_ANS_END:
        return hb_map_bool(m, "truncated", &a->truncated) < 0 ? -1 : 0;
    case HB_ANS_ENTS: {
        const msgpack_object *o = hb_map_get(m, "ents");
        if (!o || o->type != MSGPACK_OBJECT_ARRAY || ents_ok(&o->via.array) < 0)
            return -1;
        a->ents = &o->via.array;
        return 0;
    }
    case HB_ANS_STAT:
        return parse_stat(m, a);
    case HB_ANS_ERR:
        return parse_err(m, a);
    }
    return -1;
}

int hb_initans_parse(const hb_frame_t *f, hb_initans_t *a)
{
    const char *t;
    size_t tn;
    memset(a, 0, sizeof *a);
    if (f->decoded && hb_map_str(&f->map, "t", 16, &t, &tn) == 0) {
        for (size_t i = 0; i < sizeof anss / sizeof anss[0]; i++)
            if (strlen(anss[i].name) == tn && memcmp(anss[i].name, t, tn) == 0)
                a->t = anss[i].t;
        if (a->t && parse_ans(&f->map, a) == 0)
            return 0;
    }
    errno = EPROTO;
    return -1;
}
