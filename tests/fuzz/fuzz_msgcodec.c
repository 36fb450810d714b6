/* libFuzzer target: the actor message codec (schemas/messages.c). Messages
 * are in-process, but the decoder must still never trust a length: anything
 * it accepts must re-encode and decode to the same type, and anything it
 * refuses must leave the message empty. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hb_msg_t m;
    if (hb_msg_decode(data, size, &m) < 0) {
        assert(m.type == HB_MSG_NONE && !m.id && !m.sandboxes);
    } else {
        void *buf = NULL;
        size_t len = 0;
        assert(hb_msg_encode(&m, &buf, &len) == 0);
        hb_msg_t o;
        assert(hb_msg_decode(buf, len, &o) == 0 && o.type == m.type);
        hb_msg_clear(&o);
        free(buf);
        hb_msg_clear(&m);
    }
    hb_sample_t s;
    if (hb_sample_decode(data, size, &s) == 0)
        hb_sample_clear(&s);
    return 0;
}
