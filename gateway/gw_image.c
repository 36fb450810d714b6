/* GET /api/v1/images/:name (one image) and DELETE /api/v1/images/:name
 * (the image and its layer; 409 while a sandbox or another image uses it).
 * The manager answers both: it knows which sandboxes use which image. */
#include "gw_image.h"
#include "gw_internal.h"

#include <string.h>

#include "bus.h"

#define IMAGE_MS 30000

static const char *str_or(const char *s, const char *dflt) { return s && s[0] ? s : dflt; }

json_t *hb_json_image(const hb_catitem_t *it)
{
    const char *state = str_or(it->state, "ready");
    json_t *o = json_pack("{s:s, s:b, s:s}", "name", str_or(it->name, ""), "ready",
                          strcmp(state, "ready") == 0, "state", state);
    if (!o)
        return NULL;
    if (it->description && it->description[0])
        json_object_set_new(o, "os", json_string(it->description));
    if (it->created_at > 0)
        json_object_set_new(o, "created_at", json_integer(it->created_at));
    json_object_set_new(o, "parent", it->parent && it->parent[0] ? json_string(it->parent)
                                                                  : json_null());
    json_object_set_new(o, "kind", json_string(str_or(it->kind, "base")));
    json_object_set_new(o, "size_bytes", json_integer((json_int_t)it->size_bytes));
    if (it->source && it->source[0])
        json_object_set_new(o, "source", json_string(it->source));
    return o;
}

int hb_h_image(hb_req_t *r)
{
    bool del = hb_method_is(r, "DELETE");
    if (!del && !hb_method_is(r, "GET"))
        return hb_reply_405(r);
    if (!r->route.id[0])
        return hb_reply_error(r->c, 404, "image not found");
    hb_err_t e = {0};
    hb_msg_t q = {.type = del ? HB_MSG_IMAGE_DELETE : HB_MSG_IMAGE_GET}, rep;
    if (hb_str_set(&q.name, r->route.id) < 0)
        return hb_reply_error(r->c, 500, "out of memory");
    int rc = hb_bus_call(r->conf->ep.manager, &q, &rep, IMAGE_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0)
        return hb_reply_err(r, &e);
    int status;
    if (rep.items_n != 1)
        status = hb_reply_error(r->c, 500, "image: malformed reply");
    else if (del)
        status = hb_reply_json(r->c, 200, json_pack("{s:s, s:b}", "name", r->route.id,
                                                    "deleted", 1));
    else
        status = hb_reply_json(r->c, 200, hb_json_image(&rep.items[0]));
    hb_msg_clear(&rep);
    return status;
}
