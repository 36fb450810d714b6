/* Levelled logging on stderr. Safe from any thread (one write(2) per line). */
#ifndef HB_LOG_H
#define HB_LOG_H

typedef enum { HB_LOGLVL_DEBUG, HB_LOGLVL_INFO, HB_LOGLVL_WARN, HB_LOGLVL_ERROR } hb_log_level_t;

void hb_log_set_level(hb_log_level_t lvl);
void hb_log_set_prefix(const char *prefix);  /* e.g. "init hb-1234" */
void hb_log(hb_log_level_t lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define HB_LOG_DEBUG(...) hb_log(HB_LOGLVL_DEBUG, __VA_ARGS__)
#define HB_LOG_INFO(...)  hb_log(HB_LOGLVL_INFO, __VA_ARGS__)
#define HB_LOG_WARN(...)  hb_log(HB_LOGLVL_WARN, __VA_ARGS__)
#define HB_LOG_ERROR(...) hb_log(HB_LOGLVL_ERROR, __VA_ARGS__)

#endif
