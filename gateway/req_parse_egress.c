/* The egress policy fields of a create body (issue 16): top-level
 * "allow_out" and "deny_out" (E2B's create names them so too). */
#include "req_parse.h"

#include <jansson.h>
#include <stdlib.h>

#include "egress_policy.h"
#include "runtime.h"   /* HB_NET_NONE */

int hb_req_create_egress(json_t *body, int mode, char **out, hb_err_t *e)
{
    json_t *a = json_object_get(body, "allow_out"), *d = json_object_get(body, "deny_out");
    if ((!a || json_is_null(a)) && (!d || json_is_null(d)))
        return 0;
    json_t *j = json_object();
    if (!j)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    if (a && !json_is_null(a))
        json_object_set(j, "allow_out", a);
    if (d && !json_is_null(d))
        json_object_set(j, "deny_out", d);
    hb_egress_t p;
    int rc = hb_egress_parse_json(j, &p, e);
    json_decref(j);
    if (rc < 0)
        return -1;
    if (!hb_egress_empty(&p) && mode == (int)HB_NET_NONE)
        rc = hb_fail(e, HB_E_INVALID, 0, "%s: an egress policy needs network \"isolated\" or "
                     "\"shared\"", p.n_allow ? "allow_out" : "deny_out");
    if (rc == 0 && !hb_egress_empty(&p) && !(*out = hb_egress_text(&p)))
        rc = hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    hb_egress_free(&p);
    return rc;
}
