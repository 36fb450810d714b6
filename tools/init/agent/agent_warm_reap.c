/* Who gets a warm command's exit status (issue 19). The warm worker
 * (agent_warm.c) was forked by a request thread that has ended since, so
 * it is a child of init's main thread. Until its execve it has no exit
 * signal and the main thread's waitpid(-1) (no __WALL) passes it by; but
 * execve gives every process SIGCHLD as its exit signal again (the
 * kernel's de_thread), so the command it becomes is an orphan to the main
 * thread, which may reap it before the request thread that runs it.
 *
 * So a taken worker is claimed here before it can exec: the main thread
 * hands the status of a claimed pid over instead of dropping it, and the
 * request thread takes it from its own waitpid or from here, whichever
 * got it. At most one claim per request thread in flight. */
#include "agent.h"
#include "init.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>

#define CLAIMS_MAX (HB_INIT_MAX_REQUESTS + 4)

typedef struct {
    pid_t pid;          /* 0: a free slot */
    int st;
    bool done;          /* the main thread reaped it: st is its status */
} claim_t;

static pthread_mutex_t g_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_c = PTHREAD_COND_INITIALIZER;
static claim_t g_claims[CLAIMS_MAX];

/* Under g_m. */
static claim_t *find(pid_t pid)
{
    for (int i = 0; i < CLAIMS_MAX; i++)
        if (g_claims[i].pid == pid)
            return &g_claims[i];
    return NULL;
}

int agent_warm_claim(pid_t pid)
{
    pthread_mutex_lock(&g_m);
    claim_t *c = find(0);
    if (c)
        *c = (claim_t){.pid = pid};
    pthread_mutex_unlock(&g_m);
    return c ? 0 : -1;
}

void agent_warm_reaped(pid_t pid, int st)
{
    pthread_mutex_lock(&g_m);
    claim_t *c = find(pid);
    if (c && !c->done) {        /* done: the pid is another process's by now */
        c->st = st;
        c->done = true;
        pthread_cond_broadcast(&g_c);
    }
    pthread_mutex_unlock(&g_m);
}

/* Our own blocking waitpid; ECHILD when the main thread reaped it (it
 * then hands the status over, if it has not already). */
int agent_child_wait(pid_t pid)
{
    int st = 0;
    pid_t r;
    while ((r = waitpid(pid, &st, __WALL)) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&g_m);
    claim_t *c = find(pid);
    while (c && r != pid && !c->done)
        pthread_cond_wait(&g_c, &g_m);
    if (c) {
        if (r != pid)
            st = c->st;
        *c = (claim_t){0};
    }
    pthread_mutex_unlock(&g_m);
    return st;
}
