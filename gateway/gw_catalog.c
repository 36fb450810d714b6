/* GET /api/v1/images and GET /api/v1/skills: what a create request may name
 * in `image` and `skills`. Both are answered by the manager, which owns the
 * runtime (the data and skills dirs) and the default image's build state;
 * the gateway only turns its R_CATALOG into JSON. */
#include "gw_image.h"
#include "gw_internal.h"

#include <string.h>
#include <strings.h>

#include "bus.h"

#define CATALOG_MS 30000

static int ask(hb_req_t *r, hb_msg_type_t type, hb_msg_t *rep)
{
    if (!hb_method_is(r, "GET"))
        return hb_reply_405(r);
    hb_err_t e = {0};
    hb_msg_t q = {.type = type};
    int rc = hb_bus_call(r->conf->ep.manager, &q, rep, CATALOG_MS, &e);
    hb_msg_clear(&q);
    return rc < 0 ? hb_reply_err(r, &e) : 0;
}

static const char *str_or(const char *s, const char *dflt) { return s ? s : dflt; }

int hb_h_images(hb_req_t *r)
{
    if (hb_method_is(r, "POST")) {
        /* JSON is a build from steps; anything else is an archive to import. */
        const char *ct = mg_get_header(r->c, "Content-Type");
        bool json = ct && strncasecmp(ct, "application/json", 16) == 0;
        return json ? hb_h_image_build(r) : hb_h_image_import(r);
    }
    hb_msg_t rep = {0};
    int status = ask(r, HB_MSG_IMAGE_LIST, &rep);
    if (status)
        return status;
    json_t *arr = json_array();
    for (size_t i = 0; i < rep.items_n; i++) {
        const hb_catitem_t *it = &rep.items[i];
        const char *state = str_or(it->state, "ready");
        json_t *o = hb_json_image(it);   /* issue 17: parent, kind, size_bytes */
        if (o && strcmp(state, "ready") != 0 && rep.progress && rep.progress[0])
            json_object_set_new(o, "progress", json_string(rep.progress));
        json_array_append_new(arr, o);
    }
    json_t *j = json_pack("{s:o, s:b}", "images", arr, "truncated", rep.truncated);
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 200, j);
}

int hb_h_skills(hb_req_t *r)
{
    hb_msg_t rep = {0};
    int status = ask(r, HB_MSG_SKILL_LIST, &rep);
    if (status)
        return status;
    json_t *arr = json_array();
    for (size_t i = 0; i < rep.items_n; i++) {
        const hb_catitem_t *it = &rep.items[i];
        json_t *o = json_pack("{s:s}", "name", str_or(it->name, ""));
        if (o && it->description && it->description[0])
            json_object_set_new(o, "description", json_string(it->description));
        json_array_append_new(arr, o);
    }
    /* Skills reach a sandbox whether or not its OpenCode agent is on: the
     * launcher binds them and the MCP tools serve them. */
    json_t *j = json_pack("{s:o, s:s, s:s, s:b, s:b}", "skills", arr, "path",
                          str_or(rep.path, ""), "state", str_or(rep.state, "missing"),
                          "truncated", rep.truncated, "opencode", r->oc->enabled);
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 200, j);
}
