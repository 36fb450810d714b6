/* Levelled logging on stderr. Safe from any thread (one write(2) per line).
 *
 * Two formats (--log-format): text, "<time> <prefix> <level>: <msg>", and
 * json, one object a line: {"time","level","msg", then the fields}. A thread
 * serving an HTTP request sets its request context (hb_log_ctx_*): every line
 * it writes until it clears it carries request_id (and sandbox in json). No
 * allocation: lines are built on the stack and bounded (HB_LOG_LINE_MAX). */
#ifndef HB_LOG_H
#define HB_LOG_H

#include <stddef.h>

typedef enum { HB_LOGLVL_DEBUG, HB_LOGLVL_INFO, HB_LOGLVL_WARN, HB_LOGLVL_ERROR } hb_log_level_t;
typedef enum { HB_LOGFMT_TEXT, HB_LOGFMT_JSON } hb_log_format_t;

#define HB_LOG_LINE_MAX  4096   /* a json line, its newline included */
#define HB_LOG_REQID_MAX 128    /* a request id's characters */
#define HB_LOG_SB_MAX    64     /* a sandbox id's characters kept */

void hb_log_set_level(hb_log_level_t lvl);
void hb_log_set_format(hb_log_format_t fmt);
void hb_log_set_prefix(const char *prefix);  /* e.g. "init hb-1234" */
/* Whether a line at lvl would be written (skip building costly fields). */
int hb_log_enabled(hb_log_level_t lvl);
void hb_log(hb_log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the calling thread's request context ---- */
/* Copied (cut at HB_LOG_REQID_MAX); NULL or "" clears the whole context. */
void hb_log_ctx_begin(const char *request_id);
/* The sandbox the request concerns, once known (a create learns it late). */
void hb_log_ctx_sandbox(const char *id);
void hb_log_ctx_end(void);
/* "" outside a request. */
const char *hb_log_ctx_request_id(void);
const char *hb_log_ctx_sandbox_id(void);

/* ---- structured lines (the access log) ---- */
/* A field: the number num when is_num, else the string str (NULL: ""). */
typedef struct {
    const char *key;   /* a literal: [a-z_]+, written as is */
    const char *str;
    long long   num;
    int         is_num;
} hb_log_field_t;

#define HB_LF_STR(k, v) ((hb_log_field_t){.key = (k), .str = (v)})
#define HB_LF_NUM(k, v) ((hb_log_field_t){.key = (k), .num = (long long)(v), .is_num = 1})

/* msg and the fields: json members, or " key=value" after msg in text
 * (values' control characters and spaces shown as '?'). The context's
 * request_id/sandbox are added unless a field gives them. */
void hb_log_fields(hb_log_level_t lvl, const char *msg, const hb_log_field_t *f, size_t n);

/* JSON string escaping (quotes, backslash, control characters; invalid
 * UTF-8 becomes U+FFFD): s[0..n) into out, at most cap - 1 bytes plus a
 * NUL, never cutting an escape or a character. Returns the bytes written;
 * *cut (when not NULL) says whether s did not fit. For the unit tests too. */
size_t hb_log_json_escape(char *out, size_t cap, const char *s, size_t n, int *cut);

#define HB_LOG_DEBUG(...) hb_log(HB_LOGLVL_DEBUG, __VA_ARGS__)
#define HB_LOG_INFO(...)  hb_log(HB_LOGLVL_INFO, __VA_ARGS__)
#define HB_LOG_WARN(...)  hb_log(HB_LOGLVL_WARN, __VA_ARGS__)
#define HB_LOG_ERROR(...) hb_log(HB_LOGLVL_ERROR, __VA_ARGS__)

#endif
