/* MCP sessions (Mcp-Session-Id). The one piece of gateway state shared by
 * worker threads: a fixed table behind a mutex, copied in and out, so no
 * thread ever holds a pointer into it. Lost on daemon restart, which the
 * protocol handles: an unknown session is a 404 and the client starts a
 * new one. */
#include "mcp_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

typedef struct {
    char          id[MCP_SESSION_ID_LEN + 1];   /* "" = free slot */
    char          sandbox[HB_ID_MAX];
    int64_t       sb_created;
    uint64_t      last_used;
    mcp_session_t s;
} slot_t;

static slot_t          g_slots[MCP_SESSIONS_MAX];
static uint64_t        g_clock;    /* logical time for LRU */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int random_hex(char *out, size_t nbytes)
{
    unsigned char raw[32];
    size_t got = 0;
    if (nbytes > sizeof raw)
        return -1;
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

static slot_t *find(const char *id, const char *sandbox, int64_t created)
{
    if (!id || strlen(id) != MCP_SESSION_ID_LEN)
        return NULL;
    for (size_t i = 0; i < MCP_SESSIONS_MAX; i++)
        if (g_slots[i].id[0] && strcmp(g_slots[i].id, id) == 0)
            return strcmp(g_slots[i].sandbox, sandbox) == 0 && g_slots[i].sb_created == created
                       ? &g_slots[i]
                       : NULL;
    return NULL;
}

static bool same_sandbox(const slot_t *s, const char *sandbox, int64_t created)
{
    return s->id[0] && strcmp(s->sandbox, sandbox) == 0 && s->sb_created == created;
}

/* A free slot, else the least recently used one. A sandbox at its quota
 * reuses its own oldest: one sandbox's token cannot push out the sessions
 * of the others. Called with g_lock held. */
static slot_t *pick_slot(const char *sandbox, int64_t created)
{
    slot_t *lru = NULL, *own_lru = NULL, *free_slot = NULL;
    size_t own = 0;
    for (size_t i = 0; i < MCP_SESSIONS_MAX; i++) {
        slot_t *s = &g_slots[i];
        if (!s->id[0]) {
            free_slot = free_slot ? free_slot : s;
            continue;
        }
        if (!lru || s->last_used < lru->last_used)
            lru = s;
        if (same_sandbox(s, sandbox, created)) {
            own++;
            if (!own_lru || s->last_used < own_lru->last_used)
                own_lru = s;
        }
    }
    if (own >= MCP_SESSIONS_PER_SANDBOX)
        return own_lru;
    return free_slot ? free_slot : lru;
}

int mcp_session_new(const char *sandbox, int64_t sb_created, const char *version,
                    char id[MCP_SESSION_ID_LEN + 1])
{
    if (random_hex(id, MCP_SESSION_ID_LEN / 2) < 0)
        return -1;
    pthread_mutex_lock(&g_lock);
    slot_t *victim = pick_slot(sandbox, sb_created);
    memset(victim, 0, sizeof *victim);
    snprintf(victim->id, sizeof victim->id, "%s", id);
    snprintf(victim->sandbox, sizeof victim->sandbox, "%s", sandbox);
    snprintf(victim->s.version, sizeof victim->s.version, "%s", version);
    victim->sb_created = sb_created;
    victim->last_used = ++g_clock;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

int mcp_session_get(const char *id, const char *sandbox, int64_t sb_created, mcp_session_t *out)
{
    pthread_mutex_lock(&g_lock);
    slot_t *s = find(id, sandbox, sb_created);
    if (s) {
        s->last_used = ++g_clock;
        *out = s->s;
    }
    pthread_mutex_unlock(&g_lock);
    return s ? 0 : -1;
}

bool mcp_session_end(const char *id, const char *sandbox, int64_t sb_created)
{
    pthread_mutex_lock(&g_lock);
    slot_t *s = find(id, sandbox, sb_created);
    if (s)
        memset(s, 0, sizeof *s);
    pthread_mutex_unlock(&g_lock);
    return s != NULL;
}
