/* launch.conf, read by the launcher. See launch_conf.h. */
#include "launch_conf.h"
#include "launchconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<uid_base> <path>": the base that owns the layer's files on disk. */
static void take_layer(launch_conf_t *c, const char *val)
{
    char *end = NULL;
    unsigned long uid = strtoul(val, &end, 10);
    if (c->n_layers < 0 || c->n_layers == HB_LC_LAYERS_MAX || !end || *end != ' ' || uid == 0) {
        c->n_layers = -1;   /* refused by launch_conf_parse */
        return;
    }
    c->layer_uid[c->n_layers] = uid;
    snprintf(c->layers[c->n_layers++], LPATH, "%s", end + 1);
}

/* One setting; repeated keys past their array's room are dropped. */
static int take(void *ud, hb_lckey_t k, const char *val)
{
    launch_conf_t *c = ud;
    switch (k) {
    case HB_LC_ID:
        snprintf(c->id, sizeof c->id, "%s", val);
        break;
    case HB_LC_IMAGE:
        snprintf(c->image, sizeof c->image, "%s", val);
        break;
    case HB_LC_LAYER:
        take_layer(c, val);
        break;
    case HB_LC_UID_BASE:
        c->uid_base = strtoul(val, NULL, 10);
        break;
    case HB_LC_SHM_BYTES:
        c->shm_bytes = strtoull(val, NULL, 10);
        break;
    case HB_LC_CGROUP_PROCS:
        if (c->n_cg < MAX_CG)
            snprintf(c->cg_procs[c->n_cg++], LPATH, "%s", val);
        break;
    case HB_LC_USER_CGROUP_PROCS:
        if (c->n_user_cg < INIT_MAX_CG)
            snprintf(c->user_cg_procs[c->n_user_cg++], LPATH, "%s", val);
        break;
    case HB_LC_WARM_EXEC:
        c->warm_exec = strcmp(val, "1") == 0;
        break;
    default:
        if (!launch_net_conf(&c->net, k, val))
            launch_skills_conf(&c->skills, k, val);
        break;
    }
    return 0;
}

int launch_conf_parse(char *text, const char *dir, launch_conf_t *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < INIT_MAX_CG; i++)
        c->user_cg_fds[i] = -1;
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    hb_lc_each(text, take, c);
    return !c->id[0] || !c->image[0] || c->uid_base == 0 || c->shm_bytes < 4096 ||
                   c->n_layers < 0
               ? -1
               : 0;
}
