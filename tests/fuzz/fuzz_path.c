/* libFuzzer target: sandbox path validation and normalisation. */
#include "path.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_normal(const char *out)
{
    size_t n = strlen(out);
    assert(out[0] == '/');
    assert(hb_path_check(out, NULL) == 0);
    assert(!strstr(out, "//"));
    assert(n == 1 || out[n - 1] != '/');
    /* no "." or ".." component */
    for (const char *c = out; *c;) {
        c++;
        size_t l = strcspn(c, "/");
        assert(!(l == 1 && c[0] == '.'));
        assert(!(l == 2 && c[0] == '.' && c[1] == '.'));
        c += l;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * HB_PATH_MAX)
        return 0;
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    int valid_n = hb_path_check_n(in, size, NULL);
    int valid = hb_path_check(in, NULL);
    if (valid_n == 0)
        assert(valid == 0);    /* no NUL inside: same verdict */
    char out[HB_PATH_MAX], again[HB_PATH_MAX];
    if (valid == 0) {
        assert(hb_path_normalize(in, out, sizeof out) == 0);
        assert(strlen(out) <= strlen(in));
        check_normal(out);
        assert(hb_path_normalize(out, again, sizeof again) == 0 && strcmp(out, again) == 0);
        assert(hb_path_is_under(out, "/"));
        char dir[HB_PATH_MAX];
        const char *base;
        assert(hb_path_split(out, dir, sizeof dir, &base) == 0);
        check_normal(dir);
        if (*base) {
            char joined[HB_PATH_MAX];
            assert(hb_path_join(dir, base, joined, sizeof joined) == 0);
            assert(strcmp(joined, out) == 0);
            assert(hb_path_is_under(out, dir));
        } else {
            assert(strcmp(out, "/") == 0);
        }
    } else {
        assert(hb_path_normalize(in, out, sizeof out) < 0);
    }
    free(in);
    return 0;
}
