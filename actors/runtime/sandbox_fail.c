/* A sandbox whose init died. Its writable layer is the user's work: it is
 * kept, with the record saying why, until the sandbox is destroyed (by the
 * API or at its expiry). Only what a dead sandbox cannot use goes at once:
 * leftover processes, cgroups and its network address. The uid range stays
 * claimed while its files, owned by that range, are on disk. */
#include "cgroup.h"
#include "log.h"
#include "net.h"
#include "procfs.h"
#include "record.h"
#include "uidslot.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

/* Collect init's exit if it is our zombie (inits this daemon created are
 * re-parented to it, a child subreaper). The start time tells our init's
 * zombie from a process that got its pid since. */
static bool reap_init(const hb_sandbox_t *sb, siginfo_t *si)
{
    char state = '?';
    if (sb->init_pid <= 1 || hb_proc_starttime(sb->init_pid, &state) != sb->init_start ||
        state != 'Z')
        return false;
    memset(si, 0, sizeof *si);
    return waitid(P_PID, (id_t)sb->init_pid, si, WEXITED | WNOHANG) == 0 &&
           si->si_pid == sb->init_pid;
}

void hb_sandbox_death(const hb_sandbox_t *sb, char *why, size_t len)
{
    siginfo_t si;
    uint64_t oom = hb_cg_own_oom_kills(sb->rt, sb->id);
    if (!reap_init(sb, &si)) {
        snprintf(why, len, "its init process (PID 1) is gone");
    } else if (si.si_code == CLD_EXITED) {
        snprintf(why, len, "its init process (PID 1) exited with status %d", si.si_status);
    } else if (si.si_status == SIGKILL && oom > 0) {
        snprintf(why, len, "its init process (PID 1) was killed by the OOM killer");
    } else {
        const char *name = sigabbrev_np(si.si_status);
        snprintf(why, len, "its init process (PID 1) was killed by signal %d (SIG%s)",
                 si.si_status, name ? name : "?");
    }
}

int hb_sandbox_fail(hb_sandbox_t *sb, const char *why, hb_err_t *e)
{
    snprintf(sb->failure, sizeof sb->failure, "%s", why && why[0] ? why : "init died");
    sb->failed_at = time(NULL);
    hb_cg_destroy(sb->rt, sb->id);   /* its pid namespace died with init: nothing runs */
    hb_net_teardown(sb);
    sb->ip[0] = sb->net_if[0] = '\0';
    HB_LOG_WARN("sandbox %s failed: %s; its files are kept until it is deleted", sb->id,
             sb->failure);
    return hb_record_save(sb, e);
}

void hb_sandbox_keep_uids(const hb_sandbox_t *sb)
{
    if (!hb_uidslot_hold(sb->rt, sb->uid_slot, sb->dir))
        HB_LOG_WARN("sandbox %s: its uid range (slot %u) is claimed by another sandbox since a "
                 "reboot; its kept files share their owner with it on the host", sb->id,
                 sb->uid_slot);
}
