/* POST /api/v1/images with a JSON body: an image built from steps
 * (gw_image_build.c). The body parsed and validated here, pure (no daemon
 * state), so it is unit tested. Every error is HB_E_INVALID (HB_E_TOOBIG for
 * the body) with a message that starts with the offending field. */
#ifndef HB_BUILD_REQ_H
#define HB_BUILD_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "hberr.h"
#include "messages.h"
#include "runtime.h"   /* HB_ID_MAX */

#define HB_BUILD_BODY_MAX     (24u << 20)   /* 8 MiB of files may double when escaped */
#define HB_BUILD_STEPS_MAX    64
#define HB_BUILD_STEP_MAX     (16u << 10)   /* bytes of one command */
#define HB_BUILD_FILES_MAX    64
#define HB_BUILD_FILES_BYTES  (8u << 20)    /* all the files' text together */
#define HB_BUILD_STEP_TIMEOUT 600           /* seconds a step may run by default */
#define HB_BUILD_TIMEOUT_MAX  86400
#define HB_BUILD_TTL_SLACK    600           /* the build sandbox's TTL past its steps */

typedef struct {
    char  *path;   /* absolute, normalised */
    char  *data;   /* the text as given (may hold NUL bytes) */
    size_t len;
} hb_build_file_t;

typedef struct {
    char             name[HB_ID_MAX];   /* the image to make */
    char             from[HB_ID_MAX];   /* the image it starts from */
    char           **run;               /* run_n commands, each for /bin/sh -c */
    size_t           run_n;
    hb_build_file_t *files;
    size_t           files_n;
    uint32_t         step_timeout_s;
    hb_msg_t         create;            /* SB_CREATE of the build sandbox (no name yet) */
} hb_build_req_t;

/* Fill *b from body (b is zeroed first); -1 with *e. Free with
 * hb_build_req_free in either case. */
int  hb_build_req_parse(const char *body, size_t len, hb_build_req_t *b, hb_err_t *e);
void hb_build_req_free(hb_build_req_t *b);
/* The build sandbox's name: "build-<name>-<hex4>" (name cut so it stays a
 * valid sandbox name), into out (HB_ID_MAX). */
void hb_build_sandbox_name(const char *name, unsigned hex4, char *out, size_t cap);

#endif
