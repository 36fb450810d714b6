/* POST /sandboxes and /v2/sandboxes (E2B's NewSandbox): translated into a
 * HiveBox create body and run through hb_req_parse_create, so validation,
 * defaults and limits are the REST API's; then the same manager call as
 * POST /api/v1/hiveboxes. 201 with E2B's Sandbox. HiveBox is always
 * "secure": the answer always carries the sandbox's envdAccessToken. */
#include "e2b_api.h"
#include "e2b_api_parse.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "e2b_call.h"
#include "mcp_http.h"
#include "req_parse.h"

/* The HiveBox create message for body in (q to clear), 0 or -1 with *e. */
static int parse(hb_req_t *r, const json_t *in, hb_msg_t *q, hb_err_t *e)
{
    json_t *hb = hb_e2b_translate_create(in, e);
    char *text = hb ? json_dumps(hb, JSON_COMPACT) : NULL;
    json_decref(hb);
    if (!text)
        return e->msg[0] ? -1 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_req_parse_create(text, strlen(text), r->oc, q, e);
    free(text);
    if (rc < 0)
        hb_e2b_rename_field(e);
    return rc;
}

int hb_e2b_api_create(hb_req_t *r)
{
    int status = 0;
    json_t *in = hb_e2b_api_body(r, false, &status);
    if (!in)
        return status;
    hb_err_t e = {0};
    hb_msg_t q, rep;
    int rc = parse(r, in, &q, &e);
    json_decref(in);
    if (rc < 0)
        return hb_e2b_api_err(r, &e);
    /* The MCP token, as POST /api/v1/hiveboxes makes it: the sandbox's
     * envd token is derived from it (e2b_token.c). */
    char mcp[MCP_TOKEN_LEN + 1], envd[HB_E2B_TOKEN_LEN + 1];
    if (mcp_token_new(mcp) < 0 || hb_str_set(&q.mcp_token, mcp) < 0) {
        hb_msg_clear(&q);
        return hb_e2b_api_fail(r->c, 500, "create: cannot make the sandbox's token");
    }
    rc = hb_bus_call(r->conf->ep.manager, &q, &rep, HB_E2B_CREATE_MS, &e);
    hb_msg_clear(&q);
    if (rc < 0) {
        hb_e2b_rename_field(&e);   /* "image: no image named ..." */
        return hb_e2b_api_err(r, &e);
    }
    if (rep.sandboxes_n != 1) {
        status = hb_e2b_api_fail(r->c, 500, "create: malformed reply");
    } else {
        hb_log_ctx_sandbox(rep.sandboxes[0].id);   /* for the access line */
        hb_e2b_envd_token_of(mcp, envd);
        status = hb_e2b_api_json(r->c, 201, hb_e2b_sandbox_json(&rep.sandboxes[0], envd), NULL,
                                 NULL);
    }
    hb_msg_clear(&rep);
    return status;
}
