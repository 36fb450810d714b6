/* cli_layers.c's part of `hivebox image` (issue 17). */
#ifndef HB_CLI_LAYERS_H
#define HB_CLI_LAYERS_H

#include <stdbool.h>

#include "runtime.h"

/* `image rm NAME` (argv[0] "rm"): DELETE /api/v1/images/NAME. */
int cli_image_rm(int argc, char **argv);
/* `image list`: name, parent, kind, size of each image of rt's data dir. */
int cli_image_table(const hb_runtime_t *rt, bool json);

#endif
