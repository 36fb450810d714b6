/* The API key: given (--api-key / HIVEBOX_API_KEY), or the one kept in
 * <data-dir>/api_key, or a new random one written there (0600) and printed
 * once. Auth is never off. */
#ifndef HB_APIKEY_H
#define HB_APIKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "hberr.h"

#define HB_APIKEY_MAX 256

/* given may be NULL. *generated is true when a new key was made. */
int hb_apikey_resolve(const char *data_dir, const char *given, char *out, size_t cap,
                      bool *generated, hb_err_t *e);
/* A usable key: 1..HB_APIKEY_MAX-1 visible ASCII characters, no spaces. */
bool hb_apikey_valid(const char *key);

#endif
