/* A sandbox's build on a thread of its own (issue 19; see supervisor.h):
 * hb_sandbox_create waits on the kernel (clone, cgroups, the subvolume)
 * and on init's handshake, tens of ms here and more under load, and a
 * supervisor host runs many sandboxes that must not wait for it. */
#include "supervisor.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define POST_TRIES    5
#define POST_RETRY_US 200000

typedef struct {
    const hb_runtime_t *rt;
    const hb_msg_t     *q;   /* borrowed until SUP_BUILT is posted */
    char                id[HB_ID_MAX];
    bool                pooled;
    char                inbox[128];
} build_t;

static void *build_main(void *arg)
{
    build_t *b = arg;
    hb_spec_t spec;
    hb_err_t e = {0};
    hb_sandbox_t *sb = NULL;
    int built = hb_sup_spec_from(b->rt, &spec, b->q, b->id, &e);
    spec.pooled = b->pooled;   /* issue 19: recorded, see on_adopt */
    if (built == 0 && hb_sandbox_create(b->rt, &spec, &sb, &e) < 0)
        sb = NULL;
    hb_msg_t m = {.type = HB_MSG_SUP_BUILT, .handle = (uint64_t)(uintptr_t)sb,
                  .code = sb ? 0 : (int64_t)e.code, .error = sb ? NULL : e.msg};
    /* Its unit owns sb from here. A post needs a socket and room in the
     * host's queue: a moment short of either is tried again. Not delivered
     * at all (the daemon stopped and abandoned the unit): the sandbox keeps
     * running and the next start re-attaches it. */
    int rc = -1;
    for (int i = 0; i < POST_TRIES && (rc = hb_bus_post(b->inbox, &m)) < 0; i++)
        usleep(POST_RETRY_US);
    if (rc < 0 && sb)
        HB_LOG_WARN("sandbox %s: built, but its supervisor is gone", b->id);
    free(b);
    hb_sup_thread_end();
    return NULL;
}

int hb_sup_build_start(const hb_runtime_t *rt, const hb_msg_t *q, const char *id, bool pooled,
                       const char *inbox)
{
    build_t *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    *b = (build_t){.rt = rt, .q = q, .pooled = pooled};
    snprintf(b->id, sizeof b->id, "%s", id);
    snprintf(b->inbox, sizeof b->inbox, "%s", inbox);
    if (hb_sup_thread_start(build_main, b) < 0) {
        free(b);
        return -1;
    }
    return 0;
}
