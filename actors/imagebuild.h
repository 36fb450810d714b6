/* Builds the default image "base" in the background when it is missing at
 * start, telling the manager how far it got (IMAGE_STATE), so create can
 * answer 503 with the progress meanwhile. A plain detached thread, not an
 * actor: hb_image_build_base blocks for minutes and nothing waits for it. */
#ifndef HB_IMAGEBUILD_H
#define HB_IMAGEBUILD_H

#include "runtime.h"

/* manager: the manager's inbox, a string that outlives the thread. */
int  hb_imagebuild_start(const hb_runtime_t *rt, const char *manager);
bool hb_imagebuild_running(void);

#endif
