/* The forwarder's DNS reading (dns_msg.c) on hand-made messages: the
 * question, A records through compression, loops and forward pointers
 * refused, names with a dot inside a label refused, the refusal's header. */
#include <criterion/criterion.h>
#include <string.h>

#include "dns_msg.h"

static const uint8_t query[] = {
    0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
    4, 'P', 'y', 'p', 'i', 3, 'o', 'r', 'g', 0, 0, 1, 0, 1,
};

Test(dns_msg, question)
{
    char name[HB_DNS_NAME_MAX];
    uint16_t qtype = 0;
    int end = hb_dns_question(query, sizeof query, name, &qtype);
    cr_assert_eq(end, (int)sizeof query);
    cr_assert_str_eq(name, "pypi.org");
    cr_assert_eq(qtype, HB_DNS_TYPE_A);
    uint8_t out[64];
    size_t n = hb_dns_reply_empty(query, (size_t)end, HB_DNS_RCODE_REFUSED, out, sizeof out);
    cr_assert_eq(n, sizeof query);
    cr_assert_eq(out[0], 0x12);
    cr_assert_eq(out[2] & 0x80, 0x80);           /* a response */
    cr_assert_eq(out[2] & 0x01, 0x01);           /* RD kept */
    cr_assert_eq(out[3] & 0x0f, HB_DNS_RCODE_REFUSED);
}

Test(dns_msg, not_a_query)
{
    char name[HB_DNS_NAME_MAX];
    uint16_t t;
    uint8_t m[sizeof query];
    memcpy(m, query, sizeof m);
    m[2] |= 0x80;   /* a response */
    cr_assert_eq(hb_dns_question(m, sizeof m, name, &t), -1);
    memcpy(m, query, sizeof m);
    m[5] = 2;       /* two questions */
    cr_assert_eq(hb_dns_question(m, sizeof m, name, &t), -1);
    cr_assert_eq(hb_dns_question(query, 20, name, &t), -1);   /* cut short */
    memcpy(m, query, sizeof m);
    m[17] = '.';    /* "pypi.org" as one label would pass for two */
    cr_assert_eq(hb_dns_question(m, sizeof m, name, &t), -1);
}

static int count;
static uint8_t last[4];
static uint32_t last_ttl;

static void on_a(void *ud, const uint8_t addr[4], uint32_t ttl)
{
    (void)ud;
    count++;
    memcpy(last, addr, 4);
    last_ttl = ttl;
}

Test(dns_msg, a_records_through_compression)
{
    uint8_t m[128];
    memcpy(m, query, sizeof query);
    m[2] = 0x81;
    m[3] = 0x80;
    m[7] = 2;   /* two answers: a CNAME, then an A */
    size_t at = sizeof query;
    const uint8_t cname[] = {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 1, 'x', 0xc0, 12};
    memcpy(m + at, cname, sizeof cname);
    at += sizeof cname;
    const uint8_t a[] = {0xc0, (uint8_t)(sizeof query + 12), 0, 1, 0, 1, 0, 0, 1, 44, 0, 4,
                         198, 18, 0, 3};
    memcpy(m + at, a, sizeof a);
    at += sizeof a;
    count = 0;
    cr_assert_eq(hb_dns_each_a(m, at, on_a, NULL), 1);
    cr_assert_eq(count, 1);
    cr_assert_eq(last[0], 198);
    cr_assert_eq(last[3], 3);
    cr_assert_eq(last_ttl, 300);
}

Test(dns_msg, pointer_loops_and_forward_pointers_refused)
{
    uint8_t m[64] = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0,
                     0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
    count = 0;
    cr_assert_eq(hb_dns_each_a(m, 28, on_a, NULL), -1);   /* points at itself */
    m[13] = 20;                                           /* forwards */
    cr_assert_eq(hb_dns_each_a(m, 28, on_a, NULL), -1);
    cr_assert_eq(count, 0);
}

/* An answer too large for UDP: header and question kept, TC set, no records. */
Test(dns_msg, truncated_answer)
{
    uint8_t big[sizeof query + 16];
    memcpy(big, query, sizeof query);
    big[2] |= 0x80;   /* a response ... */
    big[7] = 3;       /* ... with records past what was received */
    memset(big + sizeof query, 0xc0, 16);
    uint8_t out[64];
    size_t n = hb_dns_reply_tc(big, sizeof big, out, sizeof out);
    cr_assert_eq(n, sizeof query);
    cr_assert_eq(out[0], 0x12);
    cr_assert_eq(out[2] & 0x82, 0x82);           /* a response, truncated */
    cr_assert_eq(out[2] & 0x01, 0x01);           /* RD kept */
    cr_assert_eq(out[7], 0);                     /* no answer records */
    cr_assert_eq(memcmp(out + 12, query + 12, sizeof query - 12), 0);
    cr_assert_eq(hb_dns_reply_tc(query, sizeof query, out, sizeof out), 0);   /* a query */
    cr_assert_eq(hb_dns_reply_tc(big, sizeof big, out, 20), 0);               /* no room */
}
