/* Preview route bodies (preview_body.h). */
#include "preview_body.h"

#include <jansson.h>
#include <string.h>

#include "preview_auth.h"   /* HB_PV_EXPIRES_MAX */
#include "req_parse.h"

/* The one member `want` may be there: -1 naming any other. */
static int only(json_t *o, const char *want, hb_err_t *e)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        if (strcmp(k, want) != 0)
            return hb_fail(e, HB_E_INVALID, 0, "%.64s: unknown field (only \"%s\" is taken)",
                           k, want);
    }
    return 0;
}

int hb_pv_parse_public(const char *body, size_t len, bool *public_port, hb_err_t *e)
{
    json_t *o = hb_req_load_object(body, len, e);
    if (!o)
        return -1;
    json_t *v = json_object_get(o, "public");
    int rc = only(o, "public", e);
    if (rc == 0 && !json_is_boolean(v))
        rc = hb_fail(e, HB_E_INVALID, 0, "public: required, true or false");
    if (rc == 0)
        *public_port = json_is_true(v);
    json_decref(o);
    return rc;
}

int hb_pv_parse_expires(const char *body, size_t len, int64_t *secs, hb_err_t *e)
{
    *secs = HB_PV_EXPIRES_DEFAULT;
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", body[i]) && body[i])
        i++;
    if (i == len)
        return 0;
    json_t *o = hb_req_load_object(body, len, e);
    if (!o)
        return -1;
    json_t *v = json_object_get(o, "expires_in");
    int rc = only(o, "expires_in", e);
    if (rc == 0 && v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
                         json_integer_value(v) > HB_PV_EXPIRES_MAX))
        rc = hb_fail(e, HB_E_INVALID, 0, "expires_in: must be a whole number of seconds from 1 "
                     "to %lld (30 days)", HB_PV_EXPIRES_MAX);
    if (rc == 0 && v)
        *secs = json_integer_value(v);
    json_decref(o);
    return rc;
}
