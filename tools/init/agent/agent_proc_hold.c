/* Holding followers (init-protocol.md, "Processes": `hold`). A follower
 * that asks to hold a process's output back-pressures it like a pipe to a
 * slow reader: the keeper stops reading the process's output fds while the
 * ring has no room left that would not overwrite bytes some holder has not
 * been given yet, so the process blocks on its writes; the slowest holder
 * sets the pace. Only that process's fds stop being polled: the keeper
 * still watches its exit and timeout, and no lock is held while waiting.
 * A holder that leaves (its connection closed) drops its hold at once.
 * proc_start's `hold` holds from the first byte until the first holding
 * follower registers (the daemon opens it right after the start), or
 * PROC_START_HOLD_MS pass without one.
 *
 * All with g_proc.mu held. */
#include "agent_proc.h"

#include <unistd.h>

/* Room kept back for what the pipes hold when the process exits (the keeper
 * drains them then, whatever the holders, so that an exit is recorded even
 * while a holder stalls): both pipes full. */
#define HOLD_SLACK (2 * AGENT_PIPE_SIZE)

static int slot_of(const proc_t *p, int efd)
{
    for (int k = 0; k < PROC_FOLLOW_MAX; k++)
        if (p->wake[k] == efd)
            return k;
    return -1;
}

static void kick(proc_t *p)
{
    uint64_t one = 1;
    if (p->paused && p->kwake >= 0 && write(p->kwake, &one, sizeof one) < 0)
        return;                 /* a full counter: the keeper is awake anyway */
}

void proc_hold_set(proc_t *p, int efd, uint64_t pos)
{
    int k = slot_of(p, efd);
    if (k < 0)
        return;
    p->hold[k] = true;
    p->hold_pos[k] = pos;
    p->start_hold_us = 0;       /* the follower it was waiting for */
    kick(p);
}

void proc_hold_drop(proc_t *p, int efd)
{
    int k = slot_of(p, efd);
    if (k < 0 || !p->hold[k])
        return;
    p->hold[k] = false;
    kick(p);
}

bool proc_hold_full(proc_t *p)
{
    bool any = false;
    uint64_t keep = p->ring.off;
    if (p->start_hold_us && agent_mono_us() >= p->start_hold_us)
        p->start_hold_us = 0;   /* nobody came to read it */
    if (p->start_hold_us) {
        keep = 0;
        any = true;
    }
    for (int k = 0; k < PROC_FOLLOW_MAX; k++) {
        if (p->wake[k] >= 0 && p->hold[k] && p->hold_pos[k] < keep) {
            keep = p->hold_pos[k];
            any = true;
        }
    }
    if (!any || p->kwake < 0)
        return false;
    if (keep < p->ring.first)
        keep = p->ring.first;   /* a holder that came late gets the oldest kept byte */
    size_t need = (size_t)(p->ring.off - keep) + 2 * PROC_READ_CHUNK + HOLD_SLACK;
    size_t cap = ring_reserve(&p->ring, &g_proc.budget, need);
    /* A ring the budget cannot grow that far holds nothing back: the
     * process would otherwise stop for good. */
    if (cap < 4 * PROC_READ_CHUNK + HOLD_SLACK)
        return false;
    return need > cap;
}
