/* The pure parts of the E2B files layer: the multipart/form-data pull
 * parser of POST /files (gateway/e2b/e2b_multipart.c) and the listing
 * diff behind WatchDir and the watchers (gateway/e2b/e2b_watch_snap.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "e2b_multipart.h"
#include "e2b_watch.h"

/* ---- multipart ---- */

typedef struct {
    const char *p;
    size_t left, step;
} src_t;

static int src_read(void *ud, void *buf, size_t cap, size_t *got)
{
    src_t *s = ud;
    size_t n = s->left < cap ? s->left : cap;
    if (n > s->step)
        n = s->step;
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    *got = n;
    return 0;
}

/* Parse body in reads of `step` bytes: "name=data;" per part into out.
 * The final hb_mp_next's result. */
static int parse(const char *body, size_t len, size_t step, char *out, size_t cap, hb_err_t *e)
{
    src_t s = {body, len, step};
    hb_mp_t *m = malloc(sizeof *m);
    hb_mp_init(m, "XyZ", src_read, &s);
    char name[256], buf[7];
    int rc;
    out[0] = '\0';
    while ((rc = hb_mp_next(m, name, sizeof name, e)) == 1) {
        strncat(out, name, cap - strlen(out) - 1);
        strncat(out, "=", cap - strlen(out) - 1);
        size_t got;
        do {
            if (hb_mp_read(m, buf, sizeof buf, &got, e) < 0) {
                free(m);
                return -1;
            }
            strncat(out, buf, got < cap - strlen(out) - 1 ? got : cap - strlen(out) - 1);
        } while (got > 0);
        strncat(out, ";", cap - strlen(out) - 1);
    }
    free(m);
    return rc;
}

#define PART(name, data) "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; " \
                         "filename=\"" name "\"\r\nContent-Type: text/plain\r\n\r\n" data "\r\n"

Test(e2b_multipart, parts_at_every_read_size)
{
    static const char body[] = "preamble\r\n" PART("/tmp/a.txt", "hello")
                               PART("rel/b", "line\r\n--XyZnot\r\n-") PART("empty", "")
                               "--XyZ--\r\nepilogue";
    for (size_t step = 1; step < sizeof body; step++) {
        char out[512];
        hb_err_t e = {0};
        cr_assert_eq(parse(body, sizeof body - 1, step, out, sizeof out, &e), 0,
                     "step %zu: %s", step, e.msg);
        cr_assert_str_eq(out, "/tmp/a.txt=hello;rel/b=line\r\n--XyZnot\r\n-;empty=;",
                         "step %zu", step);
    }
}

Test(e2b_multipart, filename_escapes)
{
    static const char body[] = PART("a%22b\\\"c%0Ad", "x") "--XyZ--";
    char out[128];
    hb_err_t e = {0};
    cr_assert_eq(parse(body, sizeof body - 1, 64, out, sizeof out, &e), 0, "%s", e.msg);
    cr_assert_str_eq(out, "a\"b\"c\nd=x;");
}

Test(e2b_multipart, broken_bodies_are_errors)
{
    static const char *bad[] = {
        PART("a", "no closing boundary"),
        "--XyZ\r\nContent-Disposition: form-data; filename=\"a\r\n\r\nx\r\n--XyZ--",
        "--XyZ  junk\r\n\r\nx\r\n--XyZ--",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[128];
        hb_err_t e = {0};
        cr_assert_eq(parse(bad[i], strlen(bad[i]), 5, out, sizeof out, &e), -1, "body %zu", i);
        cr_assert_eq(e.code, HB_E_INVALID, "body %zu", i);
    }
}

Test(e2b_multipart, boundary_of_content_type)
{
    char b[HB_MP_BOUNDARY_MAX + 1];
    hb_err_t e = {0};
    cr_assert_eq(hb_mp_boundary("multipart/form-data; boundary=----formdata-undici-0123", b,
                                sizeof b, &e), 0);
    cr_assert_str_eq(b, "----formdata-undici-0123");
    cr_assert_eq(hb_mp_boundary("Multipart/Form-Data; boundary=\"a b\"; x=y", b, sizeof b, &e), 0);
    cr_assert_str_eq(b, "a b");
    cr_assert_eq(hb_mp_boundary("application/json; boundary=x", b, sizeof b, &e), -1);
    cr_assert_eq(hb_mp_boundary("multipart/form-data", b, sizeof b, &e), -1);
    cr_assert_eq(hb_mp_boundary("multipart/form-data; boundary=", b, sizeof b, &e), -1);
    char longb[200] = "multipart/form-data; boundary=";
    memset(longb + strlen(longb), 'a', 71);
    cr_assert_eq(hb_mp_boundary(longb, b, sizeof b, &e), -1);
    cr_assert(strstr(e.msg, "boundary"));
}

/* ---- the listing diff ---- */

static int emit(void *ud, const char *name, const char *type)
{
    char *out = ud;
    strcat(out, type + strlen("EVENT_TYPE_"));
    strcat(out, ":");
    strcat(out, name);
    strcat(out, " ");
    return 0;
}

Test(e2b_watch, diff_names_each_change)
{
    hb_snap_ent_t a[] = {
        {"d", HB_FT_DIR, 0, 040755, 1}, {"d/kept", HB_FT_FILE, 3, 0100644, 1},
        {"gone", HB_FT_FILE, 1, 0100644, 1}, {"mod", HB_FT_FILE, 1, 0100644, 1},
        {"swap", HB_FT_FILE, 1, 0100644, 1}, {"wrote", HB_FT_FILE, 1, 0100644, 1},
    };
    hb_snap_ent_t b[] = {
        {"d", HB_FT_DIR, 0, 040755, 9}, {"d/kept", HB_FT_FILE, 3, 0100644, 1},
        {"d/new", HB_FT_FILE, 0, 0100644, 2}, {"mod", HB_FT_FILE, 1, 0100600, 1},
        {"new", HB_FT_FILE, 5, 0100644, 2}, {"swap", HB_FT_DIR, 0, 040755, 2},
        {"wrote", HB_FT_FILE, 1, 0100644, 2},
    };
    hb_snap_t old = {a, sizeof a / sizeof a[0]}, now = {b, sizeof b / sizeof b[0]};
    char out[512] = "";
    cr_assert_eq(hb_snap_diff(&old, &now, emit, out), 0);
    cr_assert_str_eq(out, "CREATE:d/new REMOVE:gone CHMOD:mod CREATE:new WRITE:new "
                          "REMOVE:swap CREATE:swap WRITE:wrote ");
    out[0] = '\0';
    cr_assert_eq(hb_snap_diff(&now, &now, emit, out), 0);
    cr_assert_str_eq(out, "");
}
