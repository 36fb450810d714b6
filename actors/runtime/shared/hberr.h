/* Internal error codes shared by the runtime, the actors and the gateway.
 * The gateway maps them to HTTP statuses in exactly one place
 * (gateway/http_status.c); nothing else decides a status code. */
#ifndef HB_ERR_H
#define HB_ERR_H

#include <stddef.h>

typedef enum {
    HB_OK = 0,
    HB_E_INVALID,     /* bad input; msg names the field            -> 400 */
    HB_E_NOTFOUND,    /* sandbox, image or file does not exist      -> 404 */
    HB_E_EXISTS,      /* name taken                                 -> 409 */
    HB_E_TOOBIG,      /* body or file over a cap                    -> 413 */
    HB_E_UNAVAIL,     /* dependency not ready (image building, ...) -> 503 */
    HB_E_DEAD,        /* sandbox init died                          -> 409 */
    HB_E_NOTSUP,      /* missing kernel feature / tool              -> 503 */
    HB_E_GONE,        /* the sandbox was destroyed under a request  -> 410 */
    HB_E_INTERNAL,    /* real fault, logged with context            -> 500 */
    HB_E_NOSPACE,     /* disk quota or host disk reserve reached    -> 507 */
    HB_E_NOTDIR,      /* listing a non-directory: a client error that
                         the seed answers with 500; never logged as a fault */
    HB_E_CONFLICT,    /* not in the state the request needs (stdin
                         closed, no PTY, taken over)                -> 409 */
    HB_E_LIMIT,       /* a per-sandbox or per-client count is full  -> 429 */
    HB_E_UPSTREAM,    /* a sandbox's service (preview port) refused or
                         broke the protocol                         -> 502 */
} hb_errcode_t;
#define HB_E_LAST HB_E_UPSTREAM   /* the highest code (the bus checks the range) */

typedef struct {
    hb_errcode_t code;
    int          sys_errno;   /* errno behind it, 0 if none */
    char         msg[256];
} hb_err_t;

/* The three ways an hb_err_t is made. Each is a macro that is -1, so callers
 * can `return hb_fail(...)`; a macro so that the -1 is visible where it is
 * used: the static analyzer (make tidy) then knows a failed call wrote
 * nothing else. e may be NULL.
 *
 * hb_fail: set *e to code, errno and fmt's text. */
void hb_fail_set(hb_err_t *e, hb_errcode_t code, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define hb_fail(...) ({ hb_fail_set(__VA_ARGS__); -1; })
/* hb_fail_sys: the same for a failed system call: the message is fmt's text,
 * then ": " and strerror(sys_errno) -- the one place a daemon error spells an
 * errno. Pass errno by value (it is read before anything here can change it). */
void hb_fail_sys_set(hb_err_t *e, hb_errcode_t code, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define hb_fail_sys(...) ({ hb_fail_sys_set(__VA_ARGS__); -1; })
/* hb_err_wrap(e, fmt, ...): add context to an error on its way up:
 * "<fmt's text>: <old message>", code and errno kept (crun's crun_error_wrap).
 * A message cut at the buffer's end keeps its start, where the context is. */
void hb_err_wrap_set(hb_err_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define hb_err_wrap(...) ({ hb_err_wrap_set(__VA_ARGS__); -1; })
void hb_err_clear(hb_err_t *e);
const char *hb_errcode_name(hb_errcode_t c);

#endif
