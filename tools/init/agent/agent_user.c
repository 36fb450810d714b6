/* The user a command runs as (exec_as, proc_start's `user`), from the
 * sandbox's /etc/passwd, read with care: the sandbox owns that file. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWD_MAX   (4 * 1024 * 1024)

static bool all_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The sandbox's /etc/passwd, when it is a regular file of sane size: the
 * sandbox owns it, and a FIFO or a huge file there must not hold init. */
static FILE *open_passwd(void)
{
    int fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    FILE *f = NULL;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= PASSWD_MAX)
        f = fdopen(fd, "r");
    if (!f && fd >= 0)
        close(fd);
    return f;
}

/* The passwd entry whose name (or uid, when by_uid) matches: fills c. */
static bool passwd_find(const char *want, bool by_uid, uid_t uid, agent_user_t *c)
{
    FILE *f = open_passwd();
    char *line = NULL;
    size_t cap = 0;
    bool found = false;
    while (f && !found && getline(&line, &cap, f) > 0) {
        char *fld[7] = {0}, *p = line;
        int n = 0;
        line[strcspn(line, "\n")] = '\0';
        while (n < 7 && p) {    /* name:x:uid:gid:gecos:home:shell */
            fld[n++] = p;
            if ((p = strchr(p, ':')) != NULL)
                *p++ = '\0';
        }
        if (n < 6 || !fld[2][0] || !fld[3][0] || !all_digits(fld[2]) || !all_digits(fld[3]))
            continue;
        if (by_uid ? strtoul(fld[2], NULL, 10) != uid : strcmp(fld[0], want) != 0)
            continue;
        found = true;
        c->uid = (uid_t)strtoul(fld[2], NULL, 10);
        c->gid = (gid_t)strtoul(fld[3], NULL, 10);
        snprintf(c->name, sizeof c->name, "%s", fld[0]);
        snprintf(c->home, sizeof c->home, "%s", fld[5][0] == '/' ? fld[5] : "/");
    }
    free(line);
    if (f)
        fclose(f);
    return found;
}

/* exec_as's user into c: a name in /etc/passwd, or a uid (its passwd entry
 * if it has one, else gid = uid and home /). 0, or -1 after answering err. */
int agent_resolve_user(int conn, const hb_initstr_t *u, agent_user_t *c)
{
    char want[HB_USER_MAX + 1];
    snprintf(want, sizeof want, "%.*s", (int)u->len, u->ptr);
    c->as_user = true;
    if (want[0] && all_digits(want) && u->len <= 10) {
        unsigned long id = strtoul(want, NULL, 10);
        if (id > INT32_MAX) {
            agent_answer_err(conn, EINVAL, "user: uid %s is out of range", want);
            return -1;
        }
        if (!passwd_find(NULL, true, (uid_t)id, c)) {
            c->uid = (uid_t)id;
            c->gid = (gid_t)id;
            snprintf(c->home, sizeof c->home, "%s", id == 0 ? "/root" : "/");
        }
        return 0;
    }
    if (want[0] && passwd_find(want, false, 0, c))
        return 0;
    if (strcmp(want, "root") == 0) {   /* an image without /etc/passwd */
        snprintf(c->name, sizeof c->name, "root");
        return 0;
    }
    agent_answer_err(conn, EINVAL, "user: no user '%s' in the sandbox's /etc/passwd", want);
    return -1;
}

