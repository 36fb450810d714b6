/* Query-string parsing (untrusted input; fuzzed by tests/fuzz/fuzz_request.c). */
#ifndef HB_QUERY_H
#define HB_QUERY_H

#include <stddef.h>

/* Find key in qs ("a=1&b=2", may be NULL) and percent-decode its value
 * ('+' is a space) into out (cap bytes, NUL-terminated; the value itself may
 * hold NUL bytes, *len says how many bytes it has). The first occurrence
 * wins. 1 found, 0 absent, -1 malformed (bad escape) or longer than cap-1. */
int hb_query_param(const char *qs, const char *key, char *out, size_t cap, size_t *len);

#endif
