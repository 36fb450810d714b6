/* libFuzzer target: the init protocol frame decoder, the request parser
 * (init's side) and the answer parser (the daemon's side).
 * Byte 0 selects the mode: even = the rest is one frame body, odd = the
 * rest is a length-prefixed stream read through a pipe. */
#include "initmsg.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check_frame(const hb_frame_t *f)
{
    hb_initreq_t *r = malloc(sizeof *r);
    const char *why;
    if (r && hb_initreq_parse(f, r, &why) == 0) {
        assert(r->op >= HB_OP_EXEC && r->op <= HB_OP_REMOVE);
        if (r->op == HB_OP_EXEC) {
            assert(r->cmd_len <= HB_CMD_MAX && !memchr(r->cmd, 0, r->cmd_len));
            assert(r->stdin_len <= HB_STDIN_MAX);
            for (uint32_t i = 0; r->env && i < r->env->size; i++)
                assert(memchr(r->env->ptr[i].via.str.ptr, '=', r->env->ptr[i].via.str.size));
        }
        if (r->op == HB_OP_SIGNAL)
            assert(r->pgid > 1 && r->sig >= 1 && r->sig <= HB_SIG_MAX);
        if (r->op >= HB_OP_READ || r->has_cwd) {
            assert(hb_path_check(r->path, NULL) == 0);
            assert(!strstr(r->path, "//") && !strstr(r->path, "/../"));
        }
    }
    free(r);
    hb_initans_t a;
    if (hb_initans_parse(f, &a) == 0) {
        assert(a.t >= HB_ANS_STARTED && a.t <= HB_ANS_ERR);
        assert(a.data_len <= HB_CHUNK_MAX);
        assert(strlen(a.msg) < sizeof a.msg);
        if (a.t == HB_ANS_ENTS) {
            for (uint32_t i = 0; i < a.ents->size; i++) {
                const char *p;
                size_t pl;
                unsigned type;
                uint64_t size;
                hb_initans_ent(&a, i, &p, &pl, &type, &size);
                assert(type <= 3 && pl < HB_PATH_MAX && hb_path_check_n(p, pl, NULL) == 0);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    hb_frame_t f;
    hb_frame_init(&f);
    if ((data[0] & 1) == 0) {
        if (hb_frame_decode(&f, data + 1, size - 1) == 0)
            check_frame(&f);
    } else if (size - 1 <= 60000) {      /* fits a pipe without blocking */
        int p[2];
        if (pipe(p) == 0) {
            ssize_t w = write(p[1], data + 1, size - 1);
            (void)w;
            close(p[1]);
            while (hb_frame_read(p[0], &f, 0) == 0)
                check_frame(&f);
            close(p[0]);
        }
    }
    hb_frame_free(&f);
    return 0;
}
