/* The launcher's reading of launch.conf (keys: schemas/launchconf.h; the
 * daemon writes it in actors/runtime/sandbox.c). */
#ifndef HB_LAUNCH_CONF_H
#define HB_LAUNCH_CONF_H

#include "init.h"
#include "launchconf.h"
#include "launch_net.h"
#include "launch_skills.h"

#define MAX_CG 8
#define LPATH 1024

typedef struct {
    char id[64];
    char dir[LPATH];        /* the sandbox dir */
    char image[LPATH];      /* image rootfs on the host (the chain's root) */
    /* Layers above it, top first (issue 17): each is idmapped from the uid
     * base that wrote it to this sandbox's. n_layers < 0: too many. */
    int  n_layers;
    unsigned long layer_uid[HB_LC_LAYERS_MAX];
    char layers[HB_LC_LAYERS_MAX][LPATH];
    unsigned long uid_base;
    char cg_procs[MAX_CG][LPATH];
    int  n_cg;
    char user_cg_procs[INIT_MAX_CG][LPATH];   /* the cgroups commands join */
    int  n_user_cg;
    int  user_cg_fds[INIT_MAX_CG];            /* opened before clone, kept by init */
    unsigned long long shm_bytes;             /* size of /dev/shm */
    launch_net_t net;       /* isolated/shared: see launch_net.h */
    launch_skills_t skills; /* /opt/skills/<name>: see launch_skills.h */
    bool warm_exec;         /* issue 19: init arms warm exec (agent_warm.c) */
} launch_conf_t;

/* Fill c (zeroed first; user_cg_fds set to -1) from the text of the
 * launch.conf of sandbox dir (text is modified). Unknown keys are
 * ignored. 0, or -1 when a required setting is missing. */
int launch_conf_parse(char *text, const char *dir, launch_conf_t *c);

#endif
