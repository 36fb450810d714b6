/* The DNS forwarder's parser (actors/runtime/net/dns_msg.c) against
 * arbitrary bytes: queries from sandboxes and answers from the upstream. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns_msg.h"

static void on_a(void *ud, const uint8_t addr[4], uint32_t ttl)
{
    *(uint32_t *)ud += addr[0] + ttl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[HB_DNS_NAME_MAX];
    uint16_t qtype = 0;
    uint32_t sum = 0;
    static uint8_t out[HB_DNS_MAX_MSG];
    int q = hb_dns_question(data, size, name, &qtype);
    if (q > 0) {
        if (strlen(name) >= HB_DNS_NAME_MAX)
            __builtin_trap();
        hb_dns_reply_empty(data, (size_t)q, HB_DNS_RCODE_REFUSED, out, sizeof out);
    }
    hb_dns_each_a(data, size, on_a, &sum);
    hb_dns_answer_question(data, size, name, &qtype);
    if (hb_dns_reply_tc(data, size, out, size < 64 ? size : 64) > size)
        __builtin_trap();   /* the TC reply is a prefix of the answer */
    return 0;
}
