/* Levelled logging (log.h): text or JSON lines, each one write(2). */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX       1024   /* a formatted message, as text lines always had */
#define FIELDS_ROOM   1024   /* kept for the fields after a long json msg */
#define TAIL_ROOM     24     /* kept for ,"truncated":1 */

static hb_log_level_t g_level = HB_LOGLVL_INFO;
static hb_log_format_t g_format = HB_LOGFMT_TEXT;
static char g_prefix[64] = "hivebox";
static const char *const LEVELS[] = {"debug", "info", "warn", "error"};

/* The request this thread serves (log.h); set and read by this thread only. */
static _Thread_local struct {
    char request_id[HB_LOG_REQID_MAX + 1];
    char sandbox[HB_LOG_SB_MAX + 1];
} t_ctx;

void hb_log_set_level(hb_log_level_t lvl) { g_level = lvl; }
void hb_log_set_format(hb_log_format_t fmt) { g_format = fmt; }
int hb_log_enabled(hb_log_level_t lvl) { return lvl >= g_level; }

void hb_log_set_prefix(const char *prefix)
{
    snprintf(g_prefix, sizeof g_prefix, "%s", prefix);
}

void hb_log_ctx_begin(const char *request_id)
{
    t_ctx.sandbox[0] = '\0';
    snprintf(t_ctx.request_id, sizeof t_ctx.request_id, "%s", request_id ? request_id : "");
}

void hb_log_ctx_sandbox(const char *id)
{
    snprintf(t_ctx.sandbox, sizeof t_ctx.sandbox, "%s", id ? id : "");
}

void hb_log_ctx_end(void) { hb_log_ctx_begin(NULL); }
const char *hb_log_ctx_request_id(void) { return t_ctx.request_id; }
const char *hb_log_ctx_sandbox_id(void) { return t_ctx.sandbox; }

/* ---- a line under construction: cap keeps room for the json "}\n" ---- */

typedef struct {
    char   buf[HB_LOG_LINE_MAX];
    size_t n, cap;
    int    cut;   /* something did not fit */
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (n > l->cap - l->n) {
        n = l->cap - l->n;
        l->cut = 1;
    }
    memcpy(l->buf + l->n, s, n);
    l->n += n;
}

static void puts_(line_t *l, const char *s) { put(l, s, strlen(s)); }

/* A JSON string of s, cut to what leaves `keep` bytes free. */
static void put_jstr(line_t *l, const char *s, size_t keep)
{
    size_t room = l->cap - l->n;
    room = room > keep + 2 ? room - keep - 2 : 0;
    int cut = 0;
    put(l, "\"", 1);
    l->n += hb_log_json_escape(l->buf + l->n, room + 1, s, strlen(s), &cut);
    put(l, "\"", 1);
    l->cut |= cut;
}

static void put_time(line_t *l)
{
    struct timespec ts;
    struct tm tm;
    char t[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(t, sizeof t, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000);
    put(l, t, n > 0 ? (size_t)n : 0);
}

static int has_field(const hb_log_field_t *f, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].key, key) == 0)
            return 1;
    return 0;
}

/* ,"key":value — or nothing when it cannot fit whole (a number) or at
 * least in part (a string). */
static void json_field(line_t *l, const char *key, const char *str, long long num)
{
    size_t mark = l->n;
    puts_(l, ",\"");
    puts_(l, key);
    puts_(l, "\":");
    if (str) {
        put_jstr(l, str, 0);
    } else {
        char v[24];
        int k = snprintf(v, sizeof v, "%lld", num);
        put(l, v, (size_t)k);
    }
    if (l->n >= l->cap)   /* it ran into the end: drop it whole */
        l->n = mark;
}

static void json_line(line_t *l, hb_log_level_t lvl, const char *msg, const hb_log_field_t *f,
                      size_t n)
{
    l->cap = sizeof l->buf - 2;   /* "}\n" */
    puts_(l, "{\"time\":\"");
    put_time(l);
    puts_(l, "\",\"level\":\"");
    puts_(l, LEVELS[lvl]);
    puts_(l, "\",\"msg\":");
    put_jstr(l, msg, FIELDS_ROOM);
    int msg_cut = l->cut;
    l->cap -= TAIL_ROOM;   /* the "truncated" mark always fits */
    for (size_t i = 0; i < n; i++)
        json_field(l, f[i].key, f[i].is_num ? NULL : f[i].str ? f[i].str : "", f[i].num);
    if (t_ctx.request_id[0] && !has_field(f, n, "request_id"))
        json_field(l, "request_id", t_ctx.request_id, 0);
    if (t_ctx.sandbox[0] && !has_field(f, n, "sandbox"))
        json_field(l, "sandbox", t_ctx.sandbox, 0);
    l->cap += TAIL_ROOM;
    if (msg_cut || l->cut)
        json_field(l, "truncated", NULL, 1);
    l->cap = sizeof l->buf;
    put(l, "}\n", 2);
}

/* A text value: spaces and control characters would split or fake fields. */
static void text_value(line_t *l, const char *s)
{
    for (; *s && l->n < l->cap; s++) {
        unsigned char c = (unsigned char)*s;
        l->buf[l->n++] = (c <= ' ' || c == 0x7f) ? '?' : (char)c;
    }
}

static void text_field(line_t *l, const char *key, const char *str, long long num)
{
    put(l, " ", 1);
    puts_(l, key);
    put(l, "=", 1);
    if (str) {
        text_value(l, str);
    } else {
        char v[24];
        int k = snprintf(v, sizeof v, "%lld", num);
        put(l, v, (size_t)k);
    }
}

static void text_line(line_t *l, hb_log_level_t lvl, const char *msg, const hb_log_field_t *f,
                      size_t n)
{
    l->cap = sizeof l->buf - 1;   /* "\n" */
    put_time(l);
    put(l, " ", 1);
    puts_(l, g_prefix);
    put(l, " ", 1);
    puts_(l, LEVELS[lvl]);
    puts_(l, ": ");
    puts_(l, msg);
    for (size_t i = 0; i < n; i++)
        text_field(l, f[i].key, f[i].is_num ? NULL : f[i].str ? f[i].str : "", f[i].num);
    if (t_ctx.request_id[0] && !has_field(f, n, "request_id"))
        text_field(l, "request_id", t_ctx.request_id, 0);
    l->cap = sizeof l->buf;
    put(l, "\n", 1);
}

static void emit(hb_log_level_t lvl, const char *msg, const hb_log_field_t *f, size_t n)
{
    line_t l;
    l.n = 0;
    l.cut = 0;
    if (g_format == HB_LOGFMT_JSON)
        json_line(&l, lvl, msg, f, n);
    else
        text_line(&l, lvl, msg, f, n);
    ssize_t w = write(STDERR_FILENO, l.buf, l.n);
    (void)w;
}

void hb_log_fields(hb_log_level_t lvl, const char *msg, const hb_log_field_t *f, size_t n)
{
    if (lvl < g_level || lvl > HB_LOGLVL_ERROR)
        return;
    int saved = errno;
    emit(lvl, msg, f, n);
    errno = saved;
}

void hb_log(hb_log_level_t lvl, const char *fmt, ...)
{
    if (lvl < g_level || lvl > HB_LOGLVL_ERROR)
        return;
    int saved = errno;
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= 0)
        emit(lvl, msg, NULL, 0);
    errno = saved;
}
