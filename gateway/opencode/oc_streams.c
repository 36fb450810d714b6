/* Notes in the proxied OpenCode event streams (see oc_streams.h). */
#include "oc_streams.h"

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define PENDING_MAX (64u * 1024)   /* notes waiting for one stream's boundary */

struct hb_oc_stream {
    char             id[HB_ID_MAX];
    pthread_mutex_t  lock;         /* every write to the client */
    hb_oc_out_fn     out;
    void            *ud;
    char             tail[2];      /* the last two bytes written */
    bool             gone;
    char            *pending;      /* notes not written yet */
    size_t           npending;
    hb_oc_stream_t  *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;   /* the list; taken first */
static hb_oc_stream_t *g_streams;

hb_oc_stream_t *hb_oc_stream_open(const char *id, hb_oc_out_fn out, void *ud)
{
    hb_oc_stream_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    snprintf(s->id, sizeof s->id, "%s", id);
    pthread_mutex_init(&s->lock, NULL);
    s->out = out;
    s->ud = ud;
    pthread_mutex_lock(&g_lock);
    s->next = g_streams;
    g_streams = s;
    pthread_mutex_unlock(&g_lock);
    return s;
}

void hb_oc_stream_close(hb_oc_stream_t *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g_lock);
    for (hb_oc_stream_t **p = &g_streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&g_lock);
    pthread_mutex_destroy(&s->lock);
    free(s->pending);
    free(s);
}

/* With s->lock held. */
static void put(hb_oc_stream_t *s, const char *data, size_t len)
{
    if (s->gone || len == 0)
        return;
    if (s->out(s->ud, data, len) != 0) {
        s->gone = true;
        return;
    }
    if (len >= 2) {
        memcpy(s->tail, data + len - 2, 2);
    } else {
        s->tail[0] = s->tail[1];
        s->tail[1] = data[0];
    }
}

/* With s->lock held: write the waiting notes if an event just ended. */
static void flush_notes(hb_oc_stream_t *s)
{
    if (s->npending == 0 || s->tail[0] != '\n' || s->tail[1] != '\n')
        return;
    put(s, s->pending, s->npending);
    s->npending = 0;
}

int hb_oc_stream_write(hb_oc_stream_t *s, const char *data, size_t len)
{
    pthread_mutex_lock(&s->lock);
    put(s, data, len);
    flush_notes(s);
    int rc = s->gone ? -1 : 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static void queue(hb_oc_stream_t *s, const char *text, size_t n)
{
    if (s->npending + n > PENDING_MAX)
        return;
    char *p = realloc(s->pending, s->npending + n);
    if (!p)
        return;
    memcpy(p + s->npending, text, n);
    s->pending = p;
    s->npending += n;
}

void hb_oc_streams_note_error(const char *id, const char *session, const char *message)
{
    json_t *ev = json_pack("{s:s, s:{s:s, s:{s:s, s:{s:s}}}}", "type", "session.error",
                           "properties", "sessionID", session, "error", "name", "HiveBoxError",
                           "data", "message", message);
    char *body = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    char *text = NULL;
    int n = body ? asprintf(&text, "data: %s\n\n", body) : -1;
    json_decref(ev);
    free(body);
    if (n < 0)
        return;
    pthread_mutex_lock(&g_lock);
    for (hb_oc_stream_t *s = g_streams; s; s = s->next) {
        if (strcmp(s->id, id) != 0)
            continue;
        pthread_mutex_lock(&s->lock);
        queue(s, text, (size_t)n);
        flush_notes(s);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&g_lock);
    free(text);
}
