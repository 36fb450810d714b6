/* POST /api/v1/hiveboxes/:id/snapshots {"name"}: the sandbox's filesystem
 * as a new image (201, the image); GET: the images made from it. Fork and
 * restore: gw_fork.c. The supervisor makes the snapshot (SB_SNAPSHOT). */
#include "gw_image.h"
#include "gw_internal.h"
#include "req_parse.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"

#define SNAP_MS 60000

int hb_gw_snapshot_call(hb_req_t *r, const char *id, const char *name, const char *kind,
                        hb_msg_t *rep, hb_err_t *e)
{
    hb_msg_t q = {.type = HB_MSG_SB_SNAPSHOT};
    if (hb_str_set(&q.id, id) < 0 || hb_str_set(&q.name, name) < 0 ||
        hb_str_set(&q.kind, kind) < 0) {
        hb_msg_clear(&q);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    }
    int rc = hb_bus_call(r->conf->ep.manager, &q, rep, SNAP_MS, e);
    hb_msg_clear(&q);
    if (rc == 0 && rep->items_n != 1) {
        hb_msg_clear(rep);
        return hb_fail(e, HB_E_INTERNAL, 0, "snapshot: malformed reply");
    }
    return rc;
}

static int create_snapshot(hb_req_t *r)
{
    char *body = NULL;
    size_t len = 0;
    hb_err_t e = {0};
    hb_msg_t q = {0}, rep = {0};
    if (hb_read_body(r->c, HB_JSON_BODY_MAX, &body, &len, &e) < 0)
        return hb_reply_err(r, &e);
    int rc = hb_req_parse_name_field(body, len, "name", "the new image's name", &q.name, &e);
    free(body);
    if (rc == 0)
        rc = hb_gw_snapshot_call(r, r->route.id, q.name, "snapshot", &rep, &e);
    hb_msg_clear(&q);
    if (rc < 0 || rep.items_n != 1) {
        hb_msg_clear(&rep);
        return hb_reply_err(r, &e);
    }
    json_t *j = hb_json_image(&rep.items[0]);
    if (j) {
        json_object_set_new(j, "snapshot_ms", json_integer((json_int_t)rep.duration_ms));
        json_object_set_new(j, "frozen_ms", json_integer((json_int_t)rep.frozen_ms));
    }
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 201, j);
}

static int list_snapshots(hb_req_t *r)
{
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_IMAGE_LIST}, rep;
    if (hb_bus_call(r->conf->ep.manager, &q, &rep, SNAP_MS, &e) < 0)
        return hb_reply_err(r, &e);
    json_t *arr = json_array();
    for (size_t i = 0; i < rep.items_n; i++)
        if (rep.items[i].source && strcmp(rep.items[i].source, r->route.id) == 0)
            json_array_append_new(arr, hb_json_image(&rep.items[i]));
    hb_msg_clear(&rep);
    return hb_reply_json(r->c, 200, json_pack("{s:s, s:o}", "id", r->route.id, "snapshots", arr));
}

int hb_h_snapshots(hb_req_t *r)
{
    if (!r->route.id[0])
        return hb_reply_error(r->c, 404, "sandbox not found");
    if (hb_method_is(r, "POST"))
        return create_snapshot(r);
    if (hb_method_is(r, "GET"))
        return list_snapshots(r);
    return hb_reply_405(r);
}
