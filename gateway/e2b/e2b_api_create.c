/* POST /sandboxes and /v2/sandboxes (E2B's NewSandbox): translated into a
 * HiveBox create body and run through hb_req_parse_create, so validation,
 * defaults and limits are the REST API's; then the same manager call as
 * POST /api/v1/hiveboxes. 201 with E2B's Sandbox. HiveBox is always
 * "secure": the answer always carries the sandbox's envdAccessToken. */
#include "e2b_api.h"

#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "e2b_call.h"
#include "mcp_http.h"
#include "req_parse.h"

/* A member that may be absent or null. */
static bool given(const json_t *v) { return v && !json_is_null(v); }

static int bad(hb_err_t *e, const char *field, const char *why)
{
    return hb_fail(e, HB_E_INVALID, 0, "%s: %s", field, why);
}

/* An optional boolean member: 0 with *out (def when absent/null), or -1. */
static int get_bool(const json_t *in, const char *key, bool def, bool *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, key);
    if (!given(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_boolean(v))
        return bad(e, key, "expected true or false");
    *out = json_is_true(v);
    return 0;
}

/* An object of strings (metadata, envVars) copied to out[hb_key]. */
static int copy_strings(const json_t *in, const char *key, json_t *out, const char *hb_key,
                        hb_err_t *e)
{
    json_t *v = json_object_get(in, key);
    if (!given(v))
        return 0;
    if (!json_is_object(v))
        return bad(e, key, "expected an object of strings");
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        if (!json_is_string(x))
            return hb_fail(e, HB_E_INVALID, 0, "%s.%.128s: expected a string", key, k);
    }
    return json_object_set(out, hb_key, v);
}

/* What E2B has and HiveBox does not: refused by name rather than ignored,
 * since code relying on them would silently misbehave. */
static int unsupported(const json_t *in, hb_err_t *e)
{
    bool pause = false, mem = true;
    if (get_bool(in, "autoPause", false, &pause, e) < 0 ||
        get_bool(in, "autoPauseMemory", true, &mem, e) < 0)
        return -1;
    if (pause)
        return bad(e, "autoPause", "pausing sandboxes is not supported by HiveBox yet");
    const json_t *resume = json_object_get(in, "autoResume");
    if (given(resume) && !json_is_object(resume))
        return bad(e, "autoResume", "expected an object like {\"enabled\": false}");
    if (given(resume) && json_is_true(json_object_get(resume, "enabled")))
        return bad(e, "autoResume", "pausing sandboxes is not supported by HiveBox yet");
    static const char *const NOPE[] = {"mcp", "network", "iam", "volumeMounts"};
    static const char *const WHY[] = {"E2B's MCP gateway", "network rules", "workload identity",
                                      "volumes"};
    for (size_t i = 0; i < sizeof NOPE / sizeof NOPE[0]; i++) {
        const json_t *v = json_object_get(in, NOPE[i]);
        bool empty = !given(v) || (json_is_object(v) && json_object_size(v) == 0) ||
                     (json_is_array(v) && json_array_size(v) == 0);
        if (!empty)
            return hb_fail(e, HB_E_INVALID, 0, "%s: %s are not supported by HiveBox yet "
                           "(see docs/e2b.md)", NOPE[i], WHY[i]);
    }
    return 0;
}

static int template_of(const json_t *in, json_t *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, "templateID");
    if (!given(v))
        return bad(e, "templateID", "required (a template name, e.g. \"base\")");
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(e, "templateID", "expected a template name, e.g. \"base\"");
    return json_object_set(out, "image", (json_t *)v);   /* `base` is the image `base` */
}

static int timeout_of(const json_t *in, json_t *out, hb_err_t *e)
{
    const json_t *v = json_object_get(in, "timeout");
    json_int_t t = HB_E2B_TIMEOUT_DEF;
    if (given(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > HB_E2B_TIMEOUT_MAX)
            return hb_fail(e, HB_E_INVALID, 0, "timeout: expected whole seconds from 0 to %d",
                           HB_E2B_TIMEOUT_MAX);
        t = json_integer_value(v);
    }
    return json_object_set_new(out, "timeout", json_integer(t < 1 ? 1 : t));
}

/* NewSandbox -> HiveBox's create body (new object), or NULL with *e. */
static json_t *translate(const json_t *in, hb_err_t *e)
{
    json_t *out = json_object();
    bool secure = true, online = true;
    if (!out)
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory"), NULL;
    if (unsupported(in, e) < 0 || template_of(in, out, e) < 0 || timeout_of(in, out, e) < 0 ||
        copy_strings(in, "metadata", out, "metadata", e) < 0 ||
        copy_strings(in, "envVars", out, "env", e) < 0 ||
        get_bool(in, "secure", true, &secure, e) < 0 ||
        get_bool(in, "allow_internet_access", true, &online, e) < 0) {
        json_decref(out);
        return NULL;
    }
    /* secure false is accepted and ignored: tokens are always required. */
    if (!online && json_object_set_new(out, "network", json_string("none")) < 0) {
        json_decref(out);
        return hb_fail(e, HB_E_INTERNAL, 0, "out of memory"), NULL;
    }
    return out;
}

/* HiveBox's messages name HiveBox's fields; say E2B's. */
static void rename_field(hb_err_t *e)
{
    static const char *const MAP[][2] = {{"image", "templateID"}, {"env", "envVars"}};
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++) {
        size_t n = strlen(MAP[i][0]);
        if (strncmp(e->msg, MAP[i][0], n) != 0 || (e->msg[n] != ':' && e->msg[n] != '.' &&
                                                   e->msg[n] != ' '))
            continue;
        char tmp[sizeof e->msg];
        snprintf(tmp, sizeof tmp, "%s%s", MAP[i][1], e->msg + n);
        memcpy(e->msg, tmp, sizeof tmp);
        return;
    }
}

/* The HiveBox create message for body in (q to clear), 0 or -1 with *e. */
static int parse(hb_req_t *r, const json_t *in, hb_msg_t *q, hb_err_t *e)
{
    json_t *hb = translate(in, e);
    char *text = hb ? json_dumps(hb, JSON_COMPACT) : NULL;
    json_decref(hb);
    if (!text)
        return e->msg[0] ? -1 : hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
    int rc = hb_req_parse_create(text, strlen(text), r->oc, q, e);
    free(text);
    if (rc < 0)
        rename_field(e);
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
        rename_field(&e);   /* "image: no image named ..." */
        return hb_e2b_api_err(r, &e);
    }
    if (rep.sandboxes_n != 1) {
        status = hb_e2b_api_fail(r->c, 500, "create: malformed reply");
    } else {
        hb_e2b_envd_token_of(mcp, envd);
        status = hb_e2b_api_json(r->c, 201, hb_e2b_sandbox_json(&rep.sandboxes[0], envd), NULL,
                                 NULL);
    }
    hb_msg_clear(&rep);
    return status;
}
