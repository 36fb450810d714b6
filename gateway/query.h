/* Query-string parsing (untrusted input; fuzzed by tests/fuzz/fuzz_request.c). */
#ifndef HB_QUERY_H
#define HB_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"

/* Find key in qs ("a=1&b=2", may be NULL) and percent-decode its value
 * ('+' is a space) into out (cap bytes, NUL-terminated; the value itself may
 * hold NUL bytes, *len says how many bytes it has). The first occurrence
 * wins. 1 found, 0 absent, -1 malformed (bad escape) or longer than cap-1. */
int hb_query_param(const char *qs, const char *key, char *out, size_t cap, size_t *len);

/* An optional decimal parameter within [lo, hi]: 0 with *out (def when
 * absent), or -1 with HB_E_INVALID naming key. */
int hb_query_uint(const char *qs, const char *key, uint64_t lo, uint64_t hi, uint64_t def,
                  uint64_t *out, hb_err_t *e);

/* An optional boolean parameter: true|1|false|0, def when absent or empty;
 * anything else is -1 with HB_E_INVALID naming key. */
int hb_query_bool(const char *qs, const char *key, bool def, bool *out, hb_err_t *e);

#endif
