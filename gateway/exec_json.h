/* The answer of POST /:id/exec, streamed from the command's buffered output:
 * {"exit_code", "stdout", "stderr", "duration_ms"} (the seed's fields) and
 * timed_out, oom_killed, stdout_truncated, stderr_truncated only when true. */
#ifndef HB_EXEC_JSON_H
#define HB_EXEC_JSON_H

#include "json_stream.h"
#include "messages.h"
#include "runtime.h"

/* Write the answer to w (or only count it: a writer without a sink). */
void hb_exec_json(hb_jw_t *w, const hb_msg_t *rep, const hb_outbuf_t *ob);

#endif
