/* The model a sandbox's agent is configured with, seen from the gateway:
 * shown in the sandbox's details, and checked before a prompt is forwarded.
 * Without a model OpenCode falls back to defaults that reach no model here
 * and a prompt hangs in silence, so the prompt is refused at once with the
 * settings to set. The resolution is the proxy's own (opencode_start.c):
 * the daemon's settings (loaded at start), the sandbox's agent.json and
 * key from its directory (a lease of its handle names the directory). */
#include "gw_internal.h"

#include <string.h>

#include "opencode_conf.h"
#include "opencode_guard.h"
#include "opencode_start.h"
#include "oc_streams.h"

#define NO_MODEL_MSG                                                                          \
    "no LLM model is configured for this sandbox's agent, so nothing would answer the "     \
    "prompt: set HIVEBOX_OPENCODE_MODEL on the daemon (\"provider/model\" with "           \
    "HIVEBOX_OPENCODE_API_KEY, or a model name with HIVEBOX_OPENCODE_BASE_URL for an "     \
    "OpenAI-compatible API), or llm_model (with llm_base_url, llm_api_key) when creating " \
    "the sandbox, or name a model in the prompt (\"model\": {\"providerID\": ..., "        \
    "\"modelID\": ...})"

/* 0 with *info filled; -1 when the sandbox or its settings cannot be read. */
static int sandbox_llm(const hb_req_t *r, hb_oc_llm_info_t *info)
{
    hb_lease_t *l = NULL;
    hb_err_t e = {0};
    int rc = -1;
    if (hb_lease_take_host(r->conf->ep.manager, r->route.id, &l, &e) == 0 &&   /* settings */
        hb_oc_sandbox_llm(r->oc, hb_lease_state_dir(l), info, &e) == 0)
        rc = 0;
    hb_lease_release(&l);
    return rc;
}

static json_t *str_or_null(const char *s) { return s[0] ? json_string(s) : json_null(); }

json_t *hb_gw_agent_llm_json(const hb_req_t *r)
{
    hb_oc_llm_info_t info;
    if (sandbox_llm(r, &info) < 0)
        return NULL;
    return json_pack("{s:o, s:o, s:b}", "provider", str_or_null(info.provider), "model",
                     str_or_null(info.model), "api_key_set", info.has_key);
}

int hb_gw_prompt_check(hb_req_t *r, const char *path, const char *body, size_t len)
{
    hb_oc_llm_info_t info;
    if (!hb_oc_route_prompts(r->ri->request_method, path) || hb_oc_body_names_model(body, len))
        return 0;
    /* A sandbox that cannot be read is left to the proxy, which says why. */
    if (sandbox_llm(r, &info) < 0 || info.model[0])
        return 0;
    /* prompt_async answers before anything happens: its clients follow /event */
    char session[128] = "";
    const char *sp = path + strspn(path, "/") + strlen("session");
    sp += strspn(sp, "/");
    size_t sn = strcspn(sp, "/");
    if (sn < sizeof session)
        snprintf(session, sizeof session, "%.*s", (int)sn, sp);
    hb_oc_streams_note_error(r->route.id, session, NO_MODEL_MSG);
    return hb_reply_error(r->c, 400, "%s", NO_MODEL_MSG);
}
