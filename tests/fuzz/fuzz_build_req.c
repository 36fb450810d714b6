/* libFuzzer target: the image build body (gateway/build_req.c), what a
 * client sends to POST /api/v1/images as JSON, and the build log's bounds
 * (gateway/build_log.c) fed with the same bytes as step output. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "build_log.h"
#include "build_req.h"
#include "path.h"

static void check_req(const hb_build_req_t *b)
{
    assert(b->run_n >= 1 && b->run_n <= HB_BUILD_STEPS_MAX);
    for (size_t i = 0; i < b->run_n; i++)
        assert(b->run[i][0] && strlen(b->run[i]) <= HB_BUILD_STEP_MAX);
    assert(b->files_n <= HB_BUILD_FILES_MAX);
    size_t total = 0;
    for (size_t i = 0; i < b->files_n; i++) {
        assert(b->files[i].path[0] == '/' && hb_path_check(b->files[i].path, NULL) == 0);
        total += b->files[i].len;
    }
    assert(total <= HB_BUILD_FILES_BYTES);
    assert(hb_name_valid(b->name) && hb_name_valid(b->from));
    assert(b->step_timeout_s >= 1 && b->step_timeout_s <= HB_BUILD_TIMEOUT_MAX);
    assert(b->create.type == HB_MSG_SB_CREATE && b->create.image);
    char sb[HB_ID_MAX];
    hb_build_sandbox_name(b->name, 0xffff, sb, sizeof sb);
    assert(hb_name_valid(sb));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_build_req_t b;
    hb_err_t e = {0};
    if (hb_build_req_parse((const char *)data, size, &b, &e) == 0)
        check_req(&b);
    else
        assert(e.code == HB_E_INVALID || e.code == HB_E_TOOBIG || e.code == HB_E_INTERNAL);
    hb_build_req_free(&b);

    hb_build_log_t l;
    hb_build_log_init(&l);
    hb_build_log_add(&l, data, size, true);
    hb_build_log_add(&l, data, size / 2, true);
    assert(l.len <= HB_BUILD_LOG_MAX + 64 && l.tail_len <= HB_BUILD_TAIL_MAX);
    char *t = hb_build_log_tail(&l);
    assert(t && strlen(t) <= 3 * HB_BUILD_TAIL_MAX);
    free(t);
    hb_build_log_free(&l);
    return 0;
}
