/* E2B's sandbox objects (spec/openapi.yml: Sandbox, ListedSandbox,
 * SandboxDetail) from HiveBox's description of a sandbox. templateID is the
 * image's name (the template `base` is the image `base`); metadata is the
 * sandbox's own (HiveBox's API shows the same). */
#include "e2b_api.h"

#include <math.h>
#include <string.h>

#include "e2b_call.h"
#include "lease.h"
#include "textutil.h"

#define CLIENT_ID "hivebox"   /* E2B's deprecated clientID: required, meaningless here */

static json_t *time_of(int64_t t)
{
    char buf[HB_RFC3339_LEN];
    return json_string(hb_rfc3339(t, buf, sizeof buf));
}

static const char *image_of(const hb_sbinfo_t *s) { return s->image ? s->image : ""; }

json_t *hb_e2b_metadata_of(const hb_sbinfo_t *s)
{
    json_t *m = s->metadata ? json_loads(s->metadata, 0, NULL) : NULL;
    if (json_is_object(m))
        return m;
    json_decref(m);
    return json_object();
}

json_t *hb_e2b_sandbox_json(const hb_sbinfo_t *s, const char *token)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:n, s:n}", "sandboxID", s->id ? s->id : "",
                          "templateID", image_of(s), "alias", image_of(s), "clientID", CLIENT_ID,
                          "envdVersion", HB_E2B_ENVD_VERSION, "domain", "trafficAccessToken");
    if (j && token)
        json_object_set_new(j, "envdAccessToken", json_string(token));
    return j;
}

json_t *hb_e2b_listed_json(const hb_sbinfo_t *s)
{
    double cpus = ceil(s->cpus);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:o, s:s, s:s}",
                          "sandboxID", s->id ? s->id : "", "templateID", image_of(s), "alias",
                          image_of(s), "clientID", CLIENT_ID, "startedAt", time_of(s->created_at),
                          "endAt", time_of(s->expires_at), "cpuCount",
                          (json_int_t)(cpus < 1 ? 1 : cpus), "memoryMB",
                          (json_int_t)(s->memory_bytes >> 20), "diskSizeMB",
                          (json_int_t)(s->disk_bytes >> 20), "metadata", hb_e2b_metadata_of(s),
                          "state", s->status && strcmp(s->status, "paused") == 0 ? "paused" : "running",
                          "envdVersion", HB_E2B_ENVD_VERSION);
    return j;
}

json_t *hb_e2b_detail_json(const hb_sbinfo_t *s, const char *token)
{
    json_t *j = hb_e2b_listed_json(s);
    if (!j)
        return NULL;
    bool offline = s->network && strcmp(s->network, "none") == 0;
    json_object_set_new(j, "allowInternetAccess", json_boolean(!offline));
    json_object_set_new(j, "domain", json_null());
    if (token)
        json_object_set_new(j, "envdAccessToken", json_string(token));
    return j;
}

int hb_e2b_api_token(hb_req_t *r, const char *id, char *out, size_t n, hb_err_t *e)
{
    hb_lease_t *l = NULL;
    char tok[HB_E2B_TOKEN_LEN + 1];
    if (n < sizeof tok || hb_lease_take_host(r->conf->ep.manager, id, &l, e) < 0)
        return -1;
    int rc = hb_e2b_envd_token(l, tok, e);
    hb_lease_release(&l);
    if (rc == 0)
        memcpy(out, tok, sizeof tok);
    return rc;
}
