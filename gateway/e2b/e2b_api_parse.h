/* The pure half of E2B's control plane: query strings and bodies into
 * what the handlers use, no daemon state, so it is fuzzed
 * (tests/fuzz/fuzz_e2b_api.c). Every error is HB_E_INVALID naming E2B's
 * field (or HB_E_INTERNAL for memory). */
#ifndef HB_E2B_API_PARSE_H
#define HB_E2B_API_PARSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hberr.h"
#include "runtime.h"   /* HB_ID_MAX */

#define HB_E2B_TIMEOUT_MAX 86400    /* E2B's own ceiling (24 h), HiveBox's create limit */
#define HB_E2B_TIMEOUT_DEF 300      /* E2B's default when a create names none (5 min) */
#define HB_E2B_LIMIT_MAX   100      /* rows per page of GET /v2/sandboxes */

/* GET /v2/sandboxes' query (GET /sandboxes: v2 false, no paging). */
typedef struct {
    json_t  *meta;            /* wanted pairs (decref); NULL: no filter */
    bool     running;         /* state lets running sandboxes through */
    bool     paused;          /* ... and paused ones (issue 17) */
    char     tmpl[HB_ID_MAX]; /* "" for any */
    int64_t  after;           /* startedAfter; INT64_MIN for any */
    bool     asc;             /* order=asc; E2B's default is newest first */
    size_t   limit;
    bool     has_token;       /* nextToken: the last row given, (tok_t, tok_id) */
    int64_t  tok_t;
    char     tok_id[HB_ID_MAX];
} hb_e2b_filter_t;

/* f zeroed by the caller; f->meta set (or NULL) even when it fails. */
int hb_e2b_parse_list(const char *qs, bool v2, hb_e2b_filter_t *f, hb_err_t *e);

/* E2B's NewSandbox -> HiveBox's create body (a new object for
 * hb_req_parse_create), or NULL with *e. */
json_t *hb_e2b_translate_create(const json_t *in, hb_err_t *e);
/* A HiveBox message naming HiveBox's field (image, env) made to name
 * E2B's (templateID, envVars). */
void hb_e2b_rename_field(hb_err_t *e);

#endif
