/* Preview connection counts (preview_limit.h): the total, and per sandbox a
 * row that exists while the sandbox has a connection, under one mutex. */
#include "preview_limit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"   /* HB_ID_MAX */

typedef struct row {
    struct row *next;
    int n;
    char id[HB_ID_MAX];
} row_t;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static row_t *g_rows;
static int g_total;

/* The link that points at id's row (or at NULL: the end). */
static row_t **link_of(const char *id)
{
    row_t **p = &g_rows;
    while (*p && strcmp((*p)->id, id) != 0)
        p = &(*p)->next;
    return p;
}

static int admit(row_t **p, const char *id, int per_sandbox, int total, hb_err_t *e)
{
    if (g_total >= total)
        return hb_fail(e, HB_E_LIMIT, 0, "preview: %d connections are open in all "
                       "(--preview-max-total); try again later", total);
    if (*p && (*p)->n >= per_sandbox)
        return hb_fail(e, HB_E_LIMIT, 0, "preview: sandbox '%s' has %d connections open "
                       "(--preview-max-conns); close one first", id, per_sandbox);
    if (!*p) {
        row_t *r = calloc(1, sizeof *r);
        if (!r)
            return hb_fail(e, HB_E_INTERNAL, 0, "out of memory");
        memcpy(r->id, id, strnlen(id, HB_ID_MAX - 1));
        *p = r;
    }
    (*p)->n++;
    g_total++;
    return 0;
}

int hb_pv_enter(const char *id, int per_sandbox, int total, hb_err_t *e)
{
    pthread_mutex_lock(&g_mu);
    int rc = admit(link_of(id), id, per_sandbox, total, e);
    pthread_mutex_unlock(&g_mu);
    return rc;
}

void hb_pv_leave(const char *id)
{
    pthread_mutex_lock(&g_mu);
    row_t **p = link_of(id);
    row_t *r = *p;
    if (r) {
        g_total--;
        if (--r->n <= 0) {
            *p = r->next;
            free(r);
        }
    }
    pthread_mutex_unlock(&g_mu);
}
