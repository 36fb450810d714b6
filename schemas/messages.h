/* Actor messages: C shapes generated from schemas/messages.def and the one
 * msgpack codec for them (schemas/messages.c).
 *
 * Ownership: an hb_msg_t owns every pointer in it (strings, bins, string
 * vectors, record arrays), all malloc'd; hb_msg_clear frees them and zeroes
 * the message. hb_msg_decode fills a zeroed message the caller then clears.
 */
#ifndef HB_MESSAGES_H
#define HB_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.def"

typedef struct {
    void  *data;
    size_t len;
} hb_bin_t;

typedef struct hb_sbinfo   hb_sbinfo_t;
typedef struct hb_entry    hb_entry_t;
typedef struct hb_sample   hb_sample_t;
typedef struct hb_sample_sb hb_sample_sb_t;
typedef struct hb_catitem  hb_catitem_t;

#define HB_DECL_STR(n)        char *n;
#define HB_DECL_I64(n)        int64_t n;
#define HB_DECL_U64(n)        uint64_t n;
#define HB_DECL_F64(n)        double n;
#define HB_DECL_BOOL(n)       bool n;
#define HB_DECL_BIN(n)        hb_bin_t n;
#define HB_DECL_STRV(n)       char **n;
#define HB_DECL_SBINFOS(n)    hb_sbinfo_t *n; size_t n##_n;
#define HB_DECL_DIRENTS(n)    hb_entry_t *n; size_t n##_n;
#define HB_DECL_SAMPLES(n)    hb_sample_t *n; size_t n##_n;
#define HB_DECL_SAMPLE_SBS(n) hb_sample_sb_t *n; size_t n##_n;
#define HB_DECL_CATITEMS(n)   hb_catitem_t *n; size_t n##_n;
#define HB_DECL(kind, name)   HB_DECL_##kind(name)

struct hb_sbinfo    { HB_SBINFO_FIELDS(HB_DECL) };
struct hb_entry     { HB_ENTRY_FIELDS(HB_DECL) };
struct hb_sample_sb { HB_SAMPLE_SB_FIELDS(HB_DECL) };
struct hb_sample    { HB_SAMPLE_FIELDS(HB_DECL) };
struct hb_catitem   { HB_CATITEM_FIELDS(HB_DECL) };

#define HB_MSG_ENUM(e, wire, mask) HB_MSG_##e,
#define HB_MSG_F_UNUSED(x) 0
typedef enum {
    HB_MSG_NONE = 0,
    HB_MSG_TYPES(HB_MSG_ENUM, HB_MSG_F_UNUSED)
    HB_MSG__COUNT
} hb_msg_type_t;

typedef struct {
    hb_msg_type_t type;
    HB_MSG_FIELDS(HB_DECL)
} hb_msg_t;

/* Upper bounds the decoder enforces (messages are in-process, but the codec
 * is fuzzed and must never trust a length). */
#define HB_MSG_STR_MAX   (1u << 20)
#define HB_MSG_BIN_MAX   (64u << 20)
#define HB_MSG_ARR_MAX   (1u << 20)
#define HB_MSG_DEPTH_MAX 4

const char *hb_msg_name(hb_msg_type_t t);            /* wire name, "?" if unknown */
hb_msg_type_t hb_msg_type_of(const char *wire);      /* HB_MSG_NONE if unknown */

/* Encode m into a malloc'd buffer (*out, *len; caller frees). -1 on OOM. */
int  hb_msg_encode(const hb_msg_t *m, void **out, size_t *len);
/* Decode buf into *m (zeroed first). -1 (and *m cleared) on anything but one
 * well-formed map of a known type carrying only its allowed fields. */
int  hb_msg_decode(const void *buf, size_t len, hb_msg_t *m);
/* issue 19: an encoded R_TEXT's text where it lies in buf (no copy): 0, or
 * -1 when buf is not an R_TEXT with a text. */
int  hb_msg_peek_text(const void *buf, size_t len, const char **text, size_t *text_len);
void hb_msg_clear(hb_msg_t *m);

/* Encode/decode one sample as a bare record map (metrics.sample payload). */
int  hb_sample_encode(const hb_sample_t *s, void **out, size_t *len);
int  hb_sample_decode(const void *buf, size_t len, hb_sample_t *s);
/* Free what a record owns (not the record itself). */
void hb_sample_clear(hb_sample_t *s);
void hb_sbinfo_clear(hb_sbinfo_t *s);
/* Deep copy (dst is overwritten, not freed). -1 on OOM with dst zeroed. */
int  hb_sample_copy(hb_sample_t *dst, const hb_sample_t *src);
int  hb_sbinfo_copy(hb_sbinfo_t *dst, const hb_sbinfo_t *src);

/* Small ownership helpers: replace *dst with a copy of src (NULL allowed). */
int  hb_str_set(char **dst, const char *src);
int  hb_bin_set(hb_bin_t *dst, const void *data, size_t len);

#endif
