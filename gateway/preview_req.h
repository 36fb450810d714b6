/* The request head the preview proxy sends to a sandbox's service: the
 * client's, minus everything of ours (our Authorization, the preview token
 * header, our cookie and query parameters) and the hop-by-hop headers. */
#ifndef HB_PREVIEW_REQ_H
#define HB_PREVIEW_REQ_H

#include <civetweb.h>
#include <stdbool.h>
#include <stddef.h>

#define HB_PV_REQ_HEAD_MAX (64 * 1024)

typedef struct {
    const char *path;      /* decoded, from "/" on */
    const char *api_key;   /* an Authorization carrying it is ours */
    bool upgrade;          /* pass Upgrade/Connection on (a WebSocket) */
    bool chunked;          /* the body goes re-framed in chunks */
    const char *extra;     /* more header lines ("Name: v\r\n"...), or NULL (issue 20) */
    bool cluster_fwd;      /* to the owning node, not a service: the preview token, our
                            * cookie and hb_sig/hb_exp stay (the owner checks them) */
} hb_pv_req_t;

/* The head into out (cap bytes): its length, or -1 if it does not fit. */
int hb_pv_req_head(const struct mg_request_info *ri, const hb_pv_req_t *q, char *out,
                   size_t cap);

/* qs without our parameters (hb_sig, hb_exp) into out; "" when none is
 * left. -1 if it does not fit. */
int hb_pv_query_strip(const char *qs, char *out, size_t cap);

/* path percent-encoded as the head carries it, into out. 0, or -1 if it
 * does not fit. */
int hb_pv_path_encode(const char *path, char *out, size_t cap);

#endif
