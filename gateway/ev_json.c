/* msgpack -> JSON for the event stream (see ev_json.h). */
#include "ev_json.h"

#include <jansson.h>
#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

static json_t *conv(const msgpack_object *o, int depth, hb_err_t *e);

static json_t *conv_map(const msgpack_object_map *m, int depth, hb_err_t *e)
{
    json_t *j = json_object();
    if (!j) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type != MSGPACK_OBJECT_STR || memchr(k->via.str.ptr, '\0', k->via.str.size)) {
            hb_fail(e, HB_E_INVALID, 0, "event: a map key is not a string");
            json_decref(j);
            return NULL;
        }
        json_t *v = conv(&m->ptr[i].val, depth + 1, e);
        /* jansson checks the key's UTF-8 (and takes v either way) */
        if (!v || json_object_setn_new(j, k->via.str.ptr, k->via.str.size, v) < 0) {
            if (v)
                hb_fail(e, HB_E_INVALID, 0, "event: a map key is not UTF-8");
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

static json_t *conv_array(const msgpack_object_array *a, int depth, hb_err_t *e)
{
    json_t *j = json_array();
    if (!j) {
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0; i < a->size; i++) {
        json_t *v = conv(&a->ptr[i], depth + 1, e);
        if (!v || json_array_append_new(j, v) < 0) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

static json_t *conv_scalar(const msgpack_object *o, hb_err_t *e)
{
    json_t *j = NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: j = json_null(); break;
    case MSGPACK_OBJECT_BOOLEAN: j = json_boolean(o->via.boolean); break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        /* past INT64_MAX JSON keeps the value, as a number that is not exact */
        j = o->via.u64 > INT64_MAX ? json_real((double)o->via.u64)
                                   : json_integer((json_int_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: j = json_integer((json_int_t)o->via.i64); break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        /* JSON has no NaN or infinity */
        j = isfinite(o->via.f64) ? json_real(o->via.f64) : json_null();
        break;
    case MSGPACK_OBJECT_STR:
        j = json_stringn(o->via.str.ptr, o->via.str.size);   /* NULL if not UTF-8 */
        if (!j)
            hb_fail(e, HB_E_INVALID, 0, "event: a string is not UTF-8");
        return j;
    default:
        hb_fail(e, HB_E_INVALID, 0, "event: a value of msgpack type %d has no JSON form",
                (int)o->type);
        return NULL;
    }
    if (!j)
        hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    return j;
}

static json_t *conv(const msgpack_object *o, int depth, hb_err_t *e)
{
    if (depth > HB_EV_DEPTH_MAX) {
        hb_fail(e, HB_E_INVALID, 0, "event: nested deeper than %d levels", HB_EV_DEPTH_MAX);
        return NULL;
    }
    if (o->type == MSGPACK_OBJECT_MAP)
        return conv_map(&o->via.map, depth, e);
    if (o->type == MSGPACK_OBJECT_ARRAY)
        return conv_array(&o->via.array, depth, e);
    return conv_scalar(o, e);
}

char *hb_ev_json(const void *buf, size_t len, size_t *out_len, hb_err_t *e)
{
    if (len > HB_EV_FRAME_MAX) {
        hb_fail(e, HB_E_INVALID, 0, "event: %zu bytes, more than %u", len, HB_EV_FRAME_MAX);
        return NULL;
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    char *text = NULL;
    int rc = msgpack_unpack_next(&u, buf, len, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != len || u.data.type != MSGPACK_OBJECT_MAP) {
        hb_fail(e, HB_E_INVALID, 0, "event: not one msgpack map");
    } else {
        json_t *j = conv(&u.data, 1, e);
        text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (j && !text)
            hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        json_decref(j);
    }
    msgpack_unpacked_destroy(&u);
    if (text && out_len)
        *out_len = strlen(text);
    return text;
}
