/* One sandbox: GET /sandboxes/{id} (SandboxDetail), DELETE (204),
 * POST .../timeout (set, E2B's setTimeout: may shorten), .../connect and
 * .../refreshes (extend only: E2B never shortens a running sandbox's life
 * on connect or keep-alive). Pause (204, also when paused already) and
 * resume (201) map onto HiveBox's (issue 17); connect resumes a paused
 * sandbox and then answers 201 ("resumed"), else 200. */
#include "e2b_api.h"

#include <string.h>
#include <time.h>

#include "e2b_call.h"

/* An optional whole-seconds member in 0..max: 0 with *out (-1 when absent),
 * or the status of the 400 sent. */
static int seconds(hb_req_t *r, const json_t *body, const char *key, json_int_t max,
                   bool required, int64_t *out)
{
    const json_t *v = json_object_get(body, key);
    *out = -1;
    if (!v || json_is_null(v))
        return required ? hb_e2b_api_fail(r->c, 400, "%s: required (seconds)", key) : 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return hb_e2b_api_fail(r->c, 400, "%s: expected whole seconds from 0 to %lld", key,
                               (long long)max);
    *out = json_integer_value(v);
    return 0;
}

/* The sandbox's description (SB_GET): 0 with *rep, or the status sent. */
static int describe(hb_req_t *r, hb_msg_t *rep)
{
    hb_msg_t q = {.type = HB_MSG_SB_GET};
    int status = hb_e2b_api_call(r, &q, HB_E2B_CALL_MS, rep);
    if (status == 0 && rep->sandboxes_n != 1) {
        hb_msg_clear(rep);
        return hb_e2b_api_fail(r->c, 500, "get: malformed reply");
    }
    return status;
}

int hb_e2b_api_get(hb_req_t *r)
{
    hb_msg_t rep;
    int status = describe(r, &rep);
    if (status)
        return status;
    char tok[HB_E2B_TOKEN_LEN + 1];
    hb_err_t e = {0};
    bool have = hb_e2b_api_token(r, r->route.id, tok, sizeof tok, &e) == 0;
    status = hb_e2b_api_json(r->c, 200, hb_e2b_detail_json(&rep.sandboxes[0], have ? tok : NULL),
                             NULL, NULL);
    hb_msg_clear(&rep);
    return status;
}

int hb_e2b_api_kill(hb_req_t *r)
{
    hb_msg_t q = {.type = HB_MSG_SB_DESTROY}, rep;
    int status = hb_e2b_api_call(r, &q, HB_E2B_DESTROY_MS, &rep);
    if (status)
        return status;
    hb_msg_clear(&rep);
    return hb_e2b_api_no_content(r->c);
}

int hb_e2b_api_timeout(hb_req_t *r)
{
    int status = 0;
    int64_t t;
    json_t *body = hb_e2b_api_body(r, false, &status);
    if (!body)
        return status;
    status = seconds(r, body, "timeout", HB_E2B_TIMEOUT_MAX, true, &t);
    json_decref(body);
    if (status)
        return status;
    status = hb_e2b_api_set_timeout(r, t < 1 ? 1 : t);
    return status ? status : hb_e2b_api_no_content(r->c);
}

/* The sandbox lives at least secs more (-1: unchanged): 0 with *rep (its
 * description before), or the status sent. */
static int extend(hb_req_t *r, int64_t secs, hb_msg_t *rep)
{
    int status = describe(r, rep);
    if (status || secs < 0)
        return status;
    if ((int64_t)time(NULL) + secs > rep->sandboxes[0].expires_at &&
        (status = hb_e2b_api_set_timeout(r, secs)) != 0)
        hb_msg_clear(rep);
    return status;
}

/* SB_PAUSE or SB_RESUME: 0, or the status sent. */
static int freeze_call(hb_req_t *r, hb_msg_type_t type)
{
    hb_msg_t q = {.type = type}, rep;
    int status = hb_e2b_api_call(r, &q, HB_E2B_CALL_MS, &rep);
    if (status == 0)
        hb_msg_clear(&rep);
    return status;
}

static bool is_paused(const hb_msg_t *rep)
{
    const char *st = rep->sandboxes[0].status;
    return st && strcmp(st, "paused") == 0;
}

/* 204; 409 when paused already (the SDKs' pause() then answers false). */
int hb_e2b_api_pause(hb_req_t *r)
{
    hb_msg_t rep;
    int status = describe(r, &rep);
    if (status)
        return status;
    bool paused = is_paused(&rep);
    hb_msg_clear(&rep);
    if (paused)
        return hb_e2b_api_fail(r->c, 409, "sandbox %s is already paused", r->route.id);
    status = freeze_call(r, HB_MSG_SB_PAUSE);
    return status ? status : hb_e2b_api_no_content(r->c);
}

/* connect (always_201 false) and resume: a paused sandbox is resumed
 * first; then it lives at least `timeout` more. */
static int wake(hb_req_t *r, bool always_201)
{
    int status = 0;
    int64_t t;
    hb_msg_t rep;
    json_t *body = hb_e2b_api_body(r, true, &status);
    if (!body)
        return status;
    status = seconds(r, body, "timeout", HB_E2B_TIMEOUT_MAX, false, &t);
    json_decref(body);
    if (status || (status = describe(r, &rep)) != 0)
        return status;
    bool paused = is_paused(&rep);
    hb_msg_clear(&rep);
    if (paused && (status = freeze_call(r, HB_MSG_SB_RESUME)) != 0)
        return status;
    if ((status = extend(r, t, &rep)) != 0)
        return status;
    int ok = paused || always_201 ? 201 : 200;
    char tok[HB_E2B_TOKEN_LEN + 1];
    hb_err_t e = {0};
    if (hb_e2b_api_token(r, r->route.id, tok, sizeof tok, &e) < 0)
        status = hb_e2b_api_err(r, &e);
    else
        status = hb_e2b_api_json(r->c, ok, hb_e2b_sandbox_json(&rep.sandboxes[0], tok), NULL,
                                 NULL);
    hb_msg_clear(&rep);
    return status;
}

int hb_e2b_api_connect(hb_req_t *r)
{
    return wake(r, false);
}

int hb_e2b_api_resume(hb_req_t *r)
{
    return wake(r, true);
}

int hb_e2b_api_refresh(hb_req_t *r)
{
    int status = 0;
    int64_t t;
    hb_msg_t rep;
    json_t *body = hb_e2b_api_body(r, true, &status);
    if (!body)
        return status;
    status = seconds(r, body, "duration", 3600, false, &t);
    json_decref(body);
    if (status || (status = extend(r, t, &rep)) != 0)
        return status;
    hb_msg_clear(&rep);
    return hb_e2b_api_no_content(r->c);
}
