/* libFuzzer target: the nesting bound checked before every parse of client
 * or sandbox JSON (actors/runtime/json_depth.c). jansson is the oracle:
 * for any text it parses, the scan must find exactly its nesting depth
 * (brackets in strings, escapes and all), and hb_json_loadb must parse it
 * when it is within HB_JSON_DEPTH_MAX and refuse it, unparsed, when not. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "json_depth.h"

/* Nesting depth of a parsed value; jansson stops at 2048 levels, so the
 * recursion is bounded. */
static unsigned depth_of(const json_t *j)
{
    unsigned d = 0;
    if (json_is_array(j)) {
        size_t i;
        const json_t *v;
        json_array_foreach(j, i, v) {
            unsigned k = depth_of(v);
            d = k > d ? k : d;
        }
        return d + 1;
    }
    if (json_is_object(j)) {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)j, key, v) {
            unsigned k = depth_of(v);
            d = k > d ? k : d;
        }
        return d + 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    static const unsigned maxes[] = {0, 1, 2, 7, HB_JSON_DEPTH_MAX};
    json_t *j = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_error_t je;
    json_t *b = hb_json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    long at = hb_json_too_deep(text, size, HB_JSON_DEPTH_MAX);
    assert(at < (long)size);
    if (at >= 0) {
        assert(text[at] == '[' || text[at] == '{');
        assert(!b && json_error_code(&je) == json_error_stack_overflow && je.position == at);
    }
    if (j) {
        unsigned d = depth_of(j);
        for (size_t i = 0; i < sizeof maxes / sizeof maxes[0]; i++)
            assert((hb_json_too_deep(text, size, maxes[i]) < 0) == (d <= maxes[i]));
        assert((b != NULL) == (d <= HB_JSON_DEPTH_MAX));
        assert(!b || json_equal(j, b));
    } else {
        assert(!b);   /* the bound never makes bad JSON parse */
    }
    json_decref(j);
    json_decref(b);
    return 0;
}
