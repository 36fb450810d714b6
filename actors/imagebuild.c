/* Background build of the default image (see imagebuild.h). */
#include "imagebuild.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bus.h"

#define PROGRESS_EVERY_MS 500

static atomic_bool g_running = false;

bool hb_imagebuild_running(void) { return atomic_load(&g_running); }

typedef struct {
    zsock_t *mgr;
    int64_t  last_ms;
} build_t;

static void tell(build_t *b, const char *state, const char *progress)
{
    hb_msg_t m = {.type = HB_MSG_IMAGE_STATE, .state = (char *)state, .progress = (char *)progress};
    hb_bus_send(b->mgr, &m);   /* borrows */
}

static void on_progress(void *ud, const char *line)
{
    build_t *b = ud;
    HB_LOG_INFO("image base: %s", line);
    int64_t now = hb_now_ms();
    if (now - b->last_ms < PROGRESS_EVERY_MS)
        return;   /* debootstrap is chatty; the manager needs the gist */
    b->last_ms = now;
    tell(b, "building", line);
}

typedef struct {
    const hb_runtime_t *rt;
    const char         *manager;
} build_args_t;

static void *build_main(void *arg)
{
    build_args_t a = *(build_args_t *)arg;
    free(arg);
    const hb_runtime_t *rt = a.rt;
    build_t b = {.mgr = hb_bus_pusher(a.manager)};
    hb_err_t e = {0};
    HB_LOG_INFO("image base: not found; building it in the background");
    if (b.mgr)
        tell(&b, "building", "starting debootstrap");
    int rc = hb_image_build_base(rt, on_progress, &b, &e);
    if (rc < 0)
        HB_LOG_ERROR("image base: build failed: %s", e.msg);
    else
        HB_LOG_INFO("image base: ready");
    if (b.mgr) {
        tell(&b, rc < 0 ? "failed" : "ready", rc < 0 ? e.msg : "ready");
        zsock_destroy(&b.mgr);
    }
    atomic_store(&g_running, false);
    return NULL;
}

int hb_imagebuild_start(const hb_runtime_t *rt, const char *manager)
{
    build_args_t *a = malloc(sizeof *a);
    if (!a)
        return -1;
    *a = (build_args_t){.rt = rt, .manager = manager};
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    atomic_store(&g_running, true);
    int rc = pthread_create(&t, &at, build_main, a);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        atomic_store(&g_running, false);
        free(a);
    }
    return rc == 0 ? 0 : -1;
}
