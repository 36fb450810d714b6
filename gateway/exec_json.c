/* The exec answer, written piece by piece (see exec_json.h). */
#include "exec_json.h"

#include <inttypes.h>
#include <stdio.h>

static void stream(hb_jw_t *w, const char *key, const hb_outbuf_t *ob, int fd)
{
    size_t n;
    const char *s = hb_outbuf_text(ob, fd, &n);
    hb_jw_rawz(w, key);
    hb_jw_escaped(w, s, n);
    hb_jw_raw(w, "\"", 1);
}

static void flag(hb_jw_t *w, const char *key, bool on)
{
    if (on)
        hb_jw_rawz(w, key);
}

void hb_exec_json(hb_jw_t *w, const hb_msg_t *rep, const hb_outbuf_t *ob)
{
    char num[64];
    snprintf(num, sizeof num, "{\"exit_code\":%" PRId64, rep->exit_code);
    hb_jw_rawz(w, num);
    stream(w, ",\"stdout\":\"", ob, 1);
    stream(w, ",\"stderr\":\"", ob, 2);
    snprintf(num, sizeof num, ",\"duration_ms\":%" PRIu64, rep->duration_ms);
    hb_jw_rawz(w, num);
    flag(w, ",\"timed_out\":true", rep->timed_out);
    flag(w, ",\"oom_killed\":true", rep->oom_killed);
    flag(w, ",\"stdout_truncated\":true", rep->stdout_truncated);
    flag(w, ",\"stderr_truncated\":true", rep->stderr_truncated);
    hb_jw_raw(w, "}", 1);
}
