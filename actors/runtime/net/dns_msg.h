/* The few parts of a DNS message (RFC 1035) the forwarder reads: the
 * question of a query, the A records of an answer, and a refusal. Input is
 * untrusted (sandboxes send queries, the upstream answers): every offset is
 * checked against the length, a name is at most 255 bytes, and compression
 * pointers must point strictly backwards (so a loop cannot be built) and are
 * followed at most HB_DNS_MAX_JUMPS times. Fuzzed: tests/fuzz/fuzz_dns.c. */
#ifndef HB_DNS_MSG_H
#define HB_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define HB_DNS_MAX_MSG   65535
#define HB_DNS_NAME_MAX  256    /* text form with the NUL */
#define HB_DNS_MAX_JUMPS 32
#define HB_DNS_TYPE_A    1
#define HB_DNS_TYPE_AAAA 28
#define HB_DNS_RCODE_REFUSED 5

/* A query (QR 0, opcode QUERY, one question): its name in text form, lower
 * case, without the final dot ("" for the root), and its type. The offset
 * just past the question, or -1 when it is not such a query. */
int hb_dns_question(const uint8_t *m, size_t len, char name[HB_DNS_NAME_MAX], uint16_t *qtype);
/* The same for an answer (QR 1): the question it answers. */
int hb_dns_answer_question(const uint8_t *m, size_t len, char name[HB_DNS_NAME_MAX],
                           uint16_t *qtype);
/* cb for each A record (class IN) of an answer's answer section; the count
 * seen, or -1 when the message is malformed (cb may have been called). */
int hb_dns_each_a(const uint8_t *m, size_t len,
                  void (*cb)(void *ud, const uint8_t addr[4], uint32_t ttl), void *ud);
/* The answer to query m (its header and question, qend from hb_dns_question)
 * with rcode and no records, into out; its length, or 0 if it does not fit. */
size_t hb_dns_reply_empty(const uint8_t *m, size_t qend, unsigned rcode, uint8_t *out, size_t cap);
/* An answer too large for its UDP buffer (m: its first len bytes) cut to
 * its header and question with TC set, so the client asks again over TCP;
 * its length, or 0 when the question cannot be read or does not fit. */
size_t hb_dns_reply_tc(const uint8_t *m, size_t len, uint8_t *out, size_t cap);

#endif
